// Server: builds every part of the tracker from a Config, in dependency order,
// runs it, and tears it down in reverse.
//
// Start-up order matters: topology and store first (the swarm and the handlers
// use them), then the registry, whose transfers are activated before the first
// socket is bound, so no announce ever sees a registered transfer as inactive.
// Shutdown stops the HTTP workers first, then flushes the store.
//
// The main thread runs a control loop of its own: signals (SIGINT/SIGTERM stop,
// SIGHUP reloads the topology) and the incremental peer-expiry timer, so none
// of that work lands on a worker.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.h"
#include "core/result.h"
#include "net/client_address.h"

namespace p2p::server {

// The trust rule's settings (net/client_address.h) from the config: what the
// tracker, the UDP server and the admin API's access check all use.
net::TrustOptions trust_options(const config::Config& c);

// Builds the topology chain `loaded` describes, without starting it, and
// drops it: what serve would refuse about it at start (a map file that does
// not load, an smdb_url that is not http://, an exec_command that is not a
// program), named where it was set. A lookup source is not asked anything.
core::Status check_topology(const config::Loaded& loaded);

class Server {
 public:
  // Builds every part from `loaded.config`. A start-up failure caused by one
  // key's value names where that key was set: "p2ptracker.cfg:7: key 'HOST':
  // cannot resolve ...". A host name is resolved here (DNS, start-up only) and
  // every address it has on this host gets its HTTP and UDP servers.
  static core::Result<std::unique_ptr<Server>> create(const config::Loaded& loaded);
  ~Server();

  // Serves until SIGINT or SIGTERM (or stop()). Returns the process exit code.
  int run();
  // Thread-safe.
  void stop();

  // The HTTP port (the same on every listen address).
  std::uint16_t port() const;

 private:
  struct Parts;
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace p2p::server

// UdpServer: the BEP 15 front door of the Tracker.
//
// One thread per worker, each with its own socket bound to the one port with
// SO_REUSEPORT (the kernel spreads clients over the workers by address), each
// receiving and sending in batches (recvmmsg/sendmmsg: one system call per
// batch, not per packet) and each with its own scratch, so workers share
// nothing but the swarm table's shard locks.
//
// Connection ids are a keyed hash (SipHash) of the client's address and a
// one-minute window (not its port: see ConnectionIds::id_for); the current and the previous window
// are accepted, so an id lives one to two minutes and the server keeps no per-client state. Replies
// follow STYLE.md: an error packet only to a client that proved its address (valid connection id)
// and sent a transaction id; anything else is dropped and counted.
//
// Thread-safety: create() and start() on one thread; stop() from any thread.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/siphash.h"
#include "metrics/registry.h"
#include "net/tracker.h"

namespace p2p::net {

struct UdpServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 6969;  // 0: any free port
  int workers = 1;
  int batch = 32;  // packets per recvmmsg/sendmmsg call
  // Where the workers' counter blocks come from (the server's /metrics
  // registry); null: the server keeps its own.
  metrics::Registry* metrics = nullptr;
};

// Counts, summed over workers on read.
struct UdpStats {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t connects = 0;
  std::uint64_t announces = 0;
  std::uint64_t scrapes = 0;
  std::uint64_t errors_sent = 0;  // error packets answered
  std::uint64_t dropped = 0;      // no header, bad protocol id, bad connection id
};

class ConnectionIds {
 public:
  static constexpr std::int64_t kWindowSeconds = 60;
  ConnectionIds(const core::SipKey& key, const core::Clock& clock) : key_(key), clock_(clock) {}
  std::uint64_t issue(const core::Endpoint& client) const;
  bool valid(std::uint64_t id, const core::Endpoint& client) const;

 private:
  std::uint64_t id_for(const core::Endpoint& client, std::int64_t window) const;
  core::SipKey key_;
  const core::Clock& clock_;
};

class UdpServer {
 public:
  static core::Result<std::unique_ptr<UdpServer>> create(const UdpServerOptions& options,
                                                         Tracker& tracker,
                                                         const core::Clock& clock);
  ~UdpServer();

  void start();
  void stop();  // idempotent
  std::uint16_t port() const { return port_; }
  UdpStats stats() const;

  struct Worker;

 private:
  UdpServer(const UdpServerOptions& options, Tracker& tracker, const core::Clock& clock);
  void run(Worker& w);
  // The reply to one packet from `from` into `out`: its length, 0 for no
  // reply (a dropped packet, or an announce parked until its topology answer
  // when `may_park`).
  std::size_t answer(Worker& w, std::span<const std::uint8_t> packet, const sockaddr_storage& from,
                     socklen_t from_len, std::span<std::uint8_t> out, bool may_park);
  // Parks an announce from `address` until its topology answer is in
  // (Tracker::await_topology); false if it should be answered now.
  bool park(Worker& w, std::span<const std::uint8_t> packet, const sockaddr_storage& from,
            socklen_t from_len, const core::Address& address);
  // Answers the parked announces whose wait is over.
  void resume_parked(Worker& w);

  UdpServerOptions options_;
  Tracker& tracker_;
  ConnectionIds ids_;
  std::uint16_t port_ = 0;
  int stop_fd_ = -1;                                // eventfd: wakes every worker's poll() on stop
  std::unique_ptr<metrics::Registry> own_metrics_;  // when options.metrics is null
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

}  // namespace p2p::net

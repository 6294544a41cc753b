// AdminAccess: who may make which request of the HTTP port.
//
// Announces and scrapes (Access::kPublic) are open to every client. Requests
// that change the tracker's state (Access::kChange: registering, replacing or
// deleting a torrent, deactivating a transfer) need the bearer token when one
// is configured, and otherwise come only from this host: exactly 127.0.0.1 or
// ::1, not the rest of 127/8 and not the LAN. Reads of the tracker's state
// (Access::kRead) are public unless read_needs_token. The client is the one
// net/client_address.h names (the TCP peer, or what trusted proxies say), so
// a header from anyone else cannot make a request local. docs/security.md has
// the threat model.
//
// Immutable after construction; admit() is thread-safe, never blocks.
#pragma once

#include <string>
#include <vector>

#include "core/address.h"
#include "net/client_address.h"
#include "net/http_types.h"

namespace p2p::net {

struct AdminAccessOptions {
  // The secret (admin_token_file's content); empty: no token, state changes
  // only from this host.
  std::string token;
  std::string token_file;         // where the token came from, for the start-up line
  bool read_needs_token = false;  // admin_read = "token"; needs a token
  TrustOptions trust;             // whose request it is: net/client_address.h
};

class AdminAccess {
 public:
  enum class Verdict {
    kAllow,
    kNoToken,     // 401: a token is needed and none was sent
    kWrongToken,  // 401: the one sent is not the token
    kNotLocal,    // 403: no token configured and the client is not this host
  };

  explicit AdminAccess(AdminAccessOptions options);

  // The decision for a request that does `access`.
  Verdict decide(const HttpRequest& request, Access access) const;

  // decide(), and for a refusal fills `response` (401 with WWW-Authenticate:
  // Bearer, or 403, each with a JSON error saying what to do) and returns
  // false.
  bool admit(const HttpRequest& request, Access access, HttpResponse& response) const;

  // The mode in force, one line for the start-up log.
  std::string mode() const;

  // 127.0.0.1 or ::1 (an IPv4-mapped ::ffff:127.0.0.1 is 127.0.0.1). The rest
  // of 127/8 is not "this host" here: tests stand for other machines with
  // 127.0.R.H, and a container or VM network may forward loopback ranges.
  static bool is_this_host(const core::Address& address);

 private:
  AdminAccessOptions options_;
};

}  // namespace p2p::net

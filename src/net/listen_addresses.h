// Listen addresses: the config's `host` (an IP literal or a host name) as the
// addresses the HTTP and UDP servers bind.
//
// The original p2ptracker handed HOST to its web server, which resolved it;
// operators' files say HOST = "localhost" or a name of the tracker's own. A name
// is resolved once, at start-up, never on the announce path. Main thread only.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace p2p::net {

struct ListenAddresses {
  // IP literals to bind, in the resolver's order, each once. An IP literal
  // `host` is passed through as written.
  std::vector<std::string> addresses;
  // Addresses the name resolved to that this host does not have (a "::1"
  // entry for localhost on a host without IPv6), each with the reason:
  // "::1 (Cannot assign requested address)". Empty for an IP literal.
  std::vector<std::string> skipped;
  bool resolved = false;  // `host` was a name, not an IP literal
};

// Resolves `host` (getaddrinfo; blocks on DNS). Errors: a name that does not
// resolve ("cannot resolve 'x': Name or service not known"), or resolves only to
// addresses this host does not have.
core::Result<ListenAddresses> resolve_listen_host(const std::string& host);

}  // namespace p2p::net

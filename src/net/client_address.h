// Whose request is this: the address of the client an HTTP request comes from.
//
// The TCP peer's address, unless proxypass is on and the peer is one of
// trusted_proxies: then X-Real-IP, else the right-most X-Forwarded-For entry
// that is not itself a trusted proxy. Headers from anyone else are ignored,
// never trusted blindly. The one copy of this rule: announces (TrackerHandler,
// which then applies the `ip` parameter) and the admin API's access check
// (AdminAccess) both ask it. Pure; thread-safe.
#pragma once

#include <span>

#include "core/address.h"
#include "net/http_types.h"

namespace p2p::net {

// Never allocates (it runs on every announce).
core::Address client_address(const HttpRequest& request, bool proxypass,
                             std::span<const core::Cidr> trusted_proxies);

}  // namespace p2p::net

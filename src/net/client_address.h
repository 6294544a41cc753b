// Whose address a request is: the one trust rule for every front door (HTTP
// announce and scrape, UDP, the admin API).
//
// Two questions, asked in this order:
//   requester_address(): who sent the request. The source address (TCP peer,
//     UDP sender), unless proxypass is on and the source is a trusted proxy:
//     then the client that proxy names in its configured header. This is what
//     per-source limits and admin access control key on.
//   announced_address(): the address an announce speaks for. The requester's,
//     unless the requester is in trusted_networks and sent an `ip`
//     parameter. Announces only.
// Anything else a client sends about itself is ignored, never believed.
//
// Pure functions of their arguments: thread-safe, never block, never
// allocate.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "net/http_types.h"

namespace p2p::net {

// The header a trusted proxy names its client in (config key proxy_header).
enum class ProxyHeader : std::uint8_t {
  // "X-Forwarded-For: client, proxy1, proxy2": each proxy appends the address
  // it received the request from. Read right to left, past our own proxies.
  kXForwardedFor,
  // "X-Real-IP: client": one address, which the proxy must set (overwrite),
  // not pass through; believed only when configured, because a proxy that
  // does not set it forwards whatever the client wrote.
  kXRealIp,
};

// "X-Forwarded-For" or "X-Real-IP", as the config key spells them.
std::string_view proxy_header_name(ProxyHeader header);
// The header `name` spells (ASCII case-insensitive); nullopt for any other.
std::optional<ProxyHeader> parse_proxy_header(std::string_view name);

// The requester when a trusted proxy's header names no address: the
// unspecified address (::), in no access rule's networks. Announces from it
// are refused (it is no address to give to peers), and its requests share
// one per-source bucket.
inline const core::Address kUnknownClient{};

struct TrustOptions {
  // Requesters that may announce another address with the `ip` parameter.
  std::vector<core::Cidr> trusted_networks;
  // Behind a reverse proxy: believe `proxy_header` on connections from
  // trusted_proxies.
  bool proxypass = false;
  std::vector<core::Cidr> trusted_proxies;
  ProxyHeader proxy_header = ProxyHeader::kXForwardedFor;
};

// Who sent the request. `source` is the TCP peer or UDP sender;
// `header_value` the value of options.proxy_header on that request (empty for
// UDP, or when absent). With proxypass and a trusted-proxy source:
//   X-Forwarded-For: the right-most entry that is not a trusted proxy (the
//     entries left of it were written by the client or by proxies we do not
//     know, so any of them may be forged); every entry trusted: the left-most.
//     An entry is an address, with or without a port ("1.2.3.4:4711",
//     "[2001:db8::1]:443"). Repeated header lines count as one, joined in
//     order (RFC 9110), so a proxy that appends its own line is read right.
//     An entry that names no address ("unknown", garbage) where the walk
//     needs one: kUnknownClient, never the proxy's own address, which may be
//     this host's and so allowed to change the tracker.
//   X-Real-IP: its address; absent: the source; not an address:
//     kUnknownClient.
// Otherwise: the source.
core::Address requester_address(const TrustOptions& options, const core::Address& source,
                                std::string_view header_value);

// The same for an HTTP request (reads options.proxy_header from it).
core::Address requester_address(const TrustOptions& options, const HttpRequest& request);

// The address an announce speaks for: `ip` when the requester is in
// trusted_networks and sent one, else the requester.
core::Address announced_address(const TrustOptions& options, const core::Address& requester,
                                const std::optional<core::Address>& ip);

}  // namespace p2p::net

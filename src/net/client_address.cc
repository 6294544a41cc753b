#include "net/client_address.h"

#include <algorithm>
#include <optional>

namespace p2p::net {
namespace {

bool in_any(const std::vector<core::Cidr>& nets, const core::Address& a) {
  return std::any_of(nets.begin(), nets.end(), [&](const core::Cidr& c) { return c.contains(a); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// An X-Forwarded-For entry's address: "1.2.3.4", and the forms proxies also
// write, "1.2.3.4:4711", "[2001:db8::1]" and "[2001:db8::1]:443". Nullopt for
// anything else ("unknown", "_hidden", garbage).
std::optional<core::Address> forwarded_entry(std::string_view entry) {
  if (auto a = core::Address::parse(entry)) return a;
  // ":4711": one to five digits.
  const auto port = [](std::string_view p) {
    return p.size() >= 2 && p.size() <= 6 && p.front() == ':' &&
           std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (entry.starts_with('[')) {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && !port(rest)) return std::nullopt;
    return core::Address::parse(entry.substr(1, close - 1));
  }
  const auto colon = entry.find(':');
  if (colon == std::string_view::npos || !port(entry.substr(colon))) return std::nullopt;
  const auto a = core::Address::parse(entry.substr(0, colon));
  if (!a || !a->is_v4()) return std::nullopt;
  return a;
}

// Right to left: each proxy appends the address it received from, so the
// right end was written by the proxy we trust, and everything left of the
// first address that is not one of our proxies came from outside. An entry
// that names no address where the client's should be leaves the client
// unknown: the unspecified address, which no access rule grants anything (the
// trusted proxy itself may be this host, which may change the tracker).
core::Address from_forwarded_for(const TrustOptions& o, core::Address addr, std::string_view xff) {
  while (!xff.empty()) {
    const auto comma = xff.rfind(',');
    const std::string_view entry =
        trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
    xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
    const auto a = forwarded_entry(entry);
    if (!a) return kUnknownClient;
    addr = *a;
    if (!in_any(o.trusted_proxies, *a)) break;
  }
  return addr;
}

}  // namespace

std::string_view proxy_header_name(ProxyHeader header) {
  return header == ProxyHeader::kXRealIp ? "X-Real-IP" : "X-Forwarded-For";
}

std::optional<ProxyHeader> parse_proxy_header(std::string_view name) {
  for (auto h : {ProxyHeader::kXForwardedFor, ProxyHeader::kXRealIp}) {
    if (iequals(name, proxy_header_name(h))) return h;
  }
  return std::nullopt;
}

core::Address requester_address(const TrustOptions& o, const core::Address& source,
                                std::string_view header_value) {
  if (!o.proxypass || header_value.empty() || !in_any(o.trusted_proxies, source)) return source;
  if (o.proxy_header == ProxyHeader::kXRealIp) {
    return core::Address::parse(trim(header_value)).value_or(kUnknownClient);
  }
  return from_forwarded_for(o, source, header_value);
}

core::Address requester_address(const TrustOptions& o, const HttpRequest& request) {
  // Only a trusted proxy's header is ever read: no lookup for the others.
  if (!o.proxypass || !in_any(o.trusted_proxies, request.remote.address)) {
    return request.remote.address;
  }
  return requester_address(
      o, request.remote.address,
      request.header ? request.header(proxy_header_name(o.proxy_header)) : std::string_view{});
}

core::Address announced_address(const TrustOptions& o, const core::Address& requester,
                                const std::optional<core::Address>& ip) {
  if (ip && in_any(o.trusted_networks, requester)) return *ip;
  return requester;
}

}  // namespace p2p::net

#include "net/client_address.h"

#include <algorithm>

namespace p2p::net {
namespace {

bool in_any(std::span<const core::Cidr> nets, const core::Address& a) {
  return std::any_of(nets.begin(), nets.end(), [&](const core::Cidr& c) { return c.contains(a); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

core::Address client_address(const HttpRequest& request, bool proxypass,
                             std::span<const core::Cidr> trusted_proxies) {
  core::Address addr = request.remote.address;
  if (!proxypass || !in_any(trusted_proxies, addr)) return addr;
  if (auto real = core::Address::parse(trim(request.header("X-Real-IP")))) return *real;
  std::string_view xff = request.header("X-Forwarded-For");
  // Each proxy appends the address it received from; walk back from the
  // right past our own proxies to the first address none of them is.
  while (!xff.empty()) {
    auto comma = xff.rfind(',');
    std::string_view entry = trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
    xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
    auto a = core::Address::parse(entry);
    if (!a) break;  // garbage: keep the last address we could trust
    addr = *a;
    if (!in_any(trusted_proxies, *a)) break;
  }
  return addr;
}

}  // namespace p2p::net

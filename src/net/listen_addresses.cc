#include "net/listen_addresses.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/address.h"

namespace p2p::net {
namespace {

struct AddrinfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

std::string numeric(const sockaddr* sa, socklen_t len) {
  char text[NI_MAXHOST];
  if (getnameinfo(sa, len, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) return {};
  return text;
}

// Whether this host has `a`: binding it to an ephemeral port succeeds or fails
// for another reason than the address (EADDRNOTAVAIL) or its family
// (EAFNOSUPPORT) being absent. The real bind reports any other failure later.
// Empty when usable, else the reason.
std::string unusable(const addrinfo& a) {
  const int fd = ::socket(a.ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno == EAFNOSUPPORT ? std::strerror(errno) : std::string();
  sockaddr_storage ss{};
  std::memcpy(&ss, a.ai_addr, a.ai_addrlen);
  if (ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6&>(ss).sin6_port = 0;
  } else {
    reinterpret_cast<sockaddr_in&>(ss).sin_port = 0;
  }
  std::string reason;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), a.ai_addrlen) != 0 &&
      (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
    reason = std::strerror(errno);
  }
  ::close(fd);
  return reason;
}

}  // namespace

core::Result<ListenAddresses> resolve_listen_host(const std::string& host) {
  ListenAddresses out;
  if (core::Address::parse(host)) {
    out.addresses.push_back(host);
    return out;
  }
  out.resolved = true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  if (rc != 0) {
    const char* why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return core::invalid_argument(fmt::format(
        "cannot resolve '{}' to an address to listen on: {} (give an IP address such as "
        "0.0.0.0 or ::, or a name this host resolves)",
        host, why));
  }
  std::unique_ptr<addrinfo, AddrinfoDeleter> list(raw);
  std::vector<std::string> all;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    std::string text = numeric(a->ai_addr, a->ai_addrlen);
    if (text.empty() || std::find(all.begin(), all.end(), text) != all.end()) continue;
    all.push_back(text);
    if (std::string reason = unusable(*a); !reason.empty()) {
      out.skipped.push_back(fmt::format("{} ({})", text, reason));
    } else {
      out.addresses.push_back(std::move(text));
    }
  }
  if (out.addresses.empty()) {
    std::string listed;
    for (const std::string& s : out.skipped) listed += (listed.empty() ? "" : ", ") + s;
    return core::invalid_argument(
        fmt::format("'{}' resolves to no address of this host{}", host,
                    listed.empty() ? std::string() : fmt::format(": {}", listed)));
  }
  return out;
}

}  // namespace p2p::net

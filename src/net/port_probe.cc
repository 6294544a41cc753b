#include "net/port_probe.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace p2p::net {

core::Status check_port_free(const core::Address& address, std::uint16_t port,
                             Transport transport) {
  if (port == 0) return {};
  const bool v6 = !address.is_v4();
  const char* what = transport == Transport::kTcp ? "TCP" : "UDP";
  const int fd =
      ::socket(v6 ? AF_INET6 : AF_INET,
               (transport == Transport::kTcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return core::unavailable(
        fmt::format("cannot check {} port {}: {}", what, port, std::strerror(errno)));
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    // As the workers bind it: dual stack, so an IPv4 listener on the port counts.
    int zero = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    std::memcpy(a.sin6_addr.s6_addr, address.bytes().data(), 16);
    len = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(address.v4_value());
    len = sizeof a;
  }
  if (transport == Transport::kTcp) {
    // TIME_WAIT leftovers of a previous run must not count as "taken".
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
  const int err = errno;
  ::close(fd);
  if (rc == 0) return {};
  if (err == EADDRINUSE) {
    return core::already_exists(
        fmt::format("{} port {} on {} is already in use, by another p2ptracker or another program "
                    "(`ss -lnp 'sport = :{}'` names it); stop it or choose another port",
                    what, port, address.to_string(), port));
  }
  return core::unavailable(fmt::format("cannot bind {} port {} on {}: {}", what, port,
                                       address.to_string(), std::strerror(err)));
}

}  // namespace p2p::net

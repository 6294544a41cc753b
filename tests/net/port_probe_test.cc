#include "net/port_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2p::net {
namespace {

// A socket bound to a free loopback port with SO_REUSEPORT, as a running
// tracker's workers hold it; returns the fd and sets `port`.
int hold_port(int type, std::uint16_t& port) {
  const int fd = ::socket(AF_INET, type, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd, 1), 0);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

TEST(PortProbeTest, Issue14APortHeldWithReusePortIsTaken) {
  const auto loopback = *core::Address::parse("127.0.0.1");
  for (auto [type, transport] :
       {std::pair{SOCK_STREAM, Transport::kTcp}, std::pair{SOCK_DGRAM, Transport::kUdp}}) {
    std::uint16_t port = 0;
    const int fd = hold_port(type, port);
    auto taken = check_port_free(loopback, port, transport);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, core::ErrorCode::kAlreadyExists);
    EXPECT_NE(taken.error().message.find("already in use"), std::string::npos);
    ::close(fd);
    EXPECT_TRUE(check_port_free(loopback, port, transport));
  }
  EXPECT_TRUE(check_port_free(loopback, 0, Transport::kTcp));
}

}  // namespace
}  // namespace p2p::net

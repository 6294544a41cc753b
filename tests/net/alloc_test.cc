// Issue 4: "No heap allocation per announce once warm". Runs the real HTTP and
// UDP servers in this process, warms them up, then counts every allocation (in
// any thread) while a client sends more announces; expects zero.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

#include "net/http_server.h"
#include "net/tracker.h"
#include "net/tracker_handler.h"
#include "net/udp_server.h"
#include "storage/null_store.h"
#include "support/count_allocations.h"
#include "swarm/swarm_test_util.h"
#include "wire/udp.h"

namespace p2p::net {
namespace {

using p2p::testing::AllocationCounter;

class AllocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    swarms_.activate(hash_, 1 << 20);
    HttpServerOptions ho;
    ho.host = "127.0.0.1";
    ho.port = 0;
    ho.workers = 1;
    ho.max_connections_per_source = 512;  // the per-source count on the accept path
    auto http = HttpServer::create(ho, handler_);
    ASSERT_TRUE(http);
    http_ = std::move(*http);
    http_->start();
    UdpServerOptions uo;
    uo.host = "127.0.0.1";
    uo.port = 0;
    uo.workers = 1;
    auto udp = UdpServer::create(uo, tracker_, clock_);
    ASSERT_TRUE(udp);
    udp_ = std::move(*udp);
    udp_->start();
  }
  void TearDown() override {
    http_->stop();
    udp_->stop();
  }

  static std::string pct(const core::InfoHash& h) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string s;
    for (auto b : h.bytes) {
      s += '%';
      s += kHex[b >> 4];
      s += kHex[b & 15];
    }
    return s;
  }

  // Other peers in the swarm, so the replies carry peers.
  void fill_swarm() {
    for (int h = 2; h < 12; ++h)
      swarm::testing::join(swarms_, hash_, "127.0.0." + std::to_string(h), 100);
  }

  // Runs `announce` 200 times to warm up, then `counted` times while counting
  // allocations in every thread.
  template <class Announce>
  static long allocations_when_warm(int counted, Announce&& announce) {
    for (int i = 0; i < 200; ++i) announce();
    AllocationCounter counter;
    for (int i = 0; i < counted; ++i) announce();
    return counter.count();
  }

  sockaddr_in loopback(std::uint16_t port) const {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  core::ManualClock clock_;
  swarm::testing::Slash24 racks_;
  // store = "memory": nothing mirrored. (RedisStore's writer thread allocates
  // off the announce path, but the counter sees every thread.)
  storage::NullStore store_;
  swarm::SwarmTable swarms_{swarm::SwarmOptions{}, racks_, clock_};
  // Rate limits on (with a bucket no test empties), so the lookup is on the
  // measured path.
  static TrackerOptions limited() {
    TrackerOptions o;
    o.rates.announces_per_second = 1;
    o.rates.announce_burst = 1'000'000;
    o.rates.scrapes_per_second = 1;
    o.rates.scrape_burst = 1'000'000;
    return o;
  }
  Tracker tracker_{limited(), swarms_, store_, clock_};
  TrackerHandler handler_{tracker_};
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<UdpServer> udp_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("1111111111111111111111111111111111111111");
};

TEST_F(AllocTest, WarmHttpAnnouncesDoNotAllocate) {
  fill_swarm();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = loopback(http_->port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /announce?info_hash=" + pct(hash_) +
                          "&peer_id=-PT0001-abcdefghijkl&port=6881&uploaded=0&downloaded=0"
                          "&left=100&compact=1 HTTP/1.1\r\nHost: tracker\r\n"
                          "User-Agent: test/1.0\r\nAccept-Encoding: gzip\r\n\r\n";
  std::array<char, 65536> buf;
  auto round_trip = [&] {
    ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    // One response: headers + the Content-Length body.
    std::size_t got = 0;
    while (true) {
      ssize_t n = ::recv(fd, buf.data() + got, buf.size() - got, 0);
      ASSERT_GT(n, 0);
      got += static_cast<std::size_t>(n);
      std::string_view s(buf.data(), got);
      auto end = s.find("\r\n\r\n");
      if (end == std::string_view::npos) continue;
      auto cl = s.find("Content-Length: ");
      std::size_t len = std::strtoul(buf.data() + cl + 16, nullptr, 10);
      if (got >= end + 4 + len) {
        ASSERT_NE(s.find("5:peers"), std::string_view::npos);
        return;
      }
    }
  };
  const long allocations = allocations_when_warm(500, round_trip);
  ::close(fd);
  EXPECT_EQ(allocations, 0) << "heap allocations over 500 warm HTTP announces";
}

// What a fleet does: every announce on a fresh connection, closed after the
// reply. Sessions are pooled per worker, so once warm a connection allocates
// nothing either.
TEST_F(AllocTest, WarmAnnouncesOnNewConnectionsDoNotAllocate) {
  fill_swarm();
  const sockaddr_in addr = loopback(http_->port());
  const std::string req = "GET /announce?info_hash=" + pct(hash_) +
                          "&peer_id=-PT0001-abcdefghijkl&port=6881&uploaded=0&downloaded=0"
                          "&left=100&compact=1 HTTP/1.1\r\nHost: tracker\r\n"
                          "Connection: close\r\n\r\n";
  std::array<char, 65536> buf;
  auto announce = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    std::size_t got = 0;
    while (true) {  // until the server closes
      ssize_t n = ::recv(fd, buf.data() + got, buf.size() - got, 0);
      ASSERT_GE(n, 0);
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    ASSERT_NE(std::string_view(buf.data(), got).find("5:peers"), std::string_view::npos);
  };
  EXPECT_EQ(allocations_when_warm(300, announce), 0)
      << "heap allocations over 300 warm announces on new connections";
}

TEST_F(AllocTest, WarmUdpAnnouncesDoNotAllocate) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in addr = loopback(udp_->port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  std::array<std::uint8_t, 2048> in{};
  std::array<std::uint8_t, 16> connect{};
  std::uint64_t magic = wire::kUdpProtocolId;
  for (int i = 0; i < 8; ++i) connect[i] = static_cast<std::uint8_t>(magic >> (56 - 8 * i));
  ASSERT_EQ(::send(fd, connect.data(), connect.size(), 0), 16);
  ASSERT_EQ(::recv(fd, in.data(), in.size(), 0), 16);
  std::array<std::uint8_t, 98> announce{};
  std::memcpy(announce.data(), in.data() + 8, 8);  // connection id
  announce[11] = 1;                                // action announce
  std::memcpy(announce.data() + 16, hash_.bytes.data(), 20);
  announce[16 + 20] = '-';
  announce[16 + 48 + 7] = 100;  // left
  announce[96] = 0x1A;          // port 6881
  announce[97] = 0xE1;
  announce[92] = announce[93] = announce[94] = announce[95] = 0xFF;  // num_want -1
  auto round_trip = [&] {
    ASSERT_EQ(::send(fd, announce.data(), announce.size(), 0), 98);
    ASSERT_GE(::recv(fd, in.data(), in.size(), 0), 20);
    ASSERT_EQ(in[3], 1);
  };
  const long allocations = allocations_when_warm(500, round_trip);
  ::close(fd);
  EXPECT_EQ(allocations, 0) << "heap allocations over 500 warm UDP announces";
}

}  // namespace
}  // namespace p2p::net

// UdpServer over real sockets: BEP 15 round trips, connection ids, bad packets,
// IPv6.
#include "net/udp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "metrics/registry.h"
#include "storage/store.h"
#include "swarm/swarm_test_util.h"
#include "wire/udp.h"

namespace p2p::net {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put(Bytes& b, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get(const Bytes& b, std::size_t off, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | b[off + i];
  return v;
}

// A UDP client bound to a chosen loopback address (its "host").
class UdpClient {
 public:
  UdpClient(const std::string& local, std::uint16_t server_port, bool v6 = false) : v6_(v6) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      inet_pton(AF_INET6, local.c_str(), &a.sin6_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
      server6_.sin6_family = AF_INET6;
      server6_.sin6_port = htons(server_port);
      inet_pton(AF_INET6, "::1", &server6_.sin6_addr);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      inet_pton(AF_INET, local.c_str(), &a.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
      server4_.sin_family = AF_INET;
      server4_.sin_port = htons(server_port);
      server4_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
  }
  ~UdpClient() { ::close(fd_); }

  std::optional<Bytes> ask(const Bytes& packet, int timeout_ms = 2000) {
    send(packet);
    return receive(timeout_ms);
  }

  void send(const Bytes& packet) {
    if (v6_) {
      ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&server6_),
               sizeof server6_);
    } else {
      ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&server4_),
               sizeof server4_);
    }
  }

  std::optional<Bytes> receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    Bytes b(65536);
    ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
    if (n < 0) return std::nullopt;
    b.resize(static_cast<std::size_t>(n));
    return b;
  }

  std::uint64_t connect() {
    Bytes req;
    put(req, wire::kUdpProtocolId, 8);
    put(req, 0, 4);
    put(req, 42, 4);
    auto r = ask(req);
    EXPECT_TRUE(r);
    if (!r) return 0;
    EXPECT_EQ(r->size(), 16u);
    EXPECT_EQ(get(*r, 0, 4), 0u);
    EXPECT_EQ(get(*r, 4, 4), 42u);
    return get(*r, 8, 8);
  }

  static Bytes announce(std::uint64_t conn, const core::InfoHash& h, std::uint64_t left,
                        std::uint16_t port = 6881, std::uint32_t event = 2) {
    Bytes b;
    put(b, conn, 8);
    put(b, 1, 4);
    put(b, 777, 4);
    b.insert(b.end(), h.bytes.begin(), h.bytes.end());
    for (int i = 0; i < 20; ++i) b.push_back('p');
    put(b, 0, 8);
    put(b, left, 8);
    put(b, 0, 8);
    put(b, event, 4);
    put(b, 0, 4);
    put(b, 1, 4);
    put(b, 0xFFFFFFFF, 4);
    put(b, port, 2);
    return b;
  }

 private:
  int fd_;
  bool v6_;
  sockaddr_in server4_{};
  sockaddr_in6 server6_{};
};

class UdpServerTest : public ::testing::Test {
 protected:
  void start(const std::string& host = "127.0.0.1") {
    auto s = storage::make_store(
        {}, [](core::RackId) { return std::string("r"); }, clock_);
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    swarms_ = std::make_unique<swarm::SwarmTable>(swarm::SwarmOptions{}, racks_, clock_);
    swarms_->activate(hash_, 1000);
    tracker_ = std::make_unique<Tracker>(TrackerOptions{}, *swarms_, *store_);
    UdpServerOptions o;
    o.host = host;
    o.port = 0;
    o.workers = 2;
    o.metrics = &metrics_;
    auto u = UdpServer::create(o, *tracker_, clock_);
    ASSERT_TRUE(u) << u.error().message;
    udp_ = std::move(*u);
    udp_->start();
  }
  void TearDown() override {
    if (udp_) udp_->stop();
  }

  metrics::Registry metrics_;  // before udp_: its workers count into it
  core::ManualClock clock_;
  swarm::testing::Slash24 racks_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<swarm::SwarmTable> swarms_;
  std::unique_ptr<Tracker> tracker_;
  std::unique_ptr<UdpServer> udp_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("00112233445566778899AABBCCDDEEFF00112233");
};

TEST_F(UdpServerTest, ConnectAnnounceScrapeRoundTrip) {
  start();
  UdpClient a("127.0.1.1", udp_->port()), b("127.0.1.2", udp_->port());
  auto ra = a.ask(UdpClient::announce(a.connect(), hash_, 1000));
  ASSERT_TRUE(ra);
  EXPECT_EQ(get(*ra, 0, 4), 1u);    // announce
  EXPECT_EQ(get(*ra, 4, 4), 777u);  // transaction id echoed
  EXPECT_EQ(get(*ra, 8, 4), 45u);   // interval
  auto rb = b.ask(UdpClient::announce(b.connect(), hash_, 0));
  ASSERT_TRUE(rb);
  EXPECT_EQ(get(*rb, 12, 4), 1u);  // leechers
  EXPECT_EQ(get(*rb, 16, 4), 1u);  // seeders
  ASSERT_EQ(rb->size(), 26u);      // one IPv4 peer: 127.0.1.1:6881
  EXPECT_EQ(get(*rb, 20, 4), 0x7F000101u);
  EXPECT_EQ(get(*rb, 24, 2), 6881u);

  // Scrape two hashes, answered in request order.
  Bytes s;
  put(s, a.connect(), 8);
  put(s, 2, 4);
  put(s, 5, 4);
  auto unknown = *core::InfoHash::from_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  s.insert(s.end(), unknown.bytes.begin(), unknown.bytes.end());
  s.insert(s.end(), hash_.bytes.begin(), hash_.bytes.end());
  auto rs = a.ask(s);
  ASSERT_TRUE(rs);
  ASSERT_EQ(rs->size(), 8u + 24u);
  EXPECT_EQ(get(*rs, 8, 4), 0u);   // unknown: zeros
  EXPECT_EQ(get(*rs, 20, 4), 1u);  // seeders of hash_
  EXPECT_EQ(get(*rs, 28, 4), 1u);  // leechers of hash_
  EXPECT_EQ(udp_->stats().announces, 2u);
}

TEST_F(UdpServerTest, UnknownTransferGetsPassiveInterval) {
  start();
  UdpClient a("127.0.1.1", udp_->port());
  auto other = *core::InfoHash::from_hex("0000000000000000000000000000000000000001");
  auto r = a.ask(UdpClient::announce(a.connect(), other, 10));
  ASSERT_TRUE(r);
  EXPECT_EQ(get(*r, 8, 4), 300u);
  EXPECT_EQ(r->size(), 20u);
}

TEST_F(UdpServerTest, BadConnectionIdsAndHeadersAreDroppedSilently) {
  start();
  UdpClient a("127.0.1.1", udp_->port()), b("127.0.1.2", udp_->port());
  std::uint64_t conn = a.connect();
  // Another client's id, and a made-up id: no answer.
  EXPECT_FALSE(b.ask(UdpClient::announce(conn, hash_, 10), 300));
  EXPECT_FALSE(a.ask(UdpClient::announce(conn ^ 1, hash_, 10), 300));
  // A connect without the protocol magic, and a runt packet: no answer.
  Bytes bad;
  put(bad, 12345, 8);
  put(bad, 0, 4);
  put(bad, 1, 4);
  EXPECT_FALSE(a.ask(bad, 300));
  EXPECT_FALSE(a.ask(Bytes{1, 2, 3}, 300));
  EXPECT_EQ(udp_->stats().dropped, 4u);
  // The same counts on /metrics: 5 packets in, 1 connect answered, 1 reply.
  std::string text;
  metrics_.render(text);
  for (const char* line : {"p2ptracker_udp_packets_total{kind=\"dropped\"} 4\n",
                           "p2ptracker_udp_packets_total{kind=\"received\"} 5\n",
                           "p2ptracker_udp_packets_total{kind=\"sent\"} 1\n",
                           "p2ptracker_udp_packets_total{kind=\"connect\"} 1\n",
                           "p2ptracker_udp_packets_total{kind=\"error\"} 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
  // Ids expire: two windows later the same id is refused.
  clock_.advance(core::Seconds(2 * ConnectionIds::kWindowSeconds + 1));
  EXPECT_FALSE(a.ask(UdpClient::announce(conn, hash_, 10), 300));
}

TEST_F(UdpServerTest, ConnectionIdSurvivesOneWindowBoundary) {
  start();
  UdpClient a("127.0.1.1", udp_->port());
  std::uint64_t conn = a.connect();
  clock_.advance(core::Seconds(ConnectionIds::kWindowSeconds));
  EXPECT_TRUE(a.ask(UdpClient::announce(conn, hash_, 10)));
}

TEST_F(UdpServerTest, ErrorsForProvenClients) {
  start();
  UdpClient a("127.0.1.1", udp_->port());
  std::uint64_t conn = a.connect();
  Bytes truncated = UdpClient::announce(conn, hash_, 10);
  truncated.resize(60);
  auto r = a.ask(truncated);
  ASSERT_TRUE(r);
  EXPECT_EQ(get(*r, 0, 4), 3u);  // error
  EXPECT_EQ(get(*r, 4, 4), 777u);
  EXPECT_NE(std::string(r->begin() + 8, r->end()).find("truncated"), std::string::npos);

  Bytes unknown_action;
  put(unknown_action, conn, 8);
  put(unknown_action, 9, 4);
  put(unknown_action, 31, 4);
  auto u = a.ask(unknown_action);
  ASSERT_TRUE(u);
  EXPECT_EQ(get(*u, 0, 4), 3u);
  EXPECT_EQ(get(*u, 4, 4), 31u);
  EXPECT_EQ(std::string(u->begin() + 8, u->end()), "unknown action");

  Bytes many_hashes;
  put(many_hashes, conn, 8);
  put(many_hashes, 2, 4);
  put(many_hashes, 32, 4);
  many_hashes.resize(16 + 20 * 75);
  auto m = a.ask(many_hashes);
  ASSERT_TRUE(m);
  EXPECT_EQ(get(*m, 0, 4), 3u);
}

TEST_F(UdpServerTest, ScrapeOfManyHashes) {
  start();
  UdpClient a("127.0.1.1", udp_->port());
  Bytes s;
  put(s, a.connect(), 8);
  put(s, 2, 4);
  put(s, 6, 4);
  for (int i = 0; i < 74; ++i) s.insert(s.end(), hash_.bytes.begin(), hash_.bytes.end());
  auto r = a.ask(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 8u + 74u * 12u);
}

// Issue 10: each reply in a batch has its slot, sized for an announce of
// maxpeers peers only (650 bytes by default); a burst of scrapes of 54 to 74
// hashes (662 to 896 bytes) wrote each reply into the next one's slot, then
// past the end of the batch's buffer. Every reply must come back whole.
TEST_F(UdpServerTest, Issue10_BurstOfUdpScrapesOf54To74HashesGetsWholeReplies) {
  start();
  ASSERT_EQ(tracker_->options().maxpeers, 35u);  // the default the issue was found with
  UdpClient a("127.0.1.1", udp_->port());
  const std::uint64_t conn = a.connect();
  // Unknown hashes: every count in a whole reply is 0, so bytes of a
  // neighbour's header (action 2, its transaction id) show.
  const core::InfoHash unknown =
      *core::InfoHash::from_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  // Sent back to back, so the server reads them in batches; three rounds make
  // more than one batch (32 packets) and fill a batch's last slot.
  constexpr int kRounds = 3;
  int sent = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (std::uint32_t n = 54; n <= wire::kUdpMaxScrapeHashes; ++n) {
      Bytes s;
      put(s, conn, 8);
      put(s, 2, 4);
      put(s, n << 8 | static_cast<std::uint32_t>(round), 4);  // transaction id: hashes, round
      for (std::uint32_t i = 0; i < n; ++i)
        s.insert(s.end(), unknown.bytes.begin(), unknown.bytes.end());
      a.send(s);
      ++sent;
    }
  }
  std::vector<bool> seen(static_cast<std::size_t>(sent), false);
  for (int i = 0; i < sent; ++i) {
    auto r = a.receive();
    ASSERT_TRUE(r) << "reply " << i << " of " << sent << " missing";
    ASSERT_GE(r->size(), 8u);
    EXPECT_EQ(get(*r, 0, 4), 2u) << "action";
    const auto tid = static_cast<std::uint32_t>(get(*r, 4, 4));
    const std::uint32_t n = tid >> 8, round = tid & 0xFF;
    ASSERT_TRUE(n >= 54 && n <= wire::kUdpMaxScrapeHashes && round < kRounds) << tid;
    const std::size_t index = round * 21 + (n - 54);
    EXPECT_FALSE(seen[index]) << "transaction id " << tid << " answered twice";
    seen[index] = true;
    ASSERT_EQ(r->size(), 8u + 12u * n) << "transaction id " << tid;
    for (std::size_t off = 8; off < r->size(); off += 4) {
      ASSERT_EQ(get(*r, off, 4), 0u) << "transaction id " << tid << ", byte " << off;
    }
  }
  EXPECT_EQ(udp_->stats().scrapes, static_cast<std::uint64_t>(sent));
  EXPECT_EQ(udp_->stats().dropped, 0u);
}

TEST_F(UdpServerTest, Ipv6AnnounceGetsIpv6Peers) {
  start("::");
  UdpClient a("::1", udp_->port(), true);
  UdpClient b("127.0.1.1", udp_->port());  // IPv4 on the dual-stack socket
  std::uint64_t conn = a.connect();
  ASSERT_TRUE(a.ask(UdpClient::announce(conn, hash_, 10, 7000)));
  ASSERT_TRUE(b.ask(UdpClient::announce(b.connect(), hash_, 10)));
  // A second client on ::1 (another port, so another peer) in the same /64.
  auto r = a.ask(UdpClient::announce(conn, hash_, 10, 7001));
  ASSERT_TRUE(r);
  EXPECT_EQ(get(*r, 12, 4), 3u);    // three leechers in the swarm
  ASSERT_EQ(r->size(), 20u + 18u);  // one 18-byte IPv6 entry: [::1]:7000
  EXPECT_EQ(get(*r, 20, 8), 0u);
  EXPECT_EQ(get(*r, 28, 8), 1u);
  EXPECT_EQ(get(*r, 36, 2), 7000u);
  // An IPv4 reply holds only IPv4 entries (here: none in its rack).
  auto r4 = b.ask(UdpClient::announce(b.connect(), hash_, 10));
  ASSERT_TRUE(r4);
  EXPECT_EQ(r4->size(), 20u);
}

}  // namespace
}  // namespace p2p::net

namespace p2p::net {
namespace {

// libtorrent shares one connection id per tracker across its UDP sockets: an id
// issued to one port of an address must serve another port of it, and never
// another address.
TEST(ConnectionIdsTest, BoundToTheAddressNotThePort) {
  core::ManualClock clock;
  core::SipKey key{};
  key[3] = 7;
  ConnectionIds ids(key, clock);
  const core::Endpoint a{*core::Address::parse("127.0.1.1"), 40000};
  const core::Endpoint a2{*core::Address::parse("127.0.1.1"), 40001};
  const core::Endpoint b{*core::Address::parse("127.0.1.2"), 40000};
  std::uint64_t id = ids.issue(a);
  EXPECT_TRUE(ids.valid(id, a));
  EXPECT_TRUE(ids.valid(id, a2));
  EXPECT_FALSE(ids.valid(id, b));
  EXPECT_NE(ConnectionIds(core::SipKey{}, clock).issue(a), id);  // keyed
}

}  // namespace
}  // namespace p2p::net

// BEP 15 packets: byte layouts, BEP 41 options, errors.
#include "wire/udp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace p2p::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put(Bytes& b, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes announce_packet(std::uint32_t event = 2, std::uint16_t port = 6881, std::int32_t numwant = -1,
                      std::uint32_t ip = 0) {
  Bytes b;
  put(b, 0x1122334455667788ull, 8);
  put(b, 1, 4);
  put(b, 0xCAFEBABE, 4);
  for (int i = 0; i < 20; ++i) b.push_back(static_cast<std::uint8_t>(i));        // info_hash
  for (int i = 0; i < 20; ++i) b.push_back(static_cast<std::uint8_t>(100 + i));  // peer_id
  put(b, 1000, 8);                                                               // downloaded
  put(b, 2000, 8);                                                               // left
  put(b, 3000, 8);                                                               // uploaded
  put(b, event, 4);
  put(b, ip, 4);
  put(b, 0xABCD1234, 4);  // key
  put(b, static_cast<std::uint32_t>(numwant), 4);
  put(b, port, 2);
  return b;
}

TEST(UdpTest, HeaderNeedsSixteenBytes) {
  Bytes b;
  put(b, kUdpProtocolId, 8);
  put(b, 0, 4);
  put(b, 7, 4);
  UdpHeader h;
  ASSERT_TRUE(parse_udp_header(b, h));
  EXPECT_EQ(h.connection_id, kUdpProtocolId);
  EXPECT_EQ(h.action, 0u);
  EXPECT_EQ(h.transaction_id, 7u);
  b.pop_back();
  EXPECT_FALSE(parse_udp_header(b, h));
}

TEST(UdpTest, AnnounceFields) {
  auto p = parse_udp_announce(announce_packet());
  ASSERT_TRUE(p) << p.error().message;
  const AnnounceRequest& r = p->request;
  EXPECT_EQ(r.info_hash.bytes[19], 19);
  EXPECT_EQ(r.peer_id.bytes[0], 100);
  EXPECT_EQ(r.downloaded, 1000u);
  EXPECT_EQ(r.left, 2000u);
  EXPECT_EQ(r.uploaded, 3000u);
  EXPECT_EQ(r.event, AnnounceEvent::kStarted);
  EXPECT_EQ(r.key, 0xABCD1234u);
  EXPECT_FALSE(r.numwant);
  EXPECT_FALSE(r.ip);
  EXPECT_EQ(r.port, 6881);
  EXPECT_TRUE(p->url_data.empty());

  auto q = parse_udp_announce(announce_packet(1, 80, 50, 0x0A000001));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->request.event, AnnounceEvent::kCompleted);
  EXPECT_EQ(q->request.numwant, 50u);
  EXPECT_EQ(q->request.ip->to_string(), "10.0.0.1");
  EXPECT_EQ(parse_udp_announce(announce_packet(3))->request.event, AnnounceEvent::kStopped);
  EXPECT_EQ(parse_udp_announce(announce_packet(0))->request.event, AnnounceEvent::kNone);
}

TEST(UdpTest, AnnounceErrors) {
  Bytes b = announce_packet();
  b.pop_back();
  auto t = parse_udp_announce(b);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("truncated"), std::string::npos);
  EXPECT_FALSE(parse_udp_announce(announce_packet(9)));
  EXPECT_FALSE(parse_udp_announce(announce_packet(2, 0)));
}

TEST(UdpTest, Bep41OptionsAreParsedNeverRejected) {
  Bytes b = announce_packet();
  b.push_back(1);  // NOP
  b.push_back(2);  // URLData
  const std::string url = "/announce?auth=xyz";
  b.push_back(static_cast<std::uint8_t>(url.size()));
  b.insert(b.end(), url.begin(), url.end());
  b.push_back(0);     // EndOfOptions
  b.push_back(0xEE);  // trailing junk after the end: ignored
  auto p = parse_udp_announce(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->url_data, url);

  Bytes bad = announce_packet();
  bad.push_back(2);
  bad.push_back(200);  // length beyond the packet
  bad.push_back('x');
  auto q = parse_udp_announce(bad);
  ASSERT_TRUE(q) << "malformed options must not reject the announce";
  EXPECT_TRUE(q->url_data.empty());

  Bytes unknown = announce_packet();
  unknown.push_back(9);  // unknown option type with a length
  unknown.push_back(1);
  unknown.push_back('z');
  EXPECT_TRUE(parse_udp_announce(unknown));
}

TEST(UdpTest, Scrape) {
  Bytes b;
  put(b, 1, 8);
  put(b, 2, 4);
  put(b, 9, 4);
  for (int h = 0; h < 3; ++h)
    for (int i = 0; i < 20; ++i) b.push_back(static_cast<std::uint8_t>(h));
  std::vector<core::InfoHash> out;
  ASSERT_TRUE(parse_udp_scrape(b, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].bytes[0], 2);
  b.pop_back();
  out.clear();
  EXPECT_FALSE(parse_udp_scrape(b, out));
  Bytes empty(b.begin(), b.begin() + 16);
  EXPECT_FALSE(parse_udp_scrape(empty, out));
  Bytes many(16, 0);
  many.resize(16 + 20 * 75);
  EXPECT_FALSE(parse_udp_scrape(many, out));
}

TEST(UdpTest, Encoders) {
  std::vector<std::uint8_t> out(2048);
  EXPECT_EQ(encode_udp_connect(5, 0x0102030405060708ull, out).value(), 16u);
  EXPECT_EQ(out[3], 0);  // action connect
  EXPECT_EQ(out[7], 5);  // transaction id
  EXPECT_EQ(out[8], 1);  // connection id, big-endian
  EXPECT_EQ(out[15], 8);

  PeerEntry peers[] = {{{*core::Address::parse("10.1.2.3"), 6881}, {}},
                       {{*core::Address::parse("2001:db8::1"), 51413}, {}}};
  AnnounceReply r;
  r.interval = 45;
  r.complete = 3;
  r.incomplete = 7;
  r.peers = peers;
  std::size_t n = encode_udp_announce(9, r, false, out).value();
  ASSERT_EQ(n, 20u + 6u);  // the IPv6 peer is skipped in an IPv4 reply
  EXPECT_EQ(out[3], 1);
  EXPECT_EQ(out[11], 45);
  EXPECT_EQ(out[15], 7);  // leechers before seeders
  EXPECT_EQ(out[19], 3);
  EXPECT_EQ(out[20], 10);
  EXPECT_EQ((out[24] << 8) | out[25], 6881);
  n = encode_udp_announce(9, r, true, out).value();
  ASSERT_EQ(n, 20u + 18u);
  EXPECT_EQ(out[20], 0x20);
  EXPECT_EQ((out[36] << 8) | out[37], 51413);

  ScrapeEntry e[] = {{{}, 4, 5, 6}};
  ASSERT_EQ(encode_udp_scrape(1, e, out).value(), 20u);
  EXPECT_EQ(out[11], 4);  // seeders, completed, leechers
  EXPECT_EQ(out[15], 5);
  EXPECT_EQ(out[19], 6);

  ASSERT_EQ(encode_udp_error(3, "bad", out).value(), 11u);
  EXPECT_EQ(out[3], 3);
  EXPECT_EQ(std::string(out.begin() + 8, out.begin() + 11), "bad");
}

// Issue 10: with the default maxpeers (35) a reply slot was sized for an
// announce only (650 bytes) and a scrape of 54 to 74 hashes was written past it.
TEST(UdpTest, Issue10_UdpScrapeOf74HashesFitsTheSlot) {
  constexpr std::uint32_t kDefaultMaxpeers = 35;
  static_assert(udp_announce_reply_size(kDefaultMaxpeers, true) == 650);
  static_assert(udp_scrape_reply_size(kUdpMaxScrapeHashes) == 896);
  for (std::uint32_t maxpeers : {1u, kDefaultMaxpeers, 48u, 49u, 2000u}) {
    const std::size_t capacity = udp_reply_capacity(maxpeers);
    EXPECT_GE(capacity, udp_scrape_reply_size(kUdpMaxScrapeHashes)) << maxpeers;
    EXPECT_GE(capacity, udp_announce_reply_size(maxpeers, true)) << maxpeers;
    EXPECT_GE(capacity, udp_announce_reply_size(maxpeers, false)) << maxpeers;
  }
  EXPECT_EQ(udp_reply_capacity(kDefaultMaxpeers), 896u);
  EXPECT_EQ(udp_reply_capacity(2000), 20u + 18u * 2000u);

  std::vector<ScrapeEntry> entries(kUdpMaxScrapeHashes);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i] = {{}, static_cast<std::uint32_t>(i), 7, 9};
  }
  // An exact-size heap buffer, so a sanitizer sees any write past it.
  std::vector<std::uint8_t> slot(udp_reply_capacity(kDefaultMaxpeers));
  auto n = encode_udp_scrape(0xA1B2C3D4, entries, slot);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(*n, 896u);
  EXPECT_EQ(slot[3], 2);  // action scrape
  EXPECT_EQ(slot[4], 0xA1);
  EXPECT_EQ(slot[8 + 12 * 73 + 3], 73);  // the last entry's seeders
  EXPECT_EQ(slot[895], 9);               // and its leechers, in the slot's last byte
}

// Issue 10: no encoder writes past the buffer it is given, whatever its size,
// and one that fails writes nothing. Each gets every buffer size from 0 to a
// full scrape's inside a larger array whose other bytes must stay untouched.
TEST(UdpTest, Issue10_EncodersNeverWritePastTheirBuffer) {
  constexpr std::uint8_t kGuard = 0xEE;
  std::vector<ScrapeEntry> entries(kUdpMaxScrapeHashes, ScrapeEntry{{}, 1, 2, 3});
  std::vector<PeerEntry> peers;
  for (std::uint32_t i = 0; i < 40; ++i) {
    peers.push_back({{core::Address::v4(0x0A000000 + i), 6881}, {}});
    peers.push_back({{*core::Address::parse("2001:db8::" + std::to_string(i + 1)), 6881}, {}});
  }
  AnnounceReply reply;
  reply.peers = peers;
  const std::string message(100, 'm');

  for (std::size_t size = 0; size <= udp_scrape_reply_size(kUdpMaxScrapeHashes); ++size) {
    std::vector<std::uint8_t> buf;
    std::span<std::uint8_t> out;
    auto fresh = [&] {
      buf.assign(size + 64, kGuard);
      out = std::span<std::uint8_t>(buf.data(), size);
    };
    // Bytes from `from` on are as fresh() left them.
    auto untouched_from = [&](std::size_t from) {
      return std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(from), buf.end(),
                         [&](std::uint8_t b) { return b == kGuard; });
    };
    auto written = [](const core::Result<std::size_t>& r) { return r ? *r : 0; };

    fresh();
    auto c = encode_udp_connect(1, 2, out);
    EXPECT_EQ(c.ok(), size >= kUdpConnectReplySize) << size;
    if (!c) {
      EXPECT_EQ(c.error().code, core::ErrorCode::kTooLarge);
    }
    EXPECT_TRUE(untouched_from(written(c))) << "connect, buffer of " << size;

    for (bool ipv6 : {false, true}) {
      fresh();
      auto a = encode_udp_announce(1, reply, ipv6, out);
      EXPECT_EQ(a.ok(), size >= udp_announce_reply_size(0, ipv6)) << size;
      if (a) {
        // As many whole entries as fit, up to the 40 peers of this family.
        const std::size_t fit = std::min<std::size_t>(40, (size - 20) / (ipv6 ? 18 : 6));
        EXPECT_EQ(*a, udp_announce_reply_size(fit, ipv6)) << size;
      }
      EXPECT_TRUE(untouched_from(written(a))) << "announce, buffer of " << size;
    }

    fresh();
    auto s = encode_udp_scrape(1, entries, out);
    EXPECT_EQ(s.ok(), size >= udp_scrape_reply_size(entries.size())) << size;
    if (!s) {
      EXPECT_EQ(s.error().code, core::ErrorCode::kTooLarge);
    }
    EXPECT_TRUE(untouched_from(written(s))) << "scrape, buffer of " << size;

    fresh();
    auto e = encode_udp_error(1, message, out);
    EXPECT_EQ(e.ok(), size >= kUdpErrorHeaderSize) << size;
    if (e) {
      EXPECT_EQ(*e, std::min(size, kUdpErrorHeaderSize + message.size()));
    }
    EXPECT_TRUE(untouched_from(written(e))) << "error, buffer of " << size;
  }
}

}  // namespace
}  // namespace p2p::wire

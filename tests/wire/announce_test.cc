#include "wire/announce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "wire/bencode.h"
#include "wire_testing.h"

namespace p2p::wire {
namespace {

using core::Address;
using core::InfoHash;
using core::PeerId;
using namespace std::string_literals;

constexpr char kHashHex[] = "123456789ABCDEF0112233445566778899AABBCC";
// kHashHex as libtorrent sends it: unreserved bytes raw, the rest %XX.
constexpr char kHashQuery[] = "%124Vx%9A%BC%DE%F0%11%223DUfw%88%99%AA%BB%CC";
constexpr char kPeerQuery[] = "-lt0D80-%C2%A9%2F%01%D3d%1A%7E%8E%FF%00%9E";

std::string base_query() {
  return std::string("info_hash=") + kHashQuery + "&peer_id=" + kPeerQuery +
         "&port=6881&uploaded=0&downloaded=0&left=0";
}

std::string error_of(std::string_view query) {
  auto r = parse_announce(query);
  if (r) return "";
  EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(ParseAnnounceTest, MinimalQueryAndDefaults) {
  auto r = parse_announce(base_query());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->info_hash, *InfoHash::from_hex(kHashHex));
  EXPECT_EQ(r->peer_id.view().substr(0, 8), "-lt0D80-");
  EXPECT_EQ(r->peer_id.bytes[18], 0x00);
  EXPECT_EQ(r->port, 6881);
  EXPECT_EQ(r->event, AnnounceEvent::kNone);
  EXPECT_FALSE(r->compact);  // Issue 11: a list of dicts unless compact=1
  EXPECT_FALSE(r->no_peer_id);
  EXPECT_FALSE(r->numwant);
  EXPECT_FALSE(r->key);
  EXPECT_FALSE(r->ip);
}

TEST(ParseAnnounceTest, LibtorrentQuery) {
  // qBittorrent 4.x / libtorrent 1.2, parameter order and extras as sent.
  std::string q = std::string("info_hash=") + kHashQuery + "&peer_id=" + kPeerQuery +
                  "&port=50413&uploaded=1048576&downloaded=734003200&left=18446744073709551615"
                  "&corrupt=0&key=1A2B3C4D&event=started&numwant=200&compact=1&no_peer_id=1"
                  "&supportcrypto=1&redundant=0&ipv6=2001%3Adb8%3A%3A5";
  auto r = parse_announce(q);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->info_hash, *InfoHash::from_hex(kHashHex));
  EXPECT_EQ(r->port, 50413);
  EXPECT_EQ(r->uploaded, 1048576u);
  EXPECT_EQ(r->downloaded, 734003200u);
  EXPECT_EQ(r->left, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(r->event, AnnounceEvent::kStarted);
  EXPECT_EQ(r->key, 0x1A2B3C4Du);
  EXPECT_EQ(r->numwant, 200u);
  EXPECT_TRUE(r->compact);
  EXPECT_TRUE(r->no_peer_id);
  EXPECT_FALSE(r->ip);  // ipv6= is not ip=
}

TEST(ParseAnnounceTest, RtorrentAndTransmissionQueries) {
  // rtorrent: lower-case hex key, event last.
  auto r = parse_announce(std::string("info_hash=") + kHashQuery + "&peer_id=" + kPeerQuery +
                          "&key=0f1e2d3c&compact=1&port=6900&uploaded=12&downloaded=34&left=0"
                          "&event=completed");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->key, 0x0f1e2d3cu);
  EXPECT_EQ(r->event, AnnounceEvent::kCompleted);
  EXPECT_EQ(r->uploaded, 12u);
  EXPECT_EQ(r->downloaded, 34u);

  // Transmission, with an explicit IPv6 address in ip=.
  r = parse_announce(std::string("info_hash=") + kHashQuery + "&peer_id=-TR4050-" +
                     "abcdefghijkl&port=51413&uploaded=0&downloaded=0&left=4096&numwant=80"
                     "&key=6a0c2f1b&compact=1&supportcrypto=1&event=stopped"
                     "&ip=2001%3adb8%3a%3a1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->peer_id.view(), "-TR4050-abcdefghijkl");
  EXPECT_EQ(r->event, AnnounceEvent::kStopped);
  EXPECT_EQ(r->numwant, 80u);
  EXPECT_EQ(r->ip, Address::parse("2001:db8::1"));
}

TEST(ParseAnnounceTest, MissingRequiredParameters) {
  const std::string full = base_query();
  for (std::string_view name : {"info_hash", "peer_id", "port", "uploaded", "downloaded", "left"}) {
    // Rebuild the query without `name`.
    std::string q;
    std::size_t pos = 0;
    while (pos <= full.size()) {
      std::size_t amp = std::min(full.find('&', pos), full.size());
      std::string_view pair(full.data() + pos, amp - pos);
      if (pair.substr(0, pair.find('=')) != name) q.append(pair).push_back('&');
      pos = amp + 1;
    }
    EXPECT_EQ(error_of(q), "missing " + std::string(name));
  }
}

TEST(ParseAnnounceTest, DigestLengthErrors) {
  const std::string tail = "&port=1&uploaded=0&downloaded=0&left=0";
  EXPECT_EQ(error_of("info_hash=" + std::string(19, 'a') + "&peer_id=" + kPeerQuery + tail),
            "info_hash must be 20 bytes, got 19");
  EXPECT_EQ(error_of("info_hash=" + std::string(21, 'a') + "&peer_id=" + kPeerQuery + tail),
            "info_hash must be 20 bytes, got 21");
  EXPECT_EQ(error_of("info_hash=&peer_id=" + std::string(kPeerQuery) + tail),
            "info_hash must be 20 bytes, got 0");
  // 40 hex digits is a common mistake in hand-written URLs.
  EXPECT_EQ(error_of(std::string("info_hash=") + kHashHex + "&peer_id=" + kPeerQuery + tail),
            "info_hash must be 20 bytes, got 40");
  EXPECT_EQ(error_of(std::string("info_hash=") + kHashQuery + "&peer_id=%41%42" + tail),
            "peer_id must be 20 bytes, got 2");
  EXPECT_EQ(error_of(std::string("info_hash=") + kHashQuery + "&peer_id" + tail),
            "peer_id must be 20 bytes, got 0");
  EXPECT_EQ(error_of("info_hash=" + std::string(19, 'a') + "%4&peer_id=" + kPeerQuery + tail),
            "info_hash has a bad percent-escape (each byte is %XX, two hex digits)");
  EXPECT_EQ(error_of(std::string("info_hash=") + kHashQuery + "&peer_id=%ZZ" +
                     std::string(19, 'a') + tail),
            "peer_id has a bad percent-escape (each byte is %XX, two hex digits)");
}

TEST(ParseAnnounceTest, PortErrors) {
  const std::string head = std::string("info_hash=") + kHashQuery + "&peer_id=" + kPeerQuery;
  const std::string tail = "&uploaded=0&downloaded=0&left=0";
  for (std::string_view port : {"0", "65536", "-1", "abc", "", "6881x", " 6881", "+6881",
                                "99999999999999999999999", "1.5"}) {
    EXPECT_EQ(error_of(head + "&port=" + std::string(port) + tail),
              "port must be a number from 1 to 65535")
        << port;
  }
  auto r = parse_announce(head + "&port=65535" + tail);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 65535);
  r = parse_announce(head + "&port=1" + tail);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 1);
  r = parse_announce(head + "&port=%36%38%38%31" + tail);  // escaped digits are still digits
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 6881);
}

TEST(ParseAnnounceTest, CounterErrors) {
  const std::string head =
      std::string("info_hash=") + kHashQuery + "&peer_id=" + kPeerQuery + "&port=1";
  const std::string bad_values[] = {
      "-1", "1.5", "", "abc", "18446744073709551616", " 1", "0x10", std::string(40, '1')};
  for (std::string_view name : {"uploaded", "downloaded", "left"}) {
    for (const std::string& bad : bad_values) {
      std::string q = head;
      for (std::string_view other : {"uploaded", "downloaded", "left"}) {
        q += "&" + std::string(other) + "=" + (other == name ? bad : "0");
      }
      EXPECT_EQ(error_of(q), std::string(name) +
                                 " must be a non-negative integer (at most "
                                 "18446744073709551615)")
          << name << "=" << bad;
    }
  }
  auto r = parse_announce(head + "&uploaded=18446744073709551615&downloaded=007&left=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uploaded, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(r->downloaded, 7u);
}

TEST(ParseAnnounceTest, Events) {
  const std::string q = base_query();
  auto event = [&](std::string_view value) {
    return parse_announce(q + "&event=" + std::string(value));
  };
  EXPECT_EQ(event("started")->event, AnnounceEvent::kStarted);
  EXPECT_EQ(event("completed")->event, AnnounceEvent::kCompleted);
  EXPECT_EQ(event("stopped")->event, AnnounceEvent::kStopped);
  EXPECT_EQ(event("")->event, AnnounceEvent::kNone);
  EXPECT_EQ(event("paused")->event, AnnounceEvent::kNone);  // BEP 21
  EXPECT_EQ(event("%73tarted")->event, AnnounceEvent::kStarted);
  EXPECT_EQ(error_of(q + "&event=foo"),
            "unknown event 'foo' (expected started, completed, stopped or empty)");
  EXPECT_EQ(error_of(q + "&event=Started"),
            "unknown event 'Started' (expected started, completed, stopped or empty)");
  // Binary and overlong values are shown safely.
  EXPECT_EQ(error_of(q + "&event=%00%FFx"),
            "unknown event '??x' (expected started, completed, stopped or empty)");
  EXPECT_EQ(error_of(q + "&event=" + std::string(40, 'z')),
            "unknown event '" + std::string(32, 'z') +
                "...' (expected started, completed, stopped or empty)");
}

TEST(ParseAnnounceTest, CompactAndNoPeerId) {
  const std::string q = base_query();
  // Issue 11: compact only when exactly compact=1, as the original.
  EXPECT_FALSE(parse_announce(q)->compact);
  EXPECT_TRUE(parse_announce(q + "&compact=1")->compact);
  EXPECT_FALSE(parse_announce(q + "&compact=0")->compact);
  EXPECT_FALSE(parse_announce(q + "&compact=yes")->compact);
  EXPECT_TRUE(parse_announce(q + "&compact=0&compact=1")->compact);
  EXPECT_TRUE(parse_announce(q + "&no_peer_id=1")->no_peer_id);
  EXPECT_FALSE(parse_announce(q + "&no_peer_id=0")->no_peer_id);
}

TEST(ParseAnnounceTest, Numwant) {
  const std::string q = base_query();
  auto numwant = [&](std::string_view v) {
    return parse_announce(q + "&numwant=" + std::string(v))->numwant;
  };
  EXPECT_EQ(numwant("50"), 50u);
  EXPECT_EQ(numwant("0"), 0u);
  EXPECT_EQ(numwant("4294967295"), 4294967295u);
  EXPECT_EQ(numwant("4294967296"), 4294967295u);
  EXPECT_EQ(numwant("99999999999999999999999999"), 4294967295u);
  EXPECT_FALSE(numwant("-1"));
  EXPECT_FALSE(numwant("abc"));
  EXPECT_FALSE(numwant("12abc"));
  EXPECT_FALSE(numwant(""));
  EXPECT_FALSE(numwant("%G0"));
}

TEST(ParseAnnounceTest, Key) {
  const std::string q = base_query();
  auto key = [&](std::string_view v) { return parse_announce(q + "&key=" + std::string(v))->key; };
  EXPECT_EQ(key("1A2B3C4D"), 0x1A2B3C4Du);
  EXPECT_EQ(key("deadbeef"), 0xDEADBEEFu);
  EXPECT_EQ(key("12345678"), 0x12345678u);  // 8 digits: hex, consistently
  EXPECT_EQ(key("00000000"), 0u);
  EXPECT_EQ(key("123"), 123u);
  EXPECT_EQ(key("4294967295"), 4294967295u);
  EXPECT_EQ(key("abc"), 0xABCu);
  EXPECT_FALSE(key("4294967296"));
  EXPECT_FALSE(key("zzz"));
  EXPECT_FALSE(key("123456789abc"));
  EXPECT_FALSE(key(""));
  EXPECT_FALSE(key("-1"));
}

TEST(ParseAnnounceTest, Ip) {
  const std::string q = base_query();
  auto ip = [&](std::string_view v) { return parse_announce(q + "&ip=" + std::string(v))->ip; };
  EXPECT_EQ(ip("10.1.2.3"), Address::parse("10.1.2.3"));
  EXPECT_EQ(ip("2001%3Adb8%3A%3A1"), Address::parse("2001:db8::1"));
  EXPECT_EQ(ip("2001:db8::1"), Address::parse("2001:db8::1"));
  EXPECT_FALSE(ip("tracker.example.org"));
  EXPECT_FALSE(ip("10.1.2"));
  EXPECT_FALSE(ip(""));
  EXPECT_FALSE(ip("%ZZ"));
  EXPECT_FALSE(ip(std::string(100, '1')));
}

TEST(ParseAnnounceTest, LastRepeatWinsAndOnlyItIsChecked) {
  const std::string q = base_query();
  EXPECT_EQ(parse_announce(q + "&port=1&port=2")->port, 2);
  // An earlier bad value is forgotten once a later one replaces it.
  auto r = parse_announce("info_hash=short&" + q + "&left=-5&left=9");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->left, 9u);
  EXPECT_EQ(error_of(q + "&port=0"), "port must be a number from 1 to 65535");
}

TEST(ParseAnnounceTest, IgnoresUnknownParametersAndOddSeparators) {
  auto r = parse_announce("&&trackerid=abc&" + base_query() + "&requirecrypto&x=%ZZ&&");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->port, 6881);
}

void expect_same(const AnnounceRequest& a, const AnnounceRequest& b) {
  EXPECT_EQ(a.info_hash, b.info_hash);
  EXPECT_EQ(a.peer_id, b.peer_id);
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.uploaded, b.uploaded);
  EXPECT_EQ(a.downloaded, b.downloaded);
  EXPECT_EQ(a.left, b.left);
  EXPECT_EQ(a.event, b.event);
  EXPECT_EQ(a.compact, b.compact);
  EXPECT_EQ(a.no_peer_id, b.no_peer_id);
  EXPECT_EQ(a.numwant, b.numwant);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.ip, b.ip);
}

Address random_address(core::Rng& rng) {
  std::uint8_t b[16];
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
  return rng.below(2) ? Address::v4_bytes(b) : Address::v6_bytes(b);
}

std::uint64_t random_counter(core::Rng& rng) {
  switch (rng.below(3)) {
    case 0:
      return 0;
    case 1:
      return rng.below(1'000'000'000);
    default:
      return rng.next();
  }
}

// A query a client could send for `r`: parameters shuffled, values encoded at
// random, unknown parameters and superseded repeats mixed in.
std::string to_query(const AnnounceRequest& r, core::Rng& rng) {
  std::vector<std::string> params;
  params.push_back("info_hash=" + testing::percent_encode(r.info_hash.view(), rng));
  params.push_back("peer_id=" + testing::percent_encode(r.peer_id.view(), rng));
  params.push_back("port=" + std::to_string(r.port));
  params.push_back("uploaded=" + std::to_string(r.uploaded));
  params.push_back("downloaded=" + std::to_string(r.downloaded));
  params.push_back("left=" + std::to_string(r.left));
  switch (r.event) {
    case AnnounceEvent::kNone:
      if (rng.below(3) == 0) params.push_back("event=");
      if (rng.below(3) == 0) params.push_back("event=paused");
      break;
    case AnnounceEvent::kStarted:
      params.push_back("event=started");
      break;
    case AnnounceEvent::kCompleted:
      params.push_back("event=completed");
      break;
    case AnnounceEvent::kStopped:
      params.push_back("event=stopped");
      break;
  }
  if (r.compact) {
    params.push_back("compact=1");
  } else if (rng.below(2)) {
    params.push_back("compact=0");
  }
  if (r.no_peer_id) params.push_back("no_peer_id=1");
  if (r.numwant) params.push_back("numwant=" + std::to_string(*r.numwant));
  if (!r.numwant && rng.below(2)) params.push_back("numwant=-1");
  if (r.key) {
    char hex[9];
    std::snprintf(hex, sizeof hex, rng.below(2) ? "%08X" : "%08x", *r.key);
    params.push_back(std::string("key=") + hex);
  }
  if (r.ip) params.push_back("ip=" + testing::percent_encode(r.ip->to_string(), rng));
  for (std::uint64_t i = rng.below(3); i > 0; --i) {
    params.push_back("x" + std::to_string(rng.below(100)) + "=" +
                     testing::percent_encode(testing::random_bytes(rng, 5), rng));
  }
  // Shuffle (Fisher-Yates with our seeded generator).
  for (std::size_t i = params.size(); i > 1; --i) {
    std::swap(params[i - 1], params[rng.below(i)]);
  }
  std::string q;
  if (rng.below(2)) q = "port=0&left=-1&info_hash=bad&";  // superseded, so harmless
  for (const auto& p : params) q += p + "&";
  q.pop_back();
  return q;
}

TEST(ParseAnnounceTest, RandomRoundTrip) {
  const std::uint64_t seed = testing::test_seed();
  SCOPED_TRACE("P2P_TEST_SEED=" + std::to_string(seed));
  core::Rng rng(seed);
  for (int i = 0; i < 2000; ++i) {
    AnnounceRequest r;
    r.info_hash = *InfoHash::from_bytes(testing::random_bytes(rng, 20));
    r.peer_id = *PeerId::from_bytes(testing::random_bytes(rng, 20));
    r.port = static_cast<std::uint16_t>(1 + rng.below(65535));
    r.uploaded = random_counter(rng);
    r.downloaded = random_counter(rng);
    r.left = random_counter(rng);
    r.event = static_cast<AnnounceEvent>(rng.below(4));
    r.compact = rng.below(4) != 0;
    r.no_peer_id = rng.below(2) != 0;
    if (rng.below(2)) r.numwant = static_cast<std::uint32_t>(rng.next());
    if (rng.below(2)) r.key = static_cast<std::uint32_t>(rng.next());
    if (rng.below(2)) r.ip = random_address(rng);
    std::string q = to_query(r, rng);
    auto back = parse_announce(q);
    ASSERT_TRUE(back) << back.error().message << " in " << q;
    SCOPED_TRACE(q);
    expect_same(*back, r);
    if (::testing::Test::HasFailure()) return;
  }
}

// ---- encoding ----

PeerEntry peer(std::string_view addr, std::uint16_t port, char id_fill) {
  return {{*Address::parse(addr), port}, *PeerId::from_bytes(std::string(20, id_fill))};
}

TEST(EncodeAnnounceTest, CompactLayoutByteByByte) {
  const PeerEntry peers[] = {peer("10.0.0.1", 6881, 'a'), peer("2001:db8::2", 0x1234, 'b'),
                             peer("192.168.255.254", 65535, 'c')};
  AnnounceReply reply;
  reply.interval = 1800;
  reply.min_interval = 900;
  reply.complete = 3;
  reply.incomplete = 7;
  reply.peers = peers;
  std::string out;
  encode_announce(reply, out);
  const std::string expected =
      "d8:completei3e10:incompletei7e8:intervali1800e12:min intervali900e"
      "5:peers12:"
      "\x0a\x00\x00\x01\x1a\xe1"
      "\xc0\xa8\xff\xfe\xff\xff"
      "6:peers618:"
      "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x12\x34"
      "e"s;
  ASSERT_EQ(out.size(), expected.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char>(out[i]), static_cast<unsigned char>(expected[i]))
        << "byte " << i;
  }
  auto decoded = bdecode(out);  // also checks that the keys are sorted
  ASSERT_TRUE(decoded) << decoded.error().message;
}

TEST(EncodeAnnounceTest, CompactWithoutPeersStillHasPeers) {
  AnnounceReply reply;
  reply.interval = 60;
  std::string out;
  encode_announce(reply, out);
  EXPECT_EQ(out, "d8:completei0e10:incompletei0e8:intervali60e5:peers0:e");
}

TEST(EncodeAnnounceTest, CompactOnlyIpv6) {
  const PeerEntry peers[] = {peer("::1", 1, 'a')};
  AnnounceReply reply;
  reply.peers = peers;
  std::string out;
  encode_announce(reply, out);
  EXPECT_EQ(out, std::string("d8:completei0e10:incompletei0e8:intervali0e5:peers0:6:peers618:") +
                     std::string(15, '\0') + "\x01\x00\x01"s + "e");
}

TEST(EncodeAnnounceTest, ExternalIpAndWarning) {
  AnnounceReply reply;
  reply.interval = 60;
  reply.external_ip = Address::parse("1.2.3.4");
  reply.warning = "slow down";
  std::string out = "keep";
  encode_announce(reply, out);
  EXPECT_EQ(out,
            "keepd8:completei0e11:external ip4:\x01\x02\x03\x04"
            "10:incompletei0e8:intervali60e5:peers0:15:warning message9:slow downe");

  reply.external_ip = Address::parse("2001:db8::1");
  out.clear();
  encode_announce(reply, out);
  auto d = bdecode(out);
  ASSERT_TRUE(d) << d.error().message;
  const auto& ext = d->find("external ip")->as_string();
  ASSERT_EQ(ext.size(), 16u);
  EXPECT_EQ(Address::v6_bytes(reinterpret_cast<const std::uint8_t*>(ext.data())),
            *Address::parse("2001:db8::1"));
}

TEST(EncodeAnnounceTest, NonCompactDictionaries) {
  const PeerEntry peers[] = {peer("10.0.0.1", 6881, 'a'), peer("2001:db8::2", 51413, 'b')};
  AnnounceReply reply;
  reply.interval = 1800;
  reply.complete = 1;
  reply.incomplete = 1;
  reply.peers = peers;
  reply.compact = false;
  std::string out;
  encode_announce(reply, out);
  auto d = bdecode(out);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->find("interval")->as_int(), 1800);
  EXPECT_EQ(d->find("peers6"), nullptr);
  const auto& list = d->find("peers")->as_list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].find("ip")->as_string(), "10.0.0.1");
  EXPECT_EQ(list[0].find("port")->as_int(), 6881);
  EXPECT_EQ(list[0].find("peer id")->as_string(), std::string(20, 'a'));
  EXPECT_EQ(list[1].find("ip")->as_string(), "2001:db8::2");
  EXPECT_EQ(list[1].find("port")->as_int(), 51413);
  EXPECT_EQ(list[1].find("peer id")->as_string(), std::string(20, 'b'));
  EXPECT_EQ(list[0].as_dict().size(), 3u);

  reply.no_peer_id = true;
  out.clear();
  encode_announce(reply, out);
  d = bdecode(out);
  ASSERT_TRUE(d) << d.error().message;
  for (const BValue& p : d->find("peers")->as_list()) {
    EXPECT_EQ(p.find("peer id"), nullptr);
    EXPECT_EQ(p.as_dict().size(), 2u);
  }
  EXPECT_EQ(out.substr(out.find("5:peers")),
            "5:peersld2:ip8:10.0.0.14:porti6881eed2:ip11:2001:db8::24:porti51413eeee");
}

TEST(EncodeFailureTest, ExactBytesAndAppends) {
  std::string out;
  encode_failure("missing info_hash", out);
  EXPECT_EQ(out, "d14:failure reason17:missing info_hashe");
  encode_failure("", out);
  EXPECT_EQ(out, "d14:failure reason17:missing info_hashed14:failure reason0:e");
}

TEST(EncodeAnnounceTest, RandomRoundTrip) {
  const std::uint64_t seed = testing::test_seed();
  SCOPED_TRACE("P2P_TEST_SEED=" + std::to_string(seed));
  core::Rng rng(seed);
  for (int i = 0; i < 500; ++i) {
    std::vector<PeerEntry> peers(rng.below(60));
    for (auto& p : peers) {
      p.endpoint = {random_address(rng), static_cast<std::uint16_t>(rng.next())};
      p.peer_id = *PeerId::from_bytes(testing::random_bytes(rng, 20));
    }
    AnnounceReply reply;
    reply.interval = static_cast<std::uint32_t>(rng.next());
    reply.min_interval = static_cast<std::uint32_t>(rng.below(2) ? rng.next() : 0);
    reply.complete = static_cast<std::uint32_t>(rng.next());
    reply.incomplete = static_cast<std::uint32_t>(rng.next());
    reply.peers = peers;
    reply.compact = rng.below(2) != 0;
    reply.no_peer_id = rng.below(2) != 0;
    if (rng.below(2)) reply.external_ip = random_address(rng);
    std::string warning = rng.below(2) ? testing::random_bytes(rng, rng.below(40)) : "";
    reply.warning = warning;

    std::string out;
    encode_announce(reply, out);
    auto d = bdecode(out);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->find("interval")->as_int(), reply.interval);
    EXPECT_EQ(d->find("complete")->as_int(), reply.complete);
    EXPECT_EQ(d->find("incomplete")->as_int(), reply.incomplete);
    if (reply.min_interval) {
      EXPECT_EQ(d->find("min interval")->as_int(), reply.min_interval);
    } else {
      EXPECT_EQ(d->find("min interval"), nullptr);
    }
    if (!warning.empty()) {
      EXPECT_EQ(d->find("warning message")->as_string(), warning);
    } else {
      EXPECT_EQ(d->find("warning message"), nullptr);
    }
    if (reply.external_ip) {
      const std::string& ext = d->find("external ip")->as_string();
      auto raw = reinterpret_cast<const std::uint8_t*>(ext.data());
      EXPECT_EQ(ext.size() == 4 ? Address::v4_bytes(raw) : Address::v6_bytes(raw),
                *reply.external_ip);
    }

    std::vector<PeerEntry> back;
    if (reply.compact) {
      const std::string& v4 = d->find("peers")->as_string();
      ASSERT_EQ(v4.size() % 6, 0u);
      for (std::size_t j = 0; j < v4.size(); j += 6) {
        auto raw = reinterpret_cast<const std::uint8_t*>(v4.data() + j);
        back.push_back(
            {{Address::v4_bytes(raw), static_cast<std::uint16_t>(raw[4] << 8 | raw[5])}, {}});
      }
      if (const BValue* p6 = d->find("peers6")) {
        const std::string& v6 = p6->as_string();
        ASSERT_EQ(v6.size() % 18, 0u);
        ASSERT_GT(v6.size(), 0u);
        for (std::size_t j = 0; j < v6.size(); j += 18) {
          auto raw = reinterpret_cast<const std::uint8_t*>(v6.data() + j);
          back.push_back(
              {{Address::v6_bytes(raw), static_cast<std::uint16_t>(raw[16] << 8 | raw[17])}, {}});
        }
      }
      // Compact lists IPv4 first, each family in the given order.
      std::vector<core::Endpoint> want, got;
      for (const auto& p : peers) {
        if (p.endpoint.address.is_v4()) want.push_back(p.endpoint);
      }
      for (const auto& p : peers) {
        if (!p.endpoint.address.is_v4()) want.push_back(p.endpoint);
      }
      for (const auto& p : back) got.push_back(p.endpoint);
      ASSERT_EQ(got, want);
    } else {
      const auto& list = d->find("peers")->as_list();
      ASSERT_EQ(list.size(), peers.size());
      for (std::size_t j = 0; j < list.size(); ++j) {
        EXPECT_EQ(Address::parse(list[j].find("ip")->as_string()), peers[j].endpoint.address);
        EXPECT_EQ(list[j].find("port")->as_int(), peers[j].endpoint.port);
        if (reply.no_peer_id) {
          EXPECT_EQ(list[j].find("peer id"), nullptr);
        } else {
          EXPECT_EQ(list[j].find("peer id")->as_string(), peers[j].peer_id.view());
        }
      }
    }
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace p2p::wire

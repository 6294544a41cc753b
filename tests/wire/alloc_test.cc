// STYLE.md: "A test counts heap allocations over a warmed-up announce and
// expects zero." This binary replaces the global allocation functions with
// counting ones, so it is kept apart from the other wire tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/count_allocations.h"
#include "wire/announce.h"
#include "wire/scrape.h"

namespace p2p::wire {
namespace {

// Keeps the optimizer from dropping work whose result is otherwise unused.
void* volatile g_sink;

using p2p::testing::AllocationCounter;

TEST(AllocTest, CounterSeesAllocations) {
  long n;
  {
    AllocationCounter counter;
    std::vector<char>* v = new std::vector<char>(1000);
    g_sink = v;
    delete v;
    n = counter.count();
  }
  EXPECT_EQ(n, 2);
}

TEST(AllocTest, WarmAnnounceAndScrapeDoNotAllocate) {
  const std::string hash = "%124Vx%9A%BC%DE%F0%11%223DUfw%88%99%AA%BB%CC";
  const std::string queries[] = {
      "info_hash=" + hash +
          "&peer_id=-lt0D80-%C2%A9%2F%01%D3d%1A%7E%8E%FF%00%9E&port=50413&uploaded=1048576"
          "&downloaded=734003200&left=18446744073709551615&corrupt=0&key=1A2B3C4D&event=started"
          "&numwant=200&compact=1&no_peer_id=1&supportcrypto=1&redundant=0",
      "info_hash=" + hash +
          "&peer_id=-TR4050-abcdefghijkl&port=51413&uploaded=0&downloaded=0&left=4096"
          "&numwant=-1&key=123&compact=0&event=paused&ip=2001%3adb8%3a%3a1&port=51414",
      "info_hash=" + hash +
          "&peer_id=-qB4500-abcdefghijkl&port=1&uploaded=0&downloaded=0&left=0&ip=10.1.2.3"
          "&event=stopped&key=zz&numwant=99999999999",
  };
  const std::string scrape_query = "info_hash=" + hash + "&info_hash=" + std::string(20, 'a') +
                                   "&info_hash=" + std::string(20, 'b');

  std::vector<PeerEntry> peers;
  for (int i = 0; i < 50; ++i) {
    std::string addr =
        i % 3 == 0 ? "2001:db8::" + std::to_string(i + 1) : "10.0." + std::to_string(i) + ".1";
    peers.push_back({{*core::Address::parse(addr), static_cast<std::uint16_t>(6881 + i)},
                     *core::PeerId::from_bytes(std::string(20, static_cast<char>('a' + i % 26)))});
  }
  AnnounceReply reply;
  reply.interval = 1800;
  reply.min_interval = 900;
  reply.complete = 12;
  reply.incomplete = 34;
  reply.peers = peers;
  reply.external_ip = core::Address::parse("2001:db8::ffff");
  reply.warning = "tracker is in maintenance mode";

  std::vector<ScrapeEntry> entries(3);
  entries[0].info_hash = *core::InfoHash::from_bytes(std::string(20, 'a'));
  entries[1].info_hash = *core::InfoHash::from_bytes(std::string(20, 'b'));
  entries[2].info_hash = *core::InfoHash::from_bytes(std::string(20, 'c'));

  // The worker's reusable buffers.
  std::string out;
  out.reserve(16 * 1024);
  std::vector<core::InfoHash> hashes;
  hashes.reserve(kMaxScrapeHashes);

  std::uint64_t checksum = 0;
  auto one_round = [&]() -> bool {
    bool ok = true;
    for (const std::string& q : queries) {
      auto r = parse_announce(q);
      ok = ok && r.ok();
      if (r.ok()) checksum += r->port + r->left + r->key.value_or(0) + (r->ip ? 1 : 0);
    }
    for (bool compact : {true, false}) {
      reply.compact = compact;
      out.clear();
      encode_announce(reply, out);
      checksum += out.size();
    }
    out.clear();
    encode_failure("info_hash must be 20 bytes, got 19", out);
    checksum += out.size();
    hashes.clear();
    ok = ok && parse_scrape(scrape_query, hashes).ok() && hashes.size() == 3;
    out.clear();
    encode_scrape(entries, out);
    checksum += out.size();
    return ok;
  };

  ASSERT_TRUE(one_round());  // warm-up: lets `out` reach its working size
  bool ok = true;
  long allocations;
  {
    AllocationCounter counter;
    for (int i = 0; i < 100; ++i) ok = one_round() && ok;
    allocations = counter.count();
  }
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0);
  EXPECT_NE(checksum, 0u);
}

}  // namespace
}  // namespace p2p::wire

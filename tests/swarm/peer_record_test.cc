// The compact fields of a peer record: what they keep and what they round.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "swarm/torrent.h"

namespace p2p::swarm {
namespace {

TEST(Bytes32Test, ExactBelowTwoGibibytes) {
  for (std::uint64_t b :
       {0ull, 1ull, 1000ull, 1023ull, 1024ull, 123'456'789ull, (1ull << 31) - 1}) {
    EXPECT_EQ(Bytes32(b).bytes(), b);
  }
  EXPECT_TRUE(Bytes32(0).zero());
  EXPECT_FALSE(Bytes32(1).zero());
}

TEST(Bytes32Test, KibibytesRoundedUpAbove) {
  const std::uint64_t big = (1ull << 31) + 1;  // not a whole KiB
  EXPECT_EQ(Bytes32(big).bytes(), (1ull << 31) + 1024);
  // Capped just under 2 TiB, never wrapping to a small or zero count: a
  // peer with that much left is still a downloader.
  EXPECT_GE(Bytes32(UINT64_MAX).bytes(), (2ull << 40) - 1024);
  EXPECT_FALSE(Bytes32(UINT64_MAX).zero());
  // Order is kept across the boundary: progress is "left went down".
  EXPECT_LT(Bytes32((1ull << 31) - 1).bytes(), Bytes32(1ull << 31).bytes());
  EXPECT_LT(Bytes32(10ull << 30).bytes(), Bytes32(20ull << 30).bytes());
}

TEST(PeerRecordTest, FitsHalfACacheLine) {
  EXPECT_EQ(sizeof(Peer), 32u);
  EXPECT_EQ(alignof(Peer), 32u);
}

// RackGroup::find: every member and nothing else, at every size (odd, even,
// 1) and near the ends.
TEST(RackGroupFindTest, FindsEveryMemberAndNothingElse) {
  core::Rng rng(42);
  for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 8u, 100u, 257u}) {
    std::vector<core::Endpoint> all;
    for (std::size_t i = 0; i < 2 * n + 2; ++i) {
      core::Endpoint e;
      e.address = core::Address::v4(static_cast<std::uint32_t>(rng.below(1u << 20)));
      e.port = static_cast<std::uint16_t>(rng.below(4));
      all.push_back(e);
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    RackGroup g;
    std::vector<core::Endpoint> absent;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i % 2 == 1 && g.peers.size() < n) {
        Peer p;
        p.endpoint = all[i];
        g.peers.push_back(p);
      } else {
        absent.push_back(all[i]);
      }
    }
    for (const Peer& p : g.peers) {
      const Peer* found = g.find(p.endpoint);
      ASSERT_NE(found, nullptr) << n;
      EXPECT_EQ(found, &p);
    }
    for (const auto& e : absent) EXPECT_EQ(g.find(e), nullptr) << n;
  }
}

}  // namespace
}  // namespace p2p::swarm

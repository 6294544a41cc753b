// The compact fields of a peer record: what they keep and what they round.
#include <gtest/gtest.h>

#include <cstdint>

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

}  // namespace
}  // namespace p2p::swarm

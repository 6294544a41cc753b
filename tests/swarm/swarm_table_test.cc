// SwarmTable's bound on open-mode transfers (issue 10: random info-hashes
// from anyone must not grow the table without bound).
#include "swarm/swarm_table.h"

#include <gtest/gtest.h>

#include "swarm/swarm_test_util.h"

namespace p2p::swarm {
namespace {

using testing::join;

core::InfoHash hash_of(std::uint32_t n) {
  std::string s(20, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return *core::InfoHash::from_bytes(s);
}

AnnounceResult announce(SwarmTable& table, const core::InfoHash& h, const std::string& ip,
                        AnnounceEvent event = AnnounceEvent::kNone) {
  PeerAnnounce a;
  a.endpoint = testing::ep(ip);
  a.peer_id = testing::pid(ip);
  a.event = event;
  a.left = 100;
  a.numwant = 0;
  std::vector<core::PeerContact> none;
  core::Rng rng;
  return table.announce(h, a, rng, none);
}

// An open table with one bound set: of transfers, or of their peers (with
// peers living exactly peer_timeout, so a sweep drops them on time).
class OpenTableTest : public ::testing::Test {
 protected:
  explicit OpenTableTest(std::size_t max_open_transfers, std::size_t max_open_peers)
      : table_(options(max_open_transfers, max_open_peers), racks_, clock_) {}
  static SwarmOptions options(std::size_t max_open_transfers, std::size_t max_open_peers) {
    SwarmOptions o;
    o.open = true;
    o.max_open_transfers = max_open_transfers;
    o.max_open_peers = max_open_peers;
    o.peer_timeout = core::Seconds(150);
    o.policy.peer_timeout_max = core::Seconds(150);
    o.policy.assumed_gap = core::Seconds(0);
    return o;
  }
  testing::Slash24 racks_;
  core::ManualClock clock_;
  SwarmTable table_;
};

class OpenBoundTest : public OpenTableTest {
 protected:
  OpenBoundTest() : OpenTableTest(3, 0) {}
};

class OpenPeersBoundTest : public OpenTableTest {
 protected:
  OpenPeersBoundTest() : OpenTableTest(50000, 3) {}
};

TEST_F(OpenPeersBoundTest, PeersOfUnregisteredTransfersBeyondTheBoundAreRefused) {
  EXPECT_EQ(announce(table_, hash_of(1), "10.0.0.1").outcome.refused, JoinRefusal::kNone);
  EXPECT_EQ(announce(table_, hash_of(1), "10.0.0.2").outcome.refused, JoinRefusal::kNone);
  EXPECT_EQ(announce(table_, hash_of(2), "10.0.0.3").outcome.refused, JoinRefusal::kNone);
  // Full: a new peer is refused, in a tracked transfer or a new one, and the
  // refused new transfer leaves no entry.
  EXPECT_EQ(announce(table_, hash_of(2), "10.0.0.4").outcome.refused, JoinRefusal::kOpen);
  EXPECT_EQ(announce(table_, hash_of(3), "10.0.0.4").outcome.refused, JoinRefusal::kOpen);
  EXPECT_FALSE(table_.is_active(hash_of(3)));
  // Peers already in keep announcing.
  EXPECT_EQ(announce(table_, hash_of(1), "10.0.0.1").outcome.refused, JoinRefusal::kNone);
  // A registered transfer never counts.
  table_.activate(hash_of(9), 100);
  EXPECT_EQ(announce(table_, hash_of(9), "10.0.0.5").outcome.refused, JoinRefusal::kNone);
  // One leaves: room for one.
  announce(table_, hash_of(1), "10.0.0.2", AnnounceEvent::kStopped);
  EXPECT_EQ(announce(table_, hash_of(2), "10.0.0.4").outcome.refused, JoinRefusal::kNone);
  EXPECT_EQ(announce(table_, hash_of(2), "10.0.0.6").outcome.refused, JoinRefusal::kOpen);
  // Expiry makes room too; so does a registration adopting an open swarm.
  clock_.advance(core::Seconds(100));
  announce(table_, hash_of(2), "10.0.0.3");
  announce(table_, hash_of(2), "10.0.0.4");
  clock_.advance(core::Seconds(100));
  table_.sweep(SwarmTable::kShards);  // 10.0.0.1 expires
  EXPECT_EQ(announce(table_, hash_of(4), "10.0.0.7").outcome.refused, JoinRefusal::kNone);
  EXPECT_EQ(announce(table_, hash_of(4), "10.0.0.8").outcome.refused, JoinRefusal::kOpen);
  table_.activate(hash_of(2), 100);
  EXPECT_EQ(announce(table_, hash_of(4), "10.0.0.8").outcome.refused, JoinRefusal::kNone);
}

TEST_F(OpenBoundTest, Issue10NewHashesBeyondTheBoundAreRefused) {
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto r = announce(table_, hash_of(i), "10.0.0.1");
    EXPECT_TRUE(r.active);
    EXPECT_FALSE(r.registered);
  }
  auto refused = announce(table_, hash_of(3), "10.0.0.1");
  EXPECT_FALSE(refused.active);
  EXPECT_TRUE(refused.refused);
  EXPECT_EQ(table_.totals().transfers, 3u);
  EXPECT_EQ(table_.totals().open_transfers, 3u);
  // Tracked ones keep working, and registered ones never count.
  EXPECT_TRUE(announce(table_, hash_of(0), "10.0.0.2").active);
  table_.activate(hash_of(10), 1000);
  auto reg = announce(table_, hash_of(10), "10.0.0.1");
  EXPECT_TRUE(reg.active);
  EXPECT_TRUE(reg.registered);
  EXPECT_FALSE(reg.refused);
}

TEST_F(OpenBoundTest, Issue10ExpiryAndRegistrationFreeRoom) {
  for (std::uint32_t i = 0; i < 3; ++i) join(table_, hash_of(i), "10.0.0.1", 100);
  EXPECT_TRUE(announce(table_, hash_of(3), "10.0.0.1").refused);
  // Registering an open-mode transfer adopts it: it stops counting as open.
  table_.activate(hash_of(0), 1000);
  EXPECT_EQ(table_.totals().open_transfers, 2u);
  EXPECT_TRUE(announce(table_, hash_of(3), "10.0.0.1").active);
  EXPECT_TRUE(announce(table_, hash_of(4), "10.0.0.1").refused);
  // Peers expire, their empty unregistered swarms go, and so does the count.
  // Each announced once: it is kept for the assumed gap (300 s) and half a
  // peer_timeout, as a libtorrent client would come back only then.
  clock_.advance(std::chrono::seconds(376));
  table_.sweep(SwarmTable::kShards);
  EXPECT_EQ(table_.totals().open_transfers, 0u);
  EXPECT_EQ(table_.totals().transfers, 1u);  // the registered one
  for (std::uint32_t i = 5; i < 8; ++i)
    EXPECT_TRUE(announce(table_, hash_of(i), "10.0.0.1").active);
  EXPECT_TRUE(announce(table_, hash_of(8), "10.0.0.1").refused);
}

TEST_F(OpenBoundTest, Issue10AStoppedLastPeerFreesItsTransfer) {
  for (std::uint32_t i = 0; i < 3; ++i) join(table_, hash_of(i), "10.0.0.1", 100);
  announce(table_, hash_of(1), "10.0.0.1", AnnounceEvent::kStopped);
  EXPECT_EQ(table_.totals().open_transfers, 2u);
  EXPECT_TRUE(announce(table_, hash_of(9), "10.0.0.1").active);
}

}  // namespace
}  // namespace p2p::swarm

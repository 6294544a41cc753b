// repr_budget = "per_rack": one rack's representatives shared by every
// active transfer (swarm/rep_budget.h).
#include "swarm/rep_budget.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "swarm/swarm_table.h"
#include "swarm_test_util.h"

namespace p2p::swarm {
namespace {

class RepBudgetTest : public ::testing::Test {
 protected:
  static SwarmOptions options(bool shared) {
    SwarmOptions o{{2, 50}, core::Seconds(150), false};
    o.shared_rack_budget = shared;
    return o;
  }
  bool announce(SwarmTable& t, const core::InfoHash& h, const std::string& ip,
                AnnounceEvent event = AnnounceEvent::kNone) {
    std::vector<core::PeerContact> out;
    return testing::announce_from(t, h, ip, 1000, event, rng_, out).outcome.representative;
  }
  // Every host representing rack 127.0.1.0/24 in any of `hashes`.
  std::set<std::string> rep_hosts(const SwarmTable& t, std::initializer_list<core::InfoHash> hashes) {
    std::set<std::string> out;
    for (const auto& h : hashes) {
      auto snap = t.snapshot(h);
      if (!snap) continue;
      for (const RackGroup& g : snap->torrent.racks()) {
        for (const Peer& p : g.peers) {
          if (p.representative()) out.insert(p.endpoint.address.to_string());
        }
      }
    }
    return out;
  }

  core::ManualClock clock_;
  testing::Slash24 racks_;
  core::Rng rng_{5};
  const core::InfoHash a_ = *core::InfoHash::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  const core::InfoHash b_ = *core::InfoHash::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
  const core::RackId rack_ = core::RackId::v4_prefix(0x7F000100u, 24);
};

TEST_F(RepBudgetTest, PerTransferByDefault) {
  SwarmTable t{options(false), racks_, clock_};
  t.activate(a_, 1000);
  t.activate(b_, 1000);
  EXPECT_TRUE(announce(t, a_, "127.0.1.1", AnnounceEvent::kStarted));
  EXPECT_TRUE(announce(t, a_, "127.0.1.2", AnnounceEvent::kStarted));
  // The second deploy's first hosts of the rack represent it too: 4 hosts.
  EXPECT_TRUE(announce(t, b_, "127.0.1.3", AnnounceEvent::kStarted));
  EXPECT_TRUE(announce(t, b_, "127.0.1.4", AnnounceEvent::kStarted));
  EXPECT_EQ(rep_hosts(t, {a_, b_}).size(), 4u);
}

TEST_F(RepBudgetTest, ASharedBudgetReusesTheRacksRepresentatives) {
  SwarmTable t{options(true), racks_, clock_};
  t.activate(a_, 1000);
  t.activate(b_, 1000);
  EXPECT_TRUE(announce(t, a_, "127.0.1.1", AnnounceEvent::kStarted));
  EXPECT_TRUE(announce(t, a_, "127.0.1.2", AnnounceEvent::kStarted));
  EXPECT_FALSE(announce(t, a_, "127.0.1.3", AnnounceEvent::kStarted));
  // In the second deploy, a host that represents nothing is a member...
  EXPECT_FALSE(announce(t, b_, "127.0.1.3", AnnounceEvent::kStarted));
  EXPECT_FALSE(announce(t, b_, "127.0.1.4", AnnounceEvent::kStarted));
  // ...and the rack's representatives take its slots when they join it.
  EXPECT_TRUE(announce(t, b_, "127.0.1.2", AnnounceEvent::kStarted));
  EXPECT_TRUE(announce(t, b_, "127.0.1.1", AnnounceEvent::kStarted));
  EXPECT_EQ(rep_hosts(t, {a_, b_}), (std::set<std::string>{"127.0.1.1", "127.0.1.2"}));
  EXPECT_EQ(t.rack_budget_hosts(rack_), 2u);
}

TEST_F(RepBudgetTest, ASlotFreesWhenItsHostLeavesEveryTransfer) {
  SwarmTable t{options(true), racks_, clock_};
  t.activate(a_, 1000);
  t.activate(b_, 1000);
  announce(t, a_, "127.0.1.1", AnnounceEvent::kStarted);
  announce(t, a_, "127.0.1.2", AnnounceEvent::kStarted);
  announce(t, b_, "127.0.1.1", AnnounceEvent::kStarted);
  EXPECT_FALSE(announce(t, b_, "127.0.1.3", AnnounceEvent::kStarted));
  // .2 leaves the first deploy: the only transfer it represented the rack in.
  announce(t, a_, "127.0.1.2", AnnounceEvent::kStopped);
  EXPECT_EQ(t.rack_budget_hosts(rack_), 1u);
  EXPECT_TRUE(announce(t, b_, "127.0.1.3"));
  // .1 stops in the first deploy but still represents the rack in the second.
  announce(t, a_, "127.0.1.1", AnnounceEvent::kStopped);
  EXPECT_EQ(t.rack_budget_hosts(rack_), 2u);
  EXPECT_FALSE(announce(t, a_, "127.0.1.4", AnnounceEvent::kStarted));
  // Deactivating the second deploy gives its slots back.
  EXPECT_TRUE(t.deactivate(b_));
  EXPECT_EQ(t.rack_budget_hosts(rack_), 0u);
  EXPECT_TRUE(announce(t, a_, "127.0.1.4"));
  // Expiry too.
  clock_.advance(core::Seconds(400));
  t.sweep(SwarmTable::kShards);
  EXPECT_EQ(t.rack_budget_hosts(rack_), 0u);
}

TEST_F(RepBudgetTest, NeverMoreThanTheBudgetOverManyTransfers) {
  SwarmTable t{options(true), racks_, clock_};
  std::vector<core::InfoHash> hashes;
  for (int i = 0; i < 8; ++i) {
    auto h = *core::InfoHash::from_hex(std::string(39, '0') + std::to_string(i));
    t.activate(h, 1000);
    hashes.push_back(h);
  }
  core::Rng order{11};
  for (int round = 0; round < 400; ++round) {
    const auto& h = hashes[order.below(hashes.size())];
    const std::string ip = "127.0.1." + std::to_string(1 + order.below(6));
    const auto event = order.below(5) == 0 ? AnnounceEvent::kStopped : AnnounceEvent::kNone;
    announce(t, h, ip, event);
    std::set<std::string> reps;
    for (const auto& x : hashes) {
      for (const auto& r : rep_hosts(t, {x})) reps.insert(r);
    }
    ASSERT_LE(reps.size(), 2u) << "round " << round;
    ASSERT_EQ(t.rack_budget_hosts(rack_), reps.size()) << "round " << round;
  }
}

}  // namespace
}  // namespace p2p::swarm

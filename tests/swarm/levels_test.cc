// Swarms in levels: datacenter -> row -> rack representatives (docs/policy.md).
//
// The fleet: 127.D.(16 r + k).H is host H of rack k (1-2) of row r (0-1) of
// datacenter D (1-2): racks are /24s, rows /20s, datacenters /16s, as
// subnet_levels_v4 = [16, 20] makes them. The origin seeder is 127.9.0.1, a
// datacenter of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "support/three_levels.h"
#include "swarm/policy/tree_policy.h"
#include "swarm/swarm_table.h"
#include "swarm_test_util.h"

namespace p2p::swarm {
namespace {

using testing::ep;
using testing::names;
using testing::pid;
using Names = std::set<std::string>;

using test::ThreeLevels;

std::string host(int dc, int row, int rack, int h) {
  return "127." + std::to_string(dc) + "." + std::to_string(16 * row + rack) + "." +
         std::to_string(h);
}

// A swarm over the fleet, with `o`'s representatives per group.
class LevelsFixture : public ::testing::Test {
 protected:
  explicit LevelsFixture(SwarmOptions o) : table_{o, racks_, clock_} {}
  void SetUp() override { table_.activate(hash_, 1000); }

  Names announce(const std::string& ip, std::uint64_t left = 1000,
                 AnnounceEvent event = AnnounceEvent::kNone) {
    last_ = testing::announce_from(table_, hash_, ip, left, event, rng_, out_);
    return names(out_);
  }

  // Every host of the fleet joins, datacenter by datacenter, rack by rack,
  // host 1 first: host 1 of each rack represents it, host 1 of rack 1 its
  // row, host 1 of row 0's rack 1 its datacenter. The origin first of all.
  // With `rounds` > 1 every host announces again 10 s later, and so on:
  // it has shown a 10 s schedule, so stall_after (not an assumed 300 s gap)
  // judges it.
  void join_fleet(int rounds = 1) {
    announce("127.9.0.1", 0, AnnounceEvent::kStarted);
    for (int round = 0; round < rounds; ++round) {
      if (round > 0) clock_.advance(core::Seconds(10));
      for (const auto& ip : fleet()) {
        announce(ip, 1000, round == 0 ? AnnounceEvent::kStarted : AnnounceEvent::kNone);
      }
    }
  }

  // Every host of the fleet, in the order join_fleet brings them: 2
  // datacenters x 2 rows x 2 racks x 3 hosts.
  static std::vector<std::string> fleet() {
    std::vector<std::string> out;
    for (int dc = 1; dc <= 2; ++dc)
      for (int row = 0; row <= 1; ++row)
        for (int rack = 1; rack <= 2; ++rack)
          for (int h = 1; h <= 3; ++h) out.push_back(host(dc, row, rack, h));
    return out;
  }
  static bool in_dc2(const std::string& ip) { return ip.starts_with("127.2."); }

  // The members of the upper group `id`'s representatives, as addresses.
  Names upper_reps(core::RackId id) {
    auto snap = table_.snapshot(hash_);
    Names out;
    for (const UpperGroup& u : snap->torrent.uppers()) {
      if (u.id != id) continue;
      for (const auto& m : u.representatives) out.insert(m.endpoint.address.to_string());
    }
    return out;
  }
  static core::RackId dc_id(int dc) { return core::RackId::v4_prefix(0x7F000000u | dc << 16, 16); }
  static core::RackId row_id(int dc, int row) {
    return core::RackId::v4_prefix(0x7F000000u | dc << 16 | (16 * row) << 8, 20);
  }

  // `per_rack` representatives per rack, `per_group` per row and datacenter.
  static SwarmOptions options(std::uint32_t per_rack, std::uint32_t per_group) {
    SwarmOptions o{{per_rack, 50}, core::Seconds(150), false};
    o.policy.max_repr_up = {per_group, per_group, per_group};
    return o;
  }

  core::ManualClock clock_;
  ThreeLevels racks_;
  SwarmTable table_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
  core::Rng rng_{7};
  std::vector<core::PeerContact> out_;
  AnnounceResult last_;
};

// One representative per group.
class LevelsTest : public LevelsFixture {
 protected:
  LevelsTest() : LevelsFixture(options(1, 1)) {}
};

TEST_F(LevelsTest, EveryPeerSeesItsOwnRackAndTheLevelsItRepresents) {
  join_fleet();
  clock_.advance(core::Seconds(30));
  // A member of a rack: its rack-mates, nothing else.
  EXPECT_EQ(announce(host(1, 1, 2, 2)), (Names{host(1, 1, 2, 1), host(1, 1, 2, 3)}));
  EXPECT_FALSE(last_.outcome.representative);
  // A rack's representative: its rack, and the other racks of its row.
  EXPECT_EQ(announce(host(1, 1, 2, 1)),
            (Names{host(1, 1, 2, 2), host(1, 1, 2, 3), host(1, 1, 1, 1)}));
  // A row's representative: also the other rows' representatives in its
  // datacenter.
  EXPECT_EQ(announce(host(1, 1, 1, 1)),
            (Names{host(1, 1, 1, 2), host(1, 1, 1, 3), host(1, 1, 2, 1), host(1, 0, 1, 1)}));
  // A datacenter's representative: also the other datacenters' (the origin's
  // among them).
  EXPECT_EQ(announce(host(1, 0, 1, 1)), (Names{host(1, 0, 1, 2), host(1, 0, 1, 3), host(1, 0, 2, 1),
                                               host(1, 1, 1, 1), host(2, 0, 1, 1), "127.9.0.1"}));
  EXPECT_EQ(announce(host(2, 0, 1, 1)), (Names{host(2, 0, 1, 2), host(2, 0, 1, 3), host(2, 0, 2, 1),
                                               host(2, 1, 1, 1), host(1, 0, 1, 1), "127.9.0.1"}));
  // The origin represents its own datacenter: it meets the others' there.
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{host(1, 0, 1, 1), host(2, 0, 1, 1)}));

  // Who represents what, by level.
  EXPECT_EQ(upper_reps(dc_id(1)), Names{host(1, 0, 1, 1)});
  EXPECT_EQ(upper_reps(row_id(1, 1)), Names{host(1, 1, 1, 1)});
  EXPECT_EQ(upper_reps(row_id(2, 0)), Names{host(2, 0, 1, 1)});
}

TEST_F(LevelsTest, EachLevelBoundsWhoCrossesItsUplink) {
  join_fleet();
  clock_.advance(core::Seconds(30));
  // Over every host's view: a peer outside its rack is only ever given to a
  // rack representative; outside its row only to a row representative;
  // outside its datacenter only to a datacenter representative.
  for (int dc = 1; dc <= 2; ++dc)
    for (int row = 0; row <= 1; ++row)
      for (int rack = 1; rack <= 2; ++rack)
        for (int h = 1; h <= 3; ++h) {
          const std::string self = host(dc, row, rack, h);
          const Names seen = announce(self);
          const auto self_addr = core::Address::parse(self)->v4_value();
          const bool rack_rep = last_.outcome.representative;
          const bool row_rep = upper_reps(row_id(dc, row)).contains(self);
          const bool dc_rep = upper_reps(dc_id(dc)).contains(self);
          for (const std::string& other : seen) {
            const auto a = core::Address::parse(other)->v4_value();
            if ((a >> 8) != (self_addr >> 8)) {
              EXPECT_TRUE(rack_rep) << self << " saw " << other;
            }
            if ((a >> 12) != (self_addr >> 12)) {
              EXPECT_TRUE(row_rep) << self << " saw " << other;
            }
            if ((a >> 16) != (self_addr >> 16)) {
              EXPECT_TRUE(dc_rep) << self << " saw " << other;
            }
          }
        }
}

TEST_F(LevelsTest, SlotsFailOverAtEveryLevel) {
  join_fleet();
  // Datacenter 1's representative (also its row's and its rack's) leaves.
  announce(host(1, 0, 1, 1), 1000, AnnounceEvent::kStopped);
  EXPECT_EQ(upper_reps(dc_id(1)), Names{});
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{});
  // Row 1's representative announces first: it takes the datacenter's slot.
  EXPECT_TRUE(announce(host(1, 1, 1, 1)).contains(host(2, 0, 1, 1)));
  EXPECT_EQ(upper_reps(dc_id(1)), Names{host(1, 1, 1, 1)});
  // The next representative of row 0 to announce takes the row's slot only.
  announce(host(1, 0, 2, 1));
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{host(1, 0, 2, 1)});
  EXPECT_EQ(upper_reps(dc_id(1)), Names{host(1, 1, 1, 1)});
  // The rack's next host to announce takes the rack's slot, and sees the
  // other rack of its row (and no further).
  EXPECT_EQ(announce(host(1, 0, 1, 2)), (Names{host(1, 0, 1, 3), host(1, 0, 2, 1)}));
  EXPECT_TRUE(last_.outcome.representative);
}

TEST_F(LevelsTest, AnExpiredRepresentativeFreesItsSlotsAbove) {
  join_fleet();
  clock_.advance(core::Seconds(100));
  // Everyone but datacenter 2's representative keeps announcing.
  for (const auto& ip : fleet()) {
    if (ip != host(2, 0, 1, 1)) announce(ip);
  }
  // Its gap, never shown, is taken as 300 s: it goes after 375 s.
  clock_.advance(core::Seconds(280));
  EXPECT_GE(table_.sweep(SwarmTable::kShards), 1u);
  EXPECT_EQ(upper_reps(dc_id(2)), Names{});
  EXPECT_EQ(upper_reps(row_id(2, 0)), Names{});
}

// How far a row got judges whether its representatives are stalled
// (docs/policy.md): a peer that moves in brings its progress with it.
TEST_F(LevelsTest, ARelocatedPeerCountsInItsNewGroupsProgress) {
  join_fleet();
  clock_.advance(core::Seconds(10));
  const core::TimePoint progressed = clock_.now();
  announce(host(1, 1, 1, 2), 500);
  clock_.advance(core::Seconds(10));
  const auto from = racks_.rack_of(*core::Address::parse(host(1, 1, 1, 2)));
  const auto to = core::RackId::v4_prefix(0x7F020100u, 24);  // 127.2.1.0/24: dc 2, row 0
  EXPECT_EQ(table_.relocate(*core::Address::parse(host(1, 1, 1, 2)), from, to), 1u);
  auto snap = table_.snapshot(hash_);
  std::size_t checked = 0;
  for (const UpperGroup& u : snap->torrent.uppers()) {
    if (u.id != row_id(2, 0) && u.id != dc_id(2)) continue;
    EXPECT_EQ(u.best_left, 500u);
    EXPECT_EQ(u.first_progress, progressed);
    ++checked;
  }
  EXPECT_EQ(checked, 2u);
}

// A row's furthest peer that leaves is forgotten at the next sweep: its
// representatives are judged against the peers still there.
TEST_F(LevelsTest, AFurthestPeerThatLeftIsForgottenAtTheSweep) {
  join_fleet();
  announce(host(1, 1, 1, 2), 400);
  announce(host(1, 1, 2, 3), 700);
  auto best_of = [&](core::RackId id) {
    auto snap = table_.snapshot(hash_);
    for (const UpperGroup& u : snap->torrent.uppers()) {
      if (u.id == id) return u.best_left;
    }
    return std::uint64_t{0};
  };
  EXPECT_EQ(best_of(row_id(1, 1)), 400u);
  EXPECT_EQ(best_of(dc_id(1)), 400u);
  announce(host(1, 1, 1, 2), 400, AnnounceEvent::kStopped);
  EXPECT_EQ(best_of(row_id(1, 1)), 400u);  // until the sweep
  table_.sweep(SwarmTable::kShards);
  EXPECT_EQ(best_of(row_id(1, 1)), 700u);
  EXPECT_EQ(best_of(dc_id(1)), 700u);
  EXPECT_EQ(best_of(row_id(1, 0)), 1000u);
  // A peer that starts over (its data deleted) no longer counts as far.
  announce(host(1, 1, 2, 3), 1000);
  table_.sweep(SwarmTable::kShards);
  EXPECT_EQ(best_of(row_id(1, 1)), 1000u);
}

TEST_F(LevelsTest, ARelocatedRepresentativeLeavesNoGhostAbove) {
  join_fleet();
  const auto from = racks_.rack_of(*core::Address::parse(host(1, 1, 1, 1)));
  const auto to = core::RackId::v4_prefix(0x7F020100u, 24);  // 127.2.1.0/24: dc 2, row 0
  EXPECT_EQ(table_.relocate(*core::Address::parse(host(1, 1, 1, 1)), from, to), 1u);
  EXPECT_EQ(upper_reps(row_id(1, 1)), Names{});
  // The next representative of row 1 to announce takes its slot.
  announce(host(1, 1, 2, 1));
  EXPECT_EQ(upper_reps(row_id(1, 1)), Names{host(1, 1, 2, 1)});
  // In its new rack it is a member, counted once: that rack already has its
  // representative, which keeps its slots above.
  auto snap = table_.snapshot(hash_);
  std::size_t found = 0;
  for (const RackGroup& g : snap->torrent.racks()) {
    for (const Peer& p : g.peers) {
      if (p.endpoint != ep(host(1, 1, 1, 1))) continue;
      ++found;
      EXPECT_EQ(g.rack, to);
      EXPECT_FALSE(p.representative());
    }
  }
  EXPECT_EQ(found, 1u);
  EXPECT_EQ(upper_reps(row_id(2, 0)), Names{host(2, 0, 1, 1)});
  EXPECT_EQ(upper_reps(dc_id(2)), Names{host(2, 0, 1, 1)});
}

// Restore.RepresentativesKeepTheirPlacesAndOrderAcrossARestart, above racks:
// a restart keeps a representative's row and datacenter places for it.
TEST_F(LevelsTest, RepresentativesKeepTheirPlacesAboveAcrossARestart) {
  join_fleet();
  const DeployProgress p = *table_.progress(hash_);
  auto member = [&](const std::string& ip) {
    return *std::find_if(p.members.begin(), p.members.end(),
                         [&](const auto& m) { return m.endpoint == ep(ip); });
  };
  EXPECT_EQ(member(host(1, 0, 1, 1)).above, 2);  // its row and datacenter
  EXPECT_EQ(member(host(1, 1, 1, 1)).above, 1);  // its row
  EXPECT_EQ(member(host(1, 0, 2, 1)).above, 0);
  EXPECT_EQ(member(host(1, 0, 2, 1)).rank, 1);

  SwarmTable after{options(1, 1), racks_, clock_};
  after.activate(hash_, 1000);
  ASSERT_TRUE(after.restore(hash_, p));
  auto announce_after = [&](const std::string& ip) {
    return testing::announce_from(after, hash_, ip, 900, AnnounceEvent::kNone, rng_, out_);
  };
  auto reps_after = [&](core::RackId id) {
    Names out;
    const auto snap = after.snapshot(hash_);
    for (const UpperGroup& u : snap->torrent.uppers()) {
      if (u.id != id) continue;
      for (const auto& m : u.representatives) out.insert(m.endpoint.address.to_string());
    }
    return out;
  };
  // Back before the hosts that held the places above: they take none.
  EXPECT_TRUE(announce_after(host(1, 0, 2, 1)).outcome.representative);
  EXPECT_TRUE(announce_after(host(1, 1, 2, 1)).outcome.representative);
  EXPECT_EQ(reps_after(row_id(1, 0)), Names{});
  EXPECT_EQ(reps_after(row_id(1, 1)), Names{});
  EXPECT_EQ(reps_after(dc_id(1)), Names{});
  announce_after(host(1, 1, 1, 1));
  announce_after(host(1, 0, 1, 1));
  EXPECT_EQ(reps_after(row_id(1, 0)), Names{host(1, 0, 1, 1)});
  EXPECT_EQ(reps_after(row_id(1, 1)), Names{host(1, 1, 1, 1)});
  EXPECT_EQ(reps_after(dc_id(1)), Names{host(1, 0, 1, 1)});
  // The representatives of the 8 racks and the origin's, less the 4 back.
  EXPECT_EQ(after.snapshot(hash_)->torrent.kept_places(), 9u - 4u);
}

TEST_F(LevelsTest, AHungRepresentativeLosesItsPlacesAboveToTheNextGatewayBelow) {
  join_fleet(2);
  // Host 1 of datacenter 1's row 0, rack 1 represents the row and the
  // datacenter, and hangs: it goes on announcing without progress. Only row
  // 1's representative and datacenter 2 receive anything, from 40 s on.
  const std::string hung = host(1, 0, 1, 1), row1 = host(1, 1, 1, 1);
  const std::string row0_next = host(1, 0, 2, 1);
  ASSERT_EQ(upper_reps(dc_id(1)), Names{hung});
  ASSERT_EQ(upper_reps(row_id(1, 0)), Names{hung});
  std::uint64_t left = 1000;
  auto round = [&] {
    clock_.advance(core::Seconds(30));
    left -= 10;
    for (const auto& ip : fleet()) announce(ip, ip == row1 || in_dc2(ip) ? left : 1000);
  };
  for (int i = 0; i < 4; ++i) round();  // 130 s
  EXPECT_EQ(upper_reps(dc_id(1)), Names{hung});
  // 160 s: as the datacenter's representative it has had the origin to fetch
  // from since it joined, and nothing for stall_after (135 s): the next of
  // the datacenter's rows' representatives to announce takes its place. As
  // the row's it has had something to fetch only since row 1 received it
  // (40 s): it keeps that place a while longer.
  round();
  EXPECT_EQ(upper_reps(dc_id(1)), Names{row1});
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{hung});
  Names seen = announce(host(2, 0, 1, 1));
  EXPECT_TRUE(seen.contains(row1));
  EXPECT_FALSE(seen.contains(hung));
  round();  // 190 s: 150 s since row 1's first bytes
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{row0_next});
  EXPECT_EQ(upper_reps(dc_id(1)), Names{row1});
  // Its successor receives nothing either and is stalled in turn from 325 s,
  // but the hung host, announcing first, does not win the place back before
  // it makes progress itself.
  for (int i = 0; i < 6; ++i) round();  // 370 s
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{row0_next});
  clock_.advance(core::Seconds(30));
  announce(hung, 990);
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{hung});
}

// A representative that dies after its first announce has not shown its
// schedule: it is kept as a libtorrent client would announce (every 300 s),
// its own stall time two such gaps. The gateways below it, announcing on
// their own schedule while their racks get nothing, show it stalled: the
// next of them takes its place then, not at its expiry (375 s).
TEST_F(LevelsTest, ADeadRepresentativeLosesItsPlaceAboveToAStarvedGatewayBelow) {
  join_fleet();
  const std::string dead = host(1, 0, 1, 1), row1 = host(1, 1, 1, 1);
  ASSERT_EQ(upper_reps(dc_id(1)), Names{dead});
  std::uint64_t left = 1000;
  // Every host but the dead one announces every 30 s; datacenter 2 receives
  // from 30 s on, datacenter 1 nothing.
  auto round = [&] {
    clock_.advance(core::Seconds(30));
    left -= 10;
    for (const auto& ip : fleet()) {
      if (ip != dead) announce(ip, in_dc2(ip) ? left : 1000);
    }
  };
  // The origin was there to fetch from since it joined.
  for (int i = 0; i < 4; ++i) round();  // 120 s
  EXPECT_EQ(upper_reps(dc_id(1)), Names{dead});
  round();  // 150 s: past stall_after (135 s)
  EXPECT_EQ(upper_reps(dc_id(1)), Names{row1});
  EXPECT_TRUE(announce(host(2, 0, 1, 1), left).contains(row1));
}

// A silent representative whose groups below receive is not judged by them:
// a client on a 300 s schedule feeds them between its announces.
TEST_F(LevelsTest, ASilentRepresentativeWhoseGroupsReceiveKeepsItsPlace) {
  join_fleet();
  const std::string silent = host(1, 0, 1, 1);
  std::uint64_t left = 1000;
  for (int i = 0; i < 8; ++i) {  // 240 s
    clock_.advance(core::Seconds(30));
    left -= 10;
    for (const auto& ip : fleet()) {
      if (ip != silent) announce(ip, left);
    }
  }
  EXPECT_EQ(upper_reps(dc_id(1)), Names{silent});
  EXPECT_EQ(upper_reps(row_id(1, 0)), Names{silent});
}

// The modes choose gateways among a rack's representatives; above racks the
// original rule holds for those gateways (docs/policy.md).
TEST(LevelsStandbyTest, OnlyARacksGatewaySeesPastItsRack) {
  core::ManualClock clock;
  ThreeLevels racks;
  SwarmOptions o{{2, 50, PolicyMode::kStandby, core::Seconds(60)}, core::Seconds(150), false};
  o.policy.max_repr_up = {1, 1, 1};
  SwarmTable table{o, racks, clock};
  const auto hash = *core::InfoHash::from_hex("EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE");
  table.activate(hash, 1000);
  core::Rng rng{9};
  std::vector<core::PeerContact> out;
  auto announce = [&](const std::string& ip, AnnounceEvent event = AnnounceEvent::kNone,
                      std::uint64_t left = 1000) {
    testing::announce_from(table, hash, ip, left, event, rng, out);
    return names(out);
  };
  for (int rack = 1; rack <= 2; ++rack)
    for (int h = 1; h <= 3; ++h) announce(host(1, 0, rack, h), AnnounceEvent::kStarted);
  // Everyone shows a 10 s schedule, so stall_after (60 s) is what judges them.
  clock.advance(core::Seconds(10));
  for (int rack = 1; rack <= 2; ++rack)
    for (int h = 1; h <= 3; ++h) announce(host(1, 0, rack, h));
  // Hosts 1 and 2 represent each rack; host 1, first in promotion order, is
  // the gateway and sees the other rack's gateway; host 2 stands by, inside.
  // Host 1 also represents the row, so while it downloads it meets its rack
  // through host 2 only, as kRelay's gateway does.
  EXPECT_EQ(announce(host(1, 0, 1, 1)), (Names{host(1, 0, 1, 2), host(1, 0, 2, 1)}));
  EXPECT_EQ(announce(host(1, 0, 1, 2)), (Names{host(1, 0, 1, 1), host(1, 0, 1, 3)}));
  EXPECT_EQ(announce(host(1, 0, 1, 3)), (Names{host(1, 0, 1, 2)}));
  // Rack 2's gateway represents no row (one representative per row, from rack
  // 1): it keeps the plain rule.
  EXPECT_EQ(announce(host(1, 0, 2, 3)), (Names{host(1, 0, 2, 1), host(1, 0, 2, 2)}));
  // stall_after later nobody has received anything: nobody in the row has
  // anything to fetch, so nobody is stalled, and host 1 stays the gateway
  // (seen by its whole rack again: its relay, host 2, makes no progress).
  clock.advance(core::Seconds(61));
  EXPECT_EQ(announce(host(1, 0, 1, 1)),
            (Names{host(1, 0, 1, 2), host(1, 0, 1, 3), host(1, 0, 2, 1)}));
  // Host 2 receives something: from now on the row has something host 1
  // lacks, and host 2 relays again. stall_after later host 1 has not
  // progressed: the standby, first in promotion order not stalled (it is the
  // row's furthest), takes over, and is what the other rack sees. Rack 2's
  // representatives, with nothing since the row's first bytes either, are all
  // stalled: they take turns, the second first.
  announce(host(1, 0, 1, 2), AnnounceEvent::kNone, 900);
  clock.advance(core::Seconds(59));
  EXPECT_EQ(announce(host(1, 0, 1, 1)), (Names{host(1, 0, 1, 2), host(1, 0, 2, 1)}));
  clock.advance(core::Seconds(2));
  EXPECT_EQ(announce(host(1, 0, 1, 2), AnnounceEvent::kNone, 900),
            (Names{host(1, 0, 1, 1), host(1, 0, 1, 3), host(1, 0, 2, 2)}));
  EXPECT_EQ(announce(host(1, 0, 1, 1)), (Names{host(1, 0, 1, 2), host(1, 0, 1, 3)}));
}

// Two representatives per rack, row and datacenter (the config's defaults).
class TwoPerGroupTest : public LevelsFixture {
 protected:
  TwoPerGroupTest() : LevelsFixture(options(2, 2)) {}
};

TEST_F(TwoPerGroupTest, AGroupsRepresentativesComeFromDifferentGroupsBelow) {
  join_fleet(2);
  // Hosts 1 and 2 of rack 1 announced first, but a row takes one
  // representative per rack, a datacenter one per row.
  EXPECT_EQ(upper_reps(row_id(1, 0)), (Names{host(1, 0, 1, 1), host(1, 0, 2, 1)}));
  EXPECT_EQ(upper_reps(row_id(2, 1)), (Names{host(2, 1, 1, 1), host(2, 1, 2, 1)}));
  EXPECT_EQ(upper_reps(dc_id(1)), (Names{host(1, 0, 1, 1), host(1, 1, 1, 1)}));
  EXPECT_EQ(upper_reps(dc_id(2)), (Names{host(2, 0, 1, 1), host(2, 1, 1, 1)}));
  // A rack's second representative sees only its row's racks.
  EXPECT_EQ(announce(host(1, 0, 1, 2)),
            (Names{host(1, 0, 1, 1), host(1, 0, 1, 3), host(1, 0, 2, 1), host(1, 0, 2, 2)}));
  // A row's place that frees goes to a rack with none there: host 2 of rack
  // 1 stays out after host 1 of rack 2 leaves, and rack 2's next
  // representative takes it.
  announce(host(1, 0, 2, 1), 1000, AnnounceEvent::kStopped);
  announce(host(1, 0, 1, 2));
  EXPECT_EQ(upper_reps(row_id(1, 0)), (Names{host(1, 0, 1, 1)}));
  announce(host(1, 0, 2, 3));  // takes rack 2's freed slot, then the row's
  EXPECT_TRUE(last_.outcome.representative);
  EXPECT_EQ(upper_reps(row_id(1, 0)), (Names{host(1, 0, 1, 1), host(1, 0, 2, 3)}));
}

TEST_F(TwoPerGroupTest, ARowsDownloadingRepresentativeMeetsItsRackThroughTheOther) {
  join_fleet(2);
  // Host 1 of rack (1, 0, 1) represents its rack, row and datacenter; host 2
  // its rack only. While host 1 downloads, its rack-mates other than host 2
  // do not see it, nor it them: it spends its upload on host 2 and on the
  // groups beside its own.
  EXPECT_EQ(announce(host(1, 0, 1, 3)), (Names{host(1, 0, 1, 2)}));
  const Names gateway = announce(host(1, 0, 1, 1));
  EXPECT_TRUE(gateway.contains(host(1, 0, 1, 2)));
  EXPECT_FALSE(gateway.contains(host(1, 0, 1, 3)));
  EXPECT_TRUE(gateway.contains(host(1, 0, 2, 1)));  // its row's other rack
  EXPECT_TRUE(gateway.contains(host(1, 1, 1, 1)));  // its datacenter's other row
  EXPECT_TRUE(gateway.contains(host(2, 0, 1, 1)));  // the other datacenter
  EXPECT_TRUE(gateway.contains("127.9.0.1"));       // the origin
  // Host 2 sees them all.
  EXPECT_EQ(announce(host(1, 0, 1, 2)),
            (Names{host(1, 0, 1, 1), host(1, 0, 1, 3), host(1, 0, 2, 1), host(1, 0, 2, 2)}));
  // Once host 1 has the payload its rack sees it again.
  announce(host(1, 0, 1, 1), 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(announce(host(1, 0, 1, 3)), (Names{host(1, 0, 1, 1), host(1, 0, 1, 2)}));
}

TEST_F(TwoPerGroupTest, AStalledRelayGivesTheRackBackItsRowsRepresentative) {
  join_fleet(2);
  // Host 1 makes progress; host 2, its rack's other representative, none
  // since it joined: after stall_after (135 s) the rack sees host 1 again
  // rather than wait on host 2.
  clock_.advance(core::Seconds(100));  // 110 s since they joined
  announce(host(1, 0, 1, 1), 900);
  EXPECT_EQ(announce(host(1, 0, 1, 3)), (Names{host(1, 0, 1, 2)}));
  clock_.advance(core::Seconds(30));
  announce(host(1, 0, 1, 1), 800);
  EXPECT_EQ(announce(host(1, 0, 1, 3)), (Names{host(1, 0, 1, 1), host(1, 0, 1, 2)}));
}

// kRelay with two representatives per rack and one per row and datacenter
// (docs/policy.md's measured choice where every level's uplink binds).
class RelayLevelsTest : public LevelsFixture {
 protected:
  RelayLevelsTest() : LevelsFixture(relay_options()) {}
  static SwarmOptions relay_options() {
    SwarmOptions o = options(2, 1);
    o.policy.mode = PolicyMode::kRelay;
    return o;
  }
  // Every host announces again `seconds` later: `left` for those in it, 1000
  // (nothing yet) for the others.
  void round(int seconds, const std::map<std::string, std::uint64_t>& left) {
    clock_.advance(core::Seconds(seconds));
    for (const auto& ip : fleet()) {
      auto it = left.find(ip);
      announce(ip, it != left.end() ? it->second : 1000);
    }
  }
};

TEST_F(RelayLevelsTest, ARowsRepresentativeStalledOnItsDatacenterGivesItsPlaceToItsRelay) {
  join_fleet(2);
  // Row 1 of datacenter 1 is represented by host 1 of its rack 1, whose
  // rack-mate host 2 is its relay. Only the datacenter's representative (in
  // row 0) receives anything, from 40 s on: row 1's representative, judged
  // against its datacenter, is stalled stall_after (135 s) later.
  ASSERT_EQ(upper_reps(row_id(1, 1)), Names{host(1, 1, 1, 1)});
  const std::string dc_rep = host(1, 0, 1, 1);
  const std::string row_rep = host(1, 1, 1, 1), relay = host(1, 1, 1, 2);
  const std::string other_rack = host(1, 1, 2, 1);
  std::uint64_t dc_left = 1000;
  for (int i = 0; i < 5; ++i) round(30, {{dc_rep, dc_left -= 50}});  // 160 s: 120 s since
  EXPECT_EQ(upper_reps(row_id(1, 1)), Names{row_rep});
  Names seen = announce(other_rack);
  EXPECT_TRUE(seen.contains(row_rep));
  EXPECT_FALSE(seen.contains(relay));
  // 150 s since: its relay, the first of the row's gateways to announce,
  // takes its place, and is its rack's gateway from then on although second
  // in promotion order: a place above is of use only to a gateway.
  round(30, {{dc_rep, dc_left -= 50}});  // 190 s
  EXPECT_EQ(upper_reps(row_id(1, 1)), Names{relay});
  seen = announce(other_rack);
  EXPECT_TRUE(seen.contains(relay));
  EXPECT_FALSE(seen.contains(row_rep));
  EXPECT_TRUE(announce(relay).contains(dc_rep));
}

// With racks the only level (no groups above them), every answer is the
// one-level rule's, draw for draw.
TEST(OneLevelTest, NoLevelsAboveRacksGivesTheRackRuleExactly) {
  std::vector<std::vector<core::PeerContact>> replies[2];
  for (int run = 0; run < 2; ++run) {
    core::ManualClock clock;
    testing::Slash24 slash24;
    ThreeLevels flat;
    flat.levels = false;
    const RackMap& map = run == 0 ? static_cast<const RackMap&>(slash24) : flat;
    SwarmTable table{SwarmOptions{{2, 8}, core::Seconds(150), false}, map, clock};
    const auto hash = *core::InfoHash::from_hex("DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD");
    table.activate(hash, 1000);
    core::Rng rng{3};
    for (int round = 0; round < 2; ++round)
      for (int rack = 1; rack <= 6; ++rack)
        for (int h = 1; h <= 6; ++h) {
          PeerAnnounce a;
          a.endpoint = ep(host(1, 0, rack, h));
          a.peer_id = pid(host(1, 0, rack, h));
          a.left = h == 6 && rack == 1 ? 0 : 1000;
          a.numwant = 8;
          std::vector<core::PeerContact> out;
          out.reserve(8);
          table.announce(hash, a, rng, out);
          replies[run].push_back(out);
        }
  }
  ASSERT_EQ(replies[0].size(), replies[1].size());
  for (std::size_t i = 0; i < replies[0].size(); ++i) {
    EXPECT_EQ(names(replies[0][i]), names(replies[1][i])) << "announce " << i;
  }
}

// PolicyMode::kChain: two representatives per rack (the first is its head),
// one per row and datacenter.
class ChainTest : public LevelsFixture {
 protected:
  ChainTest() : LevelsFixture(chain_options()) {}
  explicit ChainTest(SwarmOptions o) : LevelsFixture(o) {}
  static SwarmOptions chain_options() {
    SwarmOptions o = options(2, 1);
    o.policy.mode = PolicyMode::kChain;
    o.policy.stall_after = core::Seconds(60);
    return o;
  }
  static std::string group_of(const std::string& ip, int level) {  // 0 dc, 1 row, 2 rack
    const auto a = *core::Address::parse(ip);
    const std::uint32_t mask[] = {0xFFFF0000u, 0xFFFFF000u, 0xFFFFFF00u};
    return std::to_string(a.v4_value() & mask[level]);
  }
  // Every host announces once more, and each pair it was told of is a link.
  // Returns, for each group at `level`, how many links cross into it from a
  // host that joined before the one inside (in `order`): its feeds.
  std::map<std::string, int> feeds_into(const std::vector<std::string>& order, int level) {
    std::map<std::string, int> joined;
    for (std::size_t i = 0; i < order.size(); ++i) joined[order[i]] = static_cast<int>(i);
    joined["127.9.0.1"] = -1;
    std::set<std::pair<std::string, std::string>> links;  // (earlier, later)
    for (const auto& ip : order) {
      for (const auto& n : announce(ip)) {
        links.insert(joined[n] < joined[ip] ? std::pair{n, ip} : std::pair{ip, n});
      }
    }
    std::map<std::string, int> in;
    for (const auto& ip : order) in[group_of(ip, level)] += 0;
    for (const auto& [from, to] : links) {
      if (group_of(from, level) != group_of(to, level)) ++in[group_of(to, level)];
    }
    return in;
  }
};

TEST_F(ChainTest, EachHostSeesTheHostBeforeAndAfterItAndAnExitTheHeadsItFeeds) {
  join_fleet();
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.1"}));
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.1.3"}));
  // The rack's exit (its last host when the next rack came) feeds the head
  // of the next rack.
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  // A row's second rack, a datacenter's second row, the second datacenter:
  // each hangs off the newest rack of its row, else datacenter, else transfer.
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.3", "127.1.2.2"}));
  EXPECT_EQ(announce("127.1.2.3"), (Names{"127.1.2.2", "127.1.17.1"}));
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.2.3", "127.1.17.2"}));
  EXPECT_EQ(announce("127.1.18.1"), (Names{"127.1.17.3", "127.1.18.2"}));
  EXPECT_EQ(announce("127.1.18.3"), (Names{"127.1.18.2", "127.2.1.1"}));
  EXPECT_EQ(announce("127.2.1.1"), (Names{"127.1.18.3", "127.2.1.2"}));
  EXPECT_EQ(announce("127.2.1.3"), (Names{"127.2.1.2", "127.2.2.1"}));
  EXPECT_EQ(announce("127.2.18.1"), (Names{"127.2.17.3", "127.2.18.2"}));
  EXPECT_EQ(announce("127.2.18.3"), (Names{"127.2.18.2"}));
}

// In a rack the hosts follow the head in the order they joined, whatever
// their addresses, and the exit stays last, so it never has less than a host
// of its rack it could pass pieces back to. A host that joins after the exit
// was fixed is not told of it (the exit meets the last of them at its own
// announce): the exit's upload is for the racks it feeds, and a host behind
// it in the line would pull from it.
TEST_F(ChainTest, TheExitStaysLastInItsRack) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  for (const char* ip : {"127.1.1.5", "127.1.1.7", "127.1.2.1", "127.1.1.9", "127.1.1.2"}) {
    announce(ip, 1000, AnnounceEvent::kStarted);
  }
  EXPECT_EQ(announce("127.1.1.5"), (Names{"127.9.0.1", "127.1.1.9"}));
  EXPECT_EQ(announce("127.1.1.9"), (Names{"127.1.1.5", "127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.9"}));
  EXPECT_EQ(announce("127.1.1.7"), (Names{"127.1.1.2", "127.1.2.1"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.7"}));
  // When the exit goes, the next host to be needed takes its place: the one
  // that joined last.
  announce("127.1.1.7", 1000, AnnounceEvent::kStopped);
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.9"), (Names{"127.1.1.5", "127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.9", "127.1.2.1"}));
  // A host that joins now goes after every host that joined before it, the
  // exit still last, and is not told of the exit.
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.1.1.9"}));
  EXPECT_EQ(announce("127.1.1.9"), (Names{"127.1.1.5", "127.1.1.1"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.2.1"}));
}

// Hosts join in any order (a deploy started on every host at once): racks
// are appended to the line, never inserted, so each rack, row and
// datacenter is fed over exactly one link.
TEST_F(ChainTest, InAnyJoinOrderEachGroupIsFedOverOneLink) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  std::vector<std::string> order = fleet();
  std::mt19937 shuffle(11);
  std::shuffle(order.begin(), order.end(), shuffle);
  for (const auto& ip : order) announce(ip, 1000, AnnounceEvent::kStarted);
  for (int level = 0; level < 3; ++level) {
    for (const auto& [group, in] : feeds_into(order, level)) {
      EXPECT_EQ(in, 1) << "group " << group << " at level " << level;
    }
  }
}

// A host that hangs (announces, no progress, while the host before it has
// more) is passed over: the host after it, in its rack or the next rack's
// head, is told of the one before it.
TEST_F(ChainTest, AStuckHostIsPassedOver) {
  join_fleet(2);  // a 10 s schedule: stall_after judges them; now 10 s in
  clock_.advance(core::Seconds(20));
  announce("127.1.1.1", 900);  // progress; 127.1.1.2 and the head of 127.1.2 make none
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));  // 30 s: not stuck yet
  clock_.advance(core::Seconds(31));                                    // 61 s without progress
  announce("127.1.1.1", 890);
  // The one before it is less than an eighth of the payload ahead: it may
  // just be far down the line.
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  clock_.advance(core::Seconds(29));  // the rack has had something for stall_after
  announce("127.1.1.1", 500);         // now well ahead
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.1.2.1"}));
  // The stuck one still has its place in its rack's line, for when it recovers.
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.1.3"}));
  announce("127.1.1.3", 600);  // passes on what it got from the head
  // A stuck head hands its role to the host after it, fed by the feeder's
  // exit; the rack's exit still feeds the rack it fed.
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.3", "127.1.2.3"}));
  EXPECT_TRUE(announce("127.1.1.3", 600).contains("127.1.2.2"));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.2.2", "127.1.2.3"}));
  // One that waits on a stuck host is not stuck itself: nobody before it has more.
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.2.3", "127.1.17.2"}));
  // A stuck exit hands the racks it feeds to its rack's head.
  clock_.advance(core::Seconds(30));
  announce("127.1.1.1", 450);  // the rack goes on receiving, without 127.1.1.3
  clock_.advance(core::Seconds(31));
  announce("127.1.1.1", 400);
  announce("127.1.1.2", 450);
  EXPECT_EQ(announce("127.1.1.1", 400), (Names{"127.9.0.1", "127.1.1.2", "127.1.2.2"}));
  // Once it progresses it is back on the line.
  EXPECT_EQ(announce("127.1.1.3", 500), (Names{"127.1.1.2", "127.1.2.2"}));
}

// A head fed by the origin that hangs in the last eighth of the payload is
// stuck all the same: the origin has the rest, which no host after it would
// ever get (the simulator's hung head never completed so).
TEST_F(ChainTest, AHeadThatHangsNearTheEndIsStuckAllTheSame) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.1"}));
  clock_.advance(core::Seconds(10));
  announce("127.1.1.1", 50);  // 20 s: a twentieth left, then nothing more
  for (int i = 0; i < 5; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.1", 50);
    announce("127.1.1.2", 100);
    EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.1"})) << "at " << 30 + 10 * i << " s";
  }
  clock_.advance(core::Seconds(10));  // 80 s: stall_after without progress
  announce("127.1.1.1", 50);
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.2"}));
  EXPECT_TRUE(announce("127.1.1.2", 100).contains("127.9.0.1"));
}

// A head that dies after its first announce has not shown its schedule: it
// is kept as a libtorrent client would announce (every 300 s), its own stall
// time two such gaps. The host after it, announcing on its own schedule
// without progress for its stall time while the head stays silent, shows that
// it gives nothing: it takes the head's role then, not at its expiry.
TEST_F(ChainTest, ASilentHeadIsStuckWhenTheHostAfterItStarves) {
  join_fleet();  // rack 2: 127.1.2.1 (fed by 127.1.1.3), 127.1.2.2, 127.1.2.3
  ASSERT_EQ(announce("127.1.2.2"), (Names{"127.1.2.1", "127.1.2.3"}));
  std::uint64_t rack1_left = 1000;  // rack 1 receives throughout
  auto round = [&](std::uint64_t rack2_left) {
    clock_.advance(core::Seconds(10));
    rack1_left -= 20;
    for (const char* ip : {"127.1.1.1", "127.1.1.2", "127.1.1.3"}) announce(ip, rack1_left);
    announce("127.1.2.3", rack2_left);
    return announce("127.1.2.2", rack2_left);
  };
  // Fed while it is silent, as a client on a 300 s schedule feeds: waiting
  // on it is right.
  for (int i = 1; i <= 10; ++i) {
    EXPECT_TRUE(round(1000 - 10 * i).contains("127.1.2.1")) << "at " << 10 * i << " s";
  }
  // Then nothing more: stall_after (60 s) later, the host after it takes its
  // role, fed by the exit of rack 1.
  for (int i = 11; i <= 15; ++i) {
    EXPECT_TRUE(round(900).contains("127.1.2.1")) << "at " << 10 * i << " s";
  }
  EXPECT_EQ(round(900), (Names{"127.1.1.3", "127.1.2.3"}));
  EXPECT_EQ(announce("127.1.1.3", rack1_left), (Names{"127.1.1.2", "127.1.2.2"}));
}

// A host that starves while it is silent itself shows nothing about the host
// before it.
TEST_F(ChainTest, ASilentHostShowsNothingAboutTheHostBeforeIt) {
  join_fleet();
  for (int i = 1; i <= 10; ++i) {
    clock_.advance(core::Seconds(10));
    for (const char* ip : {"127.1.1.1", "127.1.1.2", "127.1.1.3"}) announce(ip, 1000 - 20 * i);
    announce("127.1.2.3", 1000);
    if (i <= 2) announce("127.1.2.2", 1000);  // then silent
  }
  // Rack 1's exit still feeds the head it fed.
  EXPECT_TRUE(announce("127.1.1.3", 800).contains("127.1.2.1"));
}

// When the head goes, the host after it on the line takes its role: it has
// what the head passed on, so the rack pulls in again only what the head had
// not. The exit stays last, feeding the racks it fed, even when it was the
// second host to join (and a representative).
TEST_F(ChainTest, WhenTheHeadGoesTheHostAfterItTakesItsRoleNotTheExit) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.1.2", 1000, AnnounceEvent::kStarted);
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);  // binds rack 1's exit: 127.1.1.2
  announce("127.1.1.3", 1000, AnnounceEvent::kStarted);
  announce("127.1.1.4", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.3"}));
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.1.1.4"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.4", "127.1.2.1"}));
  announce("127.1.1.1", 1000, AnnounceEvent::kStopped);
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.9.0.1", "127.1.1.4"}));
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.3"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.4", "127.1.2.1"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.2"}));
}

// A host that becomes the head because the former went stale has waited on
// it without progress; it is judged stuck only stall_after after it took the
// role (else the role went on to the next host at once, and both pulled from
// outside when the first moved again).
TEST_F(ChainTest, ANewHeadIsNotStuckForTheTimeItWaitedOnTheFormerOne) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  // The head goes silent; the rest of its rack announce, and receive nothing.
  for (int i = 0; i < 15; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.2");
    announce("127.1.1.3");
  }
  clock_.advance(core::Seconds(10));  // 170 s: the head, last seen at 10 s, is stale
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.9.0.1", "127.1.1.3"}));
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.2"}));
  clock_.advance(core::Seconds(59));
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.2"}));
  clock_.advance(core::Seconds(1));  // stall_after as the head without progress
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.3"}));
}

// After a pause (nothing reached a rack for stall_after: a host upstream
// failed), the hosts of the rack start again one after the other, and the
// tracker sees each only at its announce: none is stuck before the rack has
// been receiving again for stall_after.
TEST_F(ChainTest, AfterAPauseTheLineStartsAgainWithoutPassingAnyoneOver) {
  join_fleet(2);  // now 10 s in
  // Racks 1 and 2 of the row get half the payload, then nothing for 180 s,
  // everyone announcing.
  for (int i = 0; i < 19; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.9.0.1", 0);
    for (int rack = 1; rack <= 2; ++rack) {
      for (int h = 1; h <= 3; ++h) announce(host(1, 0, rack, h), 500);
    }
  }
  announce("127.1.1.1", 100);  // the head receives again; 127.1.1.2 has not announced since
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  clock_.advance(core::Seconds(30));
  announce("127.1.1.1", 60);
  EXPECT_FALSE(announce("127.1.1.3").contains("127.1.1.1"));
  clock_.advance(core::Seconds(30));
  announce("127.1.1.1", 30);
  announce("127.1.1.2", 500);  // still nothing, stall_after into the rack's new run
  EXPECT_TRUE(announce("127.1.1.3").contains("127.1.1.1"));
}

// Far down a long line a host waits long for its first piece, and the
// tracker sees the one before it get ahead only at its announces: a host is
// not stuck before the rack of the one before it has had anything for
// stall_after.
TEST_F(ChainTest, AHostWaitingForItsFirstPieceIsNotStuck) {
  join_fleet(2);  // now 10 s in
  clock_.advance(core::Seconds(60));
  // 127.1.1.2 has made no progress for 70 s; the head, before it, is the
  // first of its rack to have anything, and well ahead.
  announce("127.1.1.1", 500);
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  clock_.advance(core::Seconds(59));
  announce("127.1.1.1", 450);
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  clock_.advance(core::Seconds(1));  // the rack has had something for stall_after
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.1.2.1"}));
}

// A rack that empties hands the racks it fed to its own feeder.
TEST_F(ChainTest, TheRacksARackFedGoToItsFeederWhenItEmpties) {
  join_fleet();
  for (int h = 1; h <= 3; ++h) announce(host(1, 0, 2, h), 1000, AnnounceEvent::kStopped);
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.1.3", "127.1.17.2"}));
  EXPECT_TRUE(announce("127.1.1.3").contains("127.1.17.1"));
  // A rack that comes back is appended, at the end of its row.
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.3"}));
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.1.3", "127.1.17.2"}));
}

// A seeder is not told of seeders; a stale host is passed over as if gone.
TEST_F(ChainTest, SeedersMeetNoSeedersAndStaleHostsAreSkipped) {
  join_fleet(2);
  announce("127.1.1.1", 0, AnnounceEvent::kCompleted);
  announce("127.1.1.2", 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(announce("127.1.1.2", 0), (Names{"127.1.1.3"}));
  EXPECT_EQ(announce("127.1.1.1", 0), (Names{}));
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.2", "127.1.2.1"}));
  clock_.advance(core::Seconds(140));
  announce("127.1.1.1", 0);
  clock_.advance(core::Seconds(20));  // 127.1.1.2: 160 s since its last announce
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1"}));
}

// A swarm that knows racks only, under `mode`; `ask` announces from ip:6881.
class OneLevelSwarm {
 public:
  explicit OneLevelSwarm(PolicyMode mode) : table_{options(mode), flat_, clock_} {
    flat_.levels = false;
    table_.activate(hash_, 1000);
  }
  Names ask(const std::string& ip, std::uint64_t left = 1000) {
    testing::announce_from(table_, hash_, ip, left, AnnounceEvent::kNone, rng_, out_);
    return names(out_);
  }

 private:
  static SwarmOptions options(PolicyMode mode) {
    SwarmOptions o{{2, 50}, core::Seconds(150), false};
    o.policy.mode = mode;
    return o;
  }
  core::ManualClock clock_;
  ThreeLevels flat_;
  SwarmTable table_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE");
  core::Rng rng_{3};
  std::vector<core::PeerContact> out_;
};

// With racks the only level, racks go in line in the order they appeared.
TEST(ChainOneLevelTest, RacksGoInLineAsTheyAppear) {
  OneLevelSwarm swarm(PolicyMode::kChain);
  auto ask = [&](const std::string& ip, std::uint64_t left = 1000) { return swarm.ask(ip, left); };
  ask("127.9.0.1", 0);
  for (const char* ip : {"127.1.3.1", "127.1.1.1", "127.1.1.2", "127.1.3.2", "127.1.2.1"}) ask(ip);
  EXPECT_EQ(ask("127.9.0.1", 0), (Names{"127.1.3.1"}));
  // 127.1.3 had one host when 127.1.1 came: that host is its exit for good.
  EXPECT_EQ(ask("127.1.3.1"), (Names{"127.9.0.1", "127.1.3.2", "127.1.1.1"}));
  EXPECT_EQ(ask("127.1.3.2"), (Names{"127.1.3.1"}));
  EXPECT_EQ(ask("127.1.1.1"), (Names{"127.1.3.1", "127.1.1.2"}));
  EXPECT_EQ(ask("127.1.1.2"), (Names{"127.1.1.1", "127.1.2.1"}));
  EXPECT_EQ(ask("127.1.2.1"), (Names{"127.1.1.2"}));
}

// The tree policy: each host is told of its parent and its children.
class TreeTest : public ChainTest {
 protected:
  TreeTest() : ChainTest(tree_options()) {}
  explicit TreeTest(SwarmOptions o) : ChainTest(o) {}
  static SwarmOptions tree_options() {
    SwarmOptions o = chain_options();
    o.policy.mode = PolicyMode::kTree;
    return o;
  }
  // For every host of the swarm: how many hosts name it as their parent and
  // still count among its children (not released for having it all).
  // Checks on the way that each host's own count (TreeLink::children) and
  // each rack's free places (RackTree::free) agree with the links.
  void expect_counts_match_links() {
    auto snap = table_.snapshot(hash_);
    ASSERT_TRUE(snap.has_value());
    const auto& racks = snap->torrent.racks();
    std::map<std::pair<std::string, std::uint32_t>, int> named;  // (parent, its joined)
    for (const RackGroup& g : racks) {
      for (std::size_t i = 0; i < g.peers.size(); ++i) {
        const TreeLink& l = g.tree->links[i];
        if (l.parent_joined != 0 && !l.released) ++named[{l.parent.to_string(), l.parent_joined}];
      }
    }
    for (const RackGroup& g : racks) {
      ASSERT_TRUE(g.tree);
      ASSERT_EQ(g.tree->links.size(), g.peers.size());
      int free = 0;
      for (std::size_t i = 0; i < g.peers.size(); ++i) {
        const int kids = named[{g.peers[i].endpoint.to_string(), g.joined[i]}];
        EXPECT_EQ(g.tree->links[i].children, kids) << g.peers[i].endpoint.to_string();
        if (!g.peers[i].origin()) free += std::max(0, 2 - kids);
      }
      EXPECT_EQ(g.tree->free, free) << "rack of " << g.peers.front().endpoint.to_string();
    }
  }
  // The host at `ip`'s hops from the origin seeders (TreeLink::depth).
  int depth(const std::string& ip) {
    auto snap = table_.snapshot(hash_);
    for (const RackGroup& g : snap->torrent.racks()) {
      for (const Peer& p : g.peers) {
        if (p.endpoint.address.to_string() == ip) return g.link_of(p).depth;
      }
    }
    ADD_FAILURE() << ip << " is not in the swarm";
    return -1;
  }
  // The address of the host at `ip`'s tree parent ("" for none).
  std::string parent_of(const std::string& ip) {
    auto snap = table_.snapshot(hash_);
    const SwarmView swarm = snap->torrent.view();
    for (const RackGroup& g : swarm.groups) {
      for (const Peer& p : g.peers) {
        if (p.endpoint.address.to_string() != ip) continue;
        const Peer* parent = policy::tree_parent(swarm, g, p, nullptr);
        return parent != nullptr ? parent->endpoint.address.to_string() : "";
      }
    }
    ADD_FAILURE() << ip << " is not in the swarm";
    return "";
  }
  // Whether the policy judges the host at `ip` stuck now.
  bool stuck(const std::string& ip) {
    auto snap = table_.snapshot(hash_);
    const SwarmView swarm = snap->torrent.view();
    for (const RackGroup& g : swarm.groups) {
      for (const Peer& p : g.peers) {
        if (p.endpoint.address.to_string() == ip) {
          return policy::tree_stuck(swarm, g, p, clock_.now(), tree_options().policy);
        }
      }
    }
    ADD_FAILURE() << ip << " is not in the swarm";
    return false;
  }
  // Who is told of whom, as undirected links, from one announce of each host.
  std::map<std::string, Names> views(const std::vector<std::string>& hosts) {
    std::map<std::string, Names> out;
    out["127.9.0.1"] = announce("127.9.0.1", 0);
    for (const auto& ip : hosts) out[ip] = announce(ip);
    return out;
  }
};

// A rack's first host (its entry) hangs off the shallowest host with room in
// the nearest group it shares with hosts already there; the others hang off
// the shallowest host of their rack with room. Two children each.
TEST_F(TreeTest, EachHostSeesItsParentAndItsChildren) {
  join_fleet();
  EXPECT_EQ(announce("127.9.0.1", 0), (Names{"127.1.1.1"}));
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.2", "127.1.1.3"}));
  // The second rack of a row hangs off its first rack's shallowest host
  // with room; so does the first rack of the second row (the datacenter is
  // the nearest group they share): 127.1.1.2 joined before 127.1.1.3.
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.2.1", "127.1.17.1"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.2", "127.1.2.2", "127.1.2.3"}));
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.2.1"}));
  // The row's second rack: off its first rack's shallowest host with room.
  EXPECT_EQ(announce("127.1.18.1"), (Names{"127.1.17.2", "127.1.18.2", "127.1.18.3"}));
  // The second datacenter shares nothing with the first: off the shallowest
  // host with room anywhere, 127.1.1.3.
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.2.1.1"}));
  EXPECT_EQ(announce("127.2.1.1"), (Names{"127.1.1.3", "127.2.1.2", "127.2.1.3"}));
  expect_counts_match_links();
}

// In any join order, one link enters each rack, row and datacenter, and the
// links make one tree: every host is reached from the origin, over as many
// links as there are hosts (one parent each). A host feeds a third only when
// every host that could take a newcomer is full or keeps its last place.
TEST_F(TreeTest, InAnyJoinOrderEachGroupIsFedOverOneLinkAndAllAreReached) {
  for (unsigned seed : {11u, 12u, 13u, 14u}) {
    SCOPED_TRACE(seed);
    for (const auto& ip : fleet()) announce(ip, 1000, AnnounceEvent::kStopped);
    announce("127.9.0.1", 0, AnnounceEvent::kStarted);
    std::vector<std::string> order = fleet();
    std::mt19937 shuffle(seed);
    std::shuffle(order.begin(), order.end(), shuffle);
    for (const auto& ip : order) announce(ip, 1000, AnnounceEvent::kStarted);
    const auto seen = views(order);
    // Reached from the origin: the link each host is first reached over is
    // the one that feeds it (a host's parent may have joined after it: a
    // rack's first host waits for a place).
    std::map<std::string, std::string> fed_by{{"127.9.0.1", ""}};
    std::vector<std::string> todo{"127.9.0.1"};
    while (!todo.empty()) {
      const std::string at = todo.back();
      todo.pop_back();
      for (const auto& n : seen.at(at)) {
        if (fed_by.emplace(n, at).second) todo.push_back(n);
      }
    }
    EXPECT_EQ(fed_by.size(), order.size() + 1);
    for (int level = 0; level < 3; ++level) {
      std::map<std::string, int> in;
      for (const auto& ip : order) in[group_of(ip, level)] += 0;
      for (const auto& [ip, from] : fed_by) {
        if (!from.empty() && group_of(from, level) != group_of(ip, level))
          ++in[group_of(ip, level)];
      }
      for (const auto& [group, n] : in) {
        EXPECT_EQ(n, 1) << "group " << group << " at level " << level;
      }
    }
    std::set<std::pair<std::string, std::string>> links;
    for (const auto& [ip, names] : seen) {
      EXPECT_LE(names.size(), 4u) << ip;
      for (const auto& n : names) links.insert(std::minmax(ip, n));
    }
    EXPECT_EQ(links.size(), order.size());
    expect_counts_match_links();
  }
}

// A rack's first host whose only places are ones other racks keep for hosts
// of their own waits, told of nobody, rather than make such a host's own
// next one a third child; the next host there with room to spare takes it
// as a child, and is told of it in that very reply.
TEST_F(TreeTest, ARacksFirstHostWaitsRatherThanTakeAPlaceKeptForAnotherRacksOwn) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.1.1", 1000, AnnounceEvent::kStarted), (Names{"127.9.0.1"}));
  EXPECT_EQ(announce("127.1.2.1", 1000, AnnounceEvent::kStarted), (Names{"127.1.1.1"}));
  // The second row: 127.1.1.1 keeps its last place, and row 127.1.0/20
  // only one for a rack of its own.
  EXPECT_EQ(announce("127.1.17.1", 1000, AnnounceEvent::kStarted), (Names{}));
  // Its own hosts that come while it waits hang below it.
  EXPECT_EQ(announce("127.1.17.2", 1000, AnnounceEvent::kStarted), (Names{"127.1.17.1"}));
  expect_counts_match_links();
  EXPECT_EQ(announce("127.1.1.2", 1000, AnnounceEvent::kStarted),
            (Names{"127.1.1.1", "127.1.17.1"}));
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.1.2", "127.1.17.2"}));
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.2", "127.1.2.1"}));
  EXPECT_EQ(depth("127.1.17.1"), 3);
  EXPECT_EQ(depth("127.1.17.2"), 4);
  expect_counts_match_links();
}

// Waiting ends at the host's own next announce once it has waited
// kTreeKeepOwnFor, where it takes the place it would have taken at once,
// and a rack of its row that waited with it then hangs off it. Sooner, a
// host asked to announce often (downloading_interval) would take a place
// kept for a group's own hosts before any host there could adopt it.
TEST_F(TreeTest, AWaitingHostIsPlacedAtItsNextAnnounceOnceItWaitedKeepOwnFor) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.17.1", 1000, AnnounceEvent::kStarted), (Names{}));
  EXPECT_EQ(announce("127.1.18.1", 1000, AnnounceEvent::kStarted), (Names{}));
  EXPECT_EQ(announce("127.1.17.2", 1000, AnnounceEvent::kStarted), (Names{"127.1.17.1"}));
  clock_.advance(policy::kTreeKeepOwnFor - core::Seconds(1));
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.17.2"}));
  EXPECT_EQ(depth("127.1.17.1"), 0);
  clock_.advance(core::Seconds(1));
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.2.1", "127.1.17.2", "127.1.18.1"}));
  EXPECT_EQ(announce("127.1.18.1"), (Names{"127.1.17.1"}));
  EXPECT_EQ(depth("127.1.17.1"), 3);
  EXPECT_EQ(depth("127.1.17.2"), 4);
  EXPECT_EQ(depth("127.1.18.1"), 4);
  expect_counts_match_links();
}

// Past kTreePatience, waiting ends at the announce of a host there whose
// rack keeps a place for its own after it, and past kTreeKeepOwnFor, at
// that of any host there with room.
TEST_F(TreeTest, AWaitingHostIsPlacedPastItsPatience) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.17.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.18.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.17.2", 1000, AnnounceEvent::kStarted);
  announce("127.1.17.2", 1000, AnnounceEvent::kStopped);

  announce("127.1.17.1", 1000, AnnounceEvent::kStopped);
  announce("127.1.18.1", 1000, AnnounceEvent::kStopped);
  EXPECT_EQ(announce("127.2.1.1", 1000, AnnounceEvent::kStarted), (Names{"127.9.0.1"}));
  EXPECT_EQ(announce("127.2.2.1", 1000, AnnounceEvent::kStarted), (Names{"127.2.1.1"}));
  EXPECT_EQ(announce("127.2.17.1", 1000, AnnounceEvent::kStarted), (Names{}));
  EXPECT_EQ(announce("127.2.33.1", 1000, AnnounceEvent::kStarted), (Names{}));
  clock_.advance(policy::kTreePatience - core::Seconds(1));
  EXPECT_EQ(announce("127.2.1.1"), (Names{"127.9.0.1", "127.2.2.1"}));
  clock_.advance(core::Seconds(1));
  // Its place is the last its rack has.
  EXPECT_EQ(announce("127.2.1.1"), (Names{"127.9.0.1", "127.2.2.1"}));
  // A second host there takes the first waiting rack, as its rack keeps one
  // more place; not the second, which would take that one.
  EXPECT_EQ(announce("127.2.1.2", 1000, AnnounceEvent::kStarted),
            (Names{"127.2.1.1", "127.2.17.1"}));
  EXPECT_EQ(announce("127.2.1.2"), (Names{"127.2.1.1", "127.2.17.1"}));
  clock_.advance(policy::kTreeKeepOwnFor - policy::kTreePatience - core::Seconds(1));
  EXPECT_EQ(announce("127.2.1.2"), (Names{"127.2.1.1", "127.2.17.1"}));
  clock_.advance(core::Seconds(1));
  EXPECT_EQ(announce("127.2.1.2"), (Names{"127.2.1.1", "127.2.17.1", "127.2.33.1"}));
  EXPECT_EQ(announce("127.2.17.1"), (Names{"127.2.1.2"}));
  EXPECT_EQ(announce("127.2.33.1"), (Names{"127.2.1.2"}));
  expect_counts_match_links();
}

// Racks waiting past their patience elsewhere in the fleet, where the
// announcing host cannot take them, do not keep it from taking one of its
// own group: each such rack's group is worked out again only once every
// kTreePatience, and the announces in between pass it over.
TEST_F(TreeTest, RacksWaitingElsewhereDoNotKeepAWaitingRackFromAPlace) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.2.1.1", 1000, AnnounceEvent::kStarted), (Names{"127.9.0.1"}));
  EXPECT_EQ(announce("127.2.2.1", 1000, AnnounceEvent::kStarted), (Names{"127.2.1.1"}));
  // Ten racks of the second datacenter's second row wait for a place there,
  // then one of the first's.
  for (int rack = 17; rack < 27; ++rack) {
    const std::string ip = "127.2." + std::to_string(rack) + ".1";
    EXPECT_EQ(announce(ip, 1000, AnnounceEvent::kStarted), (Names{})) << ip;
  }
  EXPECT_EQ(announce("127.1.17.1", 1000, AnnounceEvent::kStarted), (Names{}));
  clock_.advance(policy::kTreeKeepOwnFor);
  // Each announce looks at no more than eight waiting racks; the second
  // datacenter's are worked out once, and the third announce reaches this one.
  bool placed = false;
  for (int i = 0; i < 3 && !placed; ++i) {
    const Names seen = announce("127.1.1.1");
    placed = seen.count("127.1.17.1") != 0;
  }
  EXPECT_TRUE(placed);
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.1.1"}));
  // The racks elsewhere still wait: 127.1.1.1 shares nothing with them.
  EXPECT_EQ(announce("127.2.2.1"), (Names{"127.2.1.1", "127.2.17.1"}));
  expect_counts_match_links();
}

// Hosts hung off one host of their rack are told of each other once the
// rack is fed at its download's pace: its entry has it all, or was hung off
// a host that had it all. Not before: they may yet feed other racks.
TEST_F(TreeTest, HostsUnderOneParentOfARackFedInFullAreToldOfEachOther) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.1.1.2", 1000, AnnounceEvent::kStarted), (Names{"127.1.1.1"}));
  EXPECT_EQ(announce("127.1.1.3", 1000, AnnounceEvent::kStarted), (Names{"127.1.1.1"}));
  EXPECT_EQ(announce("127.1.1.1", 0, AnnounceEvent::kCompleted), (Names{"127.1.1.2", "127.1.1.3"}));
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.1.3"}));
  // A rack whose entry hangs off a host that has it all.
  announce("127.1.1.2", 0, AnnounceEvent::kCompleted);
  announce("127.1.1.3", 0, AnnounceEvent::kCompleted);
  const Names entry = announce("127.2.1.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(entry.count("127.1.1.1"), 1u);
  EXPECT_EQ(announce("127.2.1.2", 1000, AnnounceEvent::kStarted), (Names{"127.2.1.1"}));
  EXPECT_EQ(announce("127.2.1.3", 1000, AnnounceEvent::kStarted),
            (Names{"127.2.1.1", "127.2.1.2"}));
  expect_counts_match_links();
}

// When most racks that came kTreeLoneAfter ago still have one host (a
// canary), the places they keep would never be used: nobody waits for them.
TEST_F(TreeTest, WhenMostRacksHaveOneHostNobodyWaits) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  announce("127.1.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.1.2.1", 1000, AnnounceEvent::kStarted);
  clock_.advance(policy::kTreeLoneAfter);
  EXPECT_EQ(announce("127.1.17.1", 1000, AnnounceEvent::kStarted), (Names{"127.1.2.1"}));
  expect_counts_match_links();
}

// A host that has it all no longer counts among its parent's children: the
// place is free for a host that comes later, and a host that has it all and
// feeds nobody is taken first, so the newcomer gets its whole upload.
TEST_F(TreeTest, AHostThatHasItAllFreesItsPlaceAndFeedsNewcomersFirst) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  for (const char* ip : {"127.1.1.1", "127.1.1.2", "127.1.1.3"}) {
    announce(ip, 1000, AnnounceEvent::kStarted);
  }
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.2", "127.1.1.3"}));
  for (const char* ip : {"127.1.1.1", "127.1.1.2", "127.1.1.3"}) {
    announce(ip, 0, AnnounceEvent::kCompleted);
  }
  expect_counts_match_links();
  // 127.1.1.1's two places are free again: the shallowest. Its rack's entry
  // has it all, so it is told of the others hung off it as well.
  EXPECT_EQ(announce("127.1.1.4", 1000, AnnounceEvent::kStarted),
            (Names{"127.1.1.1", "127.1.1.2", "127.1.1.3"}));
  // 127.1.1.1 now feeds one that downloads; 127.1.1.2 feeds nobody.
  EXPECT_EQ(announce("127.1.1.5", 1000, AnnounceEvent::kStarted), (Names{"127.1.1.2"}));
  EXPECT_EQ(depth("127.1.1.4"), 2);
  EXPECT_EQ(depth("127.1.1.5"), 3);
  expect_counts_match_links();
}

// An entry hung off a host that had it all is also told of one more host that
// has it all in the group it is fed from (kTreeSeedersTold), not of every
// one: at the end of its download a client asks the blocks it lacks of all
// of them. One hung off a host that downloaded then, and any other host, is
// told of its parent only.
TEST_F(TreeTest, AnEntryFedByAHostThatHasItAllIsToldOfOneMoreInItsGroup) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  const Names seeders{"127.1.1.1", "127.1.1.2", "127.1.1.3"};
  for (const auto& ip : seeders) announce(ip, 1000, AnnounceEvent::kStarted);
  for (const auto& ip : seeders) announce(ip, 0, AnnounceEvent::kCompleted);
  // Its parent and one more, all of them hosts that have it all.
  auto expect_two_seeders = [&](const std::string& entry) {
    const Names told = announce(entry, 1000, AnnounceEvent::kStarted);
    EXPECT_EQ(told.size(), policy::kTreeSeedersTold) << ::testing::PrintToString(told);
    EXPECT_TRUE(told.contains(parent_of(entry))) << ::testing::PrintToString(told);
    for (const auto& ip : told) EXPECT_TRUE(seeders.contains(ip)) << ip;
    return told;
  };
  const Names first = expect_two_seeders("127.1.2.1");
  EXPECT_EQ(announce("127.1.2.2", 1000, AnnounceEvent::kStarted), (Names{"127.1.2.1"}));
  // A rack of the datacenter's other row: fed from the datacenter, whose
  // hosts that have it all are rack 127.1.1's.
  const Names second = expect_two_seeders("127.1.17.1");
  // Two racks fed from one group spread over its hosts that have it all.
  Names both = first;
  both.insert(second.begin(), second.end());
  EXPECT_EQ(both, seeders);
  // Fed by a host that downloads: its parent only, and so once that host has
  // it all (a client asks the last blocks of every peer that has them).
  EXPECT_EQ(announce("127.1.17.2", 1000, AnnounceEvent::kStarted), (Names{"127.1.17.1"}));
  EXPECT_EQ(announce("127.1.18.1", 1000, AnnounceEvent::kStarted), (Names{"127.1.17.1"}));
  announce("127.1.17.1", 0, AnnounceEvent::kCompleted);
  announce("127.1.17.2", 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(announce("127.1.18.1"), (Names{"127.1.17.1"}));
  expect_counts_match_links();
}

// A host that comes kTreeMeshAfter or more after its rack's first is also
// told of the hosts of its rack that pass nothing on to other racks: not the
// entry, nor a host that feeds another rack's entry, nor any above one. The
// rack still takes the payload in through its entry alone; hosts that came
// with the rack's first stay in the tree.
TEST_F(TreeTest, AHostThatComesLateIsToldOfItsRacksHostsThatFeedNoOtherRack) {
  announce("127.9.0.1", 0, AnnounceEvent::kStarted);
  for (const char* ip : {"127.1.1.1", "127.1.1.2", "127.1.1.3", "127.1.2.1"}) {
    announce(ip, 1000, AnnounceEvent::kStarted);
  }
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.2"}));
  clock_.advance(policy::kTreeMeshAfter - core::Seconds(1));
  EXPECT_EQ(announce("127.1.1.4", 1000, AnnounceEvent::kStarted), (Names{"127.1.1.2"}));
  clock_.advance(core::Seconds(1));
  // 127.1.1.2 feeds rack 127.1.2, 127.1.1.1 is above it (and the entry).
  EXPECT_EQ(announce("127.1.1.5", 1000, AnnounceEvent::kStarted),
            (Names{"127.1.1.3", "127.1.1.4"}));
  EXPECT_EQ(announce("127.1.1.6", 1000, AnnounceEvent::kStarted),
            (Names{"127.1.1.3", "127.1.1.4", "127.1.1.5"}));
  // Came with the rack's first: its parent and its children only.
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.1.1.5", "127.1.1.6"}));
  EXPECT_EQ(announce("127.1.1.4"), (Names{"127.1.1.2"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.2"}));
  expect_counts_match_links();
}

// A host whose parent left hangs off another host above it; the places the
// one that left held are free again and nobody is told of it.
TEST_F(TreeTest, AHostWhoseParentLeftHangsOffAnotherAboveIt) {
  join_fleet();
  announce("127.1.1.2", 1000, AnnounceEvent::kStopped);
  // 127.1.1.1 had room again (127.1.1.2 was one of its two).
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.1.1", "127.1.2.2", "127.1.2.3"}));
  // Now full, so the next orphan takes the other shallowest with room.
  EXPECT_EQ(announce("127.1.17.1"), (Names{"127.1.1.3", "127.1.17.2", "127.1.17.3"}));
  EXPECT_EQ(announce("127.1.1.1"), (Names{"127.9.0.1", "127.1.1.3", "127.1.2.1"}));
  EXPECT_EQ(announce("127.1.1.3"), (Names{"127.1.1.1", "127.2.1.1", "127.1.17.1"}));
  expect_counts_match_links();
  // It comes back: a new host, at the bottom of its rack.
  announce("127.1.1.2", 1000, AnnounceEvent::kStarted);
  EXPECT_FALSE(announce("127.1.2.1").contains("127.1.1.2"));
  expect_counts_match_links();
}

// An entry that hangs (no progress while its parent is well ahead): the
// first of its rack to announce waiting on it takes its role and its place
// above the rack, which stays fed over one link; the former entry hangs in
// the rack below it, and the hosts below it move.
TEST_F(TreeTest, AHostWaitingOnAStuckEntryTakesItsRole) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  for (int i = 1; i <= 4; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.1", 1000 - 100 * i);
    announce("127.1.1.2", 1000 - 100 * i);
    // 127.1.2.1 receives nothing
  }
  EXPECT_EQ(announce("127.1.2.3"), (Names{"127.1.2.1"}));  // 50 s: not stuck yet
  // 61 s: more than stall_after without progress, 127.1.1.2 far ahead and moving.
  clock_.advance(core::Seconds(11));
  announce("127.1.1.2", 350);
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.2"}));
  EXPECT_EQ(announce("127.1.1.2", 350), (Names{"127.1.1.1", "127.1.2.2", "127.1.17.1"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.2.2", "127.1.2.3"}));
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.2", "127.1.2.1"}));
  // The former entry is stuck for the host still below it, which finds
  // another parent at its next announce, not stall_after later.
  EXPECT_EQ(announce("127.1.2.3"), (Names{"127.1.2.2"}));
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.2", "127.1.2.1", "127.1.2.3"}));
  EXPECT_EQ(announce("127.1.2.1"), (Names{"127.1.2.2"}));
  expect_counts_match_links();
}

// An entry fed by the origin that hangs in the last eighth of the payload is
// stuck all the same, and so is a host under a parent that has it all: the
// rest is there to take, and no host below them would ever get it (the
// simulator's hung head never completed so).
TEST_F(TreeTest, AHostThatHangsNearTheEndUnderOneThatHasItAllIsStuck) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  EXPECT_TRUE(announce("127.1.1.2").contains("127.1.1.1"));
  clock_.advance(core::Seconds(10));
  announce("127.1.1.1", 50);  // 20 s: a twentieth left, then nothing more
  for (int i = 0; i < 3; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.1", 50);
    EXPECT_TRUE(announce("127.1.1.2", 1000).contains("127.1.1.1")) << "at " << 30 + 10 * i << " s";
  }
  // 60 s: it and the host below it have each gone a whole announce gap (7/8
  // of the 45 s asked) without progress.
  clock_.advance(core::Seconds(10));
  announce("127.1.1.1", 50);
  // The host waiting on it takes its role, fed by the origin.
  const Names took = announce("127.1.1.2", 1000);
  EXPECT_TRUE(took.contains("127.9.0.1")) << ::testing::PrintToString(took);
  EXPECT_FALSE(took.contains("127.1.1.1")) << ::testing::PrintToString(took);
  // A host whose parent is a seeder, stopped a few bytes short.
  announce("127.1.1.2", 0, AnnounceEvent::kCompleted);
  clock_.advance(core::Seconds(10));
  const Names before = announce("127.1.1.3", 30);
  ASSERT_TRUE(before.contains("127.1.1.2")) << ::testing::PrintToString(before);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.2", 0);
    EXPECT_TRUE(announce("127.1.1.3", 30).contains("127.1.1.2"));
  }
  EXPECT_FALSE(stuck("127.1.1.3"));
  clock_.advance(core::Seconds(10));
  announce("127.1.1.2", 0);
  EXPECT_TRUE(stuck("127.1.1.3"));
  expect_counts_match_links();
}

// A host that dies after its first announce has not shown its schedule: it
// is kept as a libtorrent client would announce (every 300 s), and its own
// stall time is two such gaps. A host it feeds, announcing on its own
// schedule without progress for a whole gap while it missed an announce on
// that schedule, shows that it gives nothing: they find another parent then,
// not at its expiry.
TEST_F(TreeTest, ASilentHostIsStuckWhenTheHostsItFeedsStarve) {
  join_fleet();  // 127.1.2.1 enters rack 2 under 127.1.1.2; 127.1.2.2-3 below it
  ASSERT_EQ(announce("127.1.2.2"), (Names{"127.1.2.1"}));
  std::uint64_t rack1_left = 1000;  // rack 1 receives throughout
  auto round = [&](std::uint64_t rack2_left) {
    clock_.advance(core::Seconds(10));
    rack1_left -= 20;
    announce("127.1.1.1", rack1_left);
    announce("127.1.1.2", rack1_left);
    return std::pair{announce("127.1.2.2", rack2_left), announce("127.1.2.3", rack2_left)};
  };
  // Fed while it is silent, as a client on a 300 s schedule feeds: waiting
  // on it is right.
  for (int i = 1; i <= 10; ++i) {
    const auto [second, third] = round(1000 - 10 * i);
    EXPECT_TRUE(second.contains("127.1.2.1")) << "at " << 10 * i << " s";
    EXPECT_TRUE(third.contains("127.1.2.1")) << "at " << 10 * i << " s";
  }
  // Then nothing more: the second host takes the entry role once it has gone
  // a whole announce gap (7/8 of the 45 s asked) without progress, and the
  // third hangs below it.
  for (int i = 11; i <= 13; ++i) {
    const auto [second, third] = round(900);
    EXPECT_TRUE(second.contains("127.1.2.1")) << "at " << 10 * i << " s";
    EXPECT_TRUE(third.contains("127.1.2.1")) << "at " << 10 * i << " s";
  }
  const auto [second, third] = round(900);  // 140 s
  EXPECT_EQ(second, (Names{"127.1.1.2"}));
  EXPECT_EQ(third, (Names{"127.1.2.2"}));
  EXPECT_TRUE(stuck("127.1.2.1"));
  EXPECT_EQ(announce("127.1.2.2", 900), (Names{"127.1.1.2", "127.1.2.3"}));
  expect_counts_match_links();
}

// A host and one it feeds that each show no progress over a whole announce
// gap (7/8 of the 45 s asked at least, not the 10 s these clients keep)
// show that it hangs, before its own stall_after (60 s here) has passed;
// either alone does not.
TEST_F(TreeTest, AHostAndOneItFeedsShowingNothingOverAGapShowItHangs) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  std::uint64_t above = 1000, entry = 1000, below = 1000;
  auto round = [&](bool entry_moves, bool below_moves) {
    clock_.advance(core::Seconds(10));
    above -= 60;  // 127.1.1.2, which feeds 127.1.2.1, is ahead and moving
    entry -= entry_moves ? 5 : 0;
    below -= below_moves ? 5 : 0;
    announce("127.1.1.1", above);
    announce("127.1.1.2", above);
    announce("127.1.2.1", entry);
    announce("127.1.2.2", below);
    announce("127.1.2.3", below);
  };
  // The hosts below the entry get nothing, but it does.
  for (int s = 20; s <= 60; s += 10) {
    round(true, false);
    EXPECT_FALSE(stuck("127.1.2.1")) << "at " << s << " s";
  }
  // Then the entry gets nothing: 30 s on, two announces without progress
  // each, it is not yet a whole gap; 40 s on, it is.
  for (int s = 70; s <= 90; s += 10) {
    round(false, false);
    EXPECT_FALSE(stuck("127.1.2.1")) << "at " << s << " s";
  }
  round(false, false);  // 100 s
  EXPECT_TRUE(stuck("127.1.2.1"));
  EXPECT_EQ(announce("127.1.2.2", below), (Names{"127.1.1.2", "127.1.2.3"}));
  expect_counts_match_links();
}

// A host is judged only once its parent's rack has been receiving for as
// long as it is judged over: until then its parent had nothing to give. A
// client passed over sooner keeps its connection to that parent and pulls
// from it as well (real clients: a second copy into a row).
TEST_F(TreeTest, AHostIsJudgedOnlyOnceItsParentsRackHadSomethingToGive) {
  join_fleet(2);  // 127.1.2.1 enters rack 2 under 127.1.1.2; a 10 s schedule; now 10 s in
  for (int s = 20; s <= 100; s += 10) {
    clock_.advance(core::Seconds(10));
    // Rack 1 receives from 30 s on: stall_after (60 s) later is 90 s.
    const std::uint64_t left = s < 30 ? 1000 : 1000 - 50 * static_cast<std::uint64_t>(s - 20) / 10;
    announce("127.1.1.1", left);
    announce("127.1.1.2", left);
    announce("127.1.2.1", 1000);
    EXPECT_EQ(stuck("127.1.2.1"), s >= 90) << "at " << s << " s";
  }
}

// The same when the parent has it all by the time the host is judged: it got
// it all since its rack began to receive, and the host's announces before
// then could show no progress. Judged on them at once, a host whose own
// client was pulling all along was passed over (real clients: 1.23 copies
// into a rack, a hung entry at the default intervals).
TEST_F(TreeTest, AHostIsJudgedOnlyOnceItsParentHadSomethingToGiveThoughItHasItAllNow) {
  join_fleet(2);  // 127.1.2.1 enters rack 2 under 127.1.1.2; a 10 s schedule; now 10 s in
  for (int s = 20; s <= 150; s += 10) {
    clock_.advance(core::Seconds(10));
    // Rack 1 receives nothing until 80 s, and then all of it at once: its
    // hosts have it all from 80 s on, stall_after (60 s) later is 140 s.
    const std::uint64_t left = s < 80 ? 1000 : 0;
    const AnnounceEvent event = s == 80 ? AnnounceEvent::kCompleted : AnnounceEvent::kNone;
    announce("127.1.1.1", left, event);
    announce("127.1.1.2", left, event);
    announce("127.1.2.1", 1000);
    EXPECT_EQ(stuck("127.1.2.1"), s >= 140) << "at " << s << " s";
  }
}

// A parent that had it all before its rack's latest hosts began to receive
// has had it to give since then: a rack that starts again does not put off
// judging the hosts below its seeders.
TEST_F(TreeTest, AHostUnderASeederIsJudgedFromWhenItHadItAll) {
  join_fleet(2);  // 127.1.2.1 enters rack 2 under 127.1.1.2; a 10 s schedule; now 10 s in
  clock_.advance(core::Seconds(10));
  announce("127.1.1.2", 0, AnnounceEvent::kCompleted);  // 20 s
  for (int s = 30; s <= 90; s += 10) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.2", 0);
    // Rack 1's first host starts receiving at 80 s, after a pause of
    // stall_after since its rack's last progress.
    announce("127.1.1.1", s < 80 ? 1000 : 900);
    announce("127.1.2.1", 1000);
    EXPECT_EQ(stuck("127.1.2.1"), s >= 80) << "at " << s << " s";
  }
}

// Clients asked to announce every 2 s (bench/deploy's) and a host they feed
// that get nothing for a few gaps show a pause, not a hang: only once each
// has gone kTreeHangShownAfter without progress.
class TreeShortIntervalTest : public TreeTest {
 protected:
  TreeShortIntervalTest() : TreeTest(short_interval_options()) {}
  static SwarmOptions short_interval_options() {
    SwarmOptions o = tree_options();
    o.policy.announce_interval = core::Seconds(2);
    o.policy.stall_after = core::Seconds(600);  // so that only agreement judges
    return o;
  }
};

TEST_F(TreeShortIntervalTest, AHangIsShownOnlyAfterTwoUnchokeRounds) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  std::uint64_t above = 1000, entry = 1000;
  auto round = [&](bool entry_moves) {
    clock_.advance(core::Seconds(10));
    above -= 60;
    entry -= entry_moves ? 5 : 0;
    announce("127.1.1.1", above);
    announce("127.1.1.2", above);
    announce("127.1.2.1", entry);
    const Names second = announce("127.1.2.2", 1000);
    announce("127.1.2.3", 1000);
    return second;
  };
  for (int s = 20; s <= 60; s += 10) round(true);
  EXPECT_EQ(round(false), (Names{"127.1.2.1"}));  // 70 s
  EXPECT_EQ(round(false), (Names{"127.1.2.1"}));  // 80 s: 20 s without progress
  EXPECT_EQ(round(false), (Names{"127.1.1.2"}));  // 90 s: 30 s
  expect_counts_match_links();
}

// A host that shows no progress over a whole announce gap while the hosts
// it feeds do is waiting, not hung: they got something from it.
TEST_F(TreeTest, AHostWhoseHostsBelowMoveIsNotShownToHang) {
  join_fleet(2);  // a 10 s schedule; now 10 s in
  std::uint64_t above = 1000, below = 1000;
  // From 40 s on, 127.1.2.1 has gone a whole gap without progress, while
  // 127.1.1.2, which feeds it, is ahead and moving; until 60 s, its stall_after.
  for (int s = 20; s <= 50; s += 10) {
    clock_.advance(core::Seconds(10));
    above -= 60;
    below -= 5;
    announce("127.1.1.1", above);
    announce("127.1.1.2", above);
    announce("127.1.2.1", 1000);
    announce("127.1.2.2", below);
    announce("127.1.2.3", below);
    EXPECT_FALSE(stuck("127.1.2.1")) << "at " << s << " s";
  }
  EXPECT_EQ(announce("127.1.2.2", below), (Names{"127.1.2.1"}));
}

// Hosts that starve while they are silent themselves show nothing about the
// host above them.
TEST_F(TreeTest, SilentHostsShowNothingAboutTheirParent) {
  join_fleet();
  for (int i = 1; i <= 10; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.1", 500 - i);
    announce("127.1.1.2", 500 - i);
    if (i <= 2) {  // then silent
      announce("127.1.2.2", 1000);
      announce("127.1.2.3", 1000);
    }
  }
  EXPECT_FALSE(stuck("127.1.2.1"));
  // One announces: it has gone a whole gap without progress.
  EXPECT_EQ(announce("127.1.2.2", 1000), (Names{"127.1.1.2"}));
  EXPECT_TRUE(stuck("127.1.2.1"));
}

// An entry moved to another rack by a later topology answer leaves no
// ghost: the place it held above its rack, and the places its children held
// under it, are free; the next host of its rack to announce takes its role.
TEST_F(TreeTest, ARelocatedEntryLeavesNoGhost) {
  join_fleet();
  const auto moved = *core::Address::parse("127.1.2.1");
  const auto to = core::RackId::v4_prefix(0x7F020100u, 24);  // 127.2.1.0/24
  EXPECT_EQ(table_.relocate(moved, racks_.rack_of(moved), to), 1u);
  expect_counts_match_links();
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.2"}));
  EXPECT_EQ(announce("127.1.2.3"), (Names{"127.1.2.2"}));
  EXPECT_EQ(announce("127.1.2.2"), (Names{"127.1.1.2", "127.1.2.3"}));
  EXPECT_EQ(announce("127.1.1.2"), (Names{"127.1.1.1", "127.1.2.2", "127.1.17.1"}));
  expect_counts_match_links();
}

// An entry gone silent past its life: the next host of its rack to announce
// takes the role, fed from outside the rack.
TEST_F(TreeTest, AStaleEntryHandsItsRoleToTheNextHostToAnnounce) {
  join_fleet(2);
  // Rack 1 receives (too little for a host below it to be judged stuck);
  // 127.1.2.1 goes silent.
  for (int i = 1; i <= 16; ++i) {
    clock_.advance(core::Seconds(10));
    announce("127.1.1.1", 1000 - i);
    announce("127.1.1.2", 1000 - i);
    announce("127.1.2.3");
  }
  EXPECT_EQ(announce("127.1.2.3"), (Names{"127.1.1.2"}));
  EXPECT_TRUE(announce("127.1.1.2").contains("127.1.2.3"));
  EXPECT_FALSE(announce("127.1.1.2").contains("127.1.2.1"));
  expect_counts_match_links();
}

// Hosts join, receive, hang, stop and expire at random: after every step the
// counts agree with the links, the links make no loop, and no rack is entered
// over more than one link.
TEST_F(TreeTest, UnderChurnTheLinksStayATree) {
  const std::vector<std::string> all = fleet();
  for (unsigned seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    for (const auto& ip : all) announce(ip, 1000, AnnounceEvent::kStopped);
    table_.sweep(SwarmTable::kShards);
    announce("127.9.0.1", 0, AnnounceEvent::kStarted);
    std::mt19937 rng(seed);
    std::map<std::string, std::uint64_t> left;  // the hosts in the swarm
    for (int step = 0; step < 300; ++step) {
      const std::string ip = all[rng() % all.size()];
      switch (rng() % 8) {
        case 0:  // stops
          announce(ip, left.contains(ip) ? left[ip] : 1000, AnnounceEvent::kStopped);
          left.erase(ip);
          break;
        case 1:  // time passes; the silent expire
          clock_.advance(core::Seconds(5 + rng() % 60));
          table_.sweep(SwarmTable::kShards);
          break;
        default: {  // announces, having received something or not
          std::uint64_t& l = left.try_emplace(ip, 1000).first->second;
          if (rng() % 2 == 0 && l > 0) l -= std::min<std::uint64_t>(l, 1 + rng() % 200);
          announce(ip, l);
        }
      }
      expect_counts_match_links();
      auto snap = table_.snapshot(hash_);
      const SwarmView swarm = snap->torrent.view();
      std::size_t hosts = 0;
      for (const RackGroup& g : swarm.groups) hosts += g.peers.size();
      for (const RackGroup& g : swarm.groups) {
        int ways_in = 0;
        for (const Peer& p : g.peers) {
          if (p.origin()) continue;
          const TreeLink& l = g.link_of(p);
          ways_in += l.origin_fed || (l.parent_joined != 0 && l.parent_rack != g.rack);
          // Up from every host: the walk ends (at the origin, or a host that
          // has lost its parent) before it has visited every host.
          const RackGroup* at_g = &g;
          const Peer* at = &p;
          std::size_t hops = 0;
          while (at != nullptr && hops <= hosts) {
            const RackGroup* next = nullptr;
            at = policy::tree_parent(swarm, *at_g, *at, &next);
            at_g = next;
            ++hops;
          }
          EXPECT_LE(hops, hosts) << "a loop above " << p.endpoint.to_string();
        }
        EXPECT_LE(ways_in, 1) << "rack of " << g.peers.front().endpoint.to_string();
      }
    }
  }
}

// With racks the only level, a burst of new racks keeps a place in each rack
// for its own hosts: none feeds three when they come.
TEST(TreeOneLevelTest, ABurstOfRacksKeepsAPlaceForEachRacksOwnHosts) {
  OneLevelSwarm swarm(PolicyMode::kTree);
  auto ask = [&](const std::string& ip, std::uint64_t left = 1000) { return swarm.ask(ip, left); };
  ask("127.9.0.1", 0);
  for (const char* ip : {"127.1.1.1", "127.1.2.1", "127.1.3.1"}) ask(ip);
  EXPECT_EQ(ask("127.1.1.1"), (Names{"127.9.0.1", "127.1.2.1"}));
  EXPECT_EQ(ask("127.1.2.1"), (Names{"127.1.1.1", "127.1.3.1"}));
  ask("127.1.1.2");
  ask("127.1.2.2");
  ask("127.1.3.2");
  EXPECT_EQ(ask("127.1.1.1"), (Names{"127.9.0.1", "127.1.2.1", "127.1.1.2"}));
  EXPECT_EQ(ask("127.1.2.1"), (Names{"127.1.1.1", "127.1.3.1", "127.1.2.2"}));
  EXPECT_EQ(ask("127.1.3.1"), (Names{"127.1.2.1", "127.1.3.2"}));
  EXPECT_EQ(ask("127.1.3.2"), (Names{"127.1.3.1"}));
}

}  // namespace
}  // namespace p2p::swarm

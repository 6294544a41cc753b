// The rack policy, rule by rule, including the original p2ptracker's scenarios.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include "core/clock.h"
#include "swarm/swarm_table.h"
#include "swarm_test_util.h"

namespace p2p::swarm {
namespace {

using testing::ep;
using testing::names;
using testing::pid;
using Names = std::set<std::string>;

class RackPolicyTest : public ::testing::Test {
 protected:
  // Announces from ip:port and returns the addresses it was given.
  Names announce(const std::string& ip, std::uint64_t left,
                 AnnounceEvent event = AnnounceEvent::kNone, std::uint32_t numwant = 50,
                 std::uint16_t port = 6881) {
    last_ = do_announce(ip, left, event, numwant, port);
    return names(out_);
  }
  std::vector<core::PeerContact> do_announce(const std::string& ip, std::uint64_t left,
                                             AnnounceEvent event, std::uint32_t numwant,
                                             std::uint16_t port) {
    PeerAnnounce a;
    a.endpoint = ep(ip, port);
    a.peer_id = pid(ip, port);
    a.left = left;
    a.event = event;
    a.numwant = numwant;
    out_.clear();
    out_.reserve(policy_.maxpeers);
    outcome_ = table_.announce(hash_, a, rng_, out_);
    return out_;
  }

  void SetUp() override {
    policy_.max_repr_rack = 2;
    policy_.maxpeers = 50;
  }

  core::ManualClock clock_;
  testing::Slash24 racks_;
  PolicyOptions policy_;
  SwarmTable table_{SwarmOptions{{2, 50}, core::Seconds(150), false}, racks_, clock_};
  core::InfoHash hash_ = *core::InfoHash::from_hex("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  core::Rng rng_{1};
  std::vector<core::PeerContact> out_;
  std::vector<core::PeerContact> last_;
  AnnounceResult outcome_;
};

TEST_F(RackPolicyTest, UnregisteredTransferIsPassive) {
  EXPECT_TRUE(announce("127.0.1.1", 100, AnnounceEvent::kStarted).empty());
  EXPECT_FALSE(outcome_.active);
  EXPECT_FALSE(table_.is_active(hash_));
}

// The original's scenario: racks A (127.0.1.x) and B (127.0.2.x), three
// leechers each, announcing A1 A2 A3 B1 B2 B3.
TEST_F(RackPolicyTest, OriginalTwoRacksOfThree) {
  table_.activate(hash_, 1000);
  for (auto ip : {"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.2.1", "127.0.2.2", "127.0.2.3"}) {
    announce(ip, 1000, AnnounceEvent::kStarted);
    EXPECT_TRUE(outcome_.active);
  }
  // Representatives: their rack plus the other rack's representatives.
  EXPECT_EQ(announce("127.0.1.1", 1000),
            (Names{"127.0.1.2", "127.0.1.3", "127.0.2.1", "127.0.2.2"}));
  EXPECT_TRUE(outcome_.outcome.representative);
  EXPECT_EQ(announce("127.0.1.2", 1000),
            (Names{"127.0.1.1", "127.0.1.3", "127.0.2.1", "127.0.2.2"}));
  EXPECT_EQ(announce("127.0.2.1", 1000),
            (Names{"127.0.2.2", "127.0.2.3", "127.0.1.1", "127.0.1.2"}));
  EXPECT_EQ(announce("127.0.2.2", 1000),
            (Names{"127.0.2.1", "127.0.2.3", "127.0.1.1", "127.0.1.2"}));
  // The third of each rack: only its rack (here: its representatives).
  EXPECT_EQ(announce("127.0.1.3", 1000), (Names{"127.0.1.1", "127.0.1.2"}));
  EXPECT_FALSE(outcome_.outcome.representative);
  EXPECT_EQ(announce("127.0.2.3", 1000), (Names{"127.0.2.1", "127.0.2.2"}));
}

TEST_F(RackPolicyTest, FirstAnnounceAlreadyGetsPeers) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.0.1.2", 1000, AnnounceEvent::kStarted), (Names{"127.0.1.1"}));
}

TEST_F(RackPolicyTest, NonRepresentativeNeverSeesOutside) {
  table_.activate(hash_, 1000);
  announce("127.0.9.1", 0, AnnounceEvent::kStarted);  // origin seeder, its own rack
  for (int h = 1; h <= 6; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  for (int h = 1; h <= 4; ++h)
    announce("127.0.2." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  for (int h = 3; h <= 6; ++h) {
    for (const auto& n : announce("127.0.1." + std::to_string(h), 1000)) {
      EXPECT_EQ(n.rfind("127.0.1.", 0), 0u) << "127.0.1." << h << " was told about " << n;
    }
  }
}

TEST_F(RackPolicyTest, SeedersSeeOnlyLeechers) {
  table_.activate(hash_, 1000);
  announce("127.0.9.1", 0, AnnounceEvent::kStarted);     // origin seeder
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);  // rep, leecher
  announce("127.0.1.2", 0, AnnounceEvent::kStarted);     // rep, seeder
  announce("127.0.1.3", 0, AnnounceEvent::kStarted);     // seeder
  announce("127.0.1.4", 500, AnnounceEvent::kStarted);   // leecher
  announce("127.0.2.1", 0, AnnounceEvent::kStarted);     // rep of B, seeder
  announce("127.0.2.2", 10, AnnounceEvent::kStarted);    // rep of B, leecher
  EXPECT_EQ(announce("127.0.1.2", 0), (Names{"127.0.1.1", "127.0.1.4", "127.0.2.2"}));
  EXPECT_EQ(announce("127.0.1.3", 0), (Names{"127.0.1.1", "127.0.1.4"}));
  EXPECT_EQ(announce("127.0.9.1", 0), (Names{"127.0.1.1", "127.0.2.2"}));
  // A downloading representative sees seeders: its rack's, the other racks'
  // representatives, and the origin.
  EXPECT_EQ(announce("127.0.1.1", 1000),
            (Names{"127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.2.1", "127.0.2.2", "127.0.9.1"}));
}

TEST_F(RackPolicyTest, NeverSeesItself) {
  table_.activate(hash_, 1000);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(announce("127.0.1.1", 1000).contains("127.0.1.1"));
    EXPECT_FALSE(announce("127.0.1.2", 1000).contains("127.0.1.2"));
  }
}

TEST_F(RackPolicyTest, SameHostDifferentPortsAreDistinctPeers) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted, 50, 6881);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted, 50, 6882);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].endpoint, ep("127.0.1.1", 6881));
  EXPECT_EQ(table_.scrape(hash_).incomplete, 2u);
}

TEST_F(RackPolicyTest, NewPeerIdSamePeer) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.3", 1000, AnnounceEvent::kStarted);
  // 127.0.1.1 restarts with a new peer_id: still one peer, still
  // representative.
  PeerAnnounce a;
  a.endpoint = ep("127.0.1.1");
  a.peer_id = *core::PeerId::from_bytes("-XX0001-restarted...");
  a.left = 1000;
  a.event = AnnounceEvent::kStarted;
  a.numwant = 50;
  out_.clear();
  auto r = table_.announce(hash_, a, rng_, out_);
  EXPECT_TRUE(r.outcome.representative);
  EXPECT_FALSE(r.outcome.joined);
  EXPECT_EQ(table_.scrape(hash_).incomplete, 3u);
  announce("127.0.1.2", 1000);
  bool found = false;
  for (const auto& p : out_) {
    if (p.endpoint == ep("127.0.1.1")) {
      EXPECT_EQ(p.peer_id, a.peer_id);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(RackPolicyTest, PeerIdsOnlyWhenTheReplyShowsThem) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  PeerAnnounce a;
  a.endpoint = ep("127.0.1.3");
  a.peer_id = *core::PeerId::from_bytes("-XX0001-third-peer..");
  a.left = 1000;
  a.numwant = 50;
  for (bool with_ids : {true, false}) {
    a.with_peer_ids = with_ids;
    out_.clear();
    out_.reserve(policy_.maxpeers);
    table_.announce(hash_, a, rng_, out_);
    ASSERT_EQ(out_.size(), 2u);
    for (const auto& p : out_) {
      EXPECT_TRUE(p.endpoint == ep("127.0.1.1") || p.endpoint == ep("127.0.1.2"));
      // The fixture's announces carry non-zero peer ids.
      EXPECT_EQ(p.peer_id == core::PeerId{}, !with_ids);
    }
  }
}

TEST_F(RackPolicyTest, StoppedRepresentativeFreesSlotForNextAnnouncer) {
  table_.activate(hash_, 1000);
  for (auto ip : {"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.2.1"}) {
    announce(ip, 1000, AnnounceEvent::kStarted);
  }
  announce("127.0.1.3", 1000);
  EXPECT_FALSE(outcome_.outcome.representative);
  EXPECT_TRUE(announce("127.0.1.1", 1000, AnnounceEvent::kStopped).empty());
  EXPECT_TRUE(outcome_.outcome.left_swarm);
  // 127.0.1.4 announces first: it takes the slot, 127.0.1.3 does not.
  EXPECT_TRUE(announce("127.0.1.4", 1000).contains("127.0.2.1"));
  EXPECT_TRUE(outcome_.outcome.representative);
  EXPECT_FALSE(announce("127.0.1.3", 1000).contains("127.0.2.1"));
  EXPECT_FALSE(outcome_.outcome.representative);
  EXPECT_FALSE(announce("127.0.1.2", 1000).contains("127.0.1.1"));
}

TEST_F(RackPolicyTest, ExpiredRepresentativeFreesSlot) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.3", 1000, AnnounceEvent::kStarted);
  announce("127.0.2.1", 1000, AnnounceEvent::kStarted);
  // Everyone shows a 100 s schedule (within peer_timeout)...
  clock_.advance(core::Seconds(100));
  for (const char* host : {"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.2.1"}) {
    announce(host, 1000);
  }
  clock_.advance(core::Seconds(100));
  announce("127.0.1.2", 1000);
  announce("127.0.1.3", 1000);
  announce("127.0.2.1", 1000);
  clock_.advance(core::Seconds(100));  // ...then 127.0.1.1 is silent for 200 s > 150 s
  // Even before a sweep, a stale peer is not handed out...
  EXPECT_FALSE(announce("127.0.1.2", 1000).contains("127.0.1.1"));
  // ...and after it, its slot is free for the next announcer. The sweep says
  // who it dropped, for the store.
  std::vector<SwarmTable::ExpiredPeer> expired;
  EXPECT_EQ(table_.sweep(SwarmTable::kShards, &expired), 1u);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].info_hash, hash_);
  EXPECT_EQ(expired[0].endpoint, ep("127.0.1.1"));
  EXPECT_EQ(expired[0].rack, racks_.rack_of(ep("127.0.1.1").address));
  EXPECT_TRUE(announce("127.0.1.3", 1000).contains("127.0.2.1"));
  EXPECT_TRUE(outcome_.outcome.representative);
}

TEST_F(RackPolicyTest, FinishedRepresentativeStaysRepresentative) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.3", 1000, AnnounceEvent::kStarted);
  announce("127.0.2.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.1", 0, AnnounceEvent::kCompleted);
  EXPECT_TRUE(outcome_.outcome.representative);
  // It now seeds its rack and the other racks' downloading representatives.
  EXPECT_EQ(announce("127.0.1.1", 0), (Names{"127.0.1.2", "127.0.1.3", "127.0.2.1"}));
  EXPECT_EQ(table_.scrape(hash_).complete, 1u);
  EXPECT_EQ(table_.scrape(hash_).downloaded, 1u);
  // A second completed event from the same peer is not a second download.
  announce("127.0.1.1", 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(table_.scrape(hash_).downloaded, 1u);
}

TEST_F(RackPolicyTest, CompletedNonRepresentativeStaysInsideItsRack) {
  table_.activate(hash_, 1000);
  announce("127.0.9.1", 0, AnnounceEvent::kStarted);  // origin
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.3", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.3", 0, AnnounceEvent::kCompleted);  // a non-rep finished first
  announce("127.0.2.1", 1000, AnnounceEvent::kStarted);
  Names seen_by_b = announce("127.0.2.1", 1000);
  EXPECT_FALSE(seen_by_b.contains("127.0.1.3"));
  EXPECT_TRUE(seen_by_b.contains("127.0.9.1"));
  EXPECT_TRUE(announce("127.0.1.1", 1000).contains("127.0.1.3"));
}

TEST_F(RackPolicyTest, NumwantAndMaxpeersBoundTheReply) {
  table_.activate(hash_, 1000);
  for (int h = 1; h <= 40; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  EXPECT_EQ(announce("127.0.1.5", 1000, AnnounceEvent::kNone, 10).size(), 10u);
  EXPECT_EQ(announce("127.0.1.5", 1000, AnnounceEvent::kNone, 0).size(), 0u);
  EXPECT_EQ(announce("127.0.1.5", 1000, AnnounceEvent::kNone, 1000).size(), 39u);
}

TEST_F(RackPolicyTest, MaxpeersCapsEvenLargeNumwant) {
  SwarmTable small{SwarmOptions{{2, 5}, core::Seconds(150), false}, racks_, clock_};
  small.activate(hash_, 1000);
  std::vector<core::PeerContact> out;
  out.reserve(5);
  for (int h = 1; h <= 20; ++h) {
    PeerAnnounce a;
    a.endpoint = ep("127.0.1." + std::to_string(h));
    a.left = 1000;
    a.numwant = 200;
    out.clear();
    small.announce(hash_, a, rng_, out);
  }
  EXPECT_EQ(out.size(), 5u);
}

TEST_F(RackPolicyTest, NonRepresentativeWithSmallNumwantGetsRepresentativesFirst) {
  table_.activate(hash_, 1000);
  for (int h = 1; h <= 30; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(announce("127.0.1.20", 1000, AnnounceEvent::kNone, 2),
              (Names{"127.0.1.1", "127.0.1.2"}));
  }
}

TEST_F(RackPolicyTest, RepresentativeKeepsOutsidersWhenCut) {
  table_.activate(hash_, 1000);
  for (int h = 1; h <= 30; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  for (int r = 2; r <= 11; ++r) {
    for (int h = 1; h <= 2; ++h) {
      announce("127.0.0." + std::to_string(r * 10 + h), 1000, AnnounceEvent::kStarted);
    }
  }
  // 127.0.1.1 represents a rack of 30; the 20 hosts of 127.0.0.0/24 form one
  // other rack with 2 representatives: those are all the outsiders it may see.
  Names got = announce("127.0.1.1", 1000, AnnounceEvent::kNone, 10);
  ASSERT_EQ(got.size(), 10u);
  int outside = 0;
  for (const auto& n : got) outside += n.rfind("127.0.1.", 0) != 0;
  EXPECT_EQ(outside, 2);  // rack 127.0.0.0/24 has exactly 2 representatives
}

TEST_F(RackPolicyTest, RepresentativeReplyHalfOutsidersWhenManyRacks) {
  table_.activate(hash_, 1000);
  for (int h = 1; h <= 30; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  for (int r = 10; r < 30; ++r)
    announce("127.0." + std::to_string(r) + ".1", 1000, AnnounceEvent::kStarted);
  Names got = announce("127.0.1.1", 1000, AnnounceEvent::kNone, 10);
  ASSERT_EQ(got.size(), 10u);
  int outside = 0;
  for (const auto& n : got) outside += n.rfind("127.0.1.", 0) != 0;
  EXPECT_EQ(outside, 5);
}

// A cut reply samples the rack: no duplicates, never itself, only wanted
// peers, and over many announces every rack-mate about equally often.
TEST_F(RackPolicyTest, CutRepliesSampleTheRackFairly) {
  table_.activate(hash_, 1000);
  // 98 peers: not prime, so some strides must be skipped for being shared
  // factors with it.
  for (int h = 1; h <= 98; ++h)
    announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted);
  std::map<std::string, int> times;
  constexpr int kRounds = 4000;
  constexpr std::uint32_t kWant = 10;
  for (int i = 0; i < kRounds; ++i) {
    auto reply = do_announce("127.0.1.50", 1000, AnnounceEvent::kNone, kWant, 6881);
    Names got = names(reply);
    ASSERT_EQ(reply.size(), kWant);
    ASSERT_EQ(got.size(), kWant) << "a peer listed twice";
    EXPECT_FALSE(got.count("127.0.1.50"));
    // A non-representative is always given its rack's two representatives.
    EXPECT_TRUE(got.count("127.0.1.1") && got.count("127.0.1.2"));
    for (const auto& n : got) ++times[n];
  }
  // The other 8 of each reply come from 95 non-representative rack-mates.
  const double expected = kRounds * 8.0 / 95;
  EXPECT_EQ(times.size(), 97u);  // 95 mates + 2 representatives
  for (const auto& [name, n] : times) {
    if (name == "127.0.1.1" || name == "127.0.1.2") continue;
    EXPECT_NEAR(n, expected, expected * 0.25) << name;
  }
}

// Representatives are remembered by where they sit in the rack's sorted peers;
// peers joining below them, and leaving, move them. Every announce in between
// must still find them.
TEST_F(RackPolicyTest, RepresentativesFoundAfterRackMatesMoveThem) {
  table_.activate(hash_, 1000);
  announce("127.0.1.200", 1000, AnnounceEvent::kStarted);
  announce("127.0.1.201", 1000, AnnounceEvent::kStarted);
  for (int h = 100; h >= 1; --h) {
    // Each one lands below both representatives and shifts them up by one.
    EXPECT_EQ(announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStarted, 2),
              (Names{"127.0.1.200", "127.0.1.201"}))
        << h;
    if (h % 10 == 0) {
      announce("127.0.1." + std::to_string(h), 1000, AnnounceEvent::kStopped);
    }
  }
  EXPECT_EQ(announce("127.0.1.55", 1000, AnnounceEvent::kNone, 2),
            (Names{"127.0.1.200", "127.0.1.201"}));
  // The first representative leaves: its slot goes to the next announcer.
  announce("127.0.1.200", 1000, AnnounceEvent::kStopped);
  announce("127.0.1.55", 1000, AnnounceEvent::kNone, 2);
  EXPECT_TRUE(outcome_.outcome.representative);
  EXPECT_EQ(announce("127.0.1.3", 1000, AnnounceEvent::kNone, 2),
            (Names{"127.0.1.55", "127.0.1.201"}));
}

TEST_F(RackPolicyTest, OpenTrackerTracksUnregisteredHashes) {
  SwarmTable open{SwarmOptions{{2, 50}, core::Seconds(150), true}, racks_, clock_};
  std::vector<core::PeerContact> out;
  out.reserve(50);
  PeerAnnounce a;
  a.endpoint = ep("127.0.1.1");
  a.left = 10;
  a.numwant = 50;
  EXPECT_TRUE(open.announce(hash_, a, rng_, out).active);
  a.endpoint = ep("127.0.1.2");
  EXPECT_TRUE(open.announce(hash_, a, rng_, out).active);
  EXPECT_EQ(names(out), (Names{"127.0.1.1"}));
  // Empty unregistered swarms disappear.
  a.event = AnnounceEvent::kStopped;
  open.announce(hash_, a, rng_, out);
  a.endpoint = ep("127.0.1.1");
  open.announce(hash_, a, rng_, out);
  EXPECT_FALSE(open.is_active(hash_));
}

TEST_F(RackPolicyTest, DeactivateDropsSwarm) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  EXPECT_TRUE(table_.deactivate(hash_));
  EXPECT_FALSE(table_.deactivate(hash_));
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);
  EXPECT_FALSE(outcome_.active);
  EXPECT_EQ(table_.scrape(hash_).incomplete, 0u);
}

TEST_F(RackPolicyTest, TopologyReloadRegroupsPeers) {
  class Movable final : public RackMap {
   public:
    core::RackId rack_of(const core::Address& a) const noexcept override {
      // Before: everyone in one rack. After: by /24.
      return generation_ == 1 ? core::RackId::named(1)
                              : core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
    }
    std::uint64_t generation() const noexcept override { return generation_; }
    std::uint64_t generation_ = 1;
  } map;
  SwarmTable t{SwarmOptions{{2, 50}, core::Seconds(150), false}, map, clock_};
  t.activate(hash_, 1000);
  std::vector<core::PeerContact> out;
  out.reserve(50);
  auto go = [&](const std::string& ip) {
    PeerAnnounce a;
    a.endpoint = ep(ip);
    a.peer_id = pid(ip, 6881);
    a.left = 1000;
    a.numwant = 50;
    out.clear();
    return t.announce(hash_, a, rng_, out);
  };
  for (auto ip : {"127.0.1.1", "127.0.1.2", "127.0.2.1", "127.0.2.2", "127.0.2.3"}) go(ip);
  EXPECT_FALSE(go("127.0.2.3").outcome.representative);  // 3rd... in the single rack
  map.generation_ = 2;
  // Its first announce since the move says so (the store then clears the old
  // rack's sets); the next does not.
  EXPECT_TRUE(go("127.0.2.3").outcome.rack_changed);
  EXPECT_FALSE(go("127.0.2.3").outcome.rack_changed);
  EXPECT_EQ(names(out), (Names{"127.0.2.1", "127.0.2.2"}));
  // Peer ids moved with their peers.
  for (const auto& c : out) EXPECT_EQ(c.peer_id, pid(c.endpoint.address.to_string(), 6881));
  auto snap = t.snapshot(hash_);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->torrent.racks().size(), 2u);
  EXPECT_EQ(snap->torrent.size(), 5u);
  for (const RackGroup& g : snap->torrent.racks()) {
    ASSERT_EQ(g.peer_ids.size(), g.peers.size());
    for (const Peer& p : g.peers) {
      EXPECT_EQ(g.peer_id_of(p), pid(p.endpoint.address.to_string(), 6881));
    }
  }
}

}  // namespace
}  // namespace p2p::swarm

namespace p2p::swarm {
namespace {

using testing::ep;
using testing::names;
using Names = std::set<std::string>;

// The gateway policies' scenes (PolicyMode::kStandby, kProgress, kRelay). A
// fresh table holds: origin 127.0.9.1; rack 1: 127.0.1.1 (gateway), .2
// (standby), .3; rack 2: .1 (gateway), .2. The payload is 1000 bytes.
class GatewayPolicyTest : public ::testing::Test {
 protected:
  Names announce(const std::string& ip, std::uint64_t left,
                 AnnounceEvent event = AnnounceEvent::kNone) {
    PeerAnnounce a;
    a.endpoint = ep(ip);
    a.left = left;
    a.event = event;
    a.numwant = 50;
    out_.clear();
    out_.reserve(50);
    result_ = table_->announce(hash_, a, rng_, out_);
    return names(out_);
  }
  static bool outside(const Names& n, const std::string& rack_prefix) {
    return std::any_of(n.begin(), n.end(),
                       [&](const std::string& s) { return s.rfind(rack_prefix, 0) != 0; });
  }
  void use(PolicyMode mode, std::uint32_t grant_percent = 50,
           core::Seconds peer_timeout = core::Seconds(600)) {
    PolicyOptions policy{2, 50, mode, core::Seconds(60)};
    policy.grant_percent = grant_percent;
    policy.peer_timeout = peer_timeout;
    table_.emplace(SwarmOptions{policy, peer_timeout, false}, racks_, clock_);
    table_->activate(hash_, 1000);
    announce("127.0.9.1", 0, AnnounceEvent::kStarted);
    for (auto ip : {"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.2.1", "127.0.2.2"}) {
      announce(ip, 1000, AnnounceEvent::kStarted);
    }
  }

  core::ManualClock clock_;
  testing::Slash24 racks_;
  std::optional<SwarmTable> table_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
  core::Rng rng_{5};
  std::vector<core::PeerContact> out_;
  AnnounceResult result_;
};

// PolicyMode::kStandby: one gateway per rack, the other representative waits.
class StandbyPolicyTest : public GatewayPolicyTest {
 protected:
  void SetUp() override { use(PolicyMode::kStandby); }
};

TEST_F(StandbyPolicyTest, OnlyTheFirstRepresentativePullsFromOutside) {
  EXPECT_TRUE(outside(announce("127.0.1.1", 900), "127.0.1."));
  Names standby = announce("127.0.1.2", 900);
  EXPECT_TRUE(result_.outcome.representative);  // a representative...
  EXPECT_FALSE(outside(standby, "127.0.1."));   // ...that waits inside its rack
  // Other racks' gateways see only 127.0.1.1 of rack 1.
  Names b = announce("127.0.2.1", 900);
  EXPECT_TRUE(b.contains("127.0.1.1"));
  EXPECT_FALSE(b.contains("127.0.1.2"));
  EXPECT_TRUE(b.contains("127.0.9.1"));
}

TEST_F(StandbyPolicyTest, StandbyTakesOverWhenTheGatewayStops) {
  announce("127.0.1.1", 900, AnnounceEvent::kStopped);
  EXPECT_TRUE(outside(announce("127.0.1.2", 900), "127.0.1."));
}

TEST_F(StandbyPolicyTest, StandbyTakesOverWhenTheGatewayStallsAndGivesBack) {
  clock_.advance(core::Seconds(30));
  announce("127.0.1.2", 800);  // progress
  clock_.advance(core::Seconds(40));
  announce("127.0.1.1", 1000);  // 127.0.1.1: no progress for 70 s > 60 s
  EXPECT_TRUE(outside(announce("127.0.1.2", 700), "127.0.1."));
  EXPECT_FALSE(outside(announce("127.0.1.1", 1000), "127.0.1."));
  // Progress again: the first in promotion order is the gateway once more.
  EXPECT_TRUE(outside(announce("127.0.1.1", 500), "127.0.1."));
  EXPECT_FALSE(outside(announce("127.0.1.2", 700), "127.0.1."));
}

// The standby is fed by its gateway, so it stalls with it: without turns
// nobody would pull for the rack again.
TEST_F(StandbyPolicyTest, WhenTheStandbyStallsWithItsGatewayTheyTakeTurns) {
  clock_.advance(core::Seconds(61));  // both 61 s without progress, stall_after 60 s
  EXPECT_TRUE(outside(announce("127.0.1.2", 1000), "127.0.1."));  // the second goes first
  EXPECT_FALSE(outside(announce("127.0.1.1", 1000), "127.0.1."));
  EXPECT_TRUE(announce("127.0.2.1", 900).contains("127.0.1.2"));
  clock_.advance(core::Seconds(60));  // its turn passed without progress: back to the first
  EXPECT_FALSE(outside(announce("127.0.1.2", 1000), "127.0.1."));
  EXPECT_TRUE(outside(announce("127.0.1.1", 1000), "127.0.1."));
  clock_.advance(core::Seconds(60));
  EXPECT_TRUE(outside(announce("127.0.1.2", 900), "127.0.1."));  // progress in its turn...
  clock_.advance(core::Seconds(59));
  EXPECT_TRUE(outside(announce("127.0.1.2", 900), "127.0.1."));  // ...so it keeps the role
  EXPECT_FALSE(outside(announce("127.0.1.1", 1000), "127.0.1."));
}

// A gateway that dies after its first announce has not shown its schedule:
// with peer_timeout under 300 s it is kept as a libtorrent client would
// announce, and its own stall time is two such gaps. Its standby, announcing
// on its own schedule while the rack gets nothing, shows it gone: it takes
// the role after its own stall time, not at the dead one's expiry.
TEST_F(StandbyPolicyTest, TheStandbyOfASilentGatewayThatStarvesTheRackTakesOver) {
  use(PolicyMode::kStandby, 50, core::Seconds(150));
  for (int t = 10; t <= 50; t += 10) {
    clock_.advance(core::Seconds(10));
    EXPECT_FALSE(outside(announce("127.0.1.2", 1000), "127.0.1.")) << "at " << t << " s";
  }
  clock_.advance(core::Seconds(10));  // 60 s: stall_after without progress
  EXPECT_TRUE(outside(announce("127.0.1.2", 1000), "127.0.1."));
  EXPECT_TRUE(announce("127.0.2.1", 900).contains("127.0.1.2"));
}

// A silent gateway while the rack receives is fed from it: it keeps the role.
TEST_F(StandbyPolicyTest, ASilentGatewayWhoseRackReceivesKeepsTheRole) {
  use(PolicyMode::kStandby, 50, core::Seconds(150));
  for (int t = 10; t <= 100; t += 10) {
    clock_.advance(core::Seconds(10));
    announce("127.0.1.3", 1000 - t);
    EXPECT_FALSE(outside(announce("127.0.1.2", 1000), "127.0.1.")) << "at " << t << " s";
  }
}

TEST_F(StandbyPolicyTest, FinishedGatewayKeepsTheRoleSoTheStandbyStaysInside) {
  announce("127.0.1.1", 0, AnnounceEvent::kCompleted);
  clock_.advance(core::Seconds(120));  // a seeder never stalls
  EXPECT_FALSE(outside(announce("127.0.1.2", 500), "127.0.1."));
  EXPECT_TRUE(announce("127.0.1.2", 500).contains("127.0.1.1"));
}

// PolicyMode::kProgress: kStandby's gateway, and a standby representative
// joins it once it holds grant_percent of the payload.
class ProgressPolicyTest : public GatewayPolicyTest {
 protected:
  void SetUp() override { use(PolicyMode::kProgress, 50); }
};

TEST_F(ProgressPolicyTest, StandbyStaysInsideUntilItHoldsTheGrantedShare) {
  Names standby = announce("127.0.1.2", 501);  // 49.9% held
  EXPECT_TRUE(result_.outcome.representative);
  EXPECT_FALSE(outside(standby, "127.0.1."));
  EXPECT_FALSE(announce("127.0.2.1", 900).contains("127.0.1.2"));
  // Both directions open at exactly 50%: it pulls outside peers...
  Names joined = announce("127.0.1.2", 500);
  EXPECT_TRUE(joined.contains("127.0.2.1"));
  EXPECT_TRUE(joined.contains("127.0.9.1"));
  // ...and other racks' gateways are told about it, beside the first gateway.
  Names b = announce("127.0.2.1", 900);
  EXPECT_TRUE(b.contains("127.0.1.2"));
  EXPECT_TRUE(b.contains("127.0.1.1"));
}

TEST_F(ProgressPolicyTest, TheFirstGatewayNeedsNoProgress) {
  EXPECT_TRUE(outside(announce("127.0.1.1", 1000), "127.0.1."));
  EXPECT_FALSE(outside(announce("127.0.1.2", 1000), "127.0.1."));
}

TEST_F(ProgressPolicyTest, ANonRepresentativeNeverLeavesItsRackWhateverItHolds) {
  EXPECT_FALSE(outside(announce("127.0.1.3", 10), "127.0.1."));
  announce("127.0.1.3", 0, AnnounceEvent::kCompleted);
  EXPECT_FALSE(announce("127.0.2.1", 900).contains("127.0.1.3"));
}

TEST_F(ProgressPolicyTest, AFinishedStandbyServesOtherRacks) {
  use(PolicyMode::kProgress, 100);  // no share short of the whole payload lets it out
  EXPECT_FALSE(outside(announce("127.0.1.2", 1), "127.0.1."));
  EXPECT_FALSE(announce("127.0.2.1", 900).contains("127.0.1.2"));
  announce("127.0.1.2", 0, AnnounceEvent::kCompleted);
  EXPECT_TRUE(announce("127.0.2.1", 900).contains("127.0.1.2"));
}

TEST_F(ProgressPolicyTest, GrantZeroLetsEveryRepresentativeOutAsTheOriginal) {
  use(PolicyMode::kProgress, 0);
  EXPECT_TRUE(outside(announce("127.0.1.2", 1000), "127.0.1."));
  Names b = announce("127.0.2.1", 1000);
  EXPECT_TRUE(b.contains("127.0.1.1"));
  EXPECT_TRUE(b.contains("127.0.1.2"));
}

TEST_F(ProgressPolicyTest, StandbyTakesOverFromAStoppedGatewayBelowTheShare) {
  announce("127.0.1.1", 900, AnnounceEvent::kStopped);
  EXPECT_TRUE(outside(announce("127.0.1.2", 1000), "127.0.1."));
}

TEST_F(ProgressPolicyTest, StandbyTakesOverFromAStalledGatewayBelowTheShare) {
  clock_.advance(core::Seconds(30));
  announce("127.0.1.2", 990);  // progress, but far below the share
  clock_.advance(core::Seconds(40));
  EXPECT_FALSE(outside(announce("127.0.1.1", 1000), "127.0.1."));  // stalled for 70 s > 60 s
  EXPECT_TRUE(outside(announce("127.0.1.2", 980), "127.0.1."));
}

// The registered size is the yardstick, so a client announcing a bogus `left`
// cannot make the standbys look nearly done.
TEST_F(ProgressPolicyTest, ShareIsMeasuredAgainstTheRegisteredSize) {
  announce("127.0.3.1", std::uint64_t{1} << 62, AnnounceEvent::kStarted);
  EXPECT_FALSE(outside(announce("127.0.1.2", 600), "127.0.1."));
}

// An open tracker knows no size: the largest `left` announced stands in.
TEST_F(ProgressPolicyTest, UnregisteredTransferUsesTheLargestLeftAnnounced) {
  Torrent t;
  core::Rng rng{1};
  std::vector<core::PeerContact> out;
  out.reserve(50);
  PolicyOptions policy{2, 50, PolicyMode::kProgress, core::Seconds(60)};
  const core::TimePoint now = clock_.now();
  auto announce_to = [&](const std::string& ip, core::RackId rack, std::uint64_t left) {
    PeerAnnounce a;
    a.endpoint = ep(ip);
    a.rack = rack;
    a.left = left;
    a.numwant = 50;
    out.clear();
    t.announce(a, now, now - core::Seconds(600), policy, rng, out);
    return names(out);
  };
  announce_to("127.0.1.1", core::RackId::named(1), 2000);
  announce_to("127.0.1.2", core::RackId::named(1), 2000);
  announce_to("127.0.2.1", core::RackId::named(2), 2000);
  EXPECT_FALSE(outside(announce_to("127.0.1.2", core::RackId::named(1), 1001), "127.0.1."));
  EXPECT_TRUE(outside(announce_to("127.0.1.2", core::RackId::named(1), 1000), "127.0.1."));
}

// PolicyMode::kRelay: standby's gateway, meeting its rack through the standby
// while it downloads. Same swarm as ProgressPolicyTest.
class RelayPolicyTest : public ProgressPolicyTest {
 protected:
  void SetUp() override { use(PolicyMode::kRelay); }
};

TEST_F(RelayPolicyTest, DownloadingGatewayMeetsItsRackOnlyThroughTheStandby) {
  Names g = announce("127.0.1.1", 900);
  EXPECT_TRUE(g.contains("127.0.1.2"));
  EXPECT_FALSE(g.contains("127.0.1.3"));
  EXPECT_TRUE(g.contains("127.0.2.1"));
  EXPECT_TRUE(g.contains("127.0.9.1"));
}

TEST_F(RelayPolicyTest, TheRestOfTheRackSeesTheStandbyNotTheGateway) {
  Names mate = announce("127.0.1.3", 900);
  EXPECT_TRUE(mate.contains("127.0.1.2"));
  EXPECT_FALSE(mate.contains("127.0.1.1"));
  Names standby = announce("127.0.1.2", 900);  // the one the gateway feeds
  EXPECT_TRUE(standby.contains("127.0.1.1"));
  EXPECT_TRUE(standby.contains("127.0.1.3"));
  EXPECT_FALSE(outside(standby, "127.0.1."));
}

TEST_F(RelayPolicyTest, OtherRacksSeeOnlyTheGateway) {
  Names b = announce("127.0.2.1", 900);
  EXPECT_TRUE(b.contains("127.0.1.1"));
  EXPECT_FALSE(b.contains("127.0.1.2"));
  EXPECT_FALSE(b.contains("127.0.1.3"));
}

TEST_F(RelayPolicyTest, AFinishedGatewayServesTheWholeRack) {
  announce("127.0.1.1", 0, AnnounceEvent::kCompleted);
  EXPECT_TRUE(announce("127.0.1.3", 900).contains("127.0.1.1"));
}

TEST_F(RelayPolicyTest, AStalledStandbyRelaysNothingSoTheRackSeesTheGateway) {
  clock_.advance(core::Seconds(61));
  announce("127.0.1.1", 500);  // the gateway progresses, the standby has not for 61 s
  EXPECT_TRUE(announce("127.0.1.3", 900).contains("127.0.1.1"));
  EXPECT_TRUE(announce("127.0.1.1", 400).contains("127.0.1.3"));
}

TEST_F(RelayPolicyTest, WithoutAStandbyTheGatewaySeesItsRackAndANewStandbySeesIt) {
  announce("127.0.1.2", 900, AnnounceEvent::kStopped);
  EXPECT_TRUE(announce("127.0.1.1", 900).contains("127.0.1.3"));
  // The next of the rack to announce takes the free slot and is fed by the gateway.
  EXPECT_TRUE(announce("127.0.1.3", 900).contains("127.0.1.1"));
  EXPECT_TRUE(result_.outcome.representative);
}

// A topology answer that arrives after a peer was placed moves that peer
// alone (issue 13; the seam issue 12 asked for): no regroup of the rest, no
// ghost left holding a representative slot, counted once where it went.
TEST_F(RackPolicyTest, RelocatedRepresentativeFreesItsSlotAndLeavesNoGhost) {
  class Answers final : public RackMap {
   public:
    core::RackId rack_of(const core::Address& a) const noexcept override {
      if (a == moved_address && moved) return core::RackId::named(7);
      return core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
    }
    std::uint64_t generation() const noexcept override { return 1; }
    core::Address moved_address = *core::Address::parse("127.0.1.1");
    bool moved = false;
  } map;
  SwarmTable t{SwarmOptions{{2, 50}, core::Seconds(150), false}, map, clock_};
  t.activate(hash_, 1000);
  std::vector<core::PeerContact> out;
  out.reserve(50);
  auto go = [&](const std::string& ip, std::uint64_t left = 1000) {
    PeerAnnounce a;
    a.endpoint = ep(ip);
    a.peer_id = pid(ip, 6881);
    a.left = left;
    a.numwant = 50;
    out.clear();
    return t.announce(hash_, a, rng_, out);
  };
  // 127.0.1.1 and .2 represent 127.0.1.0/24; .3 is a member.
  for (auto ip : {"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.2.1"}) go(ip);
  ASSERT_TRUE(go("127.0.1.1").outcome.representative);
  ASSERT_FALSE(go("127.0.1.3").outcome.representative);

  // The inventory says 127.0.1.1 is in cabinet 7: the answer is stored first,
  // then the swarm is told.
  map.moved = true;
  const core::RackId slash24 = core::RackId::v4_prefix(0x7F000100u, 24);
  EXPECT_EQ(t.relocate(map.moved_address, slash24, core::RackId::named(7)), 1u);
  // Twice is harmless: nothing is left to move.
  EXPECT_EQ(t.relocate(map.moved_address, slash24, core::RackId::named(7)), 0u);

  auto snap = t.snapshot(hash_);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->torrent.size(), 5u);  // counted once
  std::size_t found = 0;
  for (const RackGroup& g : snap->torrent.racks()) {
    ASSERT_EQ(g.peer_ids.size(), g.peers.size());
    EXPECT_LE(g.representatives.size(), 2u);
    for (const auto& r : g.representatives) EXPECT_NE(g.find(r), nullptr) << "a ghost representative";
    for (const Peer& p : g.peers) {
      if (p.endpoint.address != map.moved_address) continue;
      ++found;
      EXPECT_EQ(g.rack, core::RackId::named(7));
      EXPECT_EQ(g.peer_id_of(p), pid("127.0.1.1", 6881));
    }
  }
  EXPECT_EQ(found, 1u);
  // Its freed slot goes to the next rack-mate to announce...
  EXPECT_TRUE(go("127.0.1.3").outcome.representative);
  // A member of the old rack no longer hears of the moved peer (not a
  // rack-mate any more); the moved peer says once that its rack changed, and
  // leads its new rack.
  go("127.0.1.4");
  EXPECT_EQ(names(out), (std::set<std::string>{"127.0.1.2", "127.0.1.3"}));
  auto moved = go("127.0.1.1");
  EXPECT_TRUE(moved.outcome.rack_changed);
  EXPECT_TRUE(moved.outcome.representative);
  EXPECT_EQ(moved.rack, core::RackId::named(7));
  EXPECT_FALSE(go("127.0.1.1").outcome.rack_changed);
  EXPECT_EQ(t.snapshot(hash_)->torrent.size(), 5u);
}

// Issue 14: libtorrent clients (qBittorrent) re-announce every 300 s at
// best, whatever the interval; peer_timeout is 150 s. The tracker learns the
// gap and keeps such a peer (and its representative slot), and does not call
// it stuck between two of its announces.
TEST_F(RackPolicyTest, AClientOnA300SecondScheduleIsNeitherDroppedNorReplaced) {
  // As measured with the real clients (bench/deploy/cadence.py): libtorrent,
  // qBittorrent and rtorrent announce started, then every 300 s.
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);  // qBittorrent: a representative
  announce("127.0.1.2", 1000, AnnounceEvent::kStarted);  // a 45 s client: the other one
  ASSERT_TRUE(announce("127.0.1.2", 1000).size() >= 1);
  // The 45 s client keeps announcing (every 45 s of `pass`); the slow one
  // every 300 s.
  auto pass = [&](int seconds) {
    for (; seconds >= 45; seconds -= 45) {
      clock_.advance(core::Seconds(45));
      announce("127.0.1.2", 900);
    }
    clock_.advance(core::Seconds(seconds));
  };
  // Before it has shown its gap (only its started announce so far), it is
  // taken to keep libtorrent's 300 s: past peer_timeout it is not dropped.
  pass(290);
  EXPECT_EQ(table_.sweep(SwarmTable::kShards), 0u);
  pass(10);
  announce("127.0.1.1", 800);  // its first regular gap: 300 s
  EXPECT_TRUE(outcome_.outcome.representative);
  // 290 s after its last announce (past peer_timeout), before its next one:
  pass(290);
  EXPECT_EQ(table_.sweep(SwarmTable::kShards), 0u);  // nobody dropped
  // A third host of the rack arrives: a member, since the slow one is alive.
  Names third = announce("127.0.1.3", 1000, AnnounceEvent::kStarted);
  EXPECT_FALSE(outcome_.outcome.representative);
  EXPECT_TRUE(third.contains("127.0.1.1"));  // and it is handed out
  // Its next announce comes at 300 s: it is still a representative.
  pass(10);
  announce("127.0.1.1", 700);
  EXPECT_TRUE(outcome_.outcome.representative);
  auto snap = table_.snapshot(hash_);
  ASSERT_TRUE(snap);
  for (const RackGroup& g : snap->torrent.racks()) EXPECT_LE(g.representatives.size(), 2u);

  // When it really leaves, it goes after its gap and half a peer_timeout
  // (300 + 75 s), not at peer_timeout_max.
  pass(370);
  std::vector<SwarmTable::ExpiredPeer> gone;
  table_.sweep(SwarmTable::kShards, &gone);
  EXPECT_TRUE(std::none_of(gone.begin(), gone.end(), [](const auto& e) {
    return e.endpoint.address.to_string() == "127.0.1.1";
  }));
  pass(10);
  gone.clear();
  table_.sweep(SwarmTable::kShards, &gone);
  EXPECT_TRUE(std::any_of(gone.begin(), gone.end(), [](const auto& e) {
    return e.endpoint.address.to_string() == "127.0.1.1";
  }));
}

TEST_F(RackPolicyTest, AClientWithinPeerTimeoutExpiresAsBefore) {
  table_.activate(hash_, 1000);
  announce("127.0.1.1", 1000, AnnounceEvent::kStarted);
  clock_.advance(core::Seconds(45));
  announce("127.0.1.1", 900);  // a 45 s cadence
  clock_.advance(core::Seconds(151));
  std::vector<SwarmTable::ExpiredPeer> gone;
  EXPECT_EQ(table_.sweep(SwarmTable::kShards, &gone), 1u);
}

// Issue 14: a rack left without a representative for long is reported
// once (the server logs it), and again only after it had one.
TEST_F(RackPolicyTest, ARackWithoutARepresentativeForLongIsReportedOnce) {
  // A representative and a member on a 300 s schedule (libtorrent), with
  // max_repr_rack 1.
  SwarmTable t{SwarmOptions{{1, 50}, core::Seconds(150), false}, racks_, clock_};
  t.activate(hash_, 1000);
  testing::join(t, hash_, "127.0.1.1", 1000);
  testing::join(t, hash_, "127.0.1.2", 1000);
  clock_.advance(core::Seconds(300));
  testing::join(t, hash_, "127.0.1.1", 900);
  testing::join(t, hash_, "127.0.1.2", 900);  // its gap: 300 s
  PeerAnnounce stop;
  stop.endpoint = testing::ep("127.0.1.1");
  stop.event = AnnounceEvent::kStopped;
  std::vector<core::PeerContact> none;
  t.announce(hash_, stop, rng_, none);  // the representative leaves
  std::vector<SwarmTable::UnrepresentedRack> u;
  t.sweep(SwarmTable::kShards, nullptr, &u);
  EXPECT_TRUE(u.empty());  // just happened
  clock_.advance(core::Seconds(151));
  t.sweep(SwarmTable::kShards, nullptr, &u);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].peers, 1u);
  EXPECT_EQ(u[0].rack, core::RackId::v4_prefix(0x7F000100u, 24));
  u.clear();
  clock_.advance(core::Seconds(10));
  t.sweep(SwarmTable::kShards, nullptr, &u);
  EXPECT_TRUE(u.empty());  // once
  // The member announces and takes the slot: the rack is represented again.
  testing::join(t, hash_, "127.0.1.2", 800);
  t.sweep(SwarmTable::kShards, nullptr, &u);
  EXPECT_TRUE(u.empty());
  auto snap = t.snapshot(hash_);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->torrent.racks().front().representatives.size(), 1u);
}

// Downloading peers that announce further apart than twice the gap asked of
// them (libtorrent's 300 s floor against the tree's 10 s) are reported by the
// sweep, which the server passes only under a one-source policy; again only
// once their count has doubled.
TEST(SlowAnnouncersTest, TheSweepReportsThemAsTheirCountDoubles) {
  core::ManualClock clock;
  testing::Slash24 racks;
  SwarmOptions options{{2, 50}, core::Seconds(150), false};
  options.policy.announce_interval = core::Seconds(10);
  SwarmTable t{options, racks, clock};
  const auto hash = *core::InfoHash::from_hex("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
  t.activate(hash, 1000);
  std::vector<SwarmTable::SlowAnnouncers> slow;
  // 127.0.1.1 announces every 10 s, as asked, and a seeder every 300 s:
  // neither counts.
  std::uint64_t left = 100000;
  auto pass = [&](int seconds) {
    for (int s = 0; s < seconds; s += 10) {
      clock.advance(core::Seconds(10));
      testing::join(t, hash, "127.0.1.1", left -= 10);
    }
  };
  testing::join(t, hash, "127.0.1.1", left);
  testing::join(t, hash, "127.0.1.9", 0);
  pass(300);
  testing::join(t, hash, "127.0.1.9", 0);
  t.sweep(SwarmTable::kShards, nullptr, nullptr, &slow);
  EXPECT_TRUE(slow.empty());
  // One downloader whose second announce comes 300 s after its first.
  testing::join(t, hash, "127.0.2.1", 1000);
  pass(20);
  t.sweep(SwarmTable::kShards, nullptr, nullptr, &slow);
  EXPECT_TRUE(slow.empty());  // no gap shown yet
  pass(280);
  testing::join(t, hash, "127.0.2.1", 990);
  t.sweep(SwarmTable::kShards, nullptr, nullptr, &slow);
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(slow[0].info_hash, hash);
  EXPECT_EQ(slow[0].slow.peers, 1u);
  EXPECT_GE(slow[0].slow.widest, core::Seconds(300));
  EXPECT_LT(slow[0].slow.widest, core::Seconds(308));
  slow.clear();
  t.sweep(SwarmTable::kShards, nullptr, nullptr, &slow);
  EXPECT_TRUE(slow.empty());  // reported once
  // A second: twice the count reported.
  testing::join(t, hash, "127.0.3.1", 1000);
  pass(300);
  testing::join(t, hash, "127.0.3.1", 990);
  t.sweep(SwarmTable::kShards, nullptr, nullptr, &slow);
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(slow[0].slow.peers, 2u);
  // Not asked for: nothing reported.
  slow.clear();
  t.sweep(SwarmTable::kShards);
  EXPECT_EQ(t.snapshot(hash)->torrent.slow_announcers(core::Seconds(10)).peers, 2u);
  // Asked every 300 s, the same hosts keep their schedule.
  EXPECT_EQ(t.snapshot(hash)->torrent.slow_announcers(core::Seconds(300)).peers, 0u);
  // Asked every 2 s (the real-client benchmarks), 127.0.1.1's 10 s is slow;
  // a host 5 s apart, which shows 8 s once rounded, is not.
  EXPECT_EQ(t.snapshot(hash)->torrent.slow_announcers(core::Seconds(2)).peers, 3u);
  testing::join(t, hash, "127.0.4.1", 1000);
  clock.advance(core::Seconds(5));
  testing::join(t, hash, "127.0.4.1", 990);
  EXPECT_EQ(t.snapshot(hash)->torrent.slow_announcers(core::Seconds(2)).peers, 3u);
}

// A host that announced started and then nothing: kept for the assumed gap
// and half a peer_timeout (it may be a libtorrent client that comes back only
// after 300 s); with assumed_announce_gap = 0, for peer_timeout.
TEST(AssumedGapTest, APeerSeenOnceLivesTheAssumedGapOrPeerTimeout) {
  for (int assumed : {300, 0}) {
    core::ManualClock clock;
    testing::Slash24 racks;
    SwarmOptions options{{2, 50}, core::Seconds(150), false};
    options.policy.assumed_gap = core::Seconds(assumed);
    SwarmTable table{options, racks, clock};
    const auto hash = *core::InfoHash::from_hex("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    table.activate(hash, 1000);
    testing::join(table, hash, "127.0.1.1", 1000);
    const int life = assumed == 0 ? 150 : 300 + 75;
    clock.advance(core::Seconds(life - 1));
    EXPECT_EQ(table.sweep(SwarmTable::kShards), 0u) << "assumed " << assumed;
    clock.advance(core::Seconds(2));
    EXPECT_EQ(table.sweep(SwarmTable::kShards), 1u) << "assumed " << assumed;
  }
}

// What the stats API calls stuck uses the same rule (admin/transfers.cc).
TEST(StallTimeTest, TwoGapsForASlowClientStallAfterForOthers) {
  Peer slow, regular;
  slow.cadence8 = 300 / 8 + 1;  // 304 s
  regular.cadence8 = 45 / 8 + 1;
  EXPECT_EQ(stall_time(slow, core::Seconds(135), core::Seconds(150), core::Seconds(300)),
            core::Seconds(608));
  EXPECT_EQ(stall_time(regular, core::Seconds(135), core::Seconds(150), core::Seconds(300)),
            core::Seconds(135));
  // A peer that has not shown its gap yet is judged by the assumed one.
  EXPECT_EQ(stall_time(Peer{}, core::Seconds(135), core::Seconds(150), core::Seconds(300)),
            core::Seconds(600));
  EXPECT_EQ(stall_time(Peer{}, core::Seconds(135), core::Seconds(150), core::Seconds(0)),
            core::Seconds(135));
}

}  // namespace
}  // namespace p2p::swarm

// A restart gives a transfer's swarm back what its deploy had reached
// (Torrent::progress, Torrent::restore): the milestones and counts, and the
// peers that were there, who count as joining or completing no second time.
#include <gtest/gtest.h>

#include "swarm/swarm_table.h"
#include "swarm/swarm_test_util.h"

namespace p2p::swarm {
namespace {

using core::AnnounceEvent;

class RestoreTest : public ::testing::Test {
 protected:
  RestoreTest() : hash_(*core::InfoHash::from_hex("0123456789abcdef0123456789abcdef01234567")) {}

  static SwarmOptions options() {
    SwarmOptions o;
    o.peer_timeout = core::Seconds(150);
    o.policy.peer_timeout = core::Seconds(150);
    o.policy.peer_timeout_max = core::Seconds(900);
    return o;
  }
  // A fresh table, as a restarted tracker has, with the transfer registered.
  std::unique_ptr<SwarmTable> restarted() {
    auto t = std::make_unique<SwarmTable>(options(), racks_, clock_);
    t->activate(hash_, 100);
    return t;
  }
  void announce(SwarmTable& t, const std::string& ip, std::uint64_t left,
                AnnounceEvent event = AnnounceEvent::kNone) {
    std::vector<core::PeerContact> out;
    out.reserve(50);
    testing::announce_from(t, hash_, ip, left, event, rng_, out);
  }
  const Torrent torrent(const SwarmTable& t) const { return t.snapshot(hash_)->torrent; }

  // Before the restart: 10.0.1.1 completed, 10.0.1.2 still downloading,
  // 10.0.2.1 an origin seeder.
  DeployProgress first_run() {
    auto t = restarted();
    announce(*t, "10.0.1.1", 100, AnnounceEvent::kStarted);
    announce(*t, "10.0.1.2", 100, AnnounceEvent::kStarted);
    announce(*t, "10.0.2.1", 0);
    clock_.advance(std::chrono::seconds(20));
    announce(*t, "10.0.1.1", 0, AnnounceEvent::kCompleted);
    clock_.advance(std::chrono::seconds(5));
    return *t->progress(hash_);
  }

  testing::Slash24 racks_;
  core::ManualClock clock_;
  core::Rng rng_;
  core::InfoHash hash_;
};

TEST_F(RestoreTest, TheProgressHoldsTheMilestonesCountsAndMembers) {
  const core::PreciseTime start = clock_.now_precise();
  const DeployProgress p = first_run();
  EXPECT_EQ(p.first_started, start);
  EXPECT_EQ(p.first_completed, start + std::chrono::seconds(20));
  EXPECT_EQ(p.completed, 1u);
  EXPECT_EQ(p.joined, 3u);
  EXPECT_EQ(p.origins_joined, 1u);
  ASSERT_EQ(p.completions.size(), 1u);
  ASSERT_EQ(p.members.size(), 3u);
  // Each the first to announce in its rack, so its representatives (rank).
  EXPECT_EQ(p.members[0], (DeployProgress::Member{testing::ep("10.0.1.1"), true, false, 1}));
  EXPECT_EQ(p.members[1], (DeployProgress::Member{testing::ep("10.0.1.2"), false, false, 2}));
  EXPECT_EQ(p.members[2], (DeployProgress::Member{testing::ep("10.0.2.1"), false, true, 1}));
}

TEST_F(RestoreTest, PeersBackAfterARestartCountAgainForNothing) {
  const DeployProgress p = first_run();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  // The tracker's view before anyone is back: the deploy as it was.
  EXPECT_EQ(torrent(*t).completed(), 1u);
  EXPECT_EQ(torrent(*t).first_started, p.first_started);
  announce(*t, "10.0.1.1", 0);
  announce(*t, "10.0.1.2", 60);
  announce(*t, "10.0.2.1", 0);
  const Torrent s = torrent(*t);
  EXPECT_EQ(s.completed(), 1u);
  EXPECT_EQ(s.joined(), 3u);
  EXPECT_EQ(s.origins_joined(), 1u);  // 10.0.1.1 is a host that completed, not a source
  EXPECT_EQ(s.completions().size(), 1u);
  EXPECT_EQ(s.first_completed, p.first_completed);
  // A repeated completed of a peer counted before the restart: still once.
  announce(*t, "10.0.1.1", 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(torrent(*t).completed(), 1u);
  EXPECT_EQ(*t->progress(hash_), [&] {
    DeployProgress q = p;
    q.last_completed = clock_.now_precise();
    return q;
  }());
}

TEST_F(RestoreTest, AHostThatCompletedWhileTheTrackerWasAwayCountsOnce) {
  const DeployProgress p = first_run();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  announce(*t, "10.0.1.2", 0);  // its completed event went to no one
  Torrent s = torrent(*t);
  EXPECT_EQ(s.completed(), 2u);
  EXPECT_EQ(s.completions().size(), 2u);
  EXPECT_EQ(s.last_completed, clock_.now_precise());
  EXPECT_EQ(s.origins_joined(), 1u);
  announce(*t, "10.0.1.2", 0, AnnounceEvent::kCompleted);
  EXPECT_EQ(torrent(*t).completed(), 2u);
}

TEST_F(RestoreTest, APeerBackThatLeavesAndComesAgainJoinsAgain) {
  const DeployProgress p = first_run();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  announce(*t, "10.0.1.2", 60);
  announce(*t, "10.0.1.2", 60, AnnounceEvent::kStopped);
  announce(*t, "10.0.1.2", 0, AnnounceEvent::kStarted);
  const Torrent s = torrent(*t);
  EXPECT_EQ(s.joined(), 4u);
  EXPECT_EQ(s.origins_joined(), 2u);  // arrived complete, after leaving: a source
  EXPECT_EQ(s.completed(), 1u);
}

TEST_F(RestoreTest, MembersAreExpectedBackOnlyAsLongAsAPeerLivesWithoutAnAnnounce) {
  const DeployProgress p = first_run();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  clock_.advance(std::chrono::seconds(901));
  announce(*t, "10.0.1.2", 0);
  const Torrent s = torrent(*t);
  EXPECT_EQ(s.joined(), 4u);
  EXPECT_EQ(s.origins_joined(), 2u);
  EXPECT_EQ(s.completed(), 1u);
}

// The server writes the progress only when its digest changed: every step
// that changes the progress must change the digest, and a step that does not
// must leave it (the same members in another order have the same digest).
TEST_F(RestoreTest, TheDigestChangesExactlyWhenTheProgressDoes) {
  auto t = restarted();
  DeployProgress last = *t->progress(hash_);
  std::uint64_t digest = *t->progress_digest(hash_);
  auto step = [&](const char* what, auto&& fn) {
    fn();
    const DeployProgress now = *t->progress(hash_);
    const std::uint64_t d = *t->progress_digest(hash_);
    EXPECT_EQ(now != last, d != digest) << what;
    last = now;
    digest = d;
  };
  step("a peer starts", [&] { announce(*t, "10.0.1.1", 100, AnnounceEvent::kStarted); });
  step("it announces again, no further", [&] { announce(*t, "10.0.1.1", 100); });
  step("a second starts", [&] { announce(*t, "10.0.1.2", 100, AnnounceEvent::kStarted); });
  step("an origin seeder", [&] { announce(*t, "10.0.2.1", 0); });
  step("a completion", [&] {
    clock_.advance(std::chrono::seconds(20));
    announce(*t, "10.0.1.1", 0, AnnounceEvent::kCompleted);
  });
  step("a third, not a representative", [&] { announce(*t, "10.0.1.3", 100); });
  step("a stop, and the third takes the place", [&] {
    announce(*t, "10.0.1.2", 100, AnnounceEvent::kStopped);
    announce(*t, "10.0.1.3", 100);
  });
  step("a representative shows its schedule", [&] {
    clock_.advance(std::chrono::seconds(30));
    announce(*t, "10.0.1.3", 100);
  });
  step("nothing", [] {});
  EXPECT_NE(digest, *restarted()->progress_digest(hash_));

  // The same peers joining in another order, each with the same place: the
  // same digest.
  auto a = restarted();
  auto b = restarted();
  for (const char* ip : {"10.0.1.1", "10.0.2.1", "10.0.3.1"}) announce(*a, ip, 100);
  for (const char* ip : {"10.0.3.1", "10.0.2.1", "10.0.1.1"}) announce(*b, ip, 100);
  ASSERT_EQ(*a->progress(hash_), *b->progress(hash_));
  EXPECT_EQ(*a->progress_digest(hash_), *b->progress_digest(hash_));
}

class RestoreRolesTest : public RestoreTest {
 protected:
  // Rack 10.0.1.0/24 before the restart: 10.0.1.1 and 10.0.1.2 represent it
  // (in that order), 10.0.1.3 is a member. Each announced twice, 10 s apart:
  // a 10 s schedule, so a representative lives peer_timeout without an
  // announce.
  DeployProgress before_restart() {
    auto t = restarted();
    for (const char* ip : {"10.0.1.1", "10.0.1.2", "10.0.1.3"}) {
      announce(*t, ip, 100, AnnounceEvent::kStarted);
    }
    clock_.advance(std::chrono::seconds(10));
    for (const char* ip : {"10.0.1.1", "10.0.1.2", "10.0.1.3"}) announce(*t, ip, 90);
    return *t->progress(hash_);
  }
  bool represents(SwarmTable& t, const std::string& ip, std::uint64_t left = 80,
                  AnnounceEvent event = AnnounceEvent::kNone) {
    std::vector<core::PeerContact> out;
    return testing::announce_from(t, hash_, ip, left, event, rng_, out).outcome.representative;
  }
  // The rack's representatives in promotion order, as the progress records them.
  std::vector<std::string> promotion_order(SwarmTable& t) {
    std::vector<std::pair<int, std::string>> ranked;
    const DeployProgress p = *t.progress(hash_);
    for (const auto& m : p.members) {
      if (m.rank != 0) ranked.emplace_back(m.rank, m.endpoint.address.to_string());
    }
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::string> out;
    for (auto& [rank, ip] : ranked) out.push_back(ip);
    return out;
  }
};

TEST_F(RestoreRolesTest, TheProgressRecordsEachRepresentativesPlaceAndSchedule) {
  const DeployProgress p = before_restart();
  ASSERT_EQ(p.members.size(), 3u);
  EXPECT_EQ(p.members[0], (DeployProgress::Member{testing::ep("10.0.1.1"), false, false, 1, 0, 2}));
  EXPECT_EQ(p.members[1], (DeployProgress::Member{testing::ep("10.0.1.2"), false, false, 2, 0, 2}));
  EXPECT_EQ(p.members[2], (DeployProgress::Member{testing::ep("10.0.1.3"), false, false}));
}

// Its clients keep the connections outside the rack they were given: a host
// elected in a representative's stead after a restart would be a third way
// into the rack.
TEST_F(RestoreRolesTest, RepresentativesKeepTheirPlacesAndOrderAcrossARestart) {
  const DeployProgress p = before_restart();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  EXPECT_EQ(torrent(*t).kept_places(), 2u);
  EXPECT_FALSE(represents(*t, "10.0.1.3"));
  EXPECT_FALSE(represents(*t, "10.0.1.4", 100, AnnounceEvent::kStarted));
  EXPECT_TRUE(represents(*t, "10.0.1.2"));  // back first, still second in line
  EXPECT_FALSE(represents(*t, "10.0.1.3"));
  EXPECT_TRUE(represents(*t, "10.0.1.1"));
  EXPECT_EQ(torrent(*t).kept_places(), 0u);
  EXPECT_EQ(promotion_order(*t), (std::vector<std::string>{"10.0.1.1", "10.0.1.2"}));
  // Another rack keeps nothing.
  EXPECT_TRUE(represents(*t, "10.0.2.1", 100, AnnounceEvent::kStarted));
}

TEST_F(RestoreRolesTest, APlaceIsKeptOnlyAsLongAsItsRepresentativeWouldHaveLived) {
  const DeployProgress p = before_restart();
  auto t = restarted();
  ASSERT_TRUE(t->restore(hash_, p));
  // 10.0.1.2 stops before it is back: its place is free at once.
  represents(*t, "10.0.1.2", 80, AnnounceEvent::kStopped);
  EXPECT_TRUE(represents(*t, "10.0.1.3"));
  EXPECT_FALSE(represents(*t, "10.0.1.4", 100, AnnounceEvent::kStarted));
  // 10.0.1.1 never comes back: on its 10 s schedule it would have expired
  // peer_timeout (150 s) after the restart, and its place with it.
  clock_.advance(std::chrono::seconds(140));
  t->sweep(SwarmTable::kShards);
  EXPECT_EQ(torrent(*t).kept_places(), 1u);
  EXPECT_FALSE(represents(*t, "10.0.1.4"));
  clock_.advance(std::chrono::seconds(11));
  t->sweep(SwarmTable::kShards);
  EXPECT_EQ(torrent(*t).kept_places(), 0u);
  EXPECT_TRUE(represents(*t, "10.0.1.4"));
}

TEST_F(RestoreTest, AnInactiveTransferTakesNoProgress) {
  SwarmTable t(options(), racks_, clock_);
  EXPECT_FALSE(t.restore(hash_, DeployProgress{}));
  EXPECT_FALSE(t.progress(hash_).has_value());
}

}  // namespace
}  // namespace p2p::swarm

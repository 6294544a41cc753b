// Torrent's join bounds: peers per address and per transfer; a peer is one
// peer wherever it is located.
#include "swarm/torrent.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "swarm/swarm_test_util.h"

namespace p2p::swarm {
namespace {

using testing::ep;
using testing::pid;

class JoinLimitsTest : public ::testing::Test {
 protected:
  AnnounceOutcome announce(const std::string& ip, std::uint16_t port,
                           AnnounceEvent event = AnnounceEvent::kNone) {
    return announce_in(ip, port, rack_of(ep(ip, port).address), event);
  }
  // An announce located in `rack`, whatever the address's rack is.
  AnnounceOutcome announce_in(const std::string& ip, std::uint16_t port, core::RackId rack,
                              AnnounceEvent event = AnnounceEvent::kNone) {
    PeerAnnounce a;
    a.endpoint = ep(ip, port);
    a.peer_id = pid(ip, port);
    a.rack = rack;
    a.left = 1000;
    a.event = event;
    a.numwant = 50;
    out_.clear();
    return torrent_.announce(a, now_, now_ - core::Seconds(150), policy_, rng_, out_);
  }
  core::RackId rack_of(const core::Address& a) const { return racks_.rack_of(a); }

  testing::Slash24 racks_;
  PolicyOptions policy_;
  Torrent torrent_;
  core::Rng rng_;
  std::vector<core::PeerContact> out_;
  core::TimePoint now_{core::Seconds(1'700'000'000)};

 public:
  JoinLimitsTest() { out_.reserve(100); }
};

TEST_F(JoinLimitsTest, OneAddressManyPortsIsCapped) {
  policy_.max_peers_per_address = 4;
  int refused = 0;
  for (std::uint16_t port = 1; port <= 1000; ++port) {
    refused += announce("10.0.0.5", port).refused == JoinRefusal::kAddress;
  }
  EXPECT_EQ(refused, 996);
  EXPECT_EQ(torrent_.size(), 4u);
  // Its neighbours (same rack, addresses either side in sort order) still join.
  EXPECT_EQ(announce("10.0.0.4", 65535).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.6", 0).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.6", 1).refused, JoinRefusal::kNone);
  EXPECT_EQ(torrent_.size(), 7u);
  // Peers already in keep announcing; one that stops frees its place.
  EXPECT_EQ(announce("10.0.0.5", 2).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.5", 3, AnnounceEvent::kStopped).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.5", 999).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.5", 998).refused, JoinRefusal::kAddress);
}

TEST_F(JoinLimitsTest, PortsAtTheEdgesCount) {
  policy_.max_peers_per_address = 2;
  EXPECT_EQ(announce("10.0.0.5", 0).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.5", 65535).refused, JoinRefusal::kNone);
  EXPECT_EQ(announce("10.0.0.5", 7).refused, JoinRefusal::kAddress);
}

TEST_F(JoinLimitsTest, TransferIsCapped) {
  policy_.max_peers_per_transfer = 10;
  for (int h = 1; h <= 10; ++h) {
    EXPECT_EQ(announce("10.0." + std::to_string(h) + ".1", 6881).refused, JoinRefusal::kNone);
  }
  const std::size_t racks = torrent_.racks().size();
  const AnnounceOutcome o = announce("10.0.99.1", 6881);
  EXPECT_EQ(o.refused, JoinRefusal::kTransfer);
  EXPECT_EQ(o.leechers, 10u);
  EXPECT_TRUE(out_.empty());
  // A refused join leaves no empty rack group behind.
  EXPECT_EQ(torrent_.racks().size(), racks);
  EXPECT_EQ(announce("10.0.1.1", 6881).refused, JoinRefusal::kNone);
}

// The locator forgot the address (its cache dropped it) and, asked again,
// answered the fallback or another rack while the peer sits in its group:
// the announce is the same peer's, in the group it is in, and so is its stop.
TEST_F(JoinLimitsTest, APeerLocatedElsewhereThanItsGroupIsStillOnePeer) {
  const core::RackId placed = rack_of(ep("10.0.1.1", 6881).address);
  const core::RackId fallback = core::RackId::named(7);
  ASSERT_TRUE(announce("10.0.1.1", 6881).joined);
  // Alone in the swarm, too.
  EXPECT_FALSE(announce_in("10.0.1.1", 6881, fallback).joined);
  EXPECT_EQ(torrent_.racks().size(), 1u);
  ASSERT_TRUE(announce("10.0.2.1", 6881).joined);
  const AnnounceOutcome again = announce_in("10.0.1.1", 6881, fallback);
  EXPECT_FALSE(again.joined);
  EXPECT_EQ(again.rack, placed);
  EXPECT_EQ(torrent_.size(), 2u);
  EXPECT_EQ(torrent_.racks().size(), 2u);  // no group for the fallback
  EXPECT_TRUE(torrent_.contains(ep("10.0.1.1", 6881), fallback));
  ASSERT_TRUE(announce("10.0.1.2", 6881).joined);
  EXPECT_EQ(
      std::count_if(out_.begin(), out_.end(),
                    [](const core::PeerContact& c) { return c.endpoint == ep("10.0.1.1", 6881); }),
      1);
  const AnnounceOutcome stop = announce_in("10.0.1.1", 6881, fallback, AnnounceEvent::kStopped);
  EXPECT_TRUE(stop.left_swarm);
  EXPECT_EQ(stop.rack, placed);
  EXPECT_EQ(torrent_.size(), 2u);
  EXPECT_FALSE(torrent_.contains(ep("10.0.1.1", 6881), placed));
  // A peer new to the swarm joins where it is located.
  const AnnounceOutcome fresh = announce_in("10.0.3.1", 6881, fallback);
  EXPECT_TRUE(fresh.joined);
  EXPECT_EQ(fresh.rack, fallback);
}

TEST_F(JoinLimitsTest, ZeroMeansNoBound) {
  for (std::uint16_t port = 1; port <= 300; ++port) {
    EXPECT_EQ(announce("10.0.0.5", port).refused, JoinRefusal::kNone);
  }
  EXPECT_EQ(torrent_.size(), 300u);
}

}  // namespace
}  // namespace p2p::swarm

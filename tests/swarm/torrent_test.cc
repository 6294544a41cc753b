// Torrent's join bounds: peers per address and per transfer.
#include "swarm/torrent.h"

#include <gtest/gtest.h>

#include "swarm/swarm_test_util.h"

namespace p2p::swarm {
namespace {

using testing::ep;
using testing::pid;

class JoinLimitsTest : public ::testing::Test {
 protected:
  AnnounceOutcome announce(const std::string& ip, std::uint16_t port,
                           AnnounceEvent event = AnnounceEvent::kNone) {
    PeerAnnounce a;
    a.endpoint = ep(ip, port);
    a.peer_id = pid(ip, port);
    a.rack = rack_of(a.endpoint.address);
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

TEST_F(JoinLimitsTest, ZeroMeansNoBound) {
  for (std::uint16_t port = 1; port <= 300; ++port) {
    EXPECT_EQ(announce("10.0.0.5", port).refused, JoinRefusal::kNone);
  }
  EXPECT_EQ(torrent_.size(), 300u);
}

}  // namespace
}  // namespace p2p::swarm

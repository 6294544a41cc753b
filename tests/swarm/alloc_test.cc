// A warm announce allocates nothing under any policy (STYLE.md): the swarm's
// part of the promise tests/net/alloc_test.cc keeps end to end for the
// default policy. A fleet of racks in rows in datacenters joins, then every
// host announces again, and again, with nothing joining or leaving.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/clock.h"
#include "support/count_allocations.h"
#include "support/three_levels.h"
#include "swarm/swarm_table.h"
#include "swarm_test_util.h"

namespace p2p::swarm {
namespace {

using test::ThreeLevels;

class SwarmAllocTest : public ::testing::TestWithParam<PolicyMode> {};

TEST_P(SwarmAllocTest, WarmAnnouncesDoNotAllocate) {
  SwarmOptions o{{2, 50}, core::Seconds(150), false};
  o.policy.mode = GetParam();
  o.policy.max_repr_up = {1, 1, 1};
  core::ManualClock clock;
  ThreeLevels racks;
  SwarmTable table{o, racks, clock};
  const auto hash = *core::InfoHash::from_hex("ABABABABABABABABABABABABABABABABABABABAB");
  table.activate(hash, 1000);
  // 2 datacenters x 2 rows x 5 racks x 6 hosts, and an origin seeder. Each
  // rack's sixth host, and the fifth rack of each row, join 20 s after the
  // rest, and the first rack's hosts have it all by then: under kTree a
  // host that comes late is told of its rack's hosts as well, and a rack's
  // entry hung off a host that has it all of the others in its group.
  std::vector<std::string> hosts{"127.9.0.1"};
  std::vector<int> joins_in{0};
  for (int dc = 1; dc <= 2; ++dc)
    for (int row = 0; row <= 1; ++row)
      for (int rack = 1; rack <= 5; ++rack)
        for (int h = 1; h <= 6; ++h) {
          hosts.push_back("127." + std::to_string(dc) + "." + std::to_string(16 * row + rack) +
                          "." + std::to_string(h));
          joins_in.push_back(rack == 5 || h == 6 ? 2 : 0);
        }
  // Made before counting: the helpers that spell addresses and peer ids
  // allocate.
  std::vector<PeerAnnounce> announces;
  for (const auto& ip : hosts) {
    PeerAnnounce a;
    a.endpoint = testing::ep(ip);
    a.peer_id = testing::pid(ip);
    a.numwant = 50;
    announces.push_back(a);
  }
  core::Rng rng{5};
  std::vector<core::PeerContact> out;
  out.reserve(50);
  std::uint64_t left = 1000;
  int told_nothing = 0;
  std::size_t most_told = 0;
  int rounds = 0;
  auto round = [&] {
    clock.advance(core::Seconds(10));
    --left;  // everyone receives a little: progress, nobody stuck
    for (std::size_t i = 0; i < announces.size(); ++i) {
      if (joins_in[i] > rounds) continue;
      PeerAnnounce& a = announces[i];
      const bool has_it_all = i == 0 || (rounds >= 1 && hosts[i].starts_with("127.1.1."));
      a.left = has_it_all ? 0 : left;
      out.clear();
      table.announce(hash, a, rng, out);
      told_nothing += out.empty() && !has_it_all;
      most_told = std::max(most_told, out.size());
    }
    ++rounds;
  };
  for (int i = 0; i < 3; ++i) round();  // joins, places, warms
  told_nothing = 0;
  p2p::testing::AllocationCounter counter;
  for (int i = 0; i < 5; ++i) round();
  const long allocations = counter.count();
  EXPECT_EQ(allocations, 0) << policy_mode_name(GetParam());
  EXPECT_EQ(told_nothing, 0);  // the replies were not empty
  // kTree: more than a parent and two children (the paths above were taken).
  if (GetParam() == PolicyMode::kTree) {
    EXPECT_GT(most_told, 3u);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, SwarmAllocTest,
                         ::testing::Values(PolicyMode::kOriginal, PolicyMode::kStandby,
                                           PolicyMode::kProgress, PolicyMode::kRelay,
                                           PolicyMode::kChain, PolicyMode::kTree),
                         [](const auto& info) { return policy_mode_name(info.param); });

}  // namespace
}  // namespace p2p::swarm

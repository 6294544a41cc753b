// A warm announce allocates nothing under any policy (STYLE.md): the swarm's
// part of the promise tests/net/alloc_test.cc keeps end to end for the
// default policy. A fleet of racks in rows in datacenters joins, then every
// host announces again, and again, with nothing joining or leaving.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "support/count_allocations.h"
#include "swarm/swarm_table.h"
#include "swarm_test_util.h"

namespace p2p::swarm {
namespace {

// /24 racks under /20 rows under /16 datacenters.
class ThreeLevels final : public RackMap {
 public:
  core::RackId rack_of(const core::Address& a) const noexcept override {
    return core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
  }
  std::size_t ancestors(core::RackId rack, std::span<core::RackId> out) const override {
    if (out.size() < 2) return 0;
    const auto net = static_cast<std::uint32_t>(rack.lo);
    out[0] = core::RackId::v4_prefix(net & 0xFFFF0000u, 16);
    out[1] = core::RackId::v4_prefix(net & 0xFFFFF000u, 20);
    return 2;
  }
  std::uint64_t generation() const noexcept override { return 1; }
};

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
  // 2 datacenters x 2 rows x 4 racks x 5 hosts, and an origin seeder.
  std::vector<std::string> hosts{"127.9.0.1"};
  for (int dc = 1; dc <= 2; ++dc)
    for (int row = 0; row <= 1; ++row)
      for (int rack = 1; rack <= 4; ++rack)
        for (int h = 1; h <= 5; ++h)
          hosts.push_back("127." + std::to_string(dc) + "." + std::to_string(16 * row + rack) +
                          "." + std::to_string(h));
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
  auto round = [&] {
    clock.advance(core::Seconds(10));
    --left;  // everyone receives a little: progress, nobody stuck
    for (PeerAnnounce& a : announces) {
      a.left = &a == &announces.front() ? 0 : left;
      out.clear();
      table.announce(hash, a, rng, out);
      told_nothing += out.empty();
    }
  };
  for (int i = 0; i < 3; ++i) round();  // joins, places, warms
  told_nothing = 0;
  p2p::testing::AllocationCounter counter;
  for (int i = 0; i < 5; ++i) round();
  const long allocations = counter.count();
  EXPECT_EQ(allocations, 0) << policy_mode_name(GetParam());
  EXPECT_EQ(told_nothing, 0);  // the replies were not empty
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, SwarmAllocTest,
                         ::testing::Values(PolicyMode::kOriginal, PolicyMode::kStandby,
                                           PolicyMode::kProgress, PolicyMode::kRelay,
                                           PolicyMode::kChain, PolicyMode::kTree),
                         [](const auto& info) { return policy_mode_name(info.param); });

}  // namespace
}  // namespace p2p::swarm

// The groups above a rack: path prefixes of named racks, wider subnets of
// subnet racks (topology/levels.h).
#include "topology/levels.h"

#include <gtest/gtest.h>

#include <array>

#include "core/address.h"

namespace p2p::topology {
namespace {

std::string names_of(std::span<const core::RackId> ids, const RackNames& names) {
  std::string out;
  for (core::RackId id : ids) out += (out.empty() ? "" : " ") + format_rack(id, names);
  return out;
}

TEST(LevelsTest, ANamedRackIsUnderTheGroupsItsPathNames) {
  RackNames names;
  const core::RackId rack = names.intern("ams1/row3/rack12");
  std::array<core::RackId, 3> up{};
  const std::size_t n = rack_ancestors(rack, {}, names, up);
  EXPECT_EQ(names_of({up.data(), n}, names), "ams1 ams1/row3");
  // The prefixes are racks' groups shared by their siblings: the same ids.
  const core::RackId sibling = names.intern("ams1/row3/rack13");
  std::array<core::RackId, 3> up2{};
  ASSERT_EQ(rack_ancestors(sibling, {}, names, up2), 2u);
  EXPECT_EQ(up2[0], up[0]);
  EXPECT_EQ(up2[1], up[1]);
  // A flat name has no group above it; a deep one keeps the nearest.
  EXPECT_EQ(rack_ancestors(names.intern("r1"), {}, names, up), 0u);
  const core::RackId deep = names.intern("eu/ams1/hall2/row3/rack12");
  std::array<core::RackId, 2> two{};
  ASSERT_EQ(rack_ancestors(deep, {}, names, two), 2u);
  EXPECT_EQ(names_of(two, names), "eu/ams1/hall2 eu/ams1/hall2/row3");
}

TEST(LevelsTest, ASubnetRackIsUnderItsWiderPrefixes) {
  RackNames names;
  const SubnetLevels levels{{16, 20}, {32, 48}};
  std::array<core::RackId, 3> up{};
  const auto v4 = core::RackId::v4_prefix(0x0A011200u, 24);  // 10.1.18.0/24
  ASSERT_EQ(rack_ancestors(v4, levels, names, up), 2u);
  EXPECT_EQ(names_of({up.data(), 2}, names), "10.1.0.0/16 10.1.16.0/20");
  const auto v6 = core::RackId::v6_prefix(0x20010db800010002ull, 64);
  ASSERT_EQ(rack_ancestors(v6, levels, names, up), 2u);
  EXPECT_EQ(names_of({up.data(), 2}, names), "2001:db8::/32 2001:db8:1::/48");
  // A level not wider than the rack (a /16 rack under [16, 20]) is skipped.
  const auto wide = core::RackId::v4_prefix(0x0A010000u, 16);
  EXPECT_EQ(rack_ancestors(wide, levels, names, up), 0u);
  // No levels: none above.
  EXPECT_EQ(rack_ancestors(v4, {}, names, up), 0u);
}

}  // namespace
}  // namespace p2p::topology

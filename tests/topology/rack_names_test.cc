#include "topology/rack_names.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace p2p::topology {
namespace {

TEST(RackNamesTest, InternIsStable) {
  RackNames names;
  core::RackId a = names.intern("dc1/row3/rack12");
  core::RackId b = names.intern("dc1/row3/rack13");
  EXPECT_EQ(a.tag, core::RackId::Tag::kNamed);
  EXPECT_NE(a, b);
  EXPECT_EQ(names.intern("dc1/row3/rack12"), a);
  // The two racks and the groups above them ("dc1", "dc1/row3"), once each.
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(names.name(a.lo), "dc1/row3/rack12");
  EXPECT_EQ(names.name(b.lo), "dc1/row3/rack13");
  EXPECT_TRUE(names.find("dc1/row3"));
  EXPECT_FALSE(names.name(4));
  EXPECT_FALSE(names.name(~std::uint64_t{0}));
}

TEST(RackNamesTest, NamesSurviveGrowth) {
  RackNames names;
  core::RackId first = names.intern("first");
  std::string_view view = *names.name(first.lo);
  for (int i = 0; i < 10000; ++i) names.intern("rack-" + std::to_string(i));
  EXPECT_EQ(view, "first");  // deque elements never move
  EXPECT_EQ(names.intern("rack-5000"), core::RackId::named(5001));
}

TEST(RackNamesTest, GlobalIsOneTable) {
  core::RackId a = RackNames::global().intern("rack-names-test-global");
  EXPECT_EQ(RackNames::global().intern("rack-names-test-global"), a);
  EXPECT_EQ(format_rack(a, RackNames::global()), "rack-names-test-global");
}

TEST(RackNamesTest, FormatsEveryTag) {
  RackNames names;
  EXPECT_EQ(format_rack(core::RackId::v4_prefix(0x0A010200, 24), names), "10.1.2.0/24");
  EXPECT_EQ(format_rack(core::RackId::v4_prefix(0, 1), names), "0.0.0.0/1");
  EXPECT_EQ(format_rack(core::RackId::v6_prefix(0x20010db800010002ull, 64), names),
            "2001:db8:1:2::/64");
  EXPECT_EQ(format_rack(core::RackId::v6_prefix(0, 64), names), "::/64");
  EXPECT_EQ(format_rack(names.intern("r1"), names), "r1");
  EXPECT_EQ(format_rack(core::RackId::named(99), names), "(unknown rack #99)");
  EXPECT_EQ(format_rack(core::RackId{}, names), "(no rack)");
}

TEST(RackNamesTest, ConcurrentInternAndLookup) {
  RackNames names;
  core::RackId base = names.intern("base");
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&names, t] {
      for (int i = 0; i < 2000; ++i) names.intern("r" + std::to_string(i % 500 + t * 100));
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20000; ++i) ASSERT_EQ(names.name(base.lo), "base");
  });
  for (auto& t : threads) t.join();
  // Names r0..r699 (overlapping ranges), plus "base".
  EXPECT_EQ(names.size(), 701u);
  for (std::uint64_t i = 0; i < names.size(); ++i) {
    auto name = names.name(i);
    ASSERT_TRUE(name);
    EXPECT_EQ(names.intern(*name), core::RackId::named(static_cast<std::uint32_t>(i)));
  }
}

}  // namespace
}  // namespace p2p::topology

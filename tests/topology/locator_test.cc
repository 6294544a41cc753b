#include "topology/locator.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "topology/static_map_locator.h"
#include "topology/subnet_locator.h"

namespace p2p::topology {
namespace {

core::Address addr(std::string_view text) {
  auto a = core::Address::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(core::Address());
}

std::unique_ptr<Locator> subnet(int v4, int v6) {
  Options options;
  options.subnet_prefix_v4 = v4;
  options.subnet_prefix_v6 = v6;
  auto locator = make_locator(options);
  EXPECT_TRUE(locator) << locator.error().message;
  return std::move(*locator);
}

std::string name_of(const Locator& locator, std::string_view address) {
  return locator.rack_name(locator.locate(addr(address)));
}

TEST(SubnetLocatorTest, V4Slash24) {
  auto locator = subnet(24, 64);
  EXPECT_EQ(locator->locate(addr("127.0.1.5")), core::RackId::v4_prefix(0x7F000100, 24));
  EXPECT_EQ(locator->locate(addr("127.0.1.5")), locator->locate(addr("127.0.1.250")));
  EXPECT_NE(locator->locate(addr("127.0.1.5")), locator->locate(addr("127.0.2.5")));
  EXPECT_EQ(name_of(*locator, "127.0.1.5"), "127.0.1.0/24");
  // IPv4-mapped IPv6 is IPv4.
  EXPECT_EQ(locator->locate(addr("::ffff:127.0.1.9")), locator->locate(addr("127.0.1.5")));
}

TEST(SubnetLocatorTest, V4SeveralPrefixes) {
  struct Case {
    int prefix;
    const char* address;
    const char* rack;
  };
  const Case cases[] = {
      {1, "200.1.2.3", "128.0.0.0/1"},      {8, "10.200.3.4", "10.0.0.0/8"},
      {16, "172.16.99.1", "172.16.0.0/16"}, {20, "192.168.31.7", "192.168.16.0/20"},
      {28, "10.0.0.77", "10.0.0.64/28"},    {32, "10.0.0.77", "10.0.0.77/32"},
  };
  for (const Case& c : cases) {
    auto locator = subnet(c.prefix, 64);
    EXPECT_EQ(name_of(*locator, c.address), c.rack) << "/" << c.prefix;
    core::RackId rack = locator->locate(addr(c.address));
    EXPECT_EQ(rack.tag, core::RackId::Tag::kV4);
    EXPECT_EQ(rack.prefix, c.prefix);
  }
  // A /32 rack is one host.
  auto host = subnet(32, 64);
  EXPECT_NE(host->locate(addr("10.0.0.1")), host->locate(addr("10.0.0.2")));
}

TEST(SubnetLocatorTest, V6SeveralPrefixes) {
  auto locator = subnet(24, 64);
  EXPECT_EQ(name_of(*locator, "2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(locator->locate(addr("2001:db8:1:2:aaaa::1")),
            core::RackId::v6_prefix(0x20010db800010002ull, 64));
  EXPECT_EQ(locator->locate(addr("2001:db8:1:2::1")), locator->locate(addr("2001:db8:1:2:ffff::")));
  EXPECT_NE(locator->locate(addr("2001:db8:1:2::1")), locator->locate(addr("2001:db8:1:3::1")));

  struct Case {
    int prefix;
    const char* address;
    const char* rack;
  };
  const Case cases[] = {
      {1, "fe80::1", "8000::/1"},
      {32, "2001:db8:77:1::5", "2001:db8::/32"},
      {48, "2001:db8:77:1::5", "2001:db8:77::/48"},
      {56, "2001:db8:77:1ff::5", "2001:db8:77:100::/56"},
      {64, "::1", "::/64"},
  };
  for (const Case& c : cases) {
    auto l = subnet(24, c.prefix);
    EXPECT_EQ(name_of(*l, c.address), c.rack) << "/" << c.prefix;
    EXPECT_EQ(l->locate(addr(c.address)).tag, core::RackId::Tag::kV6);
  }
  // Families never share a rack.
  EXPECT_NE(locator->locate(addr("0.0.0.1")), locator->locate(addr("::1")));
}

TEST(SubnetLocatorTest, ReloadIsANoOp) {
  auto locator = subnet(24, 64);
  EXPECT_EQ(locator->generation(), 0u);
  EXPECT_TRUE(locator->reload());
  EXPECT_EQ(locator->generation(), 0u);
  EXPECT_EQ(name_of(*locator, "10.1.2.3"), "10.1.2.0/24");
}

TEST(MakeLocatorTest, DefaultIsSubnet) {
  auto locator = make_locator(Options{});
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(**locator, "10.1.2.3"), "10.1.2.0/24");
  EXPECT_EQ(name_of(**locator, "2001:db8::1"), "2001:db8::/64");
}

TEST(MakeLocatorTest, RejectsBadPrefixes) {
  for (int bad : {0, -1, 33}) {
    Options options;
    options.subnet_prefix_v4 = bad;
    auto locator = make_locator(options);
    ASSERT_FALSE(locator) << bad;
    EXPECT_NE(locator.error().message.find("subnet_prefix_v4"), std::string::npos);
    EXPECT_NE(locator.error().message.find("1-32"), std::string::npos);
  }
  for (int bad : {0, 65, 128}) {
    Options options;
    options.subnet_prefix_v6 = bad;
    auto locator = make_locator(options);
    ASSERT_FALSE(locator) << bad;
    EXPECT_NE(locator.error().message.find("subnet_prefix_v6"), std::string::npos);
    EXPECT_NE(locator.error().message.find("1-64"), std::string::npos);
  }
  // Checked for the static kind too, before touching the file.
  Options options;
  options.kind = "static";
  options.map_file = "/nonexistent";
  options.subnet_prefix_v6 = 65;
  auto locator = make_locator(options);
  ASSERT_FALSE(locator);
  EXPECT_NE(locator.error().message.find("subnet_prefix_v6"), std::string::npos);
}

TEST(MakeLocatorTest, UnknownKindListsValidOnes) {
  Options options;
  options.kind = "dns";
  auto locator = make_locator(options);
  ASSERT_FALSE(locator);
  EXPECT_EQ(locator.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(locator.error().message.find("'dns'"), std::string::npos);
  EXPECT_NE(locator.error().message.find("subnet"), std::string::npos);
  EXPECT_NE(locator.error().message.find("static"), std::string::npos);
}

TEST(MakeLocatorTest, StaticNeedsMapFile) {
  Options options;
  options.kind = "static";
  auto locator = make_locator(options);
  ASSERT_FALSE(locator);
  EXPECT_NE(locator.error().message.find("map_file"), std::string::npos);
}

TEST(MakeLocatorTest, StaticMissingFileNamesPath) {
  test::TempDir dir;
  Options options;
  options.kind = "static";
  options.map_file = (dir.path() / "absent.map").string();
  auto locator = make_locator(options);
  ASSERT_FALSE(locator);
  EXPECT_EQ(locator.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(locator.error().message.find(options.map_file), std::string::npos);
}

TEST(MakeLocatorTest, StaticLoadsAndFallsBackWithConfiguredPrefixes) {
  test::TempDir dir;
  Options options;
  options.kind = "static";
  options.map_file = dir.write("racks.map", "10.0.0.0/8 dc1-rack1\n");
  options.subnet_prefix_v4 = 16;
  options.subnet_prefix_v6 = 48;
  auto locator = make_locator(options);
  ASSERT_TRUE(locator) << locator.error().message;
  EXPECT_EQ(name_of(**locator, "10.9.9.9"), "dc1-rack1");
  EXPECT_EQ(name_of(**locator, "192.168.7.1"), "192.168.0.0/16");
  EXPECT_EQ(name_of(**locator, "2001:db8:5:6::1"), "2001:db8:5::/48");
}

}  // namespace
}  // namespace p2p::topology

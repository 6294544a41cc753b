#include "topology/static_map_locator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace p2p::topology {
namespace {

core::Address addr(std::string_view text) {
  auto a = core::Address::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(core::Address());
}

class StaticMapLocatorTest : public ::testing::Test {
 protected:
  // Opens `text` as a map with subnet fallback /24 and /64; fails the test on error.
  std::unique_ptr<StaticMapLocator> open(std::string_view text) {
    path_ = dir_.write("racks.map", text);
    auto locator = StaticMapLocator::open(path_, 24, 64, names_);
    EXPECT_TRUE(locator) << locator.error().message;
    if (!locator) return nullptr;
    return std::move(*locator);
  }

  // The error opening `text`; fails the test if it loads.
  core::Error open_error(std::string_view text) {
    path_ = dir_.write("racks.map", text);
    auto locator = StaticMapLocator::open(path_, 24, 64, names_);
    EXPECT_FALSE(locator) << text;
    if (locator) return {};
    return locator.error();
  }

  std::string name_of(const Locator& locator, std::string_view address) {
    return locator.rack_name(locator.locate(addr(address)));
  }

  test::TempDir dir_;
  RackNames names_;  // private table: tests see exactly the names they intern
  std::string path_;
};

TEST_F(StaticMapLocatorTest, LongestPrefixWins) {
  // Deliberately not sorted: file order must not matter.
  auto locator = open(
      "10.1.2.3          dc1-row1-rack2-odd-host\n"
      "10.0.0.0/8        dc1\n"
      "10.1.2.0/24       dc1-row1-rack2\n"
      "10.1.0.0/16       dc1-row1\n");
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(*locator, "10.200.0.1"), "dc1");
  EXPECT_EQ(name_of(*locator, "10.1.9.9"), "dc1-row1");
  EXPECT_EQ(name_of(*locator, "10.1.2.4"), "dc1-row1-rack2");
  EXPECT_EQ(name_of(*locator, "10.1.2.255"), "dc1-row1-rack2");
  EXPECT_EQ(name_of(*locator, "10.1.2.3"), "dc1-row1-rack2-odd-host");
  EXPECT_EQ(locator->locate(addr("::ffff:10.1.2.3")), locator->locate(addr("10.1.2.3")));
  EXPECT_EQ(locator->entry_count(), 4u);
  EXPECT_EQ(locator->generation(), 0u);
}

TEST_F(StaticMapLocatorTest, SingleHostEntries) {
  auto locator = open(
      "192.168.0.10 host-a\n"
      "192.168.0.11/32 host-b\n"
      "2001:db8::10 host-c\n");
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(*locator, "192.168.0.10"), "host-a");
  EXPECT_EQ(name_of(*locator, "192.168.0.11"), "host-b");
  EXPECT_EQ(name_of(*locator, "2001:db8::10"), "host-c");
  // The neighbours fall back to the subnet rule.
  EXPECT_EQ(name_of(*locator, "192.168.0.12"), "192.168.0.0/24");
  EXPECT_EQ(name_of(*locator, "2001:db8::11"), "2001:db8::/64");
}

TEST_F(StaticMapLocatorTest, V6Entries) {
  auto locator = open(
      "2001:db8::/32          v6-dc\n"
      "2001:db8:1::/48        v6-row\n"
      "2001:db8:1:2::/64      v6-rack\n"
      "2001:db8:1:2:8000::/65 v6-half-rack\n"
      "2001:db8:1:2::5        v6-host\n"
      "10.0.0.0/8             v4-dc\n");
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(*locator, "2001:db8:ffff::1"), "v6-dc");
  EXPECT_EQ(name_of(*locator, "2001:db8:1:ffff::1"), "v6-row");
  EXPECT_EQ(name_of(*locator, "2001:db8:1:2::6"), "v6-rack");
  EXPECT_EQ(name_of(*locator, "2001:db8:1:2:8000::6"), "v6-half-rack");
  EXPECT_EQ(name_of(*locator, "2001:db8:1:2::5"), "v6-host");
  EXPECT_EQ(name_of(*locator, "2001:db9::1"), "2001:db9::/64");
  // Families are separate tables: ::a00:1 is not 10.0.0.1.
  EXPECT_EQ(name_of(*locator, "::a00:1"), "::/64");
  EXPECT_EQ(name_of(*locator, "10.0.0.1"), "v4-dc");
}

TEST_F(StaticMapLocatorTest, DefaultRoutesCoverTheirFamily) {
  auto locator = open("0.0.0.0/0 any-v4\n::/0 any-v6\n10.0.0.0/8 ten\n");
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(*locator, "1.2.3.4"), "any-v4");
  EXPECT_EQ(name_of(*locator, "10.2.3.4"), "ten");
  EXPECT_EQ(name_of(*locator, "fe80::1"), "any-v6");
}

TEST_F(StaticMapLocatorTest, FallbackUsesSubnetRule) {
  path_ = dir_.write("racks.map", "10.0.0.0/8 dc1\n");
  auto locator = StaticMapLocator::open(path_, 20, 56, names_);
  ASSERT_TRUE(locator);
  EXPECT_EQ(name_of(**locator, "172.16.31.9"), "172.16.16.0/20");
  EXPECT_EQ(name_of(**locator, "2001:db8:0:1ff::1"), "2001:db8:0:100::/56");
  EXPECT_EQ((*locator)->locate(addr("172.16.31.9")).tag, core::RackId::Tag::kV4);
}

TEST_F(StaticMapLocatorTest, CommentsBlankLinesAndWhitespace) {
  auto locator = open(
      "# Rack map for dc1\n"
      "\n"
      "   \t  \n"
      "  # indented comment\n"
      "10.0.0.0/8\tdc1   # trailing comment\n"
      "10.1.0.0/16 dc1/row1#no space before the comment\n"
      "10.2.0.0/16 dc1:row2\r\n"       // CRLF line ending
      "10.3.0.0/16\t\t dc1.row_3-b");  // no final newline
  ASSERT_TRUE(locator);
  EXPECT_EQ(locator->entry_count(), 4u);
  EXPECT_EQ(name_of(*locator, "10.9.0.1"), "dc1");
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "dc1/row1");
  EXPECT_EQ(name_of(*locator, "10.2.0.1"), "dc1:row2");
  EXPECT_EQ(name_of(*locator, "10.3.0.1"), "dc1.row_3-b");
}

TEST_F(StaticMapLocatorTest, EmptyFileFallsBackEverywhere) {
  for (std::string_view text : {"", "\n\n", "# nothing mapped yet\n"}) {
    auto locator = open(text);
    ASSERT_TRUE(locator);
    EXPECT_EQ(locator->entry_count(), 0u);
    EXPECT_EQ(name_of(*locator, "10.1.2.3"), "10.1.2.0/24");
    EXPECT_EQ(name_of(*locator, "2001:db8::1"), "2001:db8::/64");
  }
}

TEST_F(StaticMapLocatorTest, SameNameSameRack) {
  auto locator = open("10.0.0.0/24 shared\n10.0.5.0/24 shared\n2001:db8::/64 shared\n");
  ASSERT_TRUE(locator);
  core::RackId rack = locator->locate(addr("10.0.0.1"));
  EXPECT_EQ(rack.tag, core::RackId::Tag::kNamed);
  EXPECT_EQ(locator->locate(addr("10.0.5.1")), rack);
  EXPECT_EQ(locator->locate(addr("2001:db8::1")), rack);
  EXPECT_EQ(rack, names_.intern("shared"));
}

TEST_F(StaticMapLocatorTest, MissingFileNamesPath) {
  auto path = (dir_.path() / "no-such.map").string();
  auto locator = StaticMapLocator::open(path, 24, 64, names_);
  ASSERT_FALSE(locator);
  EXPECT_EQ(locator.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(locator.error().message.find(path), std::string::npos) << locator.error().message;
}

TEST_F(StaticMapLocatorTest, DirectoryIsAnError) {
  auto locator = StaticMapLocator::open(dir_.path().string(), 24, 64, names_);
  ASSERT_FALSE(locator);
  EXPECT_NE(locator.error().message.find(dir_.path().string()), std::string::npos);
}

// A FIFO held the start (or a SIGHUP reload) in open() until something wrote
// to it.
TEST_F(StaticMapLocatorTest, AFifoIsAnErrorNotAHang) {
  const auto path = (dir_.path() / "racks.fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto locator = StaticMapLocator::open(path, 24, 64, names_);
  ASSERT_FALSE(locator);
  EXPECT_NE(locator.error().message.find(path + "': not a regular file"), std::string::npos)
      << locator.error().message;
}

TEST_F(StaticMapLocatorTest, EveryErrorNamesFileAndLine) {
  struct Case {
    std::string text;
    int line;
    std::string what;
  };
  const std::string long_name(kMaxRackNameLength + 1, 'r');
  const std::vector<Case> cases = {
      {"10.0.0.300/8 r1\n", 1, "is not an IP address"},
      {"# ok\nexample.org r1\n", 2, "is not an IP address"},
      {"10.0.0.0/8 r1\n10.0.0.0/33 r2\n", 2, "bad prefix length"},
      {"10.0.0.0/ r1\n", 1, "bad prefix length"},
      {"10.0.0.0/x r1\n", 1, "is not an IP address"},
      {"2001:db8::/129 r1\n", 1, "bad prefix length"},
      {"2001:db8::/-1 r1\n", 1, "is not an IP address"},
      {std::string("10.0.0.1\0junk r1\n", 17), 1, "is not an IP address"},
      {"\n\n10.1.2.3/8 r1\n", 3, "host bits set (the network is 10.0.0.0/8)"},
      {"2001:db8::1/64 r1\n", 1, "host bits set (the network is 2001:db8::/64)"},
      {"10.0.0.0/8 r1\n10.1.0.0/16\n", 2, "has no rack name"},
      {"10.1.0.0/16   # rack name only in a comment\n", 1, "has no rack name"},
      {"10.0.0.0/8 r1 r2\n", 1, "unexpected 'r2' after rack name 'r1'"},
      {"10.0.0.0/8 r1 // old\n", 1, "unexpected '//'"},
      {"10.0.0.0/8 rack,1\n", 1, "contains ','"},
      {"10.0.0.0/8 r\xc3\xa9\n", 1, "contains '\\xc3'"},
      {"10.0.0.0/8 " + long_name + "\n", 1, "at most 128"},
      // A path's levels are its groups: none empty, at most a rack and 3 above it.
      {"10.0.0.0/8 dc1//rack1\n", 1, "rack name 'dc1//rack1' has an empty level"},
      {"10.0.0.0/8 /dc1/rack1\n", 1, "has an empty level"},
      {"10.0.0.0/8 dc1/rack1/\n", 1, "has an empty level"},
      {"10.0.0.0/8 a/b/c/d/e\n", 1,
       "rack name 'a/b/c/d/e' has 5 levels (at most 4: a rack and 3 above it)"},
      // Every path names the same levels: a shorter one would put its
      // datacenter at the rows' level, where neither side sees the other.
      {"10.0.0.0/8 dc1/row1/r1\n10.1.0.0/16 build\n10.2.0.0/16 dc1/r2\n", 3,
       "rack name 'dc1/r2' has 2 levels, but the path at "},
  };
  for (const Case& c : cases) {
    core::Error error = open_error(c.text);
    SCOPED_TRACE(c.text);
    EXPECT_EQ(error.code, core::ErrorCode::kInvalidArgument);
    std::string where = path_ + ":" + std::to_string(c.line) + ": ";
    EXPECT_EQ(error.message.rfind(where, 0), 0u) << error.message;
    EXPECT_NE(error.message.find(c.what), std::string::npos) << error.message;
  }
  // A name of exactly the limit is fine, and a path of 4 levels.
  EXPECT_TRUE(open("10.0.0.0/8 " + std::string(kMaxRackNameLength, 'r') + "\n"));
  EXPECT_TRUE(open("10.0.0.0/8 world/ams1/row3/rack12\n"));
  // A single name beside paths is a group of its own at the top.
  EXPECT_TRUE(open("10.0.0.0/8 dc1/row1/r1\n10.1.0.0/16 build\n10.2.0.0/16 dc2/row1/r1\n"));
}

TEST_F(StaticMapLocatorTest, PathsHaveTheLookupSourcesLevels) {
  auto refused = parse_rack_map("10.0.0.0/8 build\n10.1.0.0/16 dc1/r2\n", "m", 3);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "m:2: rack name 'dc1/r2' has 2 levels, but the lookup sources' locations have 3 (a "
            "path names every level, or one name stands for a group of its own)");
  EXPECT_TRUE(parse_rack_map("10.0.0.0/8 build\n10.1.0.0/16 dc1/row1/r2\n", "m", 3));
  EXPECT_TRUE(parse_rack_map("10.1.0.0/16 dc1/r2\n", "m", 0));
}

TEST_F(StaticMapLocatorTest, DuplicatePrefixNamesBothLines) {
  struct Case {
    std::string text;
    int line;
    int first;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8 a\n\n10.0.0.0/8 b\n", 3, 1, "10.0.0.0/8"},
      // Same rack twice is still a mistake worth hearing about.
      {"# x\n10.0.0.0/8 a\n10.0.0.0/8 a\n", 3, 2, "10.0.0.0/8"},
      // A bare address and its /32 are the same prefix.
      {"10.0.0.1 a\n10.1.0.0/16 b\n10.0.0.1/32 c\n", 3, 1, "10.0.0.1/32"},
      // Textual IPv6 variants of one prefix.
      {"2001:db8::/32 a\n2001:DB8:0:0::/32 b\n", 2, 1, "2001:db8::/32"},
      // IPv4-mapped IPv6 is IPv4.
      {"10.0.0.1 a\n::ffff:10.0.0.1 b\n", 2, 1, "10.0.0.1/32"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    core::Error error = open_error(c.text);
    std::string where = path_ + ":" + std::to_string(c.line) + ": ";
    EXPECT_EQ(error.message.rfind(where, 0), 0u) << error.message;
    EXPECT_NE(error.message.find(c.prefix + " is given twice"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("first at " + path_ + ":" + std::to_string(c.first)),
              std::string::npos)
        << error.message;
  }
  // Same network, different lengths: not duplicates.
  EXPECT_TRUE(open("10.0.0.0/8 a\n10.0.0.0/16 b\n10.0.0.0/24 c\n10.0.0.0 d\n"));
}

TEST_F(StaticMapLocatorTest, RejectedFileInternsNoNames) {
  std::size_t before = names_.size();
  open_error("10.0.0.0/8 brand-new-name\n10.1.0.0/16 bad!name\n");
  EXPECT_EQ(names_.size(), before);
}

TEST_F(StaticMapLocatorTest, ReloadSwapsMapAndBumpsGeneration) {
  auto locator = open("10.0.0.0/8 old-rack\n10.5.0.0/16 kept\n");
  ASSERT_TRUE(locator);
  core::RackId kept = locator->locate(addr("10.5.0.1"));
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "old-rack");
  EXPECT_EQ(name_of(*locator, "192.168.1.1"), "192.168.1.0/24");

  dir_.write("racks.map", "10.0.0.0/8 new-rack\n10.5.0.0/16 kept\n192.168.0.0/16 added\n");
  ASSERT_TRUE(locator->reload());
  EXPECT_EQ(locator->generation(), 1u);
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "new-rack");
  EXPECT_EQ(name_of(*locator, "192.168.1.1"), "added");
  // A name present before and after keeps its RackId: swarms stay grouped.
  EXPECT_EQ(locator->locate(addr("10.5.0.1")), kept);
  // Racks from the old map still print (a swarm may hold them a while).
  EXPECT_EQ(locator->rack_name(names_.intern("old-rack")), "old-rack");

  // Removing entries: the address falls back to the subnet rule.
  dir_.write("racks.map", "");
  ASSERT_TRUE(locator->reload());
  EXPECT_EQ(locator->generation(), 2u);
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "10.1.0.0/24");
  EXPECT_EQ(locator->entry_count(), 0u);
}

TEST_F(StaticMapLocatorTest, FailedReloadKeepsServingOldMap) {
  auto locator = open("10.0.0.0/8 good\n2001:db8::/32 good6\n");
  ASSERT_TRUE(locator);

  dir_.write("racks.map", "10.0.0.0/8 better\n10.1.0.0/16\n");
  auto status = locator->reload();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find(path_ + ":2:"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(locator->generation(), 0u);
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "good");
  EXPECT_EQ(name_of(*locator, "2001:db8::1"), "good6");

  std::filesystem::remove(path_);
  status = locator->reload();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(status.error().message.find(path_), std::string::npos);
  EXPECT_EQ(locator->generation(), 0u);
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "good");

  // Fixed file: the next reload succeeds.
  dir_.write("racks.map", "10.0.0.0/8 better\n");
  ASSERT_TRUE(locator->reload());
  EXPECT_EQ(locator->generation(), 1u);
  EXPECT_EQ(name_of(*locator, "10.1.0.1"), "better");
  EXPECT_EQ(name_of(*locator, "2001:db8::1"), "2001:db8::/64");
}

TEST_F(StaticMapLocatorTest, LocateDuringReloadSeesOldOrNewMap) {
  const std::string map_a = "10.0.0.0/8 a1\n10.1.0.0/16 b1\n2001:db8::/32 c1\n";
  const std::string map_b = "10.0.0.0/8 a2\n2001:db8::/32 c2\n172.16.0.0/12 d2\n";
  auto locator = open(map_a);
  ASSERT_TRUE(locator);

  struct Probe {
    core::Address address;
    std::set<core::RackId> valid;
  };
  auto subnet = [&](std::string_view a) { return locator->locate(addr(a)); };  // map_a: unmapped
  const std::vector<Probe> probes = {
      {addr("10.1.2.3"), {names_.intern("b1"), names_.intern("a2")}},
      {addr("10.9.9.9"), {names_.intern("a1"), names_.intern("a2")}},
      {addr("2001:db8::1"), {names_.intern("c1"), names_.intern("c2")}},
      {addr("172.16.1.1"), {subnet("172.16.1.1"), names_.intern("d2")}},
      {addr("192.168.1.1"), {subnet("192.168.1.1")}},
  };

  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  auto reader = [&] {
    long rounds = 0;
    // At least some rounds even if the reloader finishes first.
    while (!done.load(std::memory_order_relaxed) || rounds < 1000) {
      for (const Probe& p : probes) {
        if (p.valid.count(locator->locate(p.address)) == 0) bad.fetch_add(1);
      }
      ++rounds;
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  std::thread reloader([&] {
    for (int i = 0; i < 200; ++i) {
      dir_.write("racks.map", i % 2 == 0 ? map_b : map_a);
      if (!locator->reload()) bad.fetch_add(1000);
    }
    done = true;
  });
  reloader.join();
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(locator->generation(), 200u);
  // Last write was map_a.
  EXPECT_EQ(name_of(*locator, "10.1.2.3"), "b1");
}

TEST_F(StaticMapLocatorTest, ExampleMapLoads) {
  const std::string example = std::string(P2P_SOURCE_DIR) + "/etc/racks.example";
  auto locator = StaticMapLocator::open(example, 24, 64, names_);
  ASSERT_TRUE(locator) << locator.error().message;
  EXPECT_GT((*locator)->entry_count(), 0u);
  EXPECT_EQ(name_of(**locator, "10.1.3.17"), "dc1/row1/rack3");
  EXPECT_EQ(name_of(**locator, "10.1.3.200"), "dc1/row1/rack3-gpu");
  EXPECT_EQ(name_of(**locator, "2001:db8:1:3::17"), "dc1/row1/rack3");
  EXPECT_EQ(name_of(**locator, "192.0.2.1"), "192.0.2.0/24");
}

TEST(ParseRackMapTest, ReturnsEntriesWithLines) {
  auto entries = parse_rack_map("# head\n10.0.0.0/8 a\n\n2001:db8::1 b # host\n", "m");
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].prefix.to_string(), "10.0.0.0/8");
  EXPECT_EQ((*entries)[0].rack, "a");
  EXPECT_EQ((*entries)[0].line, 2);
  EXPECT_EQ((*entries)[1].prefix.to_string(), "2001:db8::1/128");
  EXPECT_EQ((*entries)[1].rack, "b");
  EXPECT_EQ((*entries)[1].line, 4);
}

TEST(ParseRackMapTest, BinaryGarbageIsAnErrorNotACrash) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) & 0xff);
  auto entries = parse_rack_map(garbage, "garbage");
  ASSERT_FALSE(entries);
  EXPECT_LT(entries.error().message.size(), 400u);  // long tokens are cut in messages
}

}  // namespace
}  // namespace p2p::topology

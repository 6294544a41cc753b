#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config_test.h"

namespace p2p::config {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing::read_text;
using testing::source_path;
using ::testing::StartsWith;
using testing::temp_file;
using testing::write_text;

core::Cidr cidr(std::string_view text) { return *core::Cidr::parse(text); }

// Every key set away from its default, and still valid.
Config non_default_config() {
  Config c;
  c.host = "::";
  c.port = 7070;
  c.redishost = "redis.internal";
  c.redisport = 6380;
  c.smdb_url = "http://smdb.internal/api?q=\"rack\"";
  c.max_repr_rack = 3;
  c.active_interval = 30;
  c.passive_interval = 600;
  c.maxpeers = 50;
  c.proxypass = true;
  c.debug = true;
  c.store = "redis";
  c.redis_prefix = "p2p:";
  c.data_dir = "/var/lib/p2ptracker";
  c.min_interval = 10;
  c.peer_timeout = 100;
  c.open = true;
  c.full_scrape = false;
  c.trusted_networks = {cidr("10.0.0.0/8"), cidr("2001:db8::/32")};
  c.trusted_proxies = {};
  c.topology = {"static"};
  c.topology_file = "/etc/p2ptracker/racks";
  c.subnet_prefix_v4 = 26;
  c.subnet_prefix_v6 = 56;
  c.workers = 4;
  c.max_request_bytes = 4096;
  c.max_torrent_bytes = 1 << 20;
  c.request_timeout = 5;
  c.keepalive_timeout = 30;
  c.max_connections = 1000;
  c.log_level = "debug";
  return c;
}

// --- TOML -------------------------------------------------------------------

TEST(TomlTest, EmptyTextGivesDefaults) {
  auto config = parse_toml("", "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config, Config{});
  EXPECT_TRUE(validate(*config).ok());
}

TEST(TomlTest, ReadsEveryKindOfValue) {
  auto config = parse_toml(R"(# a comment
host = "::"
port = 7070
proxypass = true
store = "redis"
max_repr_rack = 3
trusted_networks = [
  "10.0.0.0/8",     # the data centre
  "2001:db8::/32",
]
trusted_proxies = []
)",
                           "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  Config expected;
  expected.host = "::";
  expected.port = 7070;
  expected.proxypass = true;
  expected.store = "redis";
  expected.max_repr_rack = 3;
  expected.trusted_networks = {cidr("10.0.0.0/8"), cidr("2001:db8::/32")};
  expected.trusted_proxies = {};
  EXPECT_EQ(*config, expected);
}

TEST(TomlTest, UnknownKeyNamesLineAndListsKnownKeys) {
  EXPECT_THAT(error_of(parse_toml("port = 1\n\nfoo = 1\n", "t.toml")),
              StartsWith("t.toml:3: unknown key 'foo' (known keys: host, port, redishost, "));
}

TEST(TomlTest, UnknownKeySuggestsCloseMatch) {
  EXPECT_EQ(error_of(parse_toml("prot = 1\n", "t.toml")),
            "t.toml:1: unknown key 'prot'; did you mean 'port'?");
  EXPECT_EQ(error_of(parse_toml("\nmaxpeer = 1\n", "t.toml")),
            "t.toml:2: unknown key 'maxpeer'; did you mean 'maxpeers'?");
  // Upper case is the legacy spelling, not TOML's.
  EXPECT_EQ(error_of(parse_toml("port = 1\nPORT = 1\n", "t.toml")),
            "t.toml:2: unknown key 'PORT'; did you mean 'port'?");
}

TEST(TomlTest, SectionsAreRejected) {
  auto error = error_of(parse_toml("\n[server]\nport = 1\n", "t.toml"));
  EXPECT_THAT(error, StartsWith("t.toml:2: unknown key 'server'"));
  EXPECT_THAT(error, HasSubstr("all keys are top-level"));
}

TEST(TomlTest, FirstProblemInFileOrderIsReported) {
  // toml::table is sorted by name; the error must still be the first line's.
  EXPECT_THAT(error_of(parse_toml("zzz = 1\naaa = 2\n", "t.toml")), StartsWith("t.toml:1:"));
}

TEST(TomlTest, WrongTypeNamesLineKeyAndWhatIsValid) {
  EXPECT_EQ(error_of(parse_toml("host = \"x\"\nport = \"abc\"\n", "t.toml")),
            "t.toml:2: key 'port': expected an integer from 0 to 65535, got \"abc\"");
  EXPECT_EQ(error_of(parse_toml("port = 1.5", "t.toml")),
            "t.toml:1: key 'port': expected an integer from 0 to 65535, got 1.5");
  EXPECT_EQ(error_of(parse_toml("open = \"yes\"", "t.toml")),
            "t.toml:1: key 'open': expected true or false, got \"yes\"");
  EXPECT_EQ(error_of(parse_toml("host = 1", "t.toml")),
            "t.toml:1: key 'host': expected a string, got 1");
  EXPECT_EQ(error_of(parse_toml("host = [\"a\"]", "t.toml")),
            "t.toml:1: key 'host': expected a string, got [\"a\"]");
  EXPECT_EQ(error_of(parse_toml("debug = 1979-05-27", "t.toml")),
            "t.toml:1: key 'debug': expected true or false, got 1979-05-27");
}

TEST(TomlTest, OutOfRangeNamesLineKeyAndRange) {
  EXPECT_EQ(error_of(parse_toml("port = 70000", "t.toml")),
            "t.toml:1: key 'port': expected an integer from 0 to 65535, got 70000");
  EXPECT_EQ(error_of(parse_toml("redisport = -1", "t.toml")),
            "t.toml:1: key 'redisport': expected an integer from 0 to 65535, got -1");
  EXPECT_EQ(error_of(parse_toml("maxpeers = 2001", "t.toml")),
            "t.toml:1: key 'maxpeers': expected an integer from 1 to 2000, got 2001");
  EXPECT_EQ(error_of(parse_toml("active_interval = 0", "t.toml")),
            "t.toml:1: key 'active_interval': expected an integer of at least 1, got 0");
  EXPECT_EQ(error_of(parse_toml("active_interval = 3000000000", "t.toml")),
            "t.toml:1: key 'active_interval': expected an integer of at least 1 and at most "
            "2147483647, got 3000000000");
  EXPECT_EQ(error_of(parse_toml("store = \"disk\"", "t.toml")),
            "t.toml:1: key 'store': expected one of \"memory\" or \"redis\", got \"disk\"");
  EXPECT_EQ(error_of(parse_toml("log_level = \"verbose\"", "t.toml")),
            "t.toml:1: key 'log_level': expected one of \"trace\", \"debug\", \"info\", "
            "\"warn\" or \"error\", got \"verbose\"");
  EXPECT_EQ(error_of(parse_toml("data_dir = \"\"", "t.toml")),
            "t.toml:1: key 'data_dir': expected a non-empty string, got \"\"");
}

// Issue 12: the levels above a rack, as integer lists.
TEST(TomlTest, LevelListsReadAndCheckEachItem) {
  auto config = parse_toml("subnet_levels_v4 = [16, 20]\nmax_repr_levels = [3, 2]\n", "t.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->subnet_levels_v4, (std::vector<int>{16, 20}));
  EXPECT_EQ(config->max_repr_levels, (std::vector<int>{3, 2}));
  EXPECT_EQ(error_of(parse_toml("max_repr_levels = [2, \"2\"]", "t.toml")),
            "t.toml:1: key 'max_repr_levels': expected each an integer from 1 to 1000, got "
            "\"2\"");
  EXPECT_EQ(error_of(parse_toml("subnet_levels_v4 = 16", "t.toml")),
            "t.toml:1: key 'subnet_levels_v4': expected an array of integers from 1 to 31, "
            "got 16");
  // Across keys (validate): outermost first, each wider than the next and the rack.
  auto checked = [](std::string_view text) {
    auto c = parse_toml(text, "t.toml");
    EXPECT_TRUE(c) << text;
    return error_of(validate(*c));
  };
  EXPECT_THAT(checked("subnet_levels_v4 = [20, 16]"),
              ::testing::HasSubstr("/20 is not wider than /16"));
  EXPECT_THAT(checked("subnet_prefix_v4 = 20\nsubnet_levels_v4 = [16, 20]"),
              ::testing::HasSubstr("/20 is not wider than /20"));
  EXPECT_THAT(checked("max_repr_levels = [1, 1, 1, 1]"),
              ::testing::HasSubstr("at most 3 levels above the rack, got 4"));
  EXPECT_THAT(
      checked(R"(levels = ["world", "dc", "row", "rack", "slot"])"),
      ::testing::HasSubstr("key 'levels': at most 4 levels (a rack and 3 above it), got 5"));
  EXPECT_THAT(checked(R"(smdb_fields = ["/a", "/b", "/c", "/d", "/e"])"),
              ::testing::HasSubstr("key 'smdb_fields': at most 4 levels"));
  EXPECT_TRUE(validate(*parse_toml(R"(levels = ["world", "dc", "row", "rack"])", "t.toml")).ok());
  // Every source's locations have the same levels (the subnet rule without
  // levels: one, a group of its own at the top).
  const std::string smdb = "smdb_url = \"http://127.0.0.1:1/\"\ndns_name = \"{ip}.t.\"\n";
  EXPECT_THAT(checked(smdb + R"(topology = ["smdb", "dns", "subnet"])"),
              ::testing::HasSubstr("smdb_fields names 1 levels and levels 3: every source's "
                                   "locations have the same levels"));
  EXPECT_THAT(checked(smdb + "topology = [\"smdb\", \"subnet\"]\nsubnet_levels_v4 = [16, 20]"),
              ::testing::HasSubstr("subnet_levels_v4 gives a location of 3 levels and smdb_fields "
                                   "of 1"));
  EXPECT_THAT(checked("subnet_levels_v4 = [16, 20]\nsubnet_levels_v6 = [48]"),
              ::testing::HasSubstr("subnet_levels_v6 gives a location of 2 levels and "
                                   "subnet_levels_v4 of 3"));
  for (const std::string& ok :
       {smdb + "topology = [\"dns\", \"subnet\"]\nsubnet_levels_v4 = [16, 20]",
        smdb + "topology = [\"smdb\", \"dns\", \"subnet\"]\nlevels = [\"rack\"]",
        smdb + "topology = [\"smdb\", \"subnet\"]",
        std::string("subnet_levels_v4 = [16, 20]\nsubnet_levels_v6 = [32, 48]")}) {
    auto c = parse_toml(ok, "t.toml");
    ASSERT_TRUE(c) << ok;
    EXPECT_TRUE(validate(*c).ok()) << ok << ": " << validate(*c).error().message;
  }
  EXPECT_TRUE(validate(*config).ok());
}

TEST(TomlTest, PortZeroMeansPickAFreePort) {
  auto config = parse_toml("port = 0\nredisport = 65535\n", "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 0);
  EXPECT_EQ(config->redisport, 65535);
  EXPECT_TRUE(validate(*config).ok());
}

TEST(TomlTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_THAT(error_of(parse_toml("port = 1\nhost = \n", "t.toml")),
              MatchesRegex("t\\.toml:2:[0-9]+: .+"));
  EXPECT_THAT(error_of(parse_toml("port = 1\nport = 2\n", "t.toml")),
              MatchesRegex("t\\.toml:2:[0-9]+: .+"));
}

TEST(TomlTest, BadCidrNamesItsOwnLine) {
  EXPECT_EQ(error_of(parse_toml(R"(trusted_networks = [
  "10.0.0.0/8",
  "10.0.0.300/8",
]
)",
                                "t.toml")),
            "t.toml:3: key 'trusted_networks': '10.0.0.300/8' is not an IP address or CIDR "
            "prefix");
  EXPECT_EQ(error_of(parse_toml("\ntrusted_proxies = [\"10.0.0.0/33\"]", "t.toml")),
            "t.toml:2: key 'trusted_proxies': '10.0.0.0/33' has a bad prefix length (0-32)");
  EXPECT_EQ(error_of(parse_toml("trusted_proxies = [\n  1,\n]", "t.toml")),
            "t.toml:2: key 'trusted_proxies': expected a CIDR string such as \"10.0.0.0/8\", "
            "got 1");
  EXPECT_EQ(error_of(parse_toml("trusted_proxies = \"10.0.0.0/8\"", "t.toml")),
            "t.toml:1: key 'trusted_proxies': expected an array of CIDR strings such as "
            "[\"10.0.0.0/8\"], got \"10.0.0.0/8\"");
}

TEST(TomlTest, CidrHostBitsAreMaskedOff) {
  auto config = parse_toml("trusted_networks = [\"10.1.2.3/8\", \"192.168.0.7\"]", "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->trusted_networks,
            (std::vector<core::Cidr>{cidr("10.0.0.0/8"), cidr("192.168.0.7/32")}));
}

// --- to_toml ------------------------------------------------------------------

TEST(ToTomlTest, DefaultsRoundTrip) {
  auto config = parse_toml(to_toml(Config{}), "print");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config, Config{});
}

TEST(ToTomlTest, NonDefaultRoundTrips) {
  Config original = non_default_config();
  ASSERT_TRUE(validate(original).ok()) << validate(original).error().message;
  auto config = parse_toml(to_toml(original), "print");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config, original);
  // Every key differs from its default, so none is equal by accident.
  EXPECT_NE(*config, Config{});
}

std::string random_string(std::mt19937& rng) {
  // Quotes, backslashes, control characters and UTF-8 all need escaping right.
  static const std::vector<std::string> kPieces = {
      "a", "Z", "0", " ", "\"", "'",  "\\", "\n", "\t",      "\r",   "\x01", "\x7f",
      "#", "=", "[", "]", "é",  "雪", "/",  ":",  "\\u0041", "${x}", "'''",  "\"\"\""};
  std::string s;
  int n = std::uniform_int_distribution<int>(0, 12)(rng);
  for (int i = 0; i < n; ++i) {
    s += kPieces[std::uniform_int_distribution<std::size_t>(0, kPieces.size() - 1)(rng)];
  }
  return s;
}

std::vector<core::Cidr> random_cidrs(std::mt19937& rng) {
  std::vector<core::Cidr> out;
  int n = std::uniform_int_distribution<int>(0, 4)(rng);
  for (int i = 0; i < n; ++i) {
    if (rng() % 2 == 0) {
      out.emplace_back(core::Address::v4(static_cast<std::uint32_t>(rng())),
                       std::uniform_int_distribution<int>(0, 32)(rng));
    } else {
      std::uint8_t bytes[16];
      for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
      bytes[0] = 0x20;  // never IPv4-mapped
      out.emplace_back(core::Address::v6_bytes(bytes),
                       std::uniform_int_distribution<int>(0, 128)(rng));
    }
  }
  return out;
}

TEST(ToTomlTest, RandomConfigsRoundTrip) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  auto between = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto pick = [&](std::vector<std::string> choices) {
    return choices[static_cast<std::size_t>(between(0, static_cast<int>(choices.size()) - 1))];
  };
  for (int round = 0; round < 200; ++round) {
    Config c;
    c.host = random_string(rng);
    c.port = static_cast<std::uint16_t>(between(0, 65535));
    c.redishost = random_string(rng);
    c.redisport = static_cast<std::uint16_t>(between(0, 65535));
    c.smdb_url = random_string(rng);
    c.max_repr_rack = between(1, 1 << 30);
    c.active_interval = between(1, 1 << 30);
    c.passive_interval = between(1, 1 << 30);
    c.maxpeers = between(1, 2000);
    c.policy = pick({"original", "standby", "progress"});
    c.grant_percent = between(0, 100);
    c.proxypass = rng() % 2 == 0;
    c.debug = rng() % 2 == 0;
    c.store = pick({"memory", "redis"});
    c.redis_prefix = random_string(rng);
    c.data_dir = random_string(rng) + "x";
    c.min_interval = between(1, 1 << 30);
    c.peer_timeout = between(1, 1 << 30);
    c.open = rng() % 2 == 0;
    c.full_scrape = rng() % 2 == 0;
    c.trusted_networks = random_cidrs(rng);
    c.trusted_proxies = random_cidrs(rng);
    c.topology = {pick({"subnet", "static"})};
    c.topology_file = random_string(rng);
    c.subnet_prefix_v4 = between(1, 32);
    c.subnet_prefix_v6 = between(1, 64);
    c.workers = between(0, 256);
    c.max_request_bytes = between(1024, 1 << 20);
    c.max_torrent_bytes = between(1024, 1 << 30);
    c.request_timeout = between(1, 1 << 30);
    c.keepalive_timeout = between(1, 1 << 30);
    c.max_connections = between(1, 1 << 30);
    c.log_level = pick({"trace", "debug", "info", "warn", "error"});
    c.admin_token_file = random_string(rng);
    c.admin_read = pick({"public", "token"});
    std::string text = to_toml(c);
    auto back = parse_toml(text, "print");
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
    ASSERT_EQ(*back, c) << text;
  }
}

TEST(ToTomlTest, EveryKeyHasItsDocCommentAndGroupsHaveHeadings) {
  std::string text = to_toml(Config{});
  for (std::string_view heading :
       {"# The original p2ptracker's keys\n", "# Storage\n", "# Announces and swarms\n",
        "# Client addresses\n", "# Topology\n", "# Limits\n", "# Per-source bounds\n",
        "# Logging\n", "# Admin API access\n"}) {
    EXPECT_THAT(text, HasSubstr(heading));
  }
  // Each `key = value` line follows a comment line.
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  int settings = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i][0] == '#') continue;
    ++settings;
    ASSERT_GT(i, 0u);
    EXPECT_EQ(lines[i - 1].substr(0, 2), "# ") << "no doc comment above: " << lines[i];
  }
  EXPECT_EQ(settings, 76);  // members of Config: a new member needs a key
}

TEST(ToTomlTest, NonDefaultValueNotesTheDefault) {
  Config c;
  c.port = 7000;
  EXPECT_THAT(to_toml(c), HasSubstr("# Default: 6969\nport = 7000\n"));
  EXPECT_THAT(to_toml(Config{}), ::testing::Not(HasSubstr("# Default:")));
}

TEST(ToTomlTest, CommentLinesFitIn80Columns) {
  std::istringstream in(to_toml(non_default_config()));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) {
      EXPECT_LE(line.size(), 80u) << line;
    }
  }
}

// --- --set overrides -----------------------------------------------------------

TEST(OverrideTest, ValuesInTomlSyntaxWithBareWordsAsStrings) {
  Config c;
  for (const char* assignment :
       {"port=7000", "topology=static", "open=true", "trusted_networks=[\"10.0.0.0/8\"]",
        "host=::", "smdb_url=http://smdb/api?x=1", "redis_prefix=\"p2p:\"", "data_dir = /var/x",
        "maxpeers = 0x10", "topology_file=/etc/racks # not a comment"}) {
    auto status = apply_override(c, assignment);
    EXPECT_TRUE(status.ok()) << assignment << ": " << status.error().message;
  }
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.topology, std::vector<std::string>{"static"});
  EXPECT_TRUE(c.open);
  EXPECT_EQ(c.trusted_networks, std::vector<core::Cidr>{cidr("10.0.0.0/8")});
  EXPECT_EQ(c.host, "::");
  EXPECT_EQ(c.smdb_url, "http://smdb/api?x=1");
  EXPECT_EQ(c.redis_prefix, "p2p:");
  EXPECT_EQ(c.data_dir, "/var/x");
  EXPECT_EQ(c.maxpeers, 16);
  EXPECT_EQ(c.topology_file, "/etc/racks # not a comment");
}

TEST(OverrideTest, CidrListsMayBeBareAndEmpty) {
  Config c;
  ASSERT_TRUE(apply_override(c, "trusted_networks=10.0.0.0/8, 2001:db8::/32").ok());
  EXPECT_EQ(c.trusted_networks,
            (std::vector<core::Cidr>{cidr("10.0.0.0/8"), cidr("2001:db8::/32")}));
  ASSERT_TRUE(apply_override(c, "trusted_proxies=").ok());
  EXPECT_TRUE(c.trusted_proxies.empty());
  ASSERT_TRUE(apply_override(c, "trusted_networks=[]").ok());
  EXPECT_TRUE(c.trusted_networks.empty());
}

TEST(OverrideTest, ErrorsNameTheOverride) {
  Config c;
  EXPECT_EQ(error_of(apply_override(c, "port=abc")),
            "--set 'port=abc': key 'port': expected an integer from 0 to 65535, got \"abc\"");
  EXPECT_EQ(error_of(apply_override(c, "port=70000")),
            "--set 'port=70000': key 'port': expected an integer from 0 to 65535, got 70000");
  EXPECT_EQ(error_of(apply_override(c, "open=yes")),
            "--set 'open=yes': key 'open': expected true or false, got \"yes\"");
  EXPECT_EQ(error_of(apply_override(c, "store=disk")),
            "--set 'store=disk': key 'store': expected one of \"memory\" or \"redis\", got "
            "\"disk\"");
  EXPECT_EQ(error_of(apply_override(c, "prot=1")),
            "--set 'prot=1': unknown key 'prot'; did you mean 'port'?");
  EXPECT_THAT(error_of(apply_override(c, "nonsense=1")),
              StartsWith("--set 'nonsense=1': unknown key 'nonsense' (known keys: host, "));
  EXPECT_EQ(error_of(apply_override(c, "port")),
            "--set 'port': expected key=value, such as --set port=7000");
  EXPECT_EQ(error_of(apply_override(c, "trusted_networks=10.0.0.0/8,nope")),
            "--set 'trusted_networks=10.0.0.0/8,nope': key 'trusted_networks': 'nope' is not an "
            "IP address or CIDR prefix");
  EXPECT_THAT(error_of(apply_override(c, "host=\"unterminated")),
              StartsWith("--set 'host=\"unterminated': "));
  EXPECT_THAT(error_of(apply_override(c, "port=1\nhost=\"x\"")), StartsWith("--set '"));
  // A failed override leaves the config as it was.
  EXPECT_EQ(c, Config{});
}

// --- validate() -------------------------------------------------------------------

struct ValidateCase {
  const char* name;
  std::function<void(Config&)> change;
  const char* message;  // exact
};

class ValidateTest : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateTest, RejectsWithWhatIsValid) {
  Config c;
  GetParam().change(c);
  EXPECT_EQ(error_of(validate(c)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidateTest,
    ::testing::Values(
        ValidateCase{"max_repr_rack", [](Config& c) { c.max_repr_rack = 0; },
                     "key 'max_repr_rack': expected an integer of at least 1, got 0"},
        ValidateCase{"active_interval", [](Config& c) { c.active_interval = 0; },
                     "key 'active_interval': expected an integer of at least 1, got 0"},
        ValidateCase{"passive_interval", [](Config& c) { c.passive_interval = -5; },
                     "key 'passive_interval': expected an integer of at least 1, got -5"},
        ValidateCase{"min_interval", [](Config& c) { c.min_interval = 0; },
                     "key 'min_interval': expected an integer of at least 1, got 0"},
        ValidateCase{"maxpeers_low", [](Config& c) { c.maxpeers = 0; },
                     "key 'maxpeers': expected an integer from 1 to 2000, got 0"},
        ValidateCase{"maxpeers_high", [](Config& c) { c.maxpeers = 2001; },
                     "key 'maxpeers': expected an integer from 1 to 2000, got 2001"},
        ValidateCase{"peer_timeout_equal", [](Config& c) { c.peer_timeout = c.active_interval; },
                     "peer_timeout (45) must exceed active_interval (45); otherwise peers expire "
                     "between two announces"},
        ValidateCase{"peer_timeout_below", [](Config& c) { c.active_interval = 200; },
                     "peer_timeout (150) must exceed active_interval (200); otherwise peers "
                     "expire between two announces"},
        ValidateCase{"peer_timeout_zero", [](Config& c) { c.peer_timeout = 0; },
                     "key 'peer_timeout': expected an integer of at least 1, got 0"},
        ValidateCase{"store", [](Config& c) { c.store = "disk"; },
                     "key 'store': expected one of \"memory\" or \"redis\", got \"disk\""},
        ValidateCase{"topology", [](Config& c) { c.topology = {"ldap"}; },
                     "key 'topology': expected a name or an array of \"smdb\", \"dns\", "
                     "\"exec\", \"file\", \"static\" or \"subnet\", got \"ldap\""},
        ValidateCase{"dns_needs_name", [](Config& c) { c.topology = {"dns", "subnet"}; },
                     "topology \"dns\" needs dns_name, the TXT name template "
                     "(\"{reverse}.topology.example.\")"},
        ValidateCase{"exec_needs_command", [](Config& c) { c.topology = {"exec"}; },
                     "topology \"exec\" needs exec_command, the program that prints a location"},
        ValidateCase{"levels_not_empty", [](Config& c) { c.levels = {}; },
                     "key 'levels': expected a name or an array of names (a-z 0-9 _ -), got []"},
        ValidateCase{"static_needs_file", [](Config& c) { c.topology = {"static"}; },
                     "topology \"static\" needs topology_file, a file of \"CIDR rack\" lines"},
        ValidateCase{"smdb_needs_url", [](Config& c) { c.topology = {"smdb", "subnet"}; },
                     "topology \"smdb\" needs smdb_url, the inventory service's http:// "
                     "address"},
        ValidateCase{"lookup_sources_first",
                     [](Config& c) {
                       c.smdb_url = "http://127.0.0.1:1";
                       c.topology = {"subnet", "smdb"};
                     },
                     "topology lists \"smdb\" after \"file\" or \"subnet\"; list lookup "
                     "sources first (as in [\"smdb\", \"file\", \"subnet\"])"},
        ValidateCase{"subnet_prefix_v4_low", [](Config& c) { c.subnet_prefix_v4 = 0; },
                     "key 'subnet_prefix_v4': expected an integer from 1 to 32, got 0"},
        ValidateCase{"subnet_prefix_v4_high", [](Config& c) { c.subnet_prefix_v4 = 33; },
                     "key 'subnet_prefix_v4': expected an integer from 1 to 32, got 33"},
        ValidateCase{"subnet_prefix_v6_low", [](Config& c) { c.subnet_prefix_v6 = 0; },
                     "key 'subnet_prefix_v6': expected an integer from 1 to 64, got 0"},
        ValidateCase{"subnet_prefix_v6_high", [](Config& c) { c.subnet_prefix_v6 = 65; },
                     "key 'subnet_prefix_v6': expected an integer from 1 to 64, got 65"},
        ValidateCase{"workers_low", [](Config& c) { c.workers = -1; },
                     "key 'workers': expected an integer from 0 to 256, got -1"},
        ValidateCase{"workers_high", [](Config& c) { c.workers = 257; },
                     "key 'workers': expected an integer from 0 to 256, got 257"},
        ValidateCase{"max_request_bytes_low", [](Config& c) { c.max_request_bytes = 1023; },
                     "key 'max_request_bytes': expected an integer from 1024 to 1048576, got "
                     "1023"},
        ValidateCase{"max_request_bytes_high", [](Config& c) { c.max_request_bytes = 1048577; },
                     "key 'max_request_bytes': expected an integer from 1024 to 1048576, got "
                     "1048577"},
        ValidateCase{"max_torrent_bytes_low", [](Config& c) { c.max_torrent_bytes = 1000; },
                     "key 'max_torrent_bytes': expected an integer from 1024 to 1073741824, got "
                     "1000"},
        ValidateCase{"max_torrent_bytes_high", [](Config& c) { c.max_torrent_bytes = 1073741825; },
                     "key 'max_torrent_bytes': expected an integer from 1024 to 1073741824, got "
                     "1073741825"},
        ValidateCase{"request_timeout", [](Config& c) { c.request_timeout = 0; },
                     "key 'request_timeout': expected an integer of at least 1, got 0"},
        ValidateCase{"keepalive_timeout", [](Config& c) { c.keepalive_timeout = 0; },
                     "key 'keepalive_timeout': expected an integer of at least 1, got 0"},
        ValidateCase{"max_connections", [](Config& c) { c.max_connections = 0; },
                     "key 'max_connections': expected an integer of at least 1, got 0"},
        ValidateCase{"log_level", [](Config& c) { c.log_level = "verbose"; },
                     "key 'log_level': expected one of \"trace\", \"debug\", \"info\", \"warn\" "
                     "or \"error\", got \"verbose\""},
        ValidateCase{"data_dir", [](Config& c) { c.data_dir = ""; },
                     "key 'data_dir': expected a non-empty string, got \"\""},
        ValidateCase{"admin_read", [](Config& c) { c.admin_read = "private"; },
                     "key 'admin_read': expected one of \"public\" or \"token\", got "
                     "\"private\""},
        ValidateCase{"admin_read_token_needs_file", [](Config& c) { c.admin_read = "token"; },
                     "admin_read \"token\" needs admin_token_file, the file holding the token"}),
    [](const ::testing::TestParamInfo<ValidateCase>& info) { return info.param.name; });

TEST(ValidateTest, AcceptsDefaultsAndEdgesOfEveryRange) {
  EXPECT_TRUE(validate(Config{}).ok());
  Config c;
  c.port = 0;
  c.redisport = 65535;
  c.max_repr_rack = 1;
  c.active_interval = 1;
  c.passive_interval = 1;
  c.min_interval = 1;
  c.peer_timeout = 2;
  c.maxpeers = 2000;
  c.topology = {"static"};
  c.topology_file = "racks";
  c.subnet_prefix_v4 = 32;
  c.subnet_prefix_v6 = 1;
  c.workers = 256;
  c.max_request_bytes = 1024;
  c.max_torrent_bytes = 1 << 30;
  c.request_timeout = 1;
  c.keepalive_timeout = 1;
  c.max_connections = 1;
  c.log_level = "trace";
  auto status = validate(c);
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(validate(non_default_config()).ok());
}

// --- load_file() ------------------------------------------------------------------

TEST(LoadFileTest, MissingFileNamesThePath) {
  auto result = load_file("/nonexistent/p2ptracker.toml");
  EXPECT_EQ(error_of(result),
            "/nonexistent/p2ptracker.toml: cannot open config file: No such file or directory");
  EXPECT_EQ(result.error().code, core::ErrorCode::kNotFound);
}

TEST(LoadFileTest, DirectoryIsNotAConfigFile) {
  auto dir = testing::temp_dir().string();
  EXPECT_THAT(error_of(load_file(dir)), StartsWith(dir + ": cannot "));
}

TEST(LoadFileTest, ReadsToml) {
  auto path = temp_file("read.toml", "# tracker\nport = 7000\nstore = \"redis\"\n");
  auto config = load_file(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 7000);
  EXPECT_EQ(config->store, "redis");
}

TEST(LoadFileTest, TomlErrorsNameThePath) {
  auto path = temp_file("bad.toml", "\nport = \"abc\"\n");
  EXPECT_EQ(error_of(load_file(path)),
            path + ":2: key 'port': expected an integer from 0 to 65535, got \"abc\"");
}

TEST(LoadFileTest, PicksTheFormatByNameThenFirstStatement) {
  // An upper-case first key: legacy, so PORT means port.
  auto legacy = temp_file("legacy.cfg", "# old\n\nPORT = 7000\nPASSIVE_INTERVAL = 5 * 60\n");
  auto config = load_file(legacy);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 7000);
  EXPECT_EQ(config->passive_interval, 300);
  // A docstring first: legacy.
  auto doc = temp_file("doc.cfg", "\"\"\"Settings.\"\"\"\nPORT = 7001\n");
  ASSERT_TRUE(load_file(doc).ok());
  EXPECT_EQ(load_file(doc)->port, 7001);
  // ".py" is always legacy, whatever comes first.
  auto py = temp_file("settings.py", "minutes = 60\nPORT = 7002\n");
  ASSERT_TRUE(load_file(py).ok());
  EXPECT_EQ(load_file(py)->port, 7002);
  // ".toml" is always TOML, where PORT is not a key.
  auto mixed = temp_file("mixed.toml", "PORT = 7000\nhost = \"::\"\n");
  EXPECT_EQ(error_of(load_file(mixed)), mixed + ":1: unknown key 'PORT'; did you mean 'port'?");
  // Any other name with a lower-case first key: TOML.
  auto toml = temp_file("plain.conf", "port = 7003\nPORT = 1\n");
  EXPECT_EQ(error_of(load_file(toml)), toml + ":2: unknown key 'PORT'; did you mean 'port'?");
}

TEST(LoadFileTest, ValidationErrorsNameTheLineOfAKeyTheFileSet) {
  auto a = temp_file("v1.toml", "port = 1\nactive_interval = 200\n");
  EXPECT_EQ(error_of(load_file(a)),
            a + ":2: peer_timeout (150) must exceed active_interval (200); otherwise peers "
                "expire between two announces");
  auto b = temp_file("v2.toml", "peer_timeout = 10\nactive_interval = 20\n");
  EXPECT_THAT(error_of(load_file(b)), StartsWith(b + ":1: peer_timeout (10) must exceed"));
  auto c = temp_file("v3.toml", "\n\ntopology = \"static\"\n");
  EXPECT_EQ(error_of(load_file(c)),
            c + ":3: topology \"static\" needs topology_file, a file of \"CIDR rack\" lines");
  auto d = temp_file("v4.cfg", "HOST = 'x'\nACTIVE_INTERVAL = 4 * 60\n");
  EXPECT_THAT(error_of(load_file(d)),
              StartsWith(d + ":2: peer_timeout (150) must exceed active_interval (240)"));
}

// --- Layers: defaults, files, --set -------------------------------------------------

TEST(LayerTest, LaterLayersWinAndOriginsFollow) {
  auto first = temp_file("first.cfg", "PORT = 7000\nMAXPEERS = 10\n");
  auto second = temp_file("second.toml", "\nmaxpeers = 20\n");
  Loaded l;
  ASSERT_TRUE(load_file_onto(l, first).ok());
  ASSERT_TRUE(load_file_onto(l, second).ok());
  ASSERT_TRUE(apply_override(l, "active_interval=30").ok());
  EXPECT_EQ(l.config.port, 7000);
  EXPECT_EQ(l.config.maxpeers, 20);
  EXPECT_EQ(l.config.active_interval, 30);
  EXPECT_EQ(l.blame("port", "m"), first + ":1: key 'PORT': m");
  EXPECT_EQ(l.blame("maxpeers", "m"), second + ":2: key 'maxpeers': m");
  EXPECT_EQ(l.blame("active_interval", "m"),
            "--set 'active_interval=30': key 'active_interval': m");
  EXPECT_EQ(l.blame("host", "m"), "key 'host': m");
}

TEST(LayerTest, ValidationBlamesTheLayerThatSetTheKey) {
  auto first = temp_file("l1.cfg", "ACTIVE_INTERVAL = 100\n");
  auto second = temp_file("l2.toml", "# later\npeer_timeout = 90\n");
  Loaded l;
  ASSERT_TRUE(load_file_onto(l, first).ok());
  ASSERT_TRUE(validate(l).ok());
  ASSERT_TRUE(load_file_onto(l, second).ok());
  EXPECT_EQ(error_of(validate(l)),
            second +
                ":2: peer_timeout (90) must exceed active_interval (100); otherwise peers "
                "expire between two announces");
  // A --set mends it.
  ASSERT_TRUE(apply_override(l, "peer_timeout=101").ok());
  EXPECT_TRUE(validate(l).ok());
  ASSERT_TRUE(apply_override(l, "topology=static").ok());
  EXPECT_EQ(error_of(validate(l)),
            "--set 'topology=static': topology \"static\" needs topology_file, a file of \"CIDR "
            "rack\" lines");
}

TEST(LayerTest, AFailedLayerSaysWhere) {
  auto bad = temp_file("bad-layer.cfg", "PORT = 1\nMAXPEERS = 0\n");
  Loaded l;
  EXPECT_EQ(error_of(load_file_onto(l, bad)),
            bad + ":2: key 'MAXPEERS': expected an integer from 1 to 2000, got 0");
  EXPECT_EQ(error_of(apply_override(l, "port")),
            "--set 'port': expected key=value, such as --set port=7000");
}

// --- The files in the source tree -------------------------------------------------
//
// etc/p2ptracker.toml and the key table in docs/configuration.md are generated
// from the key table. After changing a key, regenerate them with
//   P2P_UPDATE_GOLDEN=1 build/tests/config/config_test --gtest_filter='GoldenTest.*'

bool update_golden() {
  const char* env = std::getenv("P2P_UPDATE_GOLDEN");
  return env != nullptr && std::string_view(env) == "1";
}

TEST(GoldenTest, ExampleTomlIsPrintConfigOfTheDefaults) {
  auto path = source_path("etc/p2ptracker.toml");
  if (update_golden()) write_text(path, to_toml(Config{}));
  EXPECT_EQ(read_text(path), to_toml(Config{}))
      << "etc/p2ptracker.toml is stale; see the comment above GoldenTest";
  auto config = load_file(path.string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config, Config{});
}

TEST(GoldenTest, DocsKeyTableMatchesTheKeyTable) {
  constexpr std::string_view kBegin = "<!-- keys:begin -->\n";
  constexpr std::string_view kEnd = "<!-- keys:end -->";
  auto path = source_path("docs/configuration.md");
  std::string doc = read_text(path);
  auto begin = doc.find(kBegin);
  auto end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << "no " << kBegin << " in " << path;
  ASSERT_NE(end, std::string::npos) << "no " << kEnd << " in " << path;
  ASSERT_LT(begin, end);
  begin += kBegin.size();
  if (update_golden()) {
    doc.replace(begin, end - begin, key_reference_markdown());
    write_text(path, doc);
    end = begin + key_reference_markdown().size();
  }
  EXPECT_EQ(doc.substr(begin, end - begin), key_reference_markdown())
      << "docs/configuration.md is stale; see the comment above GoldenTest";
}

TEST(MarkdownTest, OneRowPerKey) {
  std::string table = key_reference_markdown();
  EXPECT_THAT(table, StartsWith("| Key | Type | Default | Meaning |\n|---|---|---|---|\n"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 2 + 76);
  EXPECT_THAT(table, HasSubstr("\n| `port` | integer 0-65535 | `6969` | "));
  EXPECT_THAT(table, HasSubstr("\n| `store` | `memory` or `redis` | `\"memory\"` | "));
  EXPECT_THAT(table, HasSubstr("\n| `trusted_proxies` | array of CIDR strings | "
                               "`[\"127.0.0.1/32\", \"::1/128\"]` | "));
  EXPECT_THAT(table, HasSubstr("\n| `active_interval` | integer >= 1 | `45` | "));
}

}  // namespace
}  // namespace p2p::config

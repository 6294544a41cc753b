// The original p2ptracker's Python-style config files.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config_test.h"

namespace p2p::config {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::source_path;
using ::testing::StartsWith;
using testing::temp_file;

core::Cidr cidr(std::string_view text) { return *core::Cidr::parse(text); }

Config parse_ok(std::string_view text) {
  auto config = parse_legacy(text, "x.cfg");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

TEST(LegacyTest, ExampleFileLoads) {
  auto config = load_file(source_path("etc/legacy-example.cfg").string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  Config expected;
  expected.host = "p2p-tracker.internal";
  expected.port = 6969;
  expected.redishost = "redis.internal";
  expected.redisport = 6379;
  expected.store = "redis";  // REDISHOST implies it
  expected.smdb_url = "http://smdb.internal/api/";
  expected.max_repr_rack = 2;
  expected.active_interval = 60;
  expected.passive_interval = 300;
  expected.maxpeers = 35;
  expected.proxypass = false;
  expected.debug = false;
  EXPECT_EQ(*config, expected);
}

TEST(LegacyTest, TheOriginalsElevenKeys) {
  Config c = parse_ok(R"(HOST = "::"
PORT = 7000
REDISHOST = "r"
REDISPORT = 6380
SMDB_URL = "http://smdb/"
MAX_REPR_RACK = 3
ACTIVE_INTERVAL = 30
PASSIVE_INTERVAL = 600
MAXPEERS = 50
PROXYPASS = True
DEBUG = True
)");
  EXPECT_EQ(c.host, "::");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.redishost, "r");
  EXPECT_EQ(c.redisport, 6380);
  EXPECT_EQ(c.smdb_url, "http://smdb/");
  EXPECT_EQ(c.max_repr_rack, 3);
  EXPECT_EQ(c.active_interval, 30);
  EXPECT_EQ(c.passive_interval, 600);
  EXPECT_EQ(c.maxpeers, 50);
  EXPECT_TRUE(c.proxypass);
  EXPECT_TRUE(c.debug);
}

TEST(LegacyTest, OurKeysInUpperCase) {
  Config c = parse_ok(R"(STORE = "redis"
REDIS_PREFIX = 'p2p:'
OPEN = True
FULL_SCRAPE = False
TRUSTED_NETWORKS = ['10.0.0.0/8', "2001:db8::/32",]
TRUSTED_PROXIES = ("127.0.0.1",)
TOPOLOGY = 'static'
TOPOLOGY_FILE = '/etc/racks'
SUBNET_PREFIX_V4 = 26
MAX_TORRENT_BYTES = 64 * 1024 * 1024
LOG_LEVEL = "warn"
)");
  EXPECT_EQ(c.store, "redis");
  EXPECT_EQ(c.redis_prefix, "p2p:");
  EXPECT_TRUE(c.open);
  EXPECT_FALSE(c.full_scrape);
  EXPECT_EQ(c.trusted_networks,
            (std::vector<core::Cidr>{cidr("10.0.0.0/8"), cidr("2001:db8::/32")}));
  EXPECT_EQ(c.trusted_proxies, std::vector<core::Cidr>{cidr("127.0.0.1/32")});
  EXPECT_EQ(c.topology, "static");
  EXPECT_EQ(c.topology_file, "/etc/racks");
  EXPECT_EQ(c.subnet_prefix_v4, 26);
  EXPECT_EQ(c.max_torrent_bytes, 64 << 20);
  EXPECT_EQ(c.log_level, "warn");
}

TEST(LegacyTest, StringsBothQuotesEscapesAndComments) {
  Config c = parse_ok(
      "# comment\n"
      "\n"
      "   \n"
      "HOST = 'a \"b\" #c'  # trailing comment\n"
      "SMDB_URL = \"it's \\\"q\\\" \\\\ \\n\"\n"
      "REDIS_PREFIX = 'tab\\there\\d'\r\n"
      "DATA_DIR='/x'\n"
      "TOPOLOGY_FILE = ''\n");
  EXPECT_EQ(c.host, "a \"b\" #c");
  EXPECT_EQ(c.smdb_url, "it's \"q\" \\ \n");
  EXPECT_EQ(c.redis_prefix, "tab\there\\d");  // unknown escapes stay, as in Python
  EXPECT_EQ(c.data_dir, "/x");
  EXPECT_EQ(c.topology_file, "");
}

struct Arithmetic {
  const char* expression;
  int value;
};

class LegacyArithmeticTest : public ::testing::TestWithParam<Arithmetic> {};

TEST_P(LegacyArithmeticTest, EvaluatesLikePython) {
  // MAX_CONNECTIONS takes any integer >= 1; the offset keeps negative results valid.
  std::string text = "MAX_CONNECTIONS = 1000 + (" + std::string(GetParam().expression) + ")\n";
  Config c = parse_ok(text);
  EXPECT_EQ(c.max_connections, 1000 + GetParam().value) << GetParam().expression;
}

INSTANTIATE_TEST_SUITE_P(Expressions, LegacyArithmeticTest,
                         ::testing::Values(Arithmetic{"5 * 60", 300}, Arithmetic{"1 + 2 * 3", 7},
                                           Arithmetic{"(1 + 2) * 3", 9},
                                           Arithmetic{"10 - 4 - 3", 3}, Arithmetic{"7 // 2", 3},
                                           Arithmetic{"-7 // 2", -4}, Arithmetic{"7 // -2", -4},
                                           Arithmetic{"-7 // -2", 3}, Arithmetic{"2 * -3", -6},
                                           Arithmetic{"--5", 5}, Arithmetic{"+5", 5},
                                           Arithmetic{"1_000", 1000}, Arithmetic{"((((42))))", 42},
                                           Arithmetic{"24*60*60 // 3600", 24}));

TEST(LegacyTest, NoneLeavesTheDefault) {
  Config c = parse_ok("PORT = None\nHOST = None  # default\nMAXPEERS = 10\n");
  EXPECT_EQ(c.port, Config{}.port);
  EXPECT_EQ(c.host, Config{}.host);
  EXPECT_EQ(c.maxpeers, 10);
}

TEST(LegacyTest, RedisKeysImplyRedisStore) {
  EXPECT_EQ(parse_ok("REDISHOST = 'r'\n").store, "redis");
  EXPECT_EQ(parse_ok("REDISPORT = 6380\n").store, "redis");
  // An explicit STORE wins, before or after.
  EXPECT_EQ(parse_ok("STORE = 'memory'\nREDISHOST = 'r'\n").store, "memory");
  EXPECT_EQ(parse_ok("REDISHOST = 'r'\nSTORE = 'memory'\n").store, "memory");
  // None sets nothing, so implies nothing.
  EXPECT_EQ(parse_ok("REDISHOST = None\n").store, "memory");
  EXPECT_EQ(parse_ok("PORT = 1\n").store, "memory");
  // TOML files have no such rule.
  auto toml = parse_toml("redishost = \"r\"\n", "t.toml");
  ASSERT_TRUE(toml.ok());
  EXPECT_EQ(toml->store, "memory");
}

TEST(LegacyTest, UnknownKeyNamesLineAndKey) {
  EXPECT_THAT(error_of(parse_legacy("PORT = 1\n\nFOO = 1\n", "x.cfg")),
              StartsWith("x.cfg:3: unknown key 'FOO' (known keys: HOST, PORT, REDISHOST, "));
  EXPECT_EQ(error_of(parse_legacy("PROXY_PASS = True\n", "x.cfg")),
            "x.cfg:1: unknown key 'PROXY_PASS'; did you mean 'PROXYPASS'?");
}

TEST(LegacyTest, WrongTypeOrRangeNamesLineKeyAndWhatIsValid) {
  EXPECT_EQ(error_of(parse_legacy("HOST = 'x'\nPORT = \"abc\"\n", "x.cfg")),
            "x.cfg:2: key 'PORT': expected an integer from 0 to 65535, got \"abc\"");
  EXPECT_EQ(error_of(parse_legacy("PORT = 70000 - 1", "x.cfg")),
            "x.cfg:1: key 'PORT': expected an integer from 0 to 65535, got 70000 - 1");
  EXPECT_EQ(error_of(parse_legacy("DEBUG = 1", "x.cfg")),
            "x.cfg:1: key 'DEBUG': expected True or False, got 1");
  EXPECT_EQ(error_of(parse_legacy("HOST = True", "x.cfg")),
            "x.cfg:1: key 'HOST': expected a quoted string, got True");
  EXPECT_EQ(error_of(parse_legacy("MAXPEERS = 5000  # too many", "x.cfg")),
            "x.cfg:1: key 'MAXPEERS': expected an integer from 1 to 2000, got 5000");
  EXPECT_EQ(error_of(parse_legacy("PASSIVE_INTERVAL = 0 * 60", "x.cfg")),
            "x.cfg:1: key 'PASSIVE_INTERVAL': expected an integer of at least 1, got 0 * 60");
  EXPECT_EQ(error_of(parse_legacy("STORE = 'disk'", "x.cfg")),
            "x.cfg:1: key 'STORE': expected one of \"memory\" or \"redis\", got 'disk'");
  EXPECT_EQ(error_of(parse_legacy("TRUSTED_NETWORKS = '10.0.0.0/8'", "x.cfg")),
            "x.cfg:1: key 'TRUSTED_NETWORKS': expected a list of CIDR strings such as "
            "['10.0.0.0/8'], got '10.0.0.0/8'");
  EXPECT_EQ(error_of(parse_legacy("\nTRUSTED_NETWORKS = ['10.0.0.0/8', 'bad']", "x.cfg")),
            "x.cfg:2: key 'TRUSTED_NETWORKS': 'bad' is not an IP address or CIDR prefix");
  EXPECT_EQ(error_of(parse_legacy("TRUSTED_NETWORKS = [8]", "x.cfg")),
            "x.cfg:1: key 'TRUSTED_NETWORKS': expected a CIDR string such as '10.0.0.0/8', "
            "got 8");
}

TEST(LegacyTest, UnreadableValuesNameLineAndKey) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"PORT = 5 *", "x.cfg:1: key 'PORT': cannot read 5 *: a value is missing"},
           {"PORT =", "x.cfg:1: key 'PORT': a value is missing"},
           {"PORT = # nothing", "x.cfg:1: key 'PORT': cannot read # nothing: a value is missing"},
           {"PORT = 1 / 2",
            "x.cfg:1: key 'PORT': cannot read 1 / 2: '/' gives a float in Python; use // for "
            "integer division"},
           {"PORT = 1 // 0", "x.cfg:1: key 'PORT': cannot read 1 // 0: division by zero"},
           {"PORT = 1.5",
            "x.cfg:1: key 'PORT': cannot read 1.5: '1.5' is not a whole decimal "
            "number"},
           {"PORT = 0x10",
            "x.cfg:1: key 'PORT': cannot read 0x10: '0x10' is not a whole decimal "
            "number"},
           {"PORT = 99999999999999999999",
            "x.cfg:1: key 'PORT': cannot read 99999999999999999999: integer too large"},
           {"PORT = 9999999999 * 9999999999",
            "x.cfg:1: key 'PORT': cannot read 9999999999 * 9999999999: integer too large"},
           {"PORT = OTHER",
            "x.cfg:1: key 'PORT': cannot read OTHER: unknown name 'OTHER' "
            "(values are quoted strings, integers, True, False or None)"},
           {"HOST = 'abc", "x.cfg:1: key 'HOST': cannot read 'abc: unterminated string"},
           {"HOST = 'a' + 1",
            "x.cfg:1: key 'HOST': cannot read 'a' + 1: '+' needs integers on both sides"},
           {"PORT = (1", "x.cfg:1: key 'PORT': cannot read (1: expected ',' or ')'"},
           {"PORT = 1 2", "x.cfg:1: key 'PORT': cannot read 1 2: unexpected '2'"},
           {"PORT = ()",
            "x.cfg:1: key 'PORT': cannot read (): () is an empty tuple; use [] for "
            "an empty list"},
       }) {
    EXPECT_EQ(error_of(parse_legacy(c.text, "x.cfg")), c.message) << c.text;
  }
}

TEST(LegacyTest, LinesThatAreNotUpperCaseAssignments) {
  EXPECT_EQ(error_of(parse_legacy("PORT = 1\nport = 2\n", "x.cfg")),
            "x.cfg:2: expected KEY = value with an upper-case KEY (the original p2ptracker's "
            "format), got 'port = 2'");
  EXPECT_THAT(error_of(parse_legacy("  PORT = 2\n", "x.cfg")),
              StartsWith("x.cfg:1: expected KEY = value"));
  EXPECT_THAT(error_of(parse_legacy("PORT == 2\n", "x.cfg")),
              StartsWith("x.cfg:1: expected KEY = value"));
  EXPECT_THAT(error_of(parse_legacy("import os\n", "x.cfg")),
              StartsWith("x.cfg:1: expected KEY = value"));
  EXPECT_THAT(error_of(parse_legacy("PORT: int = 2\n", "x.cfg")),
              StartsWith("x.cfg:1: expected KEY = value"));
}

TEST(LegacyTest, KeySetTwiceIsAnError) {
  EXPECT_EQ(error_of(parse_legacy("PORT = 1\nHOST = 'h'\nPORT = 2\n", "x.cfg")),
            "x.cfg:3: key 'PORT' is set twice (first on line 1)");
}

TEST(LegacyTest, EmptyFileGivesDefaults) { EXPECT_EQ(parse_ok(""), Config{}); }

TEST(LegacyTest, LoadFileNamesThePathAndValidates) {
  auto path = temp_file("legacy-bad.cfg", "# old\nHOST = 'h'\nPORT = 'x'\n");
  EXPECT_EQ(error_of(load_file(path)),
            path + ":3: key 'PORT': expected an integer from 0 to 65535, got 'x'");
  auto cross = temp_file("legacy-static.cfg", "TOPOLOGY = 'static'\n");
  EXPECT_EQ(error_of(load_file(cross)),
            cross + ":1: topology \"static\" needs topology_file, a file of \"CIDR rack\" lines");
}

TEST(LegacyTest, PrintedAsTomlReadsBackTheSame) {
  auto config = load_file(source_path("etc/legacy-example.cfg").string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto back = parse_toml(to_toml(*config), "print");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, *config);
}

}  // namespace
}  // namespace p2p::config

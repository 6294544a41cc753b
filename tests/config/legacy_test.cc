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
  expected.topology = {"smdb", "subnet"};  // SMDB_URL implies it
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
  EXPECT_EQ(c.topology, std::vector<std::string>{"static"});
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

// A legacy layer on top of the defaults; the test fails if it does not load.
Loaded layer(std::string_view text, std::string_view source = "x.cfg") {
  Loaded loaded;
  auto status = parse_legacy_onto(loaded, text, source);
  EXPECT_TRUE(status.ok()) << status.error().message;
  return loaded;
}

TEST(LegacyTest, UnknownKeyIsAWarningNamingLineAndKey) {
  Loaded l = layer("PORT = 1\n\nFOO = os.urandom(24)\nPROXY_PASS = True\nMAXPEERS = 9\n");
  EXPECT_EQ(l.warnings, (std::vector<std::string>{
                            "x.cfg:3: unknown key 'FOO' ignored",
                            "x.cfg:4: unknown key 'PROXY_PASS' ignored; did you mean 'PROXYPASS'?",
                        }));
  // The rest of the file applies; an unknown key's value is not even read.
  EXPECT_EQ(l.config.port, 1);
  EXPECT_EQ(l.config.maxpeers, 9);
  EXPECT_FALSE(l.config.proxypass);
}

TEST(LegacyTest, NamesNotAllUpperCaseAreIgnoredWithAWarning) {
  // Flask's from_pyfile keeps only names for which str.isupper() holds.
  Loaded l = layer("PORT = 1\nport = 2\nminutes = 60\nPort = 3\nX_1 = 4\n_ = 5\n");
  EXPECT_EQ(l.config.port, 1);
  ASSERT_EQ(l.warnings.size(), 5u);
  EXPECT_EQ(l.warnings[0],
            "x.cfg:2: 'port' ignored: only UPPER_CASE names are settings (the original read this "
            "file with Flask's from_pyfile, which keeps only those); did you mean 'PORT'?");
  EXPECT_THAT(l.warnings[1], StartsWith("x.cfg:3: 'minutes' ignored: only UPPER_CASE names"));
  EXPECT_THAT(l.warnings[1], ::testing::EndsWith("keeps only those)"));
  EXPECT_THAT(l.warnings[2], StartsWith("x.cfg:4: 'Port' ignored"));
  EXPECT_EQ(l.warnings[3], "x.cfg:5: unknown key 'X_1' ignored");
  EXPECT_THAT(l.warnings[4], StartsWith("x.cfg:6: '_' ignored"));
}

TEST(LegacyTest, ImportsAreIgnoredWithAWarning) {
  Loaded l = layer("import os\nfrom datetime import timedelta\nPORT = 1\n");
  EXPECT_EQ(l.config.port, 1);
  EXPECT_EQ(l.warnings,
            (std::vector<std::string>{
                "x.cfg:1: 'import os' ignored: p2ptracker reads these files without running Python",
                "x.cfg:2: 'from datetime import timedelta' ignored: p2ptracker reads these files "
                "without running Python",
            }));
}

TEST(LegacyTest, DocstringsAndStatementsOverSeveralLines) {
  Loaded l = layer(R"(# -*- coding: utf-8 -*-
"""Settings of the tracker.

'Quotes', "quotes" and a # that is no comment.
"""
'another string on its own'
r"raw"
TRUSTED_NETWORKS = [
    '10.0.0.0/8',  # the office
    "192.168.0.0/16",
]
PASSIVE_INTERVAL = 5 * \
    60
SMDB_URL = """http://smdb/"""
MAXPEERS = (30 +
            5)
PORT = 7
)");
  EXPECT_TRUE(l.warnings.empty());
  EXPECT_EQ(l.config.trusted_networks,
            (std::vector<core::Cidr>{cidr("10.0.0.0/8"), cidr("192.168.0.0/16")}));
  EXPECT_EQ(l.config.passive_interval, 300);
  EXPECT_EQ(l.config.smdb_url, "http://smdb/");
  EXPECT_EQ(l.config.maxpeers, 35);
  EXPECT_EQ(l.config.port, 7);
  // Line numbers count physical lines: a statement is named by its first.
  EXPECT_EQ(l.origins.at("trusted_networks").line, 8);
  EXPECT_EQ(l.origins.at("maxpeers").line, 15);
  EXPECT_EQ(l.origins.at("port").line, 17);
}

TEST(LegacyTest, UnterminatedStringsNameTheirLine) {
  EXPECT_EQ(error_of(parse_legacy("PORT = 1\n\"\"\"doc\n\nMAXPEERS = 2\n", "x.cfg")),
            "x.cfg:2: a triple-quoted string starts here and never ends");
  EXPECT_EQ(error_of(parse_legacy("HOST = 'abc\nPORT = 1\n", "x.cfg")),
            "x.cfg:1: key 'HOST': cannot read 'abc: unterminated string");
  EXPECT_THAT(error_of(parse_legacy("\"doc\" 1\n", "x.cfg")), StartsWith("x.cfg:1: cannot read"));
}

// Found by the config_legacy fuzz target (tests/fuzz/corpus/config_legacy/
// issue10_not_utf8): a string with a byte that is not UTF-8 was accepted, and
// --print-config then wrote a TOML file that does not read back.
TEST(LegacyTest, Issue10StringsThatAreNotUtf8AreErrors) {
  EXPECT_THAT(error_of(parse_legacy("PORT = 1\nHOST = \":\x89:\"\n", "x.cfg")),
              StartsWith("x.cfg:2: key 'HOST': cannot read"));
  EXPECT_THAT(error_of(parse_legacy("HOST = 'a\xc0\xaf' 'b'\n", "x.cfg")), HasSubstr("UTF-8"));
  EXPECT_THAT(error_of(parse_legacy("HOST = 'a\xed\xa0\x80'\n", "x.cfg")), HasSubstr("UTF-8"));
  EXPECT_EQ(
      parse_ok("SMDB_URL = 'http://smdb/h\xc3\xb4te-\xe2\x82\xac-\xf0\x9f\x9a\x80/'\n").smdb_url,
      "http://smdb/h\xc3\xb4te-\xe2\x82\xac-\xf0\x9f\x9a\x80/");
}

TEST(LegacyTest, QuotedIntegersForIntegerKeys) {
  // The original ran int(PORT); its files say PORT = "5000".
  Config c = parse_ok("PORT = \"5000\"\nMAXPEERS = ' 30 '\nUDP_PORT = '-1'\nHOST = \"80\"\n");
  EXPECT_EQ(c.port, 5000);
  EXPECT_EQ(c.maxpeers, 30);
  EXPECT_EQ(c.udp_port, -1);
  EXPECT_EQ(c.host, "80");  // a string key keeps the string
  EXPECT_EQ(error_of(parse_legacy("PORT = '70000'", "x.cfg")),
            "x.cfg:1: key 'PORT': expected an integer from 0 to 65535, got '70000'");
  EXPECT_EQ(error_of(parse_legacy("PORT = '5 * 60'", "x.cfg")),
            "x.cfg:1: key 'PORT': expected an integer from 0 to 65535, got '5 * 60'");
  EXPECT_EQ(error_of(parse_legacy("PORT = ''", "x.cfg")),
            "x.cfg:1: key 'PORT': expected an integer from 0 to 65535, got ''");
  EXPECT_EQ(error_of(parse_legacy("DEBUG = 'True'", "x.cfg")),
            "x.cfg:1: key 'DEBUG': expected True or False, got 'True'");
}

TEST(LegacyTest, UploadPathSetsDataDir) {
  Loaded l = layer("\nUPLOAD_PATH = \"/tmp/p2ptracker\"\n");
  EXPECT_EQ(l.config.data_dir, "/tmp/p2ptracker");
  EXPECT_EQ(l.origins.at("data_dir").line, 2);
  EXPECT_EQ(l.origins.at("data_dir").written, "UPLOAD_PATH");
  // DATA_DIR in the same file wins, before or after.
  for (const char* text :
       {"UPLOAD_PATH = '/u'\nDATA_DIR = '/d'\n", "DATA_DIR = '/d'\nUPLOAD_PATH = '/u'\n"}) {
    Loaded both = layer(text);
    EXPECT_EQ(both.config.data_dir, "/d") << text;
    ASSERT_EQ(both.warnings.size(), 1u) << text;
    EXPECT_THAT(both.warnings[0], HasSubstr("'UPLOAD_PATH' ignored: DATA_DIR on line "));
  }
  EXPECT_EQ(error_of(parse_legacy("UPLOAD_PATH = ''", "x.cfg")),
            "x.cfg:1: key 'UPLOAD_PATH': expected a non-empty string, got ''");
  // Not a TOML key.
  EXPECT_THAT(error_of(parse_toml("upload_path = \"/u\"", "t.toml")),
              StartsWith("t.toml:1: unknown key 'upload_path'"));
}

TEST(LegacyTest, KeySetTwiceWarnsAndTheLastCounts) {
  Loaded l = layer("PORT = 1\nHOST = 'h'\nPORT = 2\n");
  EXPECT_EQ(l.config.port, 2);
  EXPECT_EQ(l.warnings, std::vector<std::string>{
                            "x.cfg:3: key 'PORT' is set again (first on line 1); the last value "
                            "counts, as in Python"});
  EXPECT_EQ(l.origins.at("port").line, 3);
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
  EXPECT_EQ(error_of(parse_legacy("MAXPEERS = 5000  # too many\n", "x.cfg")),
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

TEST(LegacyTest, StatementsThatAreNotAssignmentsAreErrors) {
  for (const char* text : {"  PORT = 2\n", "PORT == 2\n", "PORT: int = 2\n", "PORT += 1\n",
                           "if True:\n", "print('x')\n", "1PORT = 2\n"}) {
    EXPECT_THAT(error_of(parse_legacy(text, "x.cfg")),
                StartsWith("x.cfg:1: expected KEY = value (the original p2ptracker's format), got"))
        << text;
  }
  EXPECT_EQ(error_of(parse_legacy("PORT = 1\n\tHOST = 'h'\n", "x.cfg")),
            "x.cfg:2: expected KEY = value (the original p2ptracker's format), got 'HOST = 'h''");
}

TEST(LegacyTest, EmptyFileGivesDefaults) {
  EXPECT_EQ(parse_ok(""), Config{});
  EXPECT_EQ(parse_ok("# nothing\n\n\"\"\"just a docstring\"\"\"\n"), Config{});
}

TEST(LegacyTest, LoadFileNamesThePathAndValidates) {
  auto path = temp_file("legacy-bad.cfg", "# old\nHOST = 'h'\nPORT = 'x'\n");
  EXPECT_EQ(error_of(load_file(path)),
            path + ":3: key 'PORT': expected an integer from 0 to 65535, got 'x'");
  auto cross = temp_file("legacy-static.cfg", "TOPOLOGY = 'static'\n");
  EXPECT_EQ(error_of(load_file(cross)),
            cross + ":1: topology \"static\" needs topology_file, a file of \"CIDR rack\" lines");
}

// --- The original's own three files (tests/testdata/original, rebuilt from
// the table in original-behaviour.md (f)) ------------------------------------

// The values every one of the three files gives.
Config original_common() {
  Config c;
  c.redishost = "localhost";
  c.redisport = 6379;
  c.store = "redis";  // REDISHOST implies it
  c.max_repr_rack = 2;
  c.passive_interval = 300;
  c.debug = false;
  c.proxypass = false;
  return c;
}

std::string original(std::string_view file) {
  return source_path("tests/testdata/original/" + std::string(file)).string();
}

TEST(OriginalFilesTest, DefaultconfigPyLoads) {
  Loaded l;
  auto path = original("defaultconfig.py");
  ASSERT_TRUE(load_file_onto(l, path).ok());
  ASSERT_TRUE(validate(l).ok());
  Config expected = original_common();
  expected.host = "localhost";
  expected.port = 5000;
  expected.debug = true;
  expected.smdb_url = "http://192.168.135.20:5000";
  expected.topology = {"smdb", "subnet"};  // SMDB_URL implies it
  expected.active_interval = 15;
  expected.maxpeers = 30;
  expected.proxypass = true;
  expected.data_dir = "/tmp/p2ptracker";
  EXPECT_EQ(l.config, expected);
  EXPECT_TRUE(l.warnings.empty()) << l.warnings.front();
  EXPECT_EQ(l.blame("host", "x"), path + ":8: key 'HOST': x");
  EXPECT_EQ(l.blame("port", "x"), path + ":9: key 'PORT': x");
  EXPECT_EQ(l.blame("debug", "x"), path + ":10: key 'DEBUG': x");
  EXPECT_EQ(l.blame("data_dir", "x"), path + ":17: key 'UPLOAD_PATH': x");
  EXPECT_EQ(l.blame("store", "x"), path + ":11: key 'REDISHOST': x");
}

TEST(OriginalFilesTest, DebugCfgLoadsAndWarnsAboutFcgiSocket) {
  Loaded l;
  auto path = original("etc/p2ptracker.debug.cfg");
  ASSERT_TRUE(load_file_onto(l, path).ok());
  ASSERT_TRUE(validate(l).ok());
  Config expected = original_common();
  expected.host = "127.0.0.1";
  expected.port = 5000;
  expected.smdb_url = "http://smdb-api.internal";
  expected.topology = {"smdb", "subnet"};  // SMDB_URL implies it
  expected.active_interval = 45;
  expected.maxpeers = 35;
  EXPECT_EQ(l.config, expected);
  EXPECT_EQ(l.warnings, std::vector<std::string>{path + ":12: unknown key 'FCGI_SOCKET' ignored"});
}

TEST(OriginalFilesTest, ProductionCfgLoads) {
  Loaded l;
  auto path = original("etc/p2ptracker.production.cfg");
  ASSERT_TRUE(load_file_onto(l, path).ok());
  ASSERT_TRUE(validate(l).ok());
  Config expected = original_common();
  expected.host = "p2p-tracker.internal";  // resolved when the server starts, not here
  expected.port = 80;
  expected.smdb_url = "http://smdb-api.internal";
  expected.topology = {"smdb", "subnet"};  // SMDB_URL implies it
  expected.active_interval = 45;
  expected.maxpeers = 35;
  EXPECT_EQ(l.config, expected);
  EXPECT_TRUE(l.warnings.empty());
}

TEST(OriginalFilesTest, LayeredAsTheOriginalLoadedThem) {
  // defaultconfig.py, then the file given: what the file does not set stays.
  Loaded l;
  auto defaults = original("defaultconfig.py");
  auto debug = original("etc/p2ptracker.debug.cfg");
  ASSERT_TRUE(load_file_onto(l, defaults).ok());
  ASSERT_TRUE(load_file_onto(l, debug).ok());
  EXPECT_EQ(l.config.active_interval, 45);
  EXPECT_EQ(l.config.data_dir, "/tmp/p2ptracker");
  EXPECT_FALSE(l.config.debug);
  EXPECT_EQ(l.blame("active_interval", "x"), debug + ":19: key 'ACTIVE_INTERVAL': x");
  EXPECT_EQ(l.blame("data_dir", "x"), defaults + ":17: key 'UPLOAD_PATH': x");
  EXPECT_EQ(l.warnings, std::vector<std::string>{debug + ":12: unknown key 'FCGI_SOCKET' ignored"});
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

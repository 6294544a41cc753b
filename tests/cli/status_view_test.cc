// What `status` and `watch` show of a reply: any JSON renders, and nothing in
// it reaches the terminal as a control sequence.
#include "cli/status_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cli/terminal.h"
#include "support/control_characters.h"

namespace p2p::cli {
namespace {

using nlohmann::json;
using test::has_control_character;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrintableTest, ControlCharactersBecomeQuestionMarks) {
  EXPECT_EQ(printable("rack\x1b[2Jx"), "rack?[2Jx");
  EXPECT_EQ(printable("title\x1b]0;pwned\x07"), "title?]0;pwned?");
  EXPECT_EQ(printable("a\rb\x7f"), "a?b?");
  EXPECT_EQ(printable("csi \xc2\x9b"
                      "31m"),
            "csi ?31m");  // U+009B, the 8-bit CSI
  // Line feeds, tabs and the rest of UTF-8 are shown as they are.
  EXPECT_EQ(printable("caf\xc3\xa9\tr\xc3\xa4"
                      "ck\n"),
            "caf\xc3\xa9\tr\xc3\xa4"
            "ck\n");
  EXPECT_EQ(printable("\xc2\xa0nbsp \xc2"), "\xc2\xa0nbsp \xc2");
}

TEST(StatusViewTest, AReplyOfTheTrackersShapeRenders) {
  const json stats = {
      {"global", {{"name", "app"}, {"file", "app.torrent"}, {"peers", 4}, {"progress", 50.0}}},
      {"racks",
       {{"127.0.10.0/24", {{"N", 2}, {"R", 1}, {"S", 0}, {"progress", 25.0}}},
        {"127.0.9.0/24", {{"N", 2}, {"R", 2}, {"S", 2}, {"progress", 100.0}, {"complete", true}}}}},
      {"levels", {{"dc1", {{"level", "dc"}, {"representatives", {"127.0.9.1:6881"}}}}}}};
  const auto rows = rack_rows(stats);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (RackRow{"127.0.9.0/24", 2, 2, 2, 100.0, 0, true}));
  EXPECT_EQ(rows[1], (RackRow{"127.0.10.0/24", 2, 1, 0, 25.0, 0, false}));
  EXPECT_THAT(transfer_summary(stats), HasSubstr("transfer   app (app.torrent, 0 B)"));
  EXPECT_THAT(levels_table(stats), HasSubstr("dc1    dc     -       127.0.9.1:6881"));
}

// Each of these reached nlohmann's value() or get<>() somewhere in the
// commands and threw.
TEST(StatusViewTest, AnyJsonRendersWithoutThrowing) {
  const json replies[] = {
      json(nullptr),
      json(3),
      json("x"),
      json::array({1, "a", json::object()}),
      json{{"global", "x"}, {"racks", json::array()}, {"levels", 3}},
      json{{"global", {{"name", 3}, {"peers", -1}, {"progress", "x"}, {"complete", 1}}},
           {"racks", {{"r", "x"}, {"s", {{"N", "1"}, {"progress", json::object()}}}}},
           {"levels",
            {{"g", 3}, {"h", {{"representatives", 5}}}, {"i", {{"representatives", {1, "a"}}}}}}},
  };
  for (const json& stats : replies) {
    EXPECT_NO_THROW({
      rack_rows(stats);
      level_rows(stats);
      racks_table(stats);
      levels_table(stats);
      transfer_summary(stats);
      transfers_table(
          {stats, stats.is_object() && stats.contains("global") ? stats["global"] : stats});
    }) << stats;
  }
  const json odd = replies[5];
  EXPECT_THAT(transfer_summary(odd), HasSubstr("transfer   - (-, 0 B)"));
  EXPECT_THAT(transfer_summary(odd), HasSubstr("peers      0 ("));
  const auto levels = level_rows(odd);
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[2].representatives, "a");
}

TEST(StatusViewTest, TheHistoryIsATableNewestFirst) {
  const json history = {{"deploys",
                         {{{"info_hash", "a6c0"},
                           {"file", "app-42.torrent"},
                           {"deregistered", "2026-12-07T19:00:01Z"},
                           {"duration", 121},
                           {"peers", 10},
                           {"completed", 9},
                           {"racks", 4}},
                          {{"info_hash", "b7d1"},
                           {"file", "app-41.torrent"},
                           {"deregistered", "2026-12-06T08:00:00Z"},
                           {"duration", nullptr},
                           {"peers", 3},
                           {"completed", 0},
                           {"racks", 1}}}}};
  const std::string table = history_table(history);
  EXPECT_THAT(table, HasSubstr("ENDED"));
  EXPECT_THAT(
      table,
      HasSubstr("2026-12-07T19:00:01Z  app-42.torrent  a6c0          9 / 10     2m01s      4"));
  EXPECT_THAT(
      table,
      HasSubstr("2026-12-06T08:00:00Z  app-41.torrent  b7d1           0 / 3         -      1"));
  EXPECT_LT(table.find("app-42"), table.find("app-41"));
  EXPECT_EQ(history_table(json{{"deploys", json::array()}}), "");
  // Whatever answers: no throw, no escapes.
  const std::string esc = "\x1b]0;pwned\x07";
  for (const json& odd : {json(nullptr), json{{"deploys", 3}}, json{{"deploys", {3, "x"}}},
                          json{{"deploys", {{{"duration", -5}, {"file", esc}}}}},
                          json{{"deploys", {{{"duration", 18446744073709551615ull}}}}}}) {
    EXPECT_NO_THROW(history_table(odd)) << odd;
    EXPECT_FALSE(has_control_character(history_table(odd))) << odd;
  }
}

TEST(StatusViewTest, NamesFromTheReplyCannotReachTheTerminalAsEscapes) {
  const std::string esc = "\x1b]0;pwned\x07\x1b[2J\r\xc2\x9b";
  const json stats = {
      {"global", {{"name", esc}, {"file", esc}, {"info_hash", esc}, {"started", esc}}},
      {"racks", {{esc, {{"N", 1}}}}},
      {"levels", {{esc, {{"level", esc}, {"parent", esc}, {"representatives", {esc}}}}}}};
  for (const std::string& shown :
       {transfer_summary(stats), racks_table(stats), levels_table(stats),
        transfers_table({stats["global"]}), rack_rows(stats)[0].rack, level_rows(stats)[0].group,
        level_rows(stats)[0].representatives}) {
    EXPECT_FALSE(has_control_character(shown)) << shown;
    EXPECT_THAT(shown, HasSubstr("?]0;pwned??[2J??")) << shown;
  }
  EXPECT_THAT(transfer_summary(stats), Not(HasSubstr("\x1b")));
}

}  // namespace
}  // namespace p2p::cli

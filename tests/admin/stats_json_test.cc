#include "admin/stats_json.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace p2p::admin {
namespace {

TransferStats sample() {
  TransferStats s;
  s.info_hash = *core::InfoHash::from_hex("0123456789ABCDEF0123456789abcdef01234567");
  s.file = "app.torrent";
  s.name = "app.tar";
  s.size = 1000;
  s.registered = core::TimePoint(core::Seconds(1796295740));
  s.peers = 4;
  s.seeders = 1;
  s.leechers = 3;
  s.completed = 1;
  s.slow_announcers = 2;
  s.progress = 25.0;
  s.first_start = core::PreciseTime(std::chrono::microseconds(1796295741'000250));
  RackStats r;
  r.name = "cab-A12";
  r.peers = 4;
  r.representatives = 2;
  r.seeders = 1;
  r.progress = 100.0 / 3;
  s.racks.push_back(r);
  return s;
}

class StatsJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(StatsJsonTest, OriginalShapeAndTypes) {
  auto j = original_stats_json(sample(), true);
  const auto& g = j["global"];
  EXPECT_EQ(g["size"], "1000");
  EXPECT_EQ(g["progress"], "25.00%");
  EXPECT_EQ(g["started"], "2026-12-03 11:02:20");
  EXPECT_EQ(g["first_start"], "2026-12-03 11:02:21.000250");
  EXPECT_TRUE(g["last_complete"].is_null());
  EXPECT_EQ(g["complete"], false);
  EXPECT_EQ(g["peers"], 4);
  EXPECT_FALSE(g.contains("info_hash"));  // not one of the original's fields
  EXPECT_FALSE(g.contains("slow_announcers"));
  EXPECT_EQ(j["racks"]["cab-A12"],
            nlohmann::json({{"N", 4}, {"R", 2}, {"S", 1}, {"progress", "33.33%"}}));
  EXPECT_FALSE(original_stats_json(sample(), false).contains("racks"));
}

TEST_F(StatsJsonTest, OriginalUnknownSize) {
  TransferStats s = sample();
  s.size = 0;
  auto j = original_stats_json(s, true);
  EXPECT_EQ(j["global"]["size"], 0);  // a number, as the original wrote it
  EXPECT_EQ(j["global"]["progress"], "Unknown");
  EXPECT_EQ(j["racks"]["cab-A12"]["progress"], "Unknown");
}

TEST_F(StatsJsonTest, V1NumbersAndIsoTimes) {
  auto j = v1_stats_json(sample(), true, false);
  const auto& g = j["global"];
  EXPECT_EQ(g["info_hash"], "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(g["size"], 1000);
  EXPECT_EQ(g["progress"], 25.0);
  EXPECT_EQ(g["slow_announcers"], 2);
  EXPECT_EQ(g["started"], "2026-12-03T11:02:20Z");
  EXPECT_EQ(g["first_start"], "2026-12-03T11:02:21Z");
  EXPECT_EQ(j["racks"]["cab-A12"]["progress"], 33.3);
  EXPECT_FALSE(j["racks"]["cab-A12"].contains("members"));
}

TEST(MemberListJsonTest, KeyIsTheKind) {
  EXPECT_EQ(member_list_json("seeders", {"127.0.0.1:1"}),
            nlohmann::json::parse(R"({"seeders": ["127.0.0.1:1"]})"));
  EXPECT_EQ(member_list_json("racks", {}), nlohmann::json::parse(R"({"racks": []})"));
}

}  // namespace
}  // namespace p2p::admin

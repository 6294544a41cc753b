// history.json and registry.json read back: what the tracker wrote comes back
// as it was, and what a disk, a crash or an editor made of it is left out or
// refused with a message, never thrown.
#include "admin/data_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "admin/durable_file.h"
#include "admin/history.h"
#include "admin/registry.h"

namespace p2p::admin {
namespace {

namespace fs = std::filesystem;

DeployRecord a_record() {
  DeployRecord r;
  r.info_hash = *core::InfoHash::from_hex("0123456789abcdef0123456789abcdef01234567");
  r.file = "app.torrent";
  r.name = "app.tar";
  r.size = 5'000'000'000;
  r.registered = core::TimePoint(core::Seconds(1'700'000'000));
  r.deregistered = core::TimePoint(core::Seconds(1'700'000'900));
  r.first_start = core::TimePoint(core::Seconds(1'700'000'010));
  r.last_start = core::TimePoint(core::Seconds(1'700'000'020));
  r.last_complete = core::TimePoint(core::Seconds(1'700'000'400));
  r.peers = 120;
  r.seeders = 119;
  r.completed = 118;
  r.racks = 6;
  return r;
}

std::string history_of(const std::vector<nlohmann::json>& entries) {
  return nlohmann::json{{"deploys", entries}}.dump();
}

TEST(HistoryFileTest, ARecordReadsBackAsWritten) {
  const DeployRecord r = a_record();
  auto parsed = parse_history(history_of({r.to_json()}));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->records.size(), 1u);
  EXPECT_EQ(parsed->records[0], r);
  EXPECT_EQ(parsed->skipped, 0u);
}

// Each of these threw from nlohmann's typed getters before, and the tracker
// stopped at start with "terminate called after throwing ... type_error".
TEST(HistoryFileTest, AnEntryOfTheWrongTypeOrOutOfRangeIsLeftOutNotThrown) {
  std::vector<nlohmann::json> entries;
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = a_record().to_json();
    j[key] = std::move(value);
    entries.push_back(std::move(j));
  };
  auto with_time = [&](std::size_t i, nlohmann::json value) {
    nlohmann::json j = a_record().to_json();
    j["t"][i] = std::move(value);
    entries.push_back(std::move(j));
  };
  with_time(2, "x");
  with_time(0, 1.5);
  with_time(1, -1);
  with_time(3, 253402300800);  // 10000-01-01: no four-digit year
  with_time(4, std::numeric_limits<std::uint64_t>::max());
  with("peers", "3");
  with("racks", -1);
  with("seeders", std::uint64_t{1} << 32);
  with("size", 1.0);
  with("info_hash", 12);
  with("info_hash", "not hex");
  with("file", nullptr);
  with("name", nlohmann::json::array());
  with("t", nlohmann::json::array({1, 2, 3}));
  with("t", "0,0,0,0,0,0");
  entries.push_back(42);
  entries.push_back(nullptr);
  const std::size_t bad = entries.size();
  entries.push_back(a_record().to_json());

  auto parsed = parse_history(history_of(entries));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->skipped, bad);
  ASSERT_EQ(parsed->records.size(), 1u);
  EXPECT_EQ(parsed->records[0], a_record());
}

TEST(HistoryFileTest, FieldsTheTrackerLeavesOutAreNotRequired) {
  nlohmann::json j = a_record().to_json();
  for (const char* key : {"file", "name", "size", "peers", "seeders", "completed", "racks"}) {
    j.erase(key);
  }
  auto parsed = parse_history(history_of({j}));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->records.size(), 1u);
  EXPECT_EQ(parsed->records[0].info_hash, a_record().info_hash);
  EXPECT_EQ(parsed->records[0].peers, 0u);
  EXPECT_EQ(parsed->records[0].file, "");
}

TEST(HistoryFileTest, TextThatIsNotAHistoryFileIsAnError) {
  for (const char* text : {"", "{not json", "[]", "{}", R"({"deploys": 3})", "\"deploys\""}) {
    auto parsed = parse_history(text);
    EXPECT_FALSE(parsed) << text;
    if (!parsed) {
      EXPECT_FALSE(parsed.error().message.empty());
    }
  }
}

swarm::DeployProgress a_progress() {
  swarm::DeployProgress p;
  p.first_started = core::PreciseTime(std::chrono::microseconds(1'700'000'010'123'456));
  p.last_started = p.first_started + std::chrono::seconds(3);
  p.first_completed = p.first_started + std::chrono::seconds(40);
  p.last_completed = p.first_completed + std::chrono::microseconds(7);
  p.completed = 2;
  p.joined = 4;
  p.origins_joined = 1;
  p.completions = {core::TimePoint(core::Seconds(1'700'000'050)),
                   core::TimePoint(core::Seconds(1'700'000'051))};
  p.members = {{{*core::Address::parse("10.0.1.1"), 6881}, true, false},
               {{*core::Address::parse("10.0.1.2"), 51413}, false, false, 2, 1, 38},
               {{*core::Address::parse("2001:db8::7"), 6881}, false, true}};
  return p;
}

TEST(ProgressFileTest, EveryTransfersProgressReadsBackAsWritten) {
  ProgressFile file;
  file.transfers.emplace_back(a_record().info_hash, a_progress());
  file.transfers.emplace_back(*core::InfoHash::from_hex("ffffffffffffffffffffffffffffffffffffffff"),
                              swarm::DeployProgress{});
  auto parsed = parse_progress(progress_text(file));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->skipped, 0u);
  EXPECT_EQ(parsed->transfers, file.transfers);
}

TEST(ProgressFileTest, AnEntryOfTheWrongTypeOrOutOfRangeIsLeftOutNotThrown) {
  ProgressFile file;
  file.transfers.emplace_back(a_record().info_hash, a_progress());
  auto good = nlohmann::json::parse(progress_text(file))["transfers"][0];
  // A representative's role is written after the four fields every member has.
  ASSERT_EQ(good["members"][1],
            nlohmann::json::parse(R"(["10.0.1.2", 51413, false, false, 2, 1, 38])"));
  ASSERT_EQ(good["members"][0].size(), 4u);
  std::vector<nlohmann::json> bad(14, good);
  bad[0]["info_hash"] = "xyz";
  bad[1]["t"][2] = -1;
  bad[2]["t"][3] = 253402300800000000ull;  // past 9999-12-31
  bad[3]["completed"] = 4294967296ull;
  bad[4]["completions"][0] = "2023-11-14T22:13:20Z";
  bad[5]["members"][0][0] = "10.0.1.300";
  bad[6]["members"][1][1] = 65536;
  bad[7]["members"][2] = {"10.0.1.3", 6881, 1, 0};
  bad[8].erase("members");
  bad[9] = "not an object";
  bad[10]["members"][1][4] = 0;    // a role with no rank
  bad[11]["members"][1][5] = 256;  // past a byte
  bad[12]["members"][1][6] = -1;
  bad[13]["members"][1].erase(6);  // five or six fields
  nlohmann::json transfers = nlohmann::json::array({good});
  for (const auto& b : bad) transfers.push_back(b);
  auto parsed = parse_progress(nlohmann::json{{"transfers", transfers}}.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->skipped, bad.size());
  ASSERT_EQ(parsed->transfers.size(), 1u);
  EXPECT_EQ(parsed->transfers[0].second, a_progress());
  for (const char* text : {"", "{not json", "[]", R"({"transfers": {}})"}) {
    auto refused = parse_progress(text);
    EXPECT_FALSE(refused) << text;
    if (!refused) {
      EXPECT_FALSE(refused.error().message.empty()) << text;
    }
  }
}

TEST(RegistryIndexTest, EntriesWithoutATypedFileAndTimeAreLeftOut) {
  const std::string text = R"({"torrents": [
    {"file": "a.torrent", "registered": 1700000000},
    {"file": "b.torrent", "registered": "1700000000"},
    {"file": 7, "registered": 1700000000},
    {"file": "c.torrent", "registered": 253402300800},
    {"file": "d.torrent", "registered": 18446744073709551615},
    {"file": "e.torrent", "registered": -5},
    {"file": "f.torrent", "registered": 1.7e9},
    {"file": "g.torrent"},
    "h.torrent",
    {"file": "i.torrent", "registered": 0}
  ]})";
  auto index = parse_registry_index(text);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->skipped, 8u);
  const std::map<std::string, std::int64_t> expected{{"a.torrent", 1'700'000'000},
                                                     {"i.torrent", 0}};
  EXPECT_EQ(index->registered_at, expected);
  for (const char* bad : {"", "{", "[]", R"({"torrents": {}})"}) {
    auto r = parse_registry_index(bad);
    EXPECT_FALSE(r) << bad;
  }
}

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2p-data-files-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    clock_.set(core::TimePoint(core::Seconds(1'700'001'000)));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  core::ManualClock clock_;
};

TEST_F(DataDirTest, HistoryOpensWithTheGoodRecordsAndSaysWhatItLeftOut) {
  nlohmann::json bad = a_record().to_json();
  bad["peers"] = "many";
  const std::string damaged = history_of({bad, a_record().to_json(), 1});
  ASSERT_TRUE(write_file_atomically(dir_ / "history.json", damaged));
  auto h = History::open(dir_, clock_, core::Seconds(86400));
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ((*h)->list().size(), 1u);
  EXPECT_EQ((*h)->list()[0], a_record());
  ASSERT_EQ((*h)->load_warnings().size(), 1u);
  const std::string& w = (*h)->load_warnings()[0];
  EXPECT_NE(w.find("history.json"), std::string::npos) << w;
  EXPECT_NE(w.find("left out 2 entries"), std::string::npos) << w;
  // What the entries held is not lost when the next deploy rewrites the file.
  const fs::path copy = dir_ / "history.json.damaged-20231114T223000Z";  // the clock's time
  EXPECT_NE(w.find("the file as it was is kept as " + copy.string()), std::string::npos) << w;
  auto kept = read_file(copy);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(*kept, damaged);
  ASSERT_TRUE((*h)->add(a_record()));
  EXPECT_EQ(*read_file(copy), damaged);
}

// Where the copy cannot be written (a read-only data_dir, which is served as
// it is; here a directory in its place), the warning says so and the start
// goes on.
TEST_F(DataDirTest, ADamagedHistoryThatCannotBeCopiedStillOpens) {
  nlohmann::json bad = a_record().to_json();
  bad["t"] = "x";
  ASSERT_TRUE(write_file_atomically(dir_ / "history.json", history_of({bad})));
  fs::create_directories(dir_ / "history.json.damaged-20231114T223000Z" / "in-the-way");
  auto h = History::open(dir_, clock_, core::Seconds(86400));
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ((*h)->load_warnings().size(), 1u);
  EXPECT_NE((*h)->load_warnings()[0].find("the file as it was could not be kept (cannot rename"),
            std::string::npos)
      << (*h)->load_warnings()[0];
}

TEST_F(DataDirTest, AHistoryFileThatIsNotOneIsAnErrorNamingIt) {
  ASSERT_TRUE(write_file_atomically(dir_ / "history.json", R"({"deploys": {}})"));
  auto h = History::open(dir_, clock_, core::Seconds(86400));
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("history.json"), std::string::npos) << h.error().message;
  EXPECT_NE(h.error().message.find("\"deploys\""), std::string::npos) << h.error().message;
}

TEST_F(DataDirTest, ARegistryIndexEntryOutOfRangeCountsAsRegisteredNow) {
  fs::create_directories(dir_ / "torrents");
  ASSERT_TRUE(write_file_atomically(
      dir_ / "registry.json", R"({"torrents": [{"file": "x.torrent", "registered": 9e18}]})"));
  auto r = Registry::open(dir_, clock_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ((*r)->load_warnings().size(), 1u);
  EXPECT_NE((*r)->load_warnings()[0].find("registry.json: left out 1 entry"), std::string::npos)
      << (*r)->load_warnings()[0];
  // The index is rewritten at once without the entry; the file as it was
  // stays beside it.
  const fs::path copy = dir_ / "registry.json.damaged-20231114T223000Z";
  EXPECT_NE((*r)->load_warnings()[0].find("the file as it was is kept as " + copy.string()),
            std::string::npos)
      << (*r)->load_warnings()[0];
  auto kept = read_file(copy);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_NE(kept->find("9e18"), std::string::npos) << *kept;
}

// Each of these threw std::filesystem_error from exists() or the directory
// walk, and the tracker stopped with "terminate called"; a FIFO held the start.
TEST_F(DataDirTest, AFileThatCannotBeReadIsAnErrorNamingItNotAThrowOrAHang) {
  fs::create_symlink("history.json", dir_ / "history.json");  // a loop
  auto h = History::open(dir_, clock_, core::Seconds(86400));
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find((dir_ / "history.json").string() +
                                   ": cannot open: Too many levels of symbolic links"),
            std::string::npos)
      << h.error().message;
  fs::remove(dir_ / "history.json");
  ASSERT_EQ(::mkfifo((dir_ / "registry.json").c_str(), 0600), 0);
  auto r = Registry::open(dir_, clock_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("registry.json: not a regular file"), std::string::npos)
      << r.error().message;
}

TEST_F(DataDirTest, ATorrentsEntryThatCannotBeStattedIsSkipped) {
  fs::create_directories(dir_ / "torrents");
  fs::create_symlink("loop.torrent", dir_ / "torrents" / "loop.torrent");
  fs::create_symlink("/nonexistent", dir_ / "torrents" / "dangling.torrent");
  auto r = Registry::open(dir_, clock_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE((*r)->list().empty());
}

}  // namespace
}  // namespace p2p::admin

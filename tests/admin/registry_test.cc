// Registry and torrent parsing: real .torrent files made by libtorrent.
#include "admin/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/hasher.hpp>
#include <random>

#include "admin/durable_file.h"
#include "admin/torrent_file.h"

namespace p2p::admin {
namespace {

namespace fs = std::filesystem;

// A real v1 torrent for a payload of `size` bytes.
std::string make_torrent(const std::string& name, std::int64_t size) {
  lt::file_storage fs;
  fs.add_file(name, size);
  lt::create_torrent ct(fs, 16384, lt::create_torrent::v1_only);
  ct.set_priv(true);
  // Hashes of zero bytes: parsing never reads the payload.
  std::string zeros(16384, '\0');
  for (lt::piece_index_t i(0); i < fs.end_piece(); ++i) {
    ct.set_hash(i, lt::hasher(zeros.data(), fs.piece_size(i)).final());
  }
  std::string out;
  lt::bencode(std::back_inserter(out), ct.generate());
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2p-registry-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Registry> open() {
    auto r = Registry::open(dir_, clock_);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(*r) : nullptr;
  }

  fs::path dir_;
  core::ManualClock clock_;
};

TEST(TorrentFileTest, ParsesV1) {
  auto meta = parse_torrent(make_torrent("payload.bin", 100000));
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_TRUE(meta->v1);
  EXPECT_FALSE(meta->v2_hex);
  EXPECT_EQ(meta->name, "payload.bin");
  EXPECT_EQ(meta->length, 100000u);
  EXPECT_TRUE(meta->is_private);
  EXPECT_EQ(meta->primary(), *meta->v1);
}

TEST(TorrentFileTest, RejectsGarbage) {
  auto meta = parse_torrent("d4:spam4:eggse");
  ASSERT_FALSE(meta);
  EXPECT_NE(meta.error().message.find("not a valid .torrent"), std::string::npos);
  EXPECT_FALSE(parse_torrent(""));
  EXPECT_FALSE(parse_torrent(std::string(100, '\xff')));
}

TEST(RegistryNameTest, FileNames) {
  EXPECT_TRUE(Registry::check_file_name("app-1.2.torrent"));
  EXPECT_TRUE(Registry::check_file_name("with space.torrent"));
  EXPECT_FALSE(Registry::check_file_name("app.zip"));
  EXPECT_FALSE(Registry::check_file_name(".torrent"));
  EXPECT_FALSE(Registry::check_file_name(".hidden.torrent"));
  EXPECT_FALSE(Registry::check_file_name("../etc.torrent"));
  EXPECT_FALSE(Registry::check_file_name("a/b.torrent"));
  EXPECT_FALSE(Registry::check_file_name(std::string("a\nb.torrent")));
  EXPECT_FALSE(Registry::check_file_name(std::string(201, 'x') + ".torrent"));
  // Names are keys in UTF-8 JSON: bytes that are not UTF-8 are refused.
  EXPECT_TRUE(Registry::check_file_name("caf\xc3\xa9.torrent"));
  EXPECT_FALSE(Registry::check_file_name("\xff.torrent"));
  EXPECT_FALSE(Registry::check_file_name("caf\xc3.torrent"));
}

TEST_F(RegistryTest, AddListReadRemove) {
  auto r = open();
  const std::string bytes = make_torrent("app.tar", 50000);
  auto t = r->add("app.torrent", bytes);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->file, "app.torrent");
  EXPECT_EQ(t->registered, clock_.now());
  ASSERT_EQ(r->list().size(), 1u);
  EXPECT_EQ(*r->read("app.torrent"), bytes);
  EXPECT_TRUE(r->find(t->meta.primary()));
  EXPECT_TRUE(fs::exists(dir_ / "torrents" / "app.torrent"));
  auto gone = r->remove("app.torrent");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(r->list().empty());
  EXPECT_FALSE(fs::exists(dir_ / "torrents" / "app.torrent"));
  auto again = r->remove("app.torrent");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kNotFound);
}

TEST_F(RegistryTest, RefusesDuplicatesAndCorruptFilesLeavingNothing) {
  auto r = open();
  const std::string bytes = make_torrent("app.tar", 50000);
  ASSERT_TRUE(r->add("app.torrent", bytes));
  auto dup = r->add("app.torrent", make_torrent("other", 10));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, core::ErrorCode::kAlreadyExists);
  auto same_hash = r->add("copy.torrent", bytes);
  ASSERT_FALSE(same_hash);
  EXPECT_EQ(same_hash.error().code, core::ErrorCode::kAlreadyExists);
  EXPECT_NE(same_hash.error().message.find("app.torrent"), std::string::npos);
  auto corrupt = r->add("bad.torrent", "this is not bencode");
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code, core::ErrorCode::kInvalidArgument);
  auto ext = r->add("bad.txt", bytes);
  ASSERT_FALSE(ext);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "torrents")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);  // only app.torrent; no temporary or half-written file
}

TEST_F(RegistryTest, Issue11ReplaceSwapsContentAndSurvivesReopen) {
  auto r = open();
  const std::string first = make_torrent("app.tar", 50000);
  const std::string second = make_torrent("app.tar", 60000);
  ASSERT_TRUE(r->add("app.torrent", first));
  ASSERT_TRUE(r->add("other.torrent", make_torrent("other", 10)));
  clock_.advance(core::Seconds(5));
  auto swapped = r->replace("app.torrent", second);
  ASSERT_TRUE(swapped) << swapped.error().message;
  EXPECT_NE(swapped->previous.meta.primary(), swapped->current.meta.primary());
  EXPECT_EQ(swapped->current.registered, clock_.now());
  EXPECT_EQ(*r->read("app.torrent"), second);
  EXPECT_FALSE(r->find(swapped->previous.meta.primary()));
  // The same content again: nothing changes.
  auto same = r->replace("app.torrent", second);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->previous.meta.primary(), same->current.meta.primary());
  EXPECT_EQ(same->current.registered, swapped->current.registered);
  // Another file's content, or a name not registered: refused, nothing changed.
  auto taken = r->replace("app.torrent", *r->read("other.torrent"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, core::ErrorCode::kAlreadyExists);
  auto missing = r->replace("nobody.torrent", first);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(*r->read("app.torrent"), second);
  r.reset();
  auto again = open();
  auto t = again->find("app.torrent");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->meta.primary(), swapped->current.meta.primary());
}

TEST_F(RegistryTest, SurvivesReopenWithRegistrationTime) {
  const std::string bytes = make_torrent("app.tar", 50000);
  core::TimePoint registered;
  {
    auto r = open();
    auto t = r->add("app.torrent", bytes);
    ASSERT_TRUE(t);
    registered = t->registered;
  }
  clock_.advance(core::Seconds(3600));
  auto r = open();
  ASSERT_EQ(r->list().size(), 1u);
  EXPECT_EQ(r->list()[0].registered, registered);
  EXPECT_EQ(*r->read("app.torrent"), bytes);
}

TEST_F(RegistryTest, PicksUpDroppedInFilesAndSkipsJunk) {
  fs::create_directories(dir_ / "torrents");
  ASSERT_TRUE(
      write_file_atomically(dir_ / "torrents" / "dropped.torrent", make_torrent("d", 1000)));
  ASSERT_TRUE(write_file_atomically(dir_ / "torrents" / "junk.torrent", "garbage"));
  ASSERT_TRUE(write_file_atomically(dir_ / "torrents" / ".partial.torrent.tmp", "x"));
  auto r = open();
  ASSERT_EQ(r->list().size(), 1u);
  EXPECT_EQ(r->list()[0].file, "dropped.torrent");
  ASSERT_EQ(r->load_warnings().size(), 1u);
  EXPECT_NE(r->load_warnings()[0].find("junk.torrent"), std::string::npos);
}

// One transfer copied in under a second name: the file registered first
// stays, the other is skipped with a warning naming both (both registered,
// deleting one left the other listed as active without a swarm).
TEST_F(RegistryTest, ASecondFileOfOneTransferIsSkipped) {
  const std::string bytes = make_torrent("app.tar", 50000);
  {
    auto r = open();
    ASSERT_TRUE(r->add("z-first.torrent", bytes));
  }
  ASSERT_TRUE(write_file_atomically(dir_ / "torrents" / "a-copy.torrent", bytes));
  clock_.advance(core::Seconds(60));
  auto r = open();
  ASSERT_EQ(r->list().size(), 1u);
  EXPECT_EQ(r->list()[0].file, "z-first.torrent");
  ASSERT_EQ(r->load_warnings().size(), 1u);
  EXPECT_NE(r->load_warnings()[0].find("a-copy.torrent: the same transfer"), std::string::npos)
      << r->load_warnings()[0];
  EXPECT_NE(r->load_warnings()[0].find("as z-first.torrent"), std::string::npos);
}

TEST_F(RegistryTest, CorruptIndexIsAnErrorNamingTheFile) {
  ASSERT_TRUE(write_file_atomically(dir_ / "registry.json", "{not json"));
  auto r = Registry::open(dir_, clock_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("registry.json"), std::string::npos);
}

TEST_F(RegistryTest, UnwritableDataDirIsAnError) {
  ASSERT_TRUE(write_file_atomically(dir_ / "file", "x"));
  auto r = Registry::open(dir_ / "file" / "sub", clock_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("data_dir"), std::string::npos);
}

}  // namespace
}  // namespace p2p::admin

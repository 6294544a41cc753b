// parse_torrent against libtorrent's own reading of real .torrent files, and
// against hostile ones (issue 10: a crafted file list must parse in linear time).
#include "admin/torrent_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/torrent_info.hpp>
#include <random>
#include <string>

namespace p2p::admin {
namespace {

namespace fs = std::filesystem;

// A real torrent of the files under `root` (hashed from disk), in `flags`'
// format (v1_only, v2_only, or 0: hybrid).
std::string make_torrent(const fs::path& root, lt::create_flags_t flags, bool priv) {
  lt::file_storage files;
  lt::add_files(files, root.string());
  lt::create_torrent ct(files, 16384, flags);
  ct.set_priv(priv);
  lt::set_piece_hashes(ct, root.parent_path().string());
  std::string out;
  lt::bencode(std::back_inserter(out), ct.generate());
  return out;
}

class RealTorrentTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("p2p-torrent-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_ / "payload" / "sub");
    write(dir_ / "payload" / "a.bin", 40000);
    write(dir_ / "payload" / "sub" / "b.bin", 100);
    write(dir_ / "payload" / "c.bin", 16384);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void write(const fs::path& p, std::size_t n) {
    std::ofstream(p, std::ios::binary) << std::string(n, 'x');
  }
  fs::path dir_;
};

// libtorrent's view, for comparison (pad files left out, as parse_torrent does).
void expect_same_as_libtorrent(const std::string& bytes, const TorrentMeta& m) {
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())),
                      ec, lt::from_span);
  ASSERT_FALSE(ec) << ec.message();
  const lt::info_hash_t& ih = ti.info_hashes();
  EXPECT_EQ(m.v1.has_value(), ih.has_v1());
  if (ih.has_v1()) {
    EXPECT_EQ(m.v1->hex(), core::to_hex({ih.v1.data(), 20}));
  }
  EXPECT_EQ(m.v2_hex.has_value(), ih.has_v2());
  if (ih.has_v2()) {
    EXPECT_EQ(*m.v2_hex, core::to_hex({ih.v2.data(), ih.v2.size()}));
  }
  EXPECT_EQ(m.name, ti.name());
  int files = 0;
  std::int64_t length = 0;
  for (auto i : ti.files().file_range()) {
    if (ti.files().pad_file_at(i)) continue;
    ++files;
    length += ti.files().file_size(i);
  }
  EXPECT_EQ(m.files, files);
  EXPECT_EQ(m.length, static_cast<std::uint64_t>(length));
  EXPECT_EQ(m.is_private, ti.priv());
}

TEST_P(RealTorrentTest, AgreesWithLibtorrent) {
  const auto flags = GetParam() == 1   ? lt::create_torrent::v1_only
                     : GetParam() == 2 ? lt::create_torrent::v2_only
                                       : lt::create_flags_t{};
  for (bool priv : {false, true}) {
    std::string bytes = make_torrent(dir_ / "payload", flags, priv);
    auto m = parse_torrent(bytes);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->files, 3);
    EXPECT_EQ(m->length, 56484u);
    expect_same_as_libtorrent(bytes, *m);
  }
}

INSTANTIATE_TEST_SUITE_P(V1V2Hybrid, RealTorrentTest, ::testing::Values(1, 2, 3));

TEST(TorrentFileTest, SingleFileV1) {
  // d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:...ee
  std::string bytes =
      "d4:infod6:lengthi5e4:name5:x.bin12:piece lengthi16384e6:pieces20:" + std::string(20, 'h') +
      "7:privatei1eee";
  auto m = parse_torrent(bytes);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->files, 1);
  EXPECT_EQ(m->length, 5u);
  EXPECT_TRUE(m->is_private);
  expect_same_as_libtorrent(bytes, *m);
}

// `n` files under one path: what libtorrent's duplicate renaming is quadratic on.
std::string crafted(int n) {
  std::string files;
  for (int i = 0; i < n; ++i) files += "d6:lengthi1e4:pathl1:d8:same.binee";
  return "d4:infod5:filesl" + files +
         "e4:name7:crafted12:piece lengthi16384e6:pieces20:" + std::string(20, 'h') + "ee";
}

TEST(TorrentFileTest, Issue10CraftedFileListParsesInLinearTime) {
  const auto start = std::chrono::steady_clock::now();
  auto m = parse_torrent(crafted(20000));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->files, 20000);
  // One pass over 680 KB takes milliseconds; libtorrent's torrent_info took 29 s.
  EXPECT_LT(took, std::chrono::seconds(1));
}

TEST(TorrentFileTest, Issue10RefusesMoreFilesThanTheCap) {
  EXPECT_TRUE(parse_torrent(crafted(100), 100));
  auto m = parse_torrent(crafted(101), 100);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(m.error().message.find("more than 100 files (max_torrent_files)"), std::string::npos);
}

TEST(TorrentFileTest, RefusesMalformedInput) {
  for (std::string_view bad : {
           "",
           "d",
           "de",
           "le",
           "d4:spam4:eggse",
           "d4:infoi1ee",
           "d4:infodee",
           "d4:infod4:name1:xee",                                             // no pieces
           "d4:infod4:name1:x12:piece lengthi16384e6:pieces3:abcee",          // pieces % 20
           "d4:infod4:name1:x12:piece lengthi16384e6:pieces0:6:lengthi1eee",  // no pieces
           "d4:infod6:lengthi-1e4:name1:x12:piece lengthi1e6:pieces20:01234567890123456789ee",
           "d4:infod4:name1:x12:piece lengthi1e6:pieces20:01234567890123456789ee",  // no length
           "d4:infod5:filesle4:name1:x12:piece lengthi1e6:pieces20:01234567890123456789ee",
           "d4:infod12:meta versioni2e4:name1:x12:piece lengthi16384eee",  // no file tree
           "d4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces20:01234567890123456789eeX",
           "d4:infod6:lengthi99999999999999999999e4:name1:x12:piece lengthi1e6:pieces20:"
           "01234567890123456789ee",
           "d4:info999999999:",
       }) {
    auto m = parse_torrent(bad);
    EXPECT_FALSE(m) << bad;
  }
}

TEST(TorrentFileTest, EveryTruncationFailsCleanly) {
  const std::string good = crafted(3);
  ASSERT_TRUE(parse_torrent(good));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_torrent(std::string_view(good).substr(0, n))) << n;
  }
}

TEST(TorrentFileTest, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep =
      "d4:infod3:fooi1e3:bar" + std::string(100000, 'l') + std::string(100000, 'e') + "ee";
  auto m = parse_torrent(deep);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("nested too deeply"), std::string::npos);
  std::string tree = "d4:infod9:file tree";
  for (int i = 0; i < 1000; ++i) tree += "d1:a";
  EXPECT_FALSE(parse_torrent(tree + std::string(1000, 'e') + "ee"));
}

}  // namespace
}  // namespace p2p::admin

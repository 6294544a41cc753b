#include "core/regular_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace p2p::core {
namespace {

using ::testing::HasSubstr;

class RegularFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("p2p-regular-file-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(RegularFileTest, ReadsEveryByte) {
  std::string bytes(100'000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  auto r = read_regular_file(write("a", bytes));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, bytes);
  auto empty = read_regular_file(write("empty", ""));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(*empty, "");
}

TEST_F(RegularFileTest, NoSuchFileIsNotFound) {
  auto r = read_regular_file((dir_ / "none").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "cannot open: No such file or directory");
}

// Each of these would hold a start or a reload forever (a FIFO nobody
// writes to, a character device that never ends) or read nonsense.
TEST_F(RegularFileTest, OnlyARegularFileIsRead) {
  const auto fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero"), dir_.string()}) {
    auto r = read_regular_file(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << path;
    EXPECT_EQ(r.error().message, "not a regular file") << path;
  }
}

TEST_F(RegularFileTest, ASymlinkLoopIsAnErrorNotAThrow) {
  std::filesystem::create_symlink("loop", dir_ / "loop");
  auto r = read_regular_file((dir_ / "loop").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(r.error().message, HasSubstr("Too many levels of symbolic links"));
}

TEST_F(RegularFileTest, StopsPastTheBound) {
  const auto path = write("big", std::string(1001, 'x'));
  auto r = read_regular_file(path, 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().message, "larger than 1000 bytes");
  auto at_bound = read_regular_file(path, 1001);
  ASSERT_TRUE(at_bound) << at_bound.error().message;
  EXPECT_EQ(at_bound->size(), 1001u);
}

}  // namespace
}  // namespace p2p::core

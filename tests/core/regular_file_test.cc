#include "core/regular_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace p2p::core {
namespace {

using ::testing::HasSubstr;

class RegularFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    return dir_.write(name, bytes);
  }

  test::TempDir dir_;
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
  auto r = read_regular_file((dir_.path() / "none").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "cannot open: No such file or directory");
}

// Each of these would hold a start or a reload forever (a FIFO nobody
// writes to, a character device that never ends) or read nonsense.
TEST_F(RegularFileTest, OnlyARegularFileIsRead) {
  const auto fifo = (dir_.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero"), dir_.path().string()}) {
    auto r = read_regular_file(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << path;
    EXPECT_EQ(r.error().message, "not a regular file") << path;
  }
}

TEST_F(RegularFileTest, ASymlinkLoopIsAnErrorNotAThrow) {
  std::filesystem::create_symlink("loop", dir_.path() / "loop");
  auto r = read_regular_file((dir_.path() / "loop").string());
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

#include "core/token_file.h"

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

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("p2p-token-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(TokenFileTest, TrimsWhiteSpaceAroundTheToken) {
  // What `head -c 32 /dev/urandom | base64 > file` writes: the token and a newline.
  auto t = read_token_file(write("t", "  q2V0dG9rZW4rL3Rlc3Q=\r\n\n"));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->token, "q2V0dG9rZW4rL3Rlc3Q=");
  EXPECT_FALSE(t->world_readable);
}

TEST_F(TokenFileTest, ReportsWorldReadable) {
  auto t = read_token_file(write("t", "tok\n", 0644));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->world_readable);
}

TEST_F(TokenFileTest, MissingFileIsNotFoundAndNamesThePath) {
  auto path = (dir_ / "absent").string();
  auto t = read_token_file(path);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(t.error().message, HasSubstr(path + ": cannot open token file"));
}

TEST_F(TokenFileTest, EmptyOrBlankFileIsAnError) {
  for (const char* text : {"", "\n", "  \t\r\n"}) {
    auto path = write("t", text);
    auto t = read_token_file(path);
    ASSERT_FALSE(t) << "'" << text << "'";
    EXPECT_THAT(t.error().message, HasSubstr(path + ": token file is empty"));
  }
}

TEST_F(TokenFileTest, RefusesInnerWhiteSpaceAndHugeFiles) {
  EXPECT_FALSE(read_token_file(write("t", "two words\n")));
  EXPECT_FALSE(read_token_file(write("t", "line\nline\n")));
  auto t = read_token_file(write("big", std::string(5000, 'a')));
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message, HasSubstr("larger than"));
}

TEST_F(TokenFileTest, DirectoryIsAnError) {
  auto t = read_token_file(dir_.string());
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message, HasSubstr(dir_.string()));
}

}  // namespace
}  // namespace p2p::core

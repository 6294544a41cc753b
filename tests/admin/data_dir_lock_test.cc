#include "admin/data_dir_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

namespace p2p::admin {
namespace {

namespace fs = std::filesystem;

TEST(DataDirLockTest, Issue14SecondHolderIsRefusedUntilTheFirstLetsGo) {
  const fs::path dir =
      fs::temp_directory_path() / ("p2p-lock-" + std::to_string(std::random_device{}()));
  auto first = DataDirLock::acquire(dir / "data");  // created on the way
  ASSERT_TRUE(first) << first.error().message;
  std::ifstream pid_file(dir / "data" / "p2ptracker.lock");
  std::string pid;
  pid_file >> pid;
  EXPECT_EQ(pid, std::to_string(::getpid()));

  auto second = DataDirLock::acquire(dir / "data");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::kAlreadyExists);
  EXPECT_NE(second.error().message.find("in use by another p2ptracker (pid " + pid + ")"),
            std::string::npos)
      << second.error().message;

  first->reset();
  auto third = DataDirLock::acquire(dir / "data");
  EXPECT_TRUE(third);
  third->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace p2p::admin

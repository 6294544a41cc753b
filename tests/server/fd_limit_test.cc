#include "server/fd_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace p2p::server {
namespace {

TEST(FdLimitTest, BudgetLeavesTheReserve) {
  EXPECT_EQ(connection_budget(1024, 2), 1024u - kFdReserveFixed - 2 * kFdReservePerThread);
  EXPECT_EQ(connection_budget(1 << 20, 0), (1u << 20) - kFdReserveFixed);
}

TEST(FdLimitTest, BudgetIsAtLeastOne) {
  EXPECT_EQ(connection_budget(0, 8), 1u);
  EXPECT_EQ(connection_budget(kFdReserveFixed, 0), 1u);
}

TEST(FdLimitTest, Issue10RaisesTheSoftLimitToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit lowered = before;
  lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, 256);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  auto limit = raise_fd_limit();
  ASSERT_TRUE(limit) << limit.error().message;
  EXPECT_EQ(limit->was, lowered.rlim_cur);
  EXPECT_EQ(limit->hard, before.rlim_max);
  if (before.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(limit->soft, before.rlim_max);
  }
  EXPECT_GE(limit->soft, limit->was);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
}

}  // namespace
}  // namespace p2p::server

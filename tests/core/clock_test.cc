#include "core/clock.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <optional>
#include <string>

namespace p2p::core {
namespace {

using std::chrono::microseconds;

// Python's str(datetime) in a fixed zone, so the test does not depend on
// the machine's.
class PythonDatetimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = getenv("TZ");
    saved_ = tz ? std::optional<std::string>(tz) : std::nullopt;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::optional<std::string> saved_;
};

TEST_F(PythonDatetimeTest, MicrosecondsUnlessZero) {
  // 2026-12-03 11:02:20 UTC
  const PreciseTime t{std::chrono::seconds(1796295740)};
  EXPECT_EQ(python_datetime(t), "2026-12-03 11:02:20");
  EXPECT_EQ(python_datetime(t + microseconds(123456)), "2026-12-03 11:02:20.123456");
  EXPECT_EQ(python_datetime(t + microseconds(7)), "2026-12-03 11:02:20.000007");
}

TEST_F(PythonDatetimeTest, LocalTimeAsDatetimeNow) {
  setenv("TZ", "CET-1", 1);  // one hour east, no DST rule
  tzset();
  const PreciseTime t{std::chrono::seconds(1796295740)};
  EXPECT_EQ(python_datetime(t + microseconds(500000)), "2026-12-03 12:02:20.500000");
}

TEST(ManualClockTest, PreciseAndWholeSecondsAgree) {
  ManualClock clock(TimePoint(Seconds(1000)));
  clock.advance(microseconds(1'500'000));
  EXPECT_EQ(clock.now(), TimePoint(Seconds(1001)));
  EXPECT_EQ(clock.now_precise(), PreciseTime(microseconds(1'001'500'000)));
  EXPECT_EQ(iso8601(clock.now_precise()), iso8601(clock.now()));
}

TEST(HttpDateTest, IsRfc9110sFixdate) {
  EXPECT_EQ(http_date(TimePoint(Seconds(784111777))), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(TimePoint(Seconds(1796295740))), "Thu, 03 Dec 2026 11:02:20 GMT");
  EXPECT_EQ(http_date(TimePoint(Seconds(951782400))), "Tue, 29 Feb 2000 00:00:00 GMT");
}

// Against the system clock read around it: the advanced clock is ahead of
// it by the offset, and stays so (it runs on).
TEST(AdvanceableClockTest, RunsAheadOfTheSystemClockByWhatItWasAdvanced) {
  AdvanceableClock clock;
  const SystemClock system;
  const auto lo = system.now_precise();
  const auto t0 = clock.now_precise();
  EXPECT_GE(t0, lo);
  EXPECT_LE(t0, system.now_precise());
  clock.advance(std::chrono::hours(1));
  clock.advance(microseconds(2'500'000));
  const auto before = system.now_precise();
  const auto t1 = clock.now_precise();
  const auto after = system.now_precise();
  EXPECT_GE(t1, before + std::chrono::hours(1) + microseconds(2'500'000));
  EXPECT_LE(t1, after + std::chrono::hours(1) + microseconds(2'500'000));
  EXPECT_GE(clock.now(), std::chrono::floor<Seconds>(t1));
}

}  // namespace
}  // namespace p2p::core

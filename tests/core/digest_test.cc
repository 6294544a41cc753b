#include "core/digest.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/rng.h"

namespace p2p::core {
namespace {

TEST(DigestTest, HexRoundTripIsUpperCase) {
  auto h = InfoHash::from_hex("0123456789abcdef0123456789ABCDEF01234567");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->hex(), "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(InfoHash::from_hex(h->hex()), h);
  EXPECT_FALSE(InfoHash::from_hex("0123"));
  EXPECT_FALSE(InfoHash::from_hex("zz23456789abcdef0123456789ABCDEF01234567"));
}

TEST(DigestTest, FromBytesNeedsTwentyBytes) {
  EXPECT_TRUE(PeerId::from_bytes(std::string(20, 'x')));
  EXPECT_FALSE(PeerId::from_bytes(std::string(19, 'x')));
  EXPECT_FALSE(PeerId::from_bytes(std::string(21, 'x')));
  EXPECT_EQ(PeerId::from_bytes(std::string(20, 'x'))->view(), std::string(20, 'x'));
}

TEST(ClockTest, Iso8601) {
  EXPECT_EQ(iso8601(TimePoint(Seconds(0))), "1970-01-01T00:00:00Z");
  ManualClock clock(TimePoint(Seconds(1'700'000'000)));
  clock.advance(Seconds(5));
  EXPECT_EQ(iso8601(clock.now()), "2023-11-14T22:13:25Z");
  // Past 2262 a time no longer fits system_clock's nanoseconds; a time read
  // back from a damaged data file may be that late (the data_files fuzzer).
  EXPECT_EQ(iso8601(TimePoint(Seconds(253400987111))), "9999-12-16T19:05:11Z");
  EXPECT_EQ(iso8601(TimePoint(Seconds(253402300799))), "9999-12-31T23:59:59Z");
  EXPECT_EQ(iso8601(TimePoint(Seconds(-1))), "1969-12-31T23:59:59Z");
  EXPECT_EQ(iso8601(TimePoint(Seconds(951782400))), "2000-02-29T00:00:00Z");
}

TEST(RngTest, SeededAndBounded) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.below(7), 7u);
}

}  // namespace
}  // namespace p2p::core

#include "core/siphash.h"

namespace p2p::core {
namespace {

// The reference test vector of the SipHash paper (appendix A): key 00..0f,
// message 00..0e (15 bytes) -> a129ca6149be45e5.
TEST(SipHashTest, PaperVector) {
  SipKey key;
  for (int i = 0; i < 16; ++i) key[i] = static_cast<std::uint8_t>(i);
  std::uint8_t msg[15];
  for (int i = 0; i < 15; ++i) msg[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(siphash24(key, msg, sizeof msg), 0xa129ca6149be45e5ull);
}

TEST(SipHashTest, KeyAndInputMatter) {
  SipKey a{}, b{};
  b[0] = 1;
  const char m[] = "127.0.0.1:6881";
  EXPECT_NE(siphash24(a, m, sizeof m), siphash24(b, m, sizeof m));
  EXPECT_NE(siphash24(a, m, sizeof m), siphash24(a, m, sizeof m - 1));
  EXPECT_EQ(siphash24(a, m, sizeof m), siphash24(a, m, sizeof m));
}

}  // namespace
}  // namespace p2p::core

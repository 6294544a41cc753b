// Per-source token buckets and connection counts.
#include "net/source_limits.h"

#include <gtest/gtest.h>

#include <chrono>

namespace p2p::net {
namespace {

core::Address addr(std::string_view s) { return *core::Address::parse(s); }

class SourceRatesTest : public ::testing::Test {
 protected:
  bool announce(std::string_view source) {
    return rates_.admit(limits_, RequestKind::kAnnounce, addr(source), clock_.now_precise());
  }
  bool scrape(std::string_view source) {
    return rates_.admit(limits_, RequestKind::kScrape, addr(source), clock_.now_precise());
  }
  int admitted(std::string_view source, int tries) {
    int n = 0;
    for (int i = 0; i < tries; ++i) n += announce(source);
    return n;
  }

  RateLimits limits_{
      .announces_per_second = 10, .announce_burst = 20, .scrapes_per_second = 1, .scrape_burst = 2};
  SourceRates rates_;
  core::ManualClock clock_;
};

TEST_F(SourceRatesTest, BurstThenRate) {
  EXPECT_EQ(admitted("192.0.2.1", 100), 20);
  clock_.advance(std::chrono::milliseconds(500));
  EXPECT_EQ(admitted("192.0.2.1", 100), 5);
  // Refills to the burst, no further.
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(admitted("192.0.2.1", 100), 20);
}

TEST_F(SourceRatesTest, SourcesAndKindsAreIndependent) {
  EXPECT_EQ(admitted("192.0.2.1", 100), 20);
  EXPECT_EQ(admitted("192.0.2.2", 100), 20);
  EXPECT_EQ(admitted("2001:db8::1", 100), 20);
  EXPECT_TRUE(scrape("192.0.2.1"));
  EXPECT_TRUE(scrape("192.0.2.1"));
  EXPECT_FALSE(scrape("192.0.2.1"));
}

TEST_F(SourceRatesTest, ZeroTurnsAKindOff) {
  limits_.announces_per_second = 0;
  EXPECT_EQ(admitted("192.0.2.1", 1000), 1000);
  EXPECT_TRUE(scrape("192.0.2.1"));
}

TEST_F(SourceRatesTest, AClockSteppingBackRefillsNothing) {
  EXPECT_EQ(admitted("192.0.2.1", 100), 20);
  clock_.advance(-std::chrono::seconds(30));
  EXPECT_EQ(admitted("192.0.2.1", 100), 0);
}

// Many more sources than slots: the table stays its size, and a source that
// is being limited right now is not forgotten because others come and go
// (evictions take the entries untouched longest).
TEST_F(SourceRatesTest, BoundedTableKeepsTheBusySource) {
  EXPECT_EQ(admitted("192.0.2.1", 100), 20);
  for (std::uint32_t i = 0; i < 4 * SourceRates::kSlots; ++i) {
    if (i % 1000 == 0) {
      clock_.advance(std::chrono::milliseconds(1));
      // The busy source keeps spending its refill, so it is never the oldest.
      announce("192.0.2.1");
    }
    rates_.admit(limits_, RequestKind::kAnnounce, core::Address::v4(0x0A000000u + i),
                 clock_.now_precise());
  }
  EXPECT_LE(admitted("192.0.2.1", 100), 2);
}

TEST(SourceConnectionsTest, CapPerSourceAndRelease) {
  SourceConnections c;
  std::vector<SourceConnections::Ticket> held;
  for (int i = 0; i < 5; ++i) {
    auto t = c.acquire(addr("192.0.2.1"), 5);
    ASSERT_TRUE(t);
    held.push_back(*t);
  }
  EXPECT_FALSE(c.acquire(addr("192.0.2.1"), 5));
  EXPECT_EQ(c.count(addr("192.0.2.1")), 5u);
  EXPECT_TRUE(c.acquire(addr("192.0.2.2"), 5));
  c.release(held.back());
  EXPECT_TRUE(c.acquire(addr("192.0.2.1"), 5));
}

// max_connections (20,000) filled by sources each at a cap of 64 (tighter than
// the default 512): about 312 full sources, two slots each. An innocent
// source is refused only if both its slots are among those 624 of 65,536:
// about 1 in 11,000.
TEST(SourceConnectionsTest, FullSourcesDoNotCrowdOutOthers) {
  SourceConnections c;
  for (std::uint32_t s = 0; s < 20000 / 64; ++s) {
    for (int i = 0; i < 64; ++i) c.acquire(core::Address::v4(0x0A000000u + s), 64);
  }
  int refused = 0;
  for (std::uint32_t s = 0; s < 2000; ++s) {
    refused += !c.acquire(core::Address::v4(0xC0000000u + s), 64).has_value();
  }
  EXPECT_LE(refused, 2);
}

}  // namespace
}  // namespace p2p::net

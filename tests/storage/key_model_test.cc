#include "storage/key_model.h"

#include <gtest/gtest.h>

#include <random>

namespace p2p::storage {
namespace {

core::InfoHash hash(std::uint8_t b) {
  core::InfoHash h;
  h.bytes.fill(b);
  return h;
}

TEST(KeyModel, Iso8601RoundTripsOnRandomTimes) {
  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // 1970 .. 2100
  std::uniform_int_distribution<std::int64_t> secs(0, 4'102'444'800);
  for (int i = 0; i < 1000; ++i) {
    const core::TimePoint t{core::Seconds(secs(rng))};
    auto parsed = parse_iso8601(core::iso8601(t));
    ASSERT_TRUE(parsed.has_value()) << core::iso8601(t);
    EXPECT_EQ(*parsed, t);
  }
}

TEST(KeyModel, Iso8601RejectsOtherForms) {
  EXPECT_FALSE(parse_iso8601(""));
  EXPECT_FALSE(parse_iso8601("2026-11-24 05:25:23"));
  EXPECT_FALSE(parse_iso8601("2026-13-24T05:25:23Z"));
  EXPECT_FALSE(parse_iso8601("2026-02-30T05:25:23Z"));
  EXPECT_FALSE(parse_iso8601("2026-11-24T25:25:23Z"));
  EXPECT_FALSE(parse_iso8601("2026-11-24T05:25:2xZ"));
}

TEST(KeyModel, ArchiveNamesKeepThePrefixFirst) {
  const KeyModel model("p2p:");
  const core::TimePoint at{core::Seconds(1'700'000'000)};
  const std::string from = model.transfer_key_prefix(hash(0xAB)) + ":peers:N";
  EXPECT_EQ(model.archived_key(from, at),
            "p2p:" + core::iso8601(at) + ":" + hash(0xAB).hex() + ":peers:N");
}

TEST(KeyModel, ArchiveMatchEscapesGlobCharactersInThePrefix) {
  const KeyModel model("a*b?[c]\\:");
  EXPECT_EQ(model.archive_match(hash(1)), "a\\*b\\?\\[c\\]\\\\:" + hash(1).hex() + ":*");
}

TEST(KeyModel, StoppedPeerLeavesEveryCurrentSet) {
  const KeyModel model("");
  PeerUpdate u;
  u.info_hash = hash(2);
  u.endpoint = {*core::Address::parse("10.1.2.3"), 6881};
  u.event = AnnounceEvent::kStopped;
  CommandBatch b;
  model.plan_peer(u, "r1", b);
  int srem = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto& c = b.command(i);
    if (c.verb == Verb::kSadd) {
      // Only the never-forgotten sets: racks and rack hosts.
      const std::string_view key = b.argument(c.first_arg);
      EXPECT_TRUE(key == "racks" || key == "rack:r1") << key;
    }
    if (c.verb == Verb::kSrem) {
      ++srem;
      EXPECT_EQ(b.argument(c.first_arg + 1), "10.1.2.3:6881");
    }
  }
  EXPECT_EQ(srem, 7);  // peers:N R S L and rack N R S
}

TEST(KeyModel, CommandBatchReusesItsBuffer) {
  CommandBatch b;
  b.begin(Verb::kMset);
  b.arg("k", std::uint64_t{1});
  b.arg(std::string("v"), ':', std::uint16_t{7});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.command(0).argc, 2u);
  EXPECT_EQ(b.argument(0), "k1");
  EXPECT_EQ(b.argument(1), "v:7");
  b.clear();
  EXPECT_TRUE(b.empty());
  b.begin(Verb::kSet);
  b.arg("x");
  EXPECT_EQ(b.argument(b.command(0).first_arg), "x");
}

}  // namespace
}  // namespace p2p::storage

#include "wire/query.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "wire_testing.h"

namespace p2p::wire {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs_of(std::string_view query) {
  Pairs out;
  QueryIterator it(query);
  std::string_view k, v;
  while (it.next(k, v)) out.emplace_back(k, v);
  return out;
}

std::optional<std::string> decode(std::string_view in, std::size_t cap = 64) {
  std::string buf(cap, '\0');
  auto n = percent_decode(in, buf.data(), buf.size());
  if (!n) return std::nullopt;
  buf.resize(*n);
  return buf;
}

TEST(QueryIteratorTest, SplitsPairsInOrder) {
  EXPECT_EQ(pairs_of("a=1&b=2&a=3"), (Pairs{{"a", "1"}, {"b", "2"}, {"a", "3"}}));
}

TEST(QueryIteratorTest, SkipsEmptySegments) {
  EXPECT_EQ(pairs_of("&&a=1&&&b=2&"), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(pairs_of("").empty());
  EXPECT_TRUE(pairs_of("&").empty());
}

TEST(QueryIteratorTest, KeyWithoutEqualsHasEmptyValue) {
  EXPECT_EQ(pairs_of("flag&a=&=v"), (Pairs{{"flag", ""}, {"a", ""}, {"", "v"}}));
}

TEST(QueryIteratorTest, LeavesValuesEncodedAndSplitsAtFirstEquals) {
  EXPECT_EQ(pairs_of("ip=1%3A2&x=a=b"), (Pairs{{"ip", "1%3A2"}, {"x", "a=b"}}));
}

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(decode("abc"), "abc");
  EXPECT_EQ(decode("%41%42c"), "ABc");
  EXPECT_EQ(decode("%7e%7E"), "~~");
  EXPECT_EQ(decode("a+b"), "a b");
  EXPECT_EQ(decode("%2B"), "+");
  EXPECT_EQ(decode(""), "");
}

TEST(PercentDecodeTest, NulAndHighBytesAreBytes) {
  EXPECT_EQ(decode("%00%ff%80"), std::string("\0\xff\x80", 3));
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  EXPECT_FALSE(decode("%G1"));
  EXPECT_FALSE(decode("%1G"));
  EXPECT_FALSE(decode("abc%"));
  EXPECT_FALSE(decode("abc%4"));
  EXPECT_FALSE(decode("%%41"));
  EXPECT_FALSE(decode("% 1"));
}

TEST(PercentDecodeTest, RespectsCapacity) {
  EXPECT_EQ(decode("abcd", 4), "abcd");
  EXPECT_FALSE(decode("abcde", 4));
  EXPECT_EQ(decode("%41%42", 2), "AB");
  EXPECT_FALSE(decode("%41%42%43", 2));
  EXPECT_EQ(decode("", 0), "");
  EXPECT_FALSE(decode("a", 0));
}

TEST(PercentDecodeTest, DecodedSize) {
  EXPECT_EQ(percent_decoded_size(""), 0u);
  EXPECT_EQ(percent_decoded_size("ab%41+"), 4u);
  EXPECT_EQ(percent_decoded_size("%41%42%43"), 3u);
  EXPECT_FALSE(percent_decoded_size("%4"));
  EXPECT_FALSE(percent_decoded_size("%zz"));
}

TEST(PercentDecodeTest, RandomRoundTrip) {
  const std::uint64_t seed = testing::test_seed();
  SCOPED_TRACE("P2P_TEST_SEED=" + std::to_string(seed));
  core::Rng rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = testing::random_bytes(rng, rng.below(64));
    // '+' never survives raw, so the encoder escapes it like everything else.
    std::string enc = testing::percent_encode(bytes, rng);
    ASSERT_EQ(percent_decoded_size(enc), bytes.size());
    ASSERT_EQ(decode(enc, bytes.size()), bytes) << enc;
  }
}

TEST(SplitTargetTest, PathAndQuery) {
  Target t = split_target("/announce?info_hash=x&port=1");
  EXPECT_EQ(t.path, "/announce");
  EXPECT_EQ(t.query, "info_hash=x&port=1");

  t = split_target("/scrape");
  EXPECT_EQ(t.path, "/scrape");
  EXPECT_EQ(t.query, "");

  t = split_target("/announce?");
  EXPECT_EQ(t.path, "/announce");
  EXPECT_EQ(t.query, "");

  // Only the first '?' separates; the rest belongs to the query.
  t = split_target("/a?b?c");
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(t.query, "b?c");

  t = split_target("");
  EXPECT_EQ(t.path, "");
  EXPECT_EQ(t.query, "");
}

}  // namespace
}  // namespace p2p::wire

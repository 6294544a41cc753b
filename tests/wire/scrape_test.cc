#include "wire/scrape.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wire/bencode.h"
#include "wire_testing.h"

namespace p2p::wire {
namespace {

using core::InfoHash;

InfoHash hash_of(char fill) { return *InfoHash::from_bytes(std::string(20, fill)); }

std::string error_of(std::string_view query) {
  std::vector<InfoHash> out;
  auto st = parse_scrape(query, out);
  if (st) return "";
  EXPECT_EQ(st.error().code, core::ErrorCode::kInvalidArgument);
  return st.error().message;
}

TEST(ParseScrapeTest, EveryHashInOrder) {
  std::vector<InfoHash> out;
  ASSERT_TRUE(parse_scrape("info_hash=" + testing::percent_encode_all(std::string(20, 'b')) +
                               "&foo=bar&info_hash=" + std::string(20, 'a') +
                               "&info_hash=" + std::string(20, 'b'),
                           out));
  EXPECT_EQ(out, (std::vector<InfoHash>{hash_of('b'), hash_of('a'), hash_of('b')}));
}

TEST(ParseScrapeTest, AppendsToCallersVector) {
  std::vector<InfoHash> out = {hash_of('z')};
  ASSERT_TRUE(parse_scrape("info_hash=" + std::string(20, 'a'), out));
  EXPECT_EQ(out, (std::vector<InfoHash>{hash_of('z'), hash_of('a')}));
}

TEST(ParseScrapeTest, NoHashesIsAnEmptyList) {
  std::vector<InfoHash> out;
  ASSERT_TRUE(parse_scrape("", out));
  ASSERT_TRUE(parse_scrape("passkey=abc", out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseScrapeTest, WrongLengthNamesTheHash) {
  const std::string good = "info_hash=" + std::string(20, 'a');
  EXPECT_EQ(error_of(good + "&info_hash=" + std::string(19, 'a')),
            "info_hash #2 must be 20 bytes, got 19");
  EXPECT_EQ(error_of("info_hash=" + testing::percent_encode_all(std::string(21, 'x'))),
            "info_hash #1 must be 20 bytes, got 21");
  EXPECT_EQ(error_of(good + "&info_hash"), "info_hash #2 must be 20 bytes, got 0");
  EXPECT_EQ(error_of(good + "&" + good + "&info_hash=%G0" + std::string(19, 'a')),
            "info_hash #3 has a bad percent-escape (each byte is %XX, two hex digits)");
}

TEST(ParseScrapeTest, AtMostMaxHashes) {
  std::string q;
  for (std::size_t i = 0; i < kMaxScrapeHashes; ++i) q += "info_hash=" + std::string(20, 'a') + "&";
  std::vector<InfoHash> out;
  ASSERT_TRUE(parse_scrape(q, out));
  EXPECT_EQ(out.size(), kMaxScrapeHashes);
  EXPECT_EQ(error_of(q + "info_hash=" + std::string(20, 'a')),
            "too many info_hash parameters: a scrape may ask for at most 128");
}

TEST(EncodeScrapeTest, ExactBytes) {
  const ScrapeEntry entries[] = {{hash_of('a'), 5, 12, 3}};
  std::string out = "x";
  encode_scrape(entries, out);
  EXPECT_EQ(out, "xd5:filesd20:" + std::string(20, 'a') +
                     "d8:completei5e10:downloadedi12e10:incompletei3eeee");
}

TEST(EncodeScrapeTest, EmptyAndDuplicates) {
  std::string out;
  encode_scrape({}, out);
  EXPECT_EQ(out, "d5:filesdee");

  // A hash asked for twice is answered once, keeping the dictionary valid.
  const ScrapeEntry entries[] = {
      {hash_of('a'), 1, 1, 1}, {hash_of('a'), 1, 1, 1}, {hash_of('b'), 2, 2, 2}};
  out.clear();
  encode_scrape(entries, out);
  auto d = bdecode(out);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->find("files")->as_dict().size(), 2u);
}

TEST(ScrapeTest, RandomRoundTrip) {
  const std::uint64_t seed = testing::test_seed();
  SCOPED_TRACE("P2P_TEST_SEED=" + std::to_string(seed));
  core::Rng rng(seed);
  std::vector<InfoHash> parsed;
  parsed.reserve(kMaxScrapeHashes);
  for (int i = 0; i < 500; ++i) {
    std::vector<ScrapeEntry> entries(rng.below(kMaxScrapeHashes + 1));
    std::string q;
    for (auto& e : entries) {
      e.info_hash = *InfoHash::from_bytes(testing::random_bytes(rng, 20));
      e.complete = static_cast<std::uint32_t>(rng.next());
      e.downloaded = static_cast<std::uint32_t>(rng.next());
      e.incomplete = static_cast<std::uint32_t>(rng.next());
      if (rng.below(4) == 0) q += "other=1&";
      q += "info_hash=" + testing::percent_encode(e.info_hash.view(), rng) + "&";
    }
    parsed.clear();
    ASSERT_TRUE(parse_scrape(q, parsed));
    ASSERT_EQ(parsed.size(), entries.size());
    for (std::size_t j = 0; j < entries.size(); ++j) ASSERT_EQ(parsed[j], entries[j].info_hash);

    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.info_hash < b.info_hash; });
    std::string out;
    encode_scrape(entries, out);
    auto d = bdecode(out);
    ASSERT_TRUE(d) << d.error().message;
    const auto& files = d->find("files")->as_dict();
    ASSERT_EQ(files.size(), entries.size());
    for (const auto& e : entries) {
      const BValue* f = d->find("files")->find(e.info_hash.view());
      ASSERT_NE(f, nullptr);
      EXPECT_EQ(f->find("complete")->as_int(), e.complete);
      EXPECT_EQ(f->find("downloaded")->as_int(), e.downloaded);
      EXPECT_EQ(f->find("incomplete")->as_int(), e.incomplete);
    }
  }
}

}  // namespace
}  // namespace p2p::wire

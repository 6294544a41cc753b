#include "wire/bencode.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "wire_testing.h"

namespace p2p::wire {
namespace {

bool same(const BValue& a, const BValue& b) {
  if (a.v.index() != b.v.index()) return false;
  if (a.is_int()) return a.as_int() == b.as_int();
  if (a.is_string()) return a.as_string() == b.as_string();
  if (a.is_list()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  const auto& x = a.as_dict();
  const auto& y = b.as_dict();
  if (x.size() != y.size()) return false;
  for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
    if (i->first != j->first || !same(i->second, j->second)) return false;
  }
  return true;
}

// The error message for `in`, or "" if it decoded.
std::string error_of(std::string_view in) {
  auto r = bdecode(in);
  return r ? std::string() : r.error().message;
}

TEST(BencodeWriterTest, Integers) {
  std::string out;
  BencodeWriter w(out);
  w.integer(0);
  w.integer(-1);
  w.integer(42);
  w.integer(std::numeric_limits<std::int64_t>::max());
  w.integer(std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(out, "i0ei-1ei42ei9223372036854775807ei-9223372036854775808e");
}

TEST(BencodeWriterTest, StringsAreBinarySafe) {
  std::string out;
  BencodeWriter w(out);
  w.string("");
  w.string("spam");
  w.string(std::string_view("\0e:", 3));
  EXPECT_EQ(out, std::string("0:4:spam3:\0e:", 13));
}

TEST(BencodeWriterTest, ContainersAndShorthandsAppend) {
  std::string out = "prefix";
  BencodeWriter w(out);
  w.begin_dict();
  w.key_int("a", 1);
  w.key_string("b", "x");
  w.string("c");
  w.begin_list();
  w.integer(2);
  w.end();
  w.end();
  EXPECT_EQ(out, "prefixd1:ai1e1:b1:x1:cli2eee");
}

TEST(BdecodeTest, DecodesEveryKind) {
  auto r = bdecode("d3:bar4:spam3:fooi42e4:listli1ei-2e0:e4:nestd1:xdeee");
  ASSERT_TRUE(r) << r.error().message;
  const BValue& v = *r;
  ASSERT_TRUE(v.is_dict());
  EXPECT_EQ(v.find("bar")->as_string(), "spam");
  EXPECT_EQ(v.find("foo")->as_int(), 42);
  const auto& list = v.find("list")->as_list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].as_int(), 1);
  EXPECT_EQ(list[1].as_int(), -2);
  EXPECT_EQ(list[2].as_string(), "");
  EXPECT_TRUE(v.find("nest")->find("x")->is_dict());
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(list[0].find("x"), nullptr);  // not a dict
}

TEST(BdecodeTest, Extremes) {
  EXPECT_EQ(bdecode("i9223372036854775807e")->as_int(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(bdecode("i-9223372036854775808e")->as_int(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(bdecode("i0e")->as_int(), 0);
  EXPECT_EQ(bdecode("0:")->as_string(), "");
  EXPECT_EQ(bdecode(std::string_view("3:\0\0\0", 5))->as_string(), std::string(3, '\0'));
  EXPECT_TRUE(bdecode("de")->as_dict().empty());
  EXPECT_TRUE(bdecode("le")->as_list().empty());
}

TEST(BdecodeTest, RejectsMalformedIntegers) {
  EXPECT_NE(error_of("i03e").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("i-0e").find("-0"), std::string::npos);
  EXPECT_NE(error_of("i-01e").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("ie").find("without digits"), std::string::npos);
  EXPECT_NE(error_of("i-e").find("without digits"), std::string::npos);
  EXPECT_NE(error_of("i1").find("not closed"), std::string::npos);
  EXPECT_NE(error_of("i1x").find("not closed"), std::string::npos);
  EXPECT_NE(error_of("i+1e").find("without digits"), std::string::npos);
  EXPECT_NE(error_of("i9223372036854775808e").find("range"), std::string::npos);
  EXPECT_NE(error_of("i-9223372036854775809e").find("range"), std::string::npos);
  EXPECT_NE(error_of("i99999999999999999999999e").find("range"), std::string::npos);
}

TEST(BdecodeTest, RejectsMalformedStrings) {
  EXPECT_NE(error_of("03:abc").find("leading zero"), std::string::npos);
  EXPECT_NE(error_of("5:abc").find("larger than the input"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999999999:x").find("larger than the input"),
            std::string::npos);
  EXPECT_NE(error_of("3abc").find("':'"), std::string::npos);
  EXPECT_NE(error_of("1").find("':'"), std::string::npos);
  EXPECT_NE(error_of("3").find("larger than the input"), std::string::npos);
}

TEST(BdecodeTest, RejectsBadDictionaries) {
  EXPECT_NE(error_of("d1:bi1e1:ai2ee").find("out of order"), std::string::npos);
  EXPECT_NE(error_of("d1:ai1e1:ai2ee").find("duplicate"), std::string::npos);
  // Byte order, not locale or signed char: 0x80 sorts after 'z'.
  EXPECT_TRUE(bdecode("d1:zi1e1:\x80i2ee"));
  EXPECT_NE(error_of("d1:\x80i2e1:zi1ee").find("out of order"), std::string::npos);
  // A prefix sorts first.
  EXPECT_TRUE(bdecode("d1:ai1e2:aai2ee"));
  EXPECT_NE(error_of("d2:aai2e1:ai1ee").find("out of order"), std::string::npos);
  EXPECT_NE(error_of("di1ei2ee").find("not a string"), std::string::npos);
  EXPECT_NE(error_of("d1:ae").find("without a value"), std::string::npos);
  EXPECT_NE(error_of("d1:ai1e").find("ends inside"), std::string::npos);
}

TEST(BdecodeTest, RejectsStructuralErrors) {
  EXPECT_NE(error_of("").find("ends inside"), std::string::npos);
  EXPECT_NE(error_of("i1ei2e").find("trailing"), std::string::npos);
  EXPECT_NE(error_of("dex").find("trailing"), std::string::npos);
  EXPECT_NE(error_of("e").find("unexpected 'e'"), std::string::npos);
  EXPECT_NE(error_of("l").find("ends inside"), std::string::npos);
  EXPECT_NE(error_of("li1e").find("ends inside"), std::string::npos);
  EXPECT_NE(error_of("x").find("unexpected byte 0x78"), std::string::npos);
  EXPECT_NE(error_of("l1:ae1:b").find("trailing"), std::string::npos);
}

TEST(BdecodeTest, ErrorsNameTheOffset) {
  EXPECT_EQ(error_of("li1ei03ee"), "bencode: integer with a leading zero at offset 4");
}

TEST(BdecodeTest, DepthLimit) {
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), 'l') +
           std::string(static_cast<std::size_t>(depth), 'e');
  };
  EXPECT_TRUE(bdecode(nested(kMaxBencodeDepth)));
  EXPECT_NE(error_of(nested(kMaxBencodeDepth + 1)).find("nesting deeper than 64"),
            std::string::npos);
  // Far deeper than any stack would survive with a recursive decoder.
  EXPECT_FALSE(bdecode(std::string(1'000'000, 'l')));
  std::string dicts;
  for (int i = 0; i <= kMaxBencodeDepth; ++i) dicts += "d1:k";
  EXPECT_FALSE(bdecode(dicts + "i1e" + std::string(kMaxBencodeDepth + 1, 'e')));
}

TEST(BencodeTest, ReEncodesCanonically) {
  for (std::string_view in :
       {"i-5e", "4:spam", "le", "de", "d1:ad1:bl0:i0eeee", "d3:bar4:spam3:fooi42ee"}) {
    auto r = bdecode(in);
    ASSERT_TRUE(r) << in;
    EXPECT_EQ(bencode(*r), in);
  }
}

BValue random_value(core::Rng& rng, int depth) {
  BValue v;
  switch (depth >= 6 ? rng.below(2) : rng.below(4)) {
    case 0: {
      std::uint64_t r = rng.next();
      // Small numbers and the extremes both matter.
      v.v =
          rng.below(2) ? static_cast<std::int64_t>(r % 2001) - 1000 : static_cast<std::int64_t>(r);
      break;
    }
    case 1:
      v.v = testing::random_bytes(rng, rng.below(24));
      break;
    case 2: {
      BValue::List list;
      for (std::uint64_t i = rng.below(5); i > 0; --i) list.push_back(random_value(rng, depth + 1));
      v.v = std::move(list);
      break;
    }
    default: {
      BValue::Dict dict;
      for (std::uint64_t i = rng.below(5); i > 0; --i) {
        dict.emplace(testing::random_bytes(rng, rng.below(6)), random_value(rng, depth + 1));
      }
      v.v = std::move(dict);
      break;
    }
  }
  return v;
}

TEST(BencodeTest, RandomRoundTrip) {
  const std::uint64_t seed = testing::test_seed();
  SCOPED_TRACE("P2P_TEST_SEED=" + std::to_string(seed));
  core::Rng rng(seed);
  for (int i = 0; i < 2000; ++i) {
    BValue v = random_value(rng, 0);
    std::string enc = bencode(v);
    auto back = bdecode(enc);
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(same(*back, v));
    ASSERT_EQ(bencode(*back), enc);
  }
}

}  // namespace
}  // namespace p2p::wire

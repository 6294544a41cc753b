#include "core/constant_time.h"

#include <gtest/gtest.h>

#include <string>

namespace p2p::core {
namespace {

TEST(ConstantTimeEqualTest, EqualOnlyWhenBytesAndLengthsMatch) {
  EXPECT_TRUE(constant_time_equal("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(constant_time_equal("s3cret-tokeN", "s3cret-token"));  // last byte
  EXPECT_FALSE(constant_time_equal("S3cret-token", "s3cret-token"));  // first byte
  EXPECT_FALSE(constant_time_equal("", "s3cret-token"));
}

// The loop runs over the presented bytes, repeating the secret: a guess that
// is the secret twice over, or its prefix, must not pass.
TEST(ConstantTimeEqualTest, LengthMismatchIsNeverEqual) {
  EXPECT_FALSE(constant_time_equal("abcabc", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abcabc"));
  EXPECT_FALSE(constant_time_equal(std::string(300, 'a'), std::string(44, 'a')));
}

TEST(ConstantTimeEqualTest, EmptySecretMatchesNothing) {
  EXPECT_FALSE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("x", ""));
}

TEST(ConstantTimeEqualTest, EveryBitCounts) {
  const std::string secret = "0123456789abcdef";
  for (std::size_t i = 0; i < secret.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string guess = secret;
      guess[i] = static_cast<char>(guess[i] ^ (1 << bit));
      EXPECT_FALSE(constant_time_equal(guess, secret)) << "byte " << i << " bit " << bit;
    }
  }
  // Bytes above 0x7f compare as bytes, not as signed chars.
  EXPECT_TRUE(constant_time_equal("\xff\x80", "\xff\x80"));
  EXPECT_FALSE(constant_time_equal("\xff\x80", "\x7f\x80"));
}

}  // namespace
}  // namespace p2p::core

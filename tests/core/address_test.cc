#include "core/address.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace p2p::core {
namespace {

TEST(AddressTest, ParsesAndPrintsBothFamilies) {
  auto v4 = Address::parse("10.1.2.3");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->v4_value(), 0x0A010203u);
  EXPECT_EQ(v4->to_string(), "10.1.2.3");
  auto v6 = Address::parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
  // An IPv4-mapped IPv6 address is the IPv4 address.
  EXPECT_EQ(Address::parse("::ffff:10.1.2.3"), v4);
  EXPECT_FALSE(Address::parse("10.1.2"));
  EXPECT_FALSE(Address::parse("example.org"));
  EXPECT_FALSE(Address::parse(""));
}

TEST(AddressTest, Loopback) {
  EXPECT_TRUE(Address::parse("127.0.3.4")->is_loopback());
  EXPECT_TRUE(Address::parse("::1")->is_loopback());
  EXPECT_FALSE(Address::parse("10.0.0.1")->is_loopback());
}

// Address compares 64-bit words; the order must still be the bytes' order
// (sorted swarms, CIDR ranges and the static map depend on it).
TEST(AddressTest, OrdersLikeItsBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::uint8_t a[16], b[16];
    for (auto& x : a) x = static_cast<std::uint8_t>(rng());
    std::memcpy(b, a, 16);
    // Differ in one byte (or none), so every position is exercised.
    const int at = static_cast<int>(rng() % 17);
    if (at < 16) b[at] = static_cast<std::uint8_t>(rng());
    const Address x = Address::v6_bytes(a), y = Address::v6_bytes(b);
    const int bytes = std::memcmp(a, b, 16);
    EXPECT_EQ(x == y, bytes == 0);
    EXPECT_EQ(x < y, bytes < 0) << x.to_string() << " " << y.to_string();
    EXPECT_EQ(x > y, bytes > 0);
  }
  EXPECT_LT(*Address::parse("10.0.0.255"), *Address::parse("10.0.1.0"));
  EXPECT_LT(*Address::parse("255.255.255.255"), *Address::parse("2001:db8::"));
  EXPECT_LT((Endpoint{*Address::parse("10.0.0.1"), 9}), (Endpoint{*Address::parse("10.0.0.1"), 10}));
}

TEST(EndpointTest, ToString) {
  EXPECT_EQ((Endpoint{*Address::parse("1.2.3.4"), 6881}).to_string(), "1.2.3.4:6881");
  EXPECT_EQ((Endpoint{*Address::parse("::1"), 80}).to_string(), "[::1]:80");
}

TEST(CidrTest, ParseContainsAndMask) {
  auto c = Cidr::parse("10.1.2.77/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "10.1.2.0/24");
  EXPECT_TRUE(c->contains(*Address::parse("10.1.2.1")));
  EXPECT_FALSE(c->contains(*Address::parse("10.1.3.1")));
  EXPECT_FALSE(c->contains(*Address::parse("2001:db8::1")));
  auto host = Cidr::parse("192.168.1.5");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix_len(), 32);
  auto v6 = Cidr::parse("2001:db8:1:2::/64");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*Address::parse("2001:db8:1:2:ffff::1")));
  EXPECT_FALSE(v6->contains(*Address::parse("2001:db8:1:3::1")));
  EXPECT_FALSE(v6->contains(*Address::parse("10.0.0.1")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*Address::parse("8.8.8.8")));
}

TEST(CidrTest, RejectsBadInput) {
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x"));
  EXPECT_FALSE(Cidr::parse("rack1"));
  EXPECT_FALSE(Cidr::parse("::/129"));
}

}  // namespace
}  // namespace p2p::core

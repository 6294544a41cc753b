#include "core/address.h"

#include <gtest/gtest.h>

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

// resolve_listen_host: IP literals pass through, names resolve at start-up.
// Only names this host answers itself (/etc/hosts, or one the resolver refuses
// before asking anyone): no test sends a DNS query off the machine.
#include "net/listen_addresses.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace p2p::net {
namespace {

TEST(ListenAddressesTest, IpLiteralsPassThrough) {
  for (const char* host : {"0.0.0.0", "::", "127.0.0.1", "::1", "10.1.2.3"}) {
    auto r = resolve_listen_host(host);
    ASSERT_TRUE(r.ok()) << host << ": " << r.error().message;
    EXPECT_EQ(r->addresses, std::vector<std::string>{host});
    EXPECT_FALSE(r->resolved);
    EXPECT_TRUE(r->skipped.empty());
  }
}

TEST(ListenAddressesTest, LocalhostResolvesToLoopback) {
  auto r = resolve_listen_host("localhost");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->resolved);
  ASSERT_FALSE(r->addresses.empty());
  for (const std::string& a : r->addresses) {
    EXPECT_TRUE(a == "127.0.0.1" || a == "::1") << a;
  }
  // Each address once, though getaddrinfo may list one per socket type.
  auto sorted = r->addresses;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(ListenAddressesTest, ANameThatDoesNotResolveIsAnError) {
  // A 64-character label is not a valid DNS name: the resolver fails before
  // sending a query.
  const std::string name = std::string(64, 'a') + ".invalid";
  auto r = resolve_listen_host(name);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("cannot resolve '" + name + "' to an address to listen on: "),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace p2p::net

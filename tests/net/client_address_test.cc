// Whose request is this: the proxy rule shared by announces and admin access.
#include "net/client_address.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace p2p::net {
namespace {

std::string client_of(const std::string& from, std::map<std::string, std::string> headers,
                      bool proxypass, const std::vector<std::string>& proxies) {
  HttpRequest r;
  r.method = Method::kGet;
  r.remote = {*core::Address::parse(from), 40000};
  r.header = [&headers](std::string_view name) -> std::string_view {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string_view{} : std::string_view(it->second);
  };
  std::vector<core::Cidr> trusted;
  for (const auto& p : proxies) trusted.push_back(*core::Cidr::parse(p));
  return client_address(r, proxypass, trusted).to_string();
}

TEST(ClientAddressTest, TcpPeerUnlessATrustedProxySpeaks) {
  const std::vector<std::string> proxies = {"127.0.0.1/32", "10.0.0.2/32"};
  std::map<std::string, std::string> xff = {{"X-Forwarded-For", "192.0.2.7"}};
  EXPECT_EQ(client_of("127.0.0.1", xff, false, proxies), "127.0.0.1");  // proxypass off
  EXPECT_EQ(client_of("127.0.5.5", xff, true, proxies), "127.0.5.5");   // not a proxy
  EXPECT_EQ(client_of("127.0.0.1", xff, true, proxies), "192.0.2.7");
  EXPECT_EQ(client_of("127.0.0.1", {}, true, proxies), "127.0.0.1");  // no header
}

TEST(ClientAddressTest, RealIpFirstThenForwardedForFromTheRight) {
  const std::vector<std::string> proxies = {"127.0.0.1/32", "10.0.0.2/32"};
  EXPECT_EQ(client_of("127.0.0.1", {{"X-Real-IP", " 10.0.0.1 "}, {"X-Forwarded-For", "1.1.1.1"}},
                      true, proxies),
            "10.0.0.1");
  // Our own proxies are skipped; a forged entry left of the real client is not reached.
  EXPECT_EQ(client_of("127.0.0.1", {{"X-Forwarded-For", "127.0.0.1, 192.0.2.7, 10.0.0.2"}}, true,
                      proxies),
            "192.0.2.7");
  // Garbage stops the walk at the last address a proxy vouched for.
  EXPECT_EQ(client_of("127.0.0.1", {{"X-Forwarded-For", "junk, 10.0.0.2"}}, true, proxies),
            "10.0.0.2");
}

}  // namespace
}  // namespace p2p::net

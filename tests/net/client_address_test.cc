// The trust rule: whose address a request is, for HTTP and UDP alike.
#include "net/client_address.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace p2p::net {
namespace {

core::Address addr(std::string_view s) { return *core::Address::parse(s); }
core::Cidr cidr(std::string_view s) { return *core::Cidr::parse(s); }

TrustOptions behind_proxies() {
  TrustOptions o;
  o.proxypass = true;
  o.trusted_proxies = {cidr("127.0.0.1/32"), cidr("10.1.1.0/24")};
  return o;
}

std::string requester(const TrustOptions& o, std::string_view source, std::string_view header) {
  return requester_address(o, addr(source), header).to_string();
}

TEST(ClientAddressTest, TheSourceWithoutProxypass) {
  TrustOptions o;
  o.trusted_proxies = {cidr("127.0.0.1/32")};
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.1"), "127.0.0.1");
}

TEST(ClientAddressTest, HeadersOnlyFromTrustedProxies) {
  const TrustOptions o = behind_proxies();
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(requester(o, "127.0.0.9", "192.0.2.1"), "127.0.0.9");
  EXPECT_EQ(requester(o, "127.0.0.1", ""), "127.0.0.1");
}

TEST(ClientAddressTest, ForwardedForIsReadRightToLeftPastOurProxies) {
  const TrustOptions o = behind_proxies();
  // The client wrote 192.0.2.66 itself; 192.0.2.1 is what our first proxy saw.
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.66, 192.0.2.1, 10.1.1.7"), "192.0.2.1");
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.66,192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(requester(o, "127.0.0.1", " 192.0.2.1 "), "192.0.2.1");
  // Every entry one of ours: the left-most.
  EXPECT_EQ(requester(o, "127.0.0.1", "10.1.1.8, 10.1.1.7"), "10.1.1.8");
  EXPECT_EQ(requester(o, "127.0.0.1", "2001:db8::5, 10.1.1.7"), "2001:db8::5");
  // Entries with a port, as some proxies write them.
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.66, 192.0.2.1:4711"), "192.0.2.1");
  EXPECT_EQ(requester(o, "127.0.0.1", "[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(requester(o, "127.0.0.1", "[2001:db8::1]:443, 10.1.1.7:80"), "2001:db8::1");
  // A trusted proxy past its port is still passed.
  EXPECT_EQ(requester(o, "127.0.0.1", "192.0.2.9, 10.1.1.7:80"), "192.0.2.9");
}

TEST(ClientAddressTest, AForwardedForEntryThatNamesNoAddressLeavesTheClientUnknown) {
  const TrustOptions o = behind_proxies();
  // Never the proxy's own address: 127.0.0.1 may change the tracker.
  for (std::string_view xff :
       {"nonsense", "192.0.2.1, nonsense", "unknown", "192.0.2.1, unknown, 10.1.1.7", "_hidden",
        "192.0.2.1,", "[..]:443", "[2001:db8::1", "[2001:db8::1]x",
        "[2001:db8::1]:", "1.2.3.4:", "1.2.3.4:5:6", "example.com:80", "[1.2.3.4]:80x"}) {
    EXPECT_EQ(requester_address(o, addr("127.0.0.1"), xff), kUnknownClient) << xff;
  }
  EXPECT_EQ(kUnknownClient.to_string(), "::");
  // Garbage left of the first address that is not ours is never read.
  EXPECT_EQ(requester(o, "127.0.0.1", "nonsense, 192.0.2.1, 10.1.1.7"), "192.0.2.1");
}

TEST(ClientAddressTest, RealIpOnlyWhenConfigured) {
  TrustOptions o = behind_proxies();
  std::map<std::string, std::string, std::less<>> headers = {{"X-Real-IP", "192.0.2.7"},
                                                             {"X-Forwarded-For", "192.0.2.8"}};
  HttpRequest r;
  r.remote = {addr("127.0.0.1"), 1};
  r.header = [&headers](std::string_view name) -> std::string_view {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view{} : std::string_view(it->second);
  };
  // Default: X-Forwarded-For; a client's own X-Real-IP passed through is ignored.
  EXPECT_EQ(requester_address(o, r).to_string(), "192.0.2.8");
  o.proxy_header = ProxyHeader::kXRealIp;
  EXPECT_EQ(requester_address(o, r).to_string(), "192.0.2.7");
  headers["X-Real-IP"] = "not an address";
  EXPECT_EQ(requester_address(o, r), kUnknownClient);
  headers.erase("X-Real-IP");  // absent: the proxy itself asks
  EXPECT_EQ(requester_address(o, r).to_string(), "127.0.0.1");
  // From an untrusted peer no header is even read.
  r.remote = {addr("127.0.0.9"), 1};
  r.header = nullptr;
  EXPECT_EQ(requester_address(o, r).to_string(), "127.0.0.9");
}

TEST(ClientAddressTest, IpParameterOnlyFromTrustedNetworks) {
  TrustOptions o;
  o.trusted_networks = {cidr("127.0.5.0/24")};
  const auto ip = core::Address::parse("10.9.8.7");
  EXPECT_EQ(announced_address(o, addr("127.0.5.1"), ip).to_string(), "10.9.8.7");
  EXPECT_EQ(announced_address(o, addr("127.0.6.1"), ip).to_string(), "127.0.6.1");
  EXPECT_EQ(announced_address(o, addr("127.0.5.1"), std::nullopt).to_string(), "127.0.5.1");
}

// Behind a proxy, `ip` is judged by the client the proxy names, not by the
// proxy: a trusted proxy does not make every client trusted.
TEST(ClientAddressTest, IpParameterJudgedByTheRequester) {
  TrustOptions o = behind_proxies();
  o.trusted_networks = {cidr("127.0.0.1/32")};
  const auto ip = core::Address::parse("10.9.8.7");
  const core::Address client = requester_address(o, addr("127.0.0.1"), "192.0.2.1");
  EXPECT_EQ(announced_address(o, client, ip).to_string(), "192.0.2.1");
}

TEST(ClientAddressTest, ProxyHeaderNames) {
  EXPECT_EQ(parse_proxy_header("x-real-ip"), ProxyHeader::kXRealIp);
  EXPECT_EQ(parse_proxy_header("X-Forwarded-For"), ProxyHeader::kXForwardedFor);
  EXPECT_EQ(parse_proxy_header("Forwarded"), std::nullopt);
  EXPECT_EQ(proxy_header_name(ProxyHeader::kXRealIp), "X-Real-IP");
}

}  // namespace
}  // namespace p2p::net

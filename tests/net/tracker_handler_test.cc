// TrackerHandler without sockets: trust rules, announce and scrape replies.
#include "net/tracker_handler.h"

#include <gtest/gtest.h>

#include <span>

#include "core/clock.h"
#include "storage/store.h"
#include "swarm/swarm_test_util.h"
#include "wire/bencode.h"

namespace p2p::net {
namespace {

using swarm::testing::Slash24;

std::string pct(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

class TrackerHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_.counters = &counters_;
    make({});
  }

  void make(TrackerOptions o) {
    tracker_.reset();
    auto s = storage::make_store(
        {}, [](core::RackId) { return std::string("r"); }, clock_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    swarms_ = std::make_unique<swarm::SwarmTable>(swarm::SwarmOptions{}, racks_, clock_);
    swarms_->activate(hash_, 1000);
    core_ = std::make_unique<Tracker>(o, *swarms_, *store_, clock_);
    tracker_ = std::make_unique<TrackerHandler>(*core_);
  }

  // Sends a GET and returns the decoded bencoded reply.
  wire::BValue get(const std::string& target, const std::string& from = "127.0.1.1",
                   std::map<std::string, std::string> headers = {}) {
    HttpRequest r;
    r.method = Method::kGet;
    r.target = target;
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string_view::npos ? "" : r.target.substr(q + 1);
    r.remote = {*core::Address::parse(from), 40000};
    r.header = [&headers](std::string_view name) -> std::string_view {
      auto it = headers.find(std::string(name));
      return it == headers.end() ? std::string_view{} : std::string_view(it->second);
    };
    response_.reset();
    tracker_->handle(r, response_, context_);
    auto v = wire::bdecode(response_.body_bytes());
    EXPECT_TRUE(v) << response_.body_bytes();
    return v ? *v : wire::BValue{};
  }

  std::string announce_target(std::string_view hash_raw, int port = 6881,
                              const std::string& extra = "") {
    return "/announce?info_hash=" + pct(hash_raw) + "&peer_id=" + pct("-PT0001-abcdefghijkl") +
           "&port=" + std::to_string(port) + "&uploaded=0&downloaded=0&left=1000&compact=1" + extra;
  }

  core::ManualClock clock_;
  Slash24 racks_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<swarm::SwarmTable> swarms_;
  std::unique_ptr<Tracker> core_;
  std::unique_ptr<TrackerHandler> tracker_;
  core::InfoHash hash_ = *core::InfoHash::from_hex("0123456789ABCDEF0123456789ABCDEF01234567");
  HttpResponse response_;
  metrics::WorkerCounters counters_;  // the worker's block: what /metrics sums
  WorkerContext context_{7};
};

TEST_F(TrackerHandlerTest, ActiveAnnounceGetsActiveIntervalAndPeers) {
  get(announce_target(hash_.view()), "127.0.1.1");
  auto v = get(announce_target(hash_.view()), "127.0.1.2");
  ASSERT_TRUE(v.is_dict());
  EXPECT_EQ(v.find("interval")->as_int(), 45);
  EXPECT_EQ(v.find("min interval")->as_int(), 15);
  EXPECT_EQ(v.find("incomplete")->as_int(), 2);
  EXPECT_EQ(v.find("complete")->as_int(), 0);
  const std::string& peers = v.find("peers")->as_string();
  ASSERT_EQ(peers.size(), 6u);
  EXPECT_EQ(peers.substr(0, 4), std::string("\x7f\x00\x01\x01", 4));
  EXPECT_EQ(v.find("external ip")->as_string(), std::string("\x7f\x00\x01\x02", 4));
  EXPECT_EQ(v.find("warning message"), nullptr);
}

// The server sets downloading_interval under tree only
// (swarm::downloading_interval); a host still downloading is asked it, a
// seeder active_interval, and "min interval" never exceeds what is asked.
TEST_F(TrackerHandlerTest, ADownloadingPeerIsAskedTheDownloadingInterval) {
  TrackerOptions o;
  o.downloading_interval = 10;
  make(o);
  auto v = get(announce_target(hash_.view()), "127.0.1.1");
  EXPECT_EQ(v.find("interval")->as_int(), 10);
  EXPECT_EQ(v.find("min interval")->as_int(), 10);
  std::string seeder = announce_target(hash_.view());
  seeder.replace(seeder.find("left=1000"), 9, "left=0");
  v = get(seeder, "127.0.1.2");
  EXPECT_EQ(v.find("interval")->as_int(), 45);
  EXPECT_EQ(v.find("min interval")->as_int(), 15);

  o.downloading_interval = 60;  // never longer than active_interval
  make(o);
  EXPECT_EQ(get(announce_target(hash_.view()), "127.0.1.1").find("interval")->as_int(), 45);
  o.downloading_interval = 0;  // unset: active_interval
  make(o);
  EXPECT_EQ(get(announce_target(hash_.view()), "127.0.1.1").find("interval")->as_int(), 45);
}

TEST(DownloadingIntervalTest, OnlyTheTreeAsksForIt) {
  using swarm::PolicyMode;
  EXPECT_EQ(swarm::downloading_interval(PolicyMode::kTree, 45, 10), 10u);
  EXPECT_EQ(swarm::downloading_interval(PolicyMode::kTree, 2, 10), 2u);
  EXPECT_EQ(swarm::downloading_interval(PolicyMode::kTree, 45, 0), 45u);
  for (auto m : {PolicyMode::kOriginal, PolicyMode::kStandby, PolicyMode::kProgress,
                 PolicyMode::kRelay, PolicyMode::kChain}) {
    EXPECT_EQ(swarm::downloading_interval(m, 45, 10), 45u);
  }
}

TEST_F(TrackerHandlerTest, UnknownTransferIsPassiveWithWarning) {
  auto other = *core::InfoHash::from_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  auto v = get(announce_target(other.view()));
  EXPECT_EQ(v.find("interval")->as_int(), 300);
  EXPECT_EQ(v.find("peers")->as_string(), "");
  EXPECT_EQ(v.find("warning message")->as_string(),
            "No active transfer for that info_hash: "
            "ffffffffffffffffffffffffffffffffffffffff");
}

TEST_F(TrackerHandlerTest, MalformedAnnounceGetsFailureReason) {
  auto v = get("/announce?peer_id=x&port=1");
  ASSERT_NE(v.find("failure reason"), nullptr);
  EXPECT_NE(v.find("failure reason")->as_string().find("info_hash"), std::string::npos);
  using metrics::Counter;
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpFailure), 1u);
  EXPECT_EQ(counters_.get(Counter::kFailureHttpInfoHash), 1u);
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpOk), 0u);
  EXPECT_EQ(counters_.get(Counter::kTopologyLookups),
            0u);  // never reached the swarm
}

TEST_F(TrackerHandlerTest, AnnouncesAreCountedByResult) {
  using metrics::Counter;
  get(announce_target(hash_.view()), "127.0.1.1");
  get(announce_target(hash_.view()), "127.0.1.2");
  auto other = *core::InfoHash::from_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  get(announce_target(other.view()));
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpOk), 2u);
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpInactive), 1u);
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpFailure), 0u);
  EXPECT_EQ(counters_.get(Counter::kAnnounceUdpOk), 0u);
  EXPECT_EQ(counters_.get(Counter::kTopologyLookups), 3u);
  // A subnet topology has no map to fall back from.
  EXPECT_EQ(counters_.get(Counter::kTopologyFallbacks), 0u);

  // A context without a block counts nothing and still answers.
  WorkerContext bare(9);
  response_.reset();
  HttpRequest r;
  r.method = Method::kGet;
  std::string target = announce_target(hash_.view(), 7000);
  r.target = target;
  r.path = "/announce";
  r.query = r.target.substr(r.target.find('?') + 1);
  r.remote = {*core::Address::parse("127.0.3.3"), 1};
  r.header = [](std::string_view) { return std::string_view{}; };
  tracker_->handle(r, response_, bare);
  EXPECT_NE(response_.body.find("8:intervali45e"), std::string::npos) << response_.body;
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpOk), 2u);
}

TEST_F(TrackerHandlerTest, StaticTopologyCountsUnnamedRacksAsFallbacks) {
  TrackerOptions o;
  o.static_topology = true;  // Slash24 names no rack: every lookup falls back
  make(o);
  get(announce_target(hash_.view()), "127.0.1.1");
  get(announce_target(hash_.view()), "127.0.1.2");
  EXPECT_EQ(counters_.get(metrics::Counter::kTopologyLookups), 2u);
  EXPECT_EQ(counters_.get(metrics::Counter::kTopologyFallbacks), 2u);
}

// Each kind of mistake lands in its own reason: guards the mapping from the
// parser's messages (net::announce_failure_reason) against rewording.
TEST_F(TrackerHandlerTest, FailureReasonsFollowTheParameterAtFault) {
  using metrics::Counter;
  const std::string id = "&peer_id=" + pct("-PT0001-abcdefghijkl");
  const std::string good_hash = "info_hash=" + pct(hash_.view());
  const std::string counters = "&uploaded=0&downloaded=0&left=0";
  struct Case {
    std::string query;
    Counter reason;
  } cases[] = {
      {"peer_id=x&port=1", Counter::kFailureHttpInfoHash},
      {"info_hash=abc" + id + "&port=1" + counters, Counter::kFailureHttpInfoHash},
      {good_hash + "&port=1" + counters, Counter::kFailureHttpPeerId},
      {good_hash + "&peer_id=short&port=1" + counters, Counter::kFailureHttpPeerId},
      {good_hash + id + counters, Counter::kFailureHttpPort},
      {good_hash + id + "&port=0" + counters, Counter::kFailureHttpPort},
      {good_hash + id + "&port=1&downloaded=0&left=0", Counter::kFailureHttpCounters},
      {good_hash + id + "&port=1&uploaded=0&downloaded=-1&left=0", Counter::kFailureHttpCounters},
      {good_hash + id + "&port=1&uploaded=0&downloaded=0", Counter::kFailureHttpCounters},
      {good_hash + id + "&port=1" + counters + "&event=bogus", Counter::kFailureHttpEvent},
  };
  std::uint64_t failures = 0;
  for (const Case& c : cases) {
    const std::uint64_t before = counters_.get(c.reason);
    auto v = get("/announce?" + c.query);
    ASSERT_NE(v.find("failure reason"), nullptr) << c.query;
    EXPECT_EQ(counters_.get(c.reason), before + 1)
        << c.query << " -> " << v.find("failure reason")->as_string();
    ++failures;
  }
  EXPECT_EQ(counters_.get(Counter::kAnnounceHttpFailure), failures);
  EXPECT_EQ(counters_.get(Counter::kFailureHttpOther), 0u);
  EXPECT_EQ(announce_failure_reason("something new"), metrics::FailureReason::kOther);
}

TEST_F(TrackerHandlerTest, IpParameterOnlyFromTrustedNetworks) {
  const auto ip = "&ip=10.9.8.7";
  get(announce_target(hash_.view(), 6881, ip),
      "127.0.1.1");  // untrusted: ignored
  auto v = get(announce_target(hash_.view(), 6882), "127.0.1.2");
  EXPECT_EQ(v.find("peers")->as_string().substr(0, 4), std::string("\x7f\x00\x01\x01", 4));

  TrackerOptions o;
  o.trust.trusted_networks = {*core::Cidr::parse("127.0.5.0/24")};
  make(o);
  get(announce_target(hash_.view(), 6881, ip),
      "127.0.5.1");  // trusted: 10.9.8.7
  v = get(announce_target(hash_.view(), 6882), "127.0.1.2");
  EXPECT_EQ(v.find("peers")->as_string().substr(0, 4), std::string("\x0a\x09\x08\x07", 4));
}

TEST_F(TrackerHandlerTest, ProxyHeaderOnlyFromTrustedProxiesWithProxypass) {
  TrackerOptions o;
  o.trust.proxypass = true;
  o.trust.trusted_proxies = {*core::Cidr::parse("127.0.0.1/32")};
  make(o);
  // X-Real-IP is not the configured header: ignored; X-Forwarded-For names the peer.
  get(announce_target(hash_.view(), 6881), "127.0.0.1",
      {{"X-Forwarded-For", "10.0.0.1"}, {"X-Real-IP", "192.0.2.7"}});
  auto v = get(announce_target(hash_.view(), 6882), "127.0.1.2");
  EXPECT_EQ(v.find("peers")->as_string().substr(0, 4), std::string("\x0a\x00\x00\x01", 4));
}

// A flood from one source gets failure reasons while another source is
// served; its bucket refills with time (ManualClock, no sleeping).
TEST_F(TrackerHandlerTest, AnnouncesAndScrapesAreRateLimitedPerSource) {
  TrackerOptions o;
  o.rates.announces_per_second = 2;
  o.rates.announce_burst = 5;
  o.rates.scrapes_per_second = 1;
  o.rates.scrape_burst = 2;
  tracker_.reset();
  core_ = std::make_unique<Tracker>(o, *swarms_, *store_, clock_);
  tracker_ = std::make_unique<TrackerHandler>(*core_);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(get(announce_target(hash_.view()), "127.0.1.1").find("failure reason"), nullptr);
  }
  auto refused = get(announce_target(hash_.view()), "127.0.1.1");
  ASSERT_NE(refused.find("failure reason"), nullptr);
  EXPECT_EQ(refused.find("failure reason")->as_string(), kAnnounceRateLimited);
  // Another address is served meanwhile.
  EXPECT_EQ(get(announce_target(hash_.view(), 6882), "127.0.1.2").find("failure reason"), nullptr);
  // Half a second refills one announce at 2 per second.
  clock_.advance(std::chrono::milliseconds(500));
  EXPECT_EQ(get(announce_target(hash_.view()), "127.0.1.1").find("failure reason"), nullptr);
  EXPECT_NE(get(announce_target(hash_.view()), "127.0.1.1").find("failure reason"), nullptr);
  EXPECT_EQ(counters_.get(metrics::Counter::kRateLimitedHttpAnnounce), 2u);
  // Scrapes have their own bucket: announces did not spend it.
  const std::string scrape = "/scrape?info_hash=" + pct(hash_.view());
  EXPECT_NE(get(scrape, "127.0.1.1").find("files"), nullptr);
  EXPECT_NE(get(scrape, "127.0.1.1").find("files"), nullptr);
  EXPECT_EQ(get(scrape, "127.0.1.1").find("failure reason")->as_string(), kScrapeRateLimited);
  EXPECT_EQ(counters_.get(metrics::Counter::kRateLimitedHttpScrape), 1u);
  // A refused request is not an announce or scrape answered.
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpOk), 2u);
}

// Behind a trusted proxy the bucket is the client's, not the proxy's.
TEST_F(TrackerHandlerTest, RateLimitChargesTheClientBehindAProxy) {
  TrackerOptions o;
  o.trust.proxypass = true;
  o.trust.trusted_proxies = {*core::Cidr::parse("127.0.0.1/32")};
  o.rates.announces_per_second = 1;
  o.rates.announce_burst = 1;
  tracker_.reset();
  core_ = std::make_unique<Tracker>(o, *swarms_, *store_, clock_);
  tracker_ = std::make_unique<TrackerHandler>(*core_);
  EXPECT_EQ(get(announce_target(hash_.view()), "127.0.0.1", {{"X-Forwarded-For", "10.0.0.1"}})
                .find("failure reason"),
            nullptr);
  EXPECT_NE(get(announce_target(hash_.view()), "127.0.0.1", {{"X-Forwarded-For", "10.0.0.1"}})
                .find("failure reason"),
            nullptr);
  EXPECT_EQ(get(announce_target(hash_.view()), "127.0.0.1", {{"X-Forwarded-For", "10.0.0.2"}})
                .find("failure reason"),
            nullptr);
}

// One address with many ports joins as max_peers_per_address peers; the
// refused ones hear why, and peers already in keep announcing.
TEST_F(TrackerHandlerTest, PeersPerAddressAreCapped) {
  tracker_.reset();
  swarm::SwarmOptions so;
  so.policy.max_peers_per_address = 3;
  swarms_ = std::make_unique<swarm::SwarmTable>(so, racks_, clock_);
  swarms_->activate(hash_, 1000);
  core_ = std::make_unique<Tracker>(TrackerOptions{}, *swarms_, *store_, clock_);
  tracker_ = std::make_unique<TrackerHandler>(*core_);
  for (int port = 7000; port < 7003; ++port) {
    EXPECT_EQ(get(announce_target(hash_.view(), port), "127.0.1.1").find("failure reason"),
              nullptr);
  }
  auto refused = get(announce_target(hash_.view(), 7003), "127.0.1.1");
  ASSERT_NE(refused.find("failure reason"), nullptr);
  EXPECT_NE(refused.find("failure reason")->as_string().find("max_peers_per_address"),
            std::string::npos);
  EXPECT_EQ(get(announce_target(hash_.view(), 7001), "127.0.1.1").find("failure reason"), nullptr);
  auto other = get(announce_target(hash_.view(), 7003), "127.0.1.2");
  EXPECT_EQ(other.find("failure reason"), nullptr);
  EXPECT_EQ(other.find("incomplete")->as_int(), 4);
  EXPECT_EQ(counters_.get(metrics::Counter::kPeersRefusedAddress), 1u);
}

// /24 racks under /16 datacenters.
class RacksInDatacenters final : public swarm::RackMap {
 public:
  core::RackId rack_of(const core::Address& a) const noexcept override {
    return core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
  }
  std::size_t ancestors(core::RackId rack, std::span<core::RackId> out) const override {
    out[0] = core::RackId::v4_prefix(static_cast<std::uint32_t>(rack.lo) & 0xFFFF0000u, 16);
    return 1;
  }
  std::uint64_t generation() const noexcept override { return 1; }
};

// A datacenter's representative that hangs loses its place to the next rack
// gateway of the datacenter to announce: counted and logged by the tracker.
TEST_F(TrackerHandlerTest, ARepresentativeReplacedForStallingIsCounted) {
  tracker_.reset();
  static RacksInDatacenters levels;  // outlives the fixture's swarm table
  swarm::SwarmOptions so;
  so.policy.max_repr_rack = 1;
  so.policy.max_repr_up = {1, 1, 1};
  swarms_ = std::make_unique<swarm::SwarmTable>(so, levels, clock_);
  swarms_->activate(hash_, 1000);
  core_ = std::make_unique<Tracker>(TrackerOptions{}, *swarms_, *store_, clock_);
  tracker_ = std::make_unique<TrackerHandler>(*core_);
  auto announce = [&](const std::string& from, int left) {
    return get("/announce?info_hash=" + pct(hash_.view()) +
                   "&peer_id=" + pct("-PT0001-abcdefghijkl") +
                   "&port=6881&uploaded=0&downloaded=0&left=" + std::to_string(left) + "&compact=1",
               from);
  };
  // 127.1.1.1 represents its rack and the datacenter; 127.1.2.1 its rack.
  // Both show a 10 s schedule; only the second receives anything.
  announce("127.1.1.1", 1000);
  announce("127.1.2.1", 1000);
  clock_.advance(core::Seconds(10));
  announce("127.1.1.1", 1000);
  announce("127.1.2.1", 900);
  clock_.advance(core::Seconds(130));  // 130 s since the swarm first had bytes
  announce("127.1.1.1", 1000);
  announce("127.1.2.1", 900);
  EXPECT_EQ(counters_.get(metrics::Counter::kRepresentativesReplaced), 0u);
  clock_.advance(core::Seconds(10));
  announce("127.1.1.1", 1000);
  announce("127.1.2.1", 900);
  EXPECT_EQ(counters_.get(metrics::Counter::kRepresentativesReplaced), 1u);
  announce("127.1.2.1", 900);
  EXPECT_EQ(counters_.get(metrics::Counter::kRepresentativesReplaced), 1u);
}

TEST_F(TrackerHandlerTest, ScrapeAndFullScrape) {
  get(announce_target(hash_.view()), "127.0.1.1");
  auto v = get("/scrape?info_hash=" + pct(hash_.view()));
  const auto* files = v.find("files");
  ASSERT_NE(files, nullptr);
  const auto* entry = files->find(std::string(hash_.view()));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->find("incomplete")->as_int(), 1);
  auto all = get("/scrape");
  EXPECT_EQ(all.find("files")->as_dict().size(), 1u);
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpOk), 2u);
  get("/scrape?info_hash=short");
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpFailure), 1u);

  TrackerOptions o;
  o.full_scrape = false;
  make(o);
  EXPECT_NE(get("/scrape").find("failure reason"), nullptr);
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpFailure), 2u);
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpOk), 2u);
}

TEST_F(TrackerHandlerTest, AFullScrapeIsBuiltOncePerKFullScrapeForAndShared) {
  auto all = get("/scrape");
  ASSERT_NE(response_.shared_body, nullptr);
  const auto first = response_.shared_body;
  EXPECT_EQ(all.find("files")->as_dict().size(), 1u);
  // A transfer registered meanwhile shows from the next build on.
  const core::InfoHash other =
      *core::InfoHash::from_hex("ffffffffffffffffffffffffffffffffffffffff");
  swarms_->activate(other, 1000);
  clock_.advance(Tracker::kFullScrapeFor - core::Seconds(1));
  EXPECT_EQ(get("/scrape").find("files")->as_dict().size(), 1u);
  EXPECT_EQ(response_.shared_body, first);  // the same bytes, not a copy
  EXPECT_TRUE(response_.body.empty());
  clock_.advance(core::Seconds(1));
  EXPECT_EQ(get("/scrape").find("files")->as_dict().size(), 2u);
  EXPECT_NE(response_.shared_body, first);
  EXPECT_EQ(counters_.get(metrics::Counter::kScrapeHttpOk), 3u);
}

TEST_F(TrackerHandlerTest, NonGetIsRefused) {
  HttpRequest r;
  r.method = Method::kPost;
  r.target = r.path = "/announce";
  r.header = [](std::string_view) { return std::string_view{}; };
  response_.reset();
  tracker_->handle(r, response_, context_);
  EXPECT_EQ(response_.status, 405);
  EXPECT_NE(response_.body.find("failure reason"), std::string::npos);
}

}  // namespace
}  // namespace p2p::net

// The scrape-time sources behind /metrics (net/metrics_handler): swarm totals,
// per-transfer progress and per-rack completions with their label bounds, and
// the handler's reply.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "core/clock.h"
#include "metrics/registry.h"
#include "net/metrics_handler.h"
#include "storage/null_store.h"
#include "swarm/swarm_table.h"
#include "swarm/swarm_test_util.h"

namespace p2p::net {
namespace {

using swarm::testing::Slash24;

core::InfoHash hash_n(int n) {
  char hex[41];
  std::snprintf(hex, sizeof hex, "%040X", n);
  return *core::InfoHash::from_hex(hex);
}

std::string rack_name(core::RackId r) {
  return fmt::format("{}.{}.{}.0/24", r.lo >> 24, (r.lo >> 16) & 255, (r.lo >> 8) & 255);
}

std::map<std::string, double> by_label(const std::vector<metrics::Sample>& samples) {
  std::map<std::string, double> out;
  for (const auto& s : samples) out[s.labels] = s.value;
  return out;
}

class SwarmMetricsTest : public ::testing::Test {
 protected:
  // One announce of `ip`:port with `left` bytes to go.
  void announce(const core::InfoHash& h, const std::string& ip, std::uint64_t left,
                std::uint16_t port = 6881) {
    swarm::testing::join(swarms_, h, ip, left, port);
  }

  core::ManualClock clock_;
  Slash24 racks_;
  core::Rng rng_{1};
  swarm::SwarmTable swarms_{swarm::SwarmOptions{}, racks_, clock_};
};

TEST_F(SwarmMetricsTest, TotalsProgressAndRackCompletions) {
  const auto h = hash_n(1);
  swarms_.activate(h, 1000);
  announce(h, "10.0.1.1", 0);         // origin seeder: not a completion
  announce(h, "10.0.1.2", 1000);      // leecher, 0%
  announce(h, "10.0.1.2", 0);         // ... finished: a completion in rack 10.0.1.0/24
  announce(h, "10.0.2.1", 500);       // 50%
  announce(h, "10.0.2.2", 250);       // 75%
  swarms_.activate(hash_n(2), 1000);  // registered, nobody yet

  SwarmMetrics m = collect_swarm_metrics(swarms_, rack_name);
  EXPECT_EQ(m.totals.transfers, 2u);
  EXPECT_EQ(m.totals.peers, 4u);
  EXPECT_EQ(m.totals.seeders, 2u);
  EXPECT_EQ(m.totals.leechers, 2u);
  EXPECT_EQ(m.totals.representatives, 4u);  // max_repr_rack = 2, two racks

  auto progress = by_label(m.progress);
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_DOUBLE_EQ(progress["info_hash=\"" + h.hex() + "\""], (1 + 1 + 0.5 + 0.75) / 4);
  EXPECT_DOUBLE_EQ(progress["info_hash=\"" + hash_n(2).hex() + "\""], 0);

  auto racks = by_label(m.rack_completed);
  ASSERT_EQ(racks.size(), 2u);
  EXPECT_EQ(racks["rack=\"10.0.1.0/24\""], 1);
  EXPECT_EQ(racks["rack=\"10.0.2.0/24\""], 0);
}

TEST_F(SwarmMetricsTest, OpenTransferWithoutLengthUsesTheSeederShare) {
  swarm::SwarmOptions o;
  o.open = true;
  swarm::SwarmTable open(o, racks_, clock_);
  const auto h = hash_n(9);
  for (int i = 1; i <= 4; ++i) {
    swarm::PeerAnnounce a;
    a.endpoint = swarm::testing::ep("10.0.0." + std::to_string(i));
    a.left = i == 1 ? 0 : 10;
    std::vector<core::PeerContact> none;
    open.announce(h, a, rng_, none);
  }
  auto progress = by_label(collect_swarm_metrics(open, rack_name).progress);
  EXPECT_DOUBLE_EQ(progress["info_hash=\"" + h.hex() + "\""], 0.25);
}

TEST_F(SwarmMetricsTest, ProgressOnlyForThe50LargestTransfers) {
  // Transfer n has n peers (all in one rack): transfers 11..60 are the 50
  // largest.
  for (int n = 1; n <= 60; ++n) {
    swarms_.activate(hash_n(n), 100);
    for (int p = 0; p < n; ++p)
      announce(hash_n(n), "10.1.0.1", 100, static_cast<std::uint16_t>(1000 + p));
  }
  auto progress = by_label(collect_swarm_metrics(swarms_, rack_name).progress);
  ASSERT_EQ(progress.size(), metrics::kMaxTransferSeries);
  EXPECT_TRUE(progress.contains("info_hash=\"" + hash_n(60).hex() + "\""));
  EXPECT_TRUE(progress.contains("info_hash=\"" + hash_n(11).hex() + "\""));
  EXPECT_FALSE(progress.contains("info_hash=\"" + hash_n(10).hex() + "\""));
}

TEST_F(SwarmMetricsTest, AtMost100RacksThenOther) {
  // 130 racks: rack i has i + 1 hosts of which one finished (two transfers
  // share rack 0, counted in both).
  const auto h = hash_n(1), h2 = hash_n(2);
  swarms_.activate(h, 100);
  swarms_.activate(h2, 100);
  for (int r = 0; r < 130; ++r) {
    const std::string prefix = "10.2." + std::to_string(r) + ".";
    announce(h, prefix + "1", 100);
    announce(h, prefix + "1", 0);  // finished
    for (int k = 0; k < r; ++k) announce(h, prefix + std::to_string(k + 2), 100);
  }
  announce(h2, "10.2.0.1", 100);
  announce(h2, "10.2.0.1", 0);
  auto racks = by_label(collect_swarm_metrics(swarms_, rack_name).rack_completed);
  ASSERT_EQ(racks.size(), metrics::kMaxRackSeries + 1);
  EXPECT_EQ(racks["rack=\"10.2.129.0/24\""], 1);  // most hosts: kept
  EXPECT_EQ(racks["rack=\"10.2.30.0/24\""], 1);   // the 100th largest
  EXPECT_FALSE(racks.contains("rack=\"10.2.29.0/24\""));
  // Racks 0..29 summed: 30 finished hosts, plus rack 0's second transfer.
  EXPECT_EQ(racks["rack=\"other\""], 31);
}

// A store whose stats the test chooses.
class FixedStore final : public storage::NullStore {
 public:
  storage::StoreStats stats() const override {
    storage::StoreStats s;
    s.written = 41;
    s.dropped = 2;
    s.errors = 3;
    s.connected = false;
    s.resyncs = 4;
    return s;
  }
};

TEST_F(SwarmMetricsTest, HandlerServesTheRegistry) {
  const auto h = hash_n(1);
  swarms_.activate(h, 1000);
  announce(h, "10.0.1.1", 500);
  FixedStore store;
  metrics::Registry registry;
  metrics::WorkerCounters& w = registry.add_worker();
  w.add(metrics::Counter::kAnnounceHttpOk, 5);
  MetricsHandler handler(registry, {&swarms_, &store, rack_name});

  HttpRequest req;
  req.method = Method::kGet;
  req.path = "/metrics";
  HttpResponse resp;
  WorkerContext ctx(1);
  EXPECT_EQ(handler.placement(req), Placement::kBlocking);
  handler.handle(req, resp, ctx);
  EXPECT_EQ(resp.status, 200);
  EXPECT_TRUE(resp.content_type.starts_with("text/plain; version=0.0.4"));
  const std::string& b = resp.body;
  EXPECT_NE(b.find("\np2ptracker_announces_total{protocol=\"http\",result=\"ok\"} 5\n"),
            std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_transfers_active 1\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_peers 1\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_leechers 1\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_transfer_progress_ratio{info_hash=\"" + h.hex() + "\"} 0.5\n"),
            std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_rack_completed_hosts{rack=\"10.0.1.0/24\"} 0\n"),
            std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_store_writes_total 41\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_store_dropped_total 2\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_store_errors_total 3\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_store_connected 0\n"), std::string::npos);
  EXPECT_NE(b.find("\np2ptracker_store_resyncs_total 4\n"), std::string::npos);

  resp.reset();
  req.method = Method::kPost;
  handler.handle(req, resp, ctx);
  EXPECT_EQ(resp.status, 405);
}

}  // namespace
}  // namespace p2p::net

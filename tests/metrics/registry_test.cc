// metrics::Registry: the one list, per-worker sums, the text format, bounded
// label sets.
#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace p2p::metrics {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// sample line ("name{labels}" -> value text) of a rendering.
std::map<std::string, std::string> samples_of(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const std::string& line : lines_of(text)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

std::string render(const Registry& r) {
  std::string out;
  r.render(out);
  return out;
}

TEST(MetricListTest, NamesAreUniqueAndFollowTheConventions) {
  std::set<std::string_view> names;
  for (const FamilyInfo& f : kFamilies) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name << " declared twice";
    EXPECT_TRUE(f.name.starts_with("p2ptracker_")) << f.name;
    EXPECT_EQ(f.type == Type::kCounter, f.name.ends_with("_total")) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    for (char c : f.name) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << f.name;
    }
  }
  // Every worker counter belongs to a counter or gauge family, and no two
  // series of one family share a label set.
  std::set<std::pair<Family, std::string_view>> series;
  for (const CounterInfo& c : kCounters) {
    EXPECT_NE(info(c.family).type, Type::kHistogram);
    EXPECT_TRUE(series.insert({c.family, c.labels}).second) << info(c.family).name << c.labels;
  }
}

TEST(MetricListTest, LabelArithmeticMatchesTheList) {
  const std::string_view protocols[] = {"http", "udp"};
  const std::string_view results[] = {"ok", "inactive", "failure"};
  const std::string_view reasons[] = {"info_hash", "peer_id", "port", "counters", "event", "other"};
  for (std::size_t p = 0; p < kProtocols; ++p) {
    for (std::size_t s = 0; s < kAnnounceStatuses; ++s) {
      auto c = announce_counter(static_cast<Protocol>(p), static_cast<AnnounceStatus>(s));
      EXPECT_EQ(info(c).family, Family::kAnnounces);
      EXPECT_EQ(info(c).labels, "protocol=\"" + std::string(protocols[p]) + "\",result=\"" +
                                    std::string(results[s]) + "\"");
    }
    for (std::size_t r = 0; r < kFailureReasons; ++r) {
      auto c = failure_counter(static_cast<Protocol>(p), static_cast<FailureReason>(r));
      EXPECT_EQ(info(c).family, Family::kAnnounceFailures);
      EXPECT_EQ(info(c).labels, "protocol=\"" + std::string(protocols[p]) + "\",reason=\"" +
                                    std::string(reasons[r]) + "\"");
    }
    for (std::size_t s = 0; s < kScrapeStatuses; ++s) {
      auto c = scrape_counter(static_cast<Protocol>(p), static_cast<ScrapeStatus>(s));
      EXPECT_EQ(info(c).family, Family::kScrapes);
      EXPECT_EQ(info(c).labels, "protocol=\"" + std::string(protocols[p]) + "\",result=\"" +
                                    std::string(s == 0 ? "ok" : "failure") + "\"");
    }
  }
}

TEST(WorkerCountersTest, BlocksAreCacheLineAligned) {
  static_assert(alignof(WorkerCounters) == kCacheLine);
  static_assert(sizeof(WorkerCounters) % kCacheLine == 0);
  Registry r;
  for (int i = 0; i < 4; ++i) {
    auto addr = reinterpret_cast<std::uintptr_t>(&r.add_worker());
    EXPECT_EQ(addr % kCacheLine, 0u);
  }
}

TEST(RegistryTest, SumsCountersAcrossWorkers) {
  Registry r;
  WorkerCounters& a = r.add_worker();
  WorkerCounters& b = r.add_worker();
  WorkerCounters& c = r.add_worker();
  a.add(Counter::kAnnounceHttpOk, 3);
  b.add(Counter::kAnnounceHttpOk);
  c.add(Counter::kAnnounceUdpInactive, 2);
  b.add(Counter::kFailureHttpPort);
  EXPECT_EQ(r.total(Counter::kAnnounceHttpOk), 4u);
  EXPECT_EQ(r.total(Counter::kAnnounceUdpInactive), 2u);

  auto s = samples_of(render(r));
  EXPECT_EQ(s["p2ptracker_announces_total{protocol=\"http\",result=\"ok\"}"], "4");
  EXPECT_EQ(s["p2ptracker_announces_total{protocol=\"udp\",result=\"inactive\"}"], "2");
  EXPECT_EQ(s["p2ptracker_announces_total{protocol=\"http\",result=\"failure\"}"], "0");
  EXPECT_EQ(s["p2ptracker_announce_failures_total{protocol=\"http\",reason=\"port\"}"], "1");
  EXPECT_EQ(s["p2ptracker_http_requests_total"], "0");
}

TEST(RegistryTest, ConcurrentWritersEachOwnABlock) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr std::uint64_t kEach = 100000;
  std::vector<WorkerCounters*> blocks;
  for (int i = 0; i < kThreads; ++i) blocks.push_back(&r.add_worker());
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([b = blocks[i]] {
      for (std::uint64_t k = 0; k < kEach; ++k) b->add(Counter::kTopologyLookups);
    });
  }
  // Scrapes while they count: never a torn or decreasing total.
  std::uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t now = r.total(Counter::kTopologyLookups);
    EXPECT_GE(now, last);
    last = now;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.total(Counter::kTopologyLookups), kThreads * kEach);
}

TEST(RegistryTest, SharedGaugeMayGoBelowZeroInOneBlock) {
  Registry r;
  WorkerCounters& a = r.add_worker();
  WorkerCounters& b = r.add_worker();
  a.add_shared(Counter::kHttpConnectionsOpen, 3);
  b.add_shared(Counter::kHttpConnectionsOpen, -1);  // closed off its worker
  auto s = samples_of(render(r));
  EXPECT_EQ(s["p2ptracker_http_connections_open"], "2");
}

TEST(RegistryTest, RendersHelpAndTypeOncePerFamilyInListOrder) {
  Registry r;
  r.add_worker();
  r.set_value(Family::kPeers, [] { return 7.0; });
  const std::string text = render(r);
  std::vector<std::string> helps, types;
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with("# HELP ")) helps.push_back(line.substr(7, line.find(' ', 7) - 7));
    if (line.starts_with("# TYPE ")) types.push_back(line.substr(7));
  }
  ASSERT_EQ(helps.size(), types.size());
  // Worker counter families and the histogram always; of the callback
  // families only the one that was set.
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    const auto f = static_cast<Family>(i);
    bool counted = kFamilies[i].type == Type::kHistogram;
    for (const CounterInfo& c : kCounters) counted |= c.family == f;
    if (counted || f == Family::kPeers) expected.emplace_back(kFamilies[i].name);
  }
  EXPECT_EQ(helps, expected);
  EXPECT_NE(text.find("# TYPE p2ptracker_announces_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE p2ptracker_peers gauge\np2ptracker_peers 7\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE p2ptracker_http_response_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(text.find("p2ptracker_seeders"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(RegistryTest, HistogramIsCumulativeWithSumAndCount) {
  Registry r;
  WorkerCounters& a = r.add_worker();
  WorkerCounters& b = r.add_worker();
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  a.observe_latency(microseconds(10));         // le 0.00005
  a.observe_latency(microseconds(50));         // le 0.00005 (bounds are inclusive)
  b.observe_latency(microseconds(700));        // le 0.001
  b.observe_latency(milliseconds(3));          // le 0.005
  a.observe_latency(std::chrono::seconds(2));  // +Inf only
  auto s = samples_of(render(r));
  const std::string n = "p2ptracker_http_response_seconds";
  EXPECT_EQ(s[n + "_bucket{le=\"0.00005\"}"], "2");
  EXPECT_EQ(s[n + "_bucket{le=\"0.0001\"}"], "2");
  EXPECT_EQ(s[n + "_bucket{le=\"0.0005\"}"], "2");
  EXPECT_EQ(s[n + "_bucket{le=\"0.001\"}"], "3");
  EXPECT_EQ(s[n + "_bucket{le=\"0.0025\"}"], "3");
  EXPECT_EQ(s[n + "_bucket{le=\"0.005\"}"], "4");
  EXPECT_EQ(s[n + "_bucket{le=\"1\"}"], "4");
  EXPECT_EQ(s[n + "_bucket{le=\"+Inf\"}"], "5");
  EXPECT_EQ(s[n + "_count"], "5");
  EXPECT_DOUBLE_EQ(std::stod(s[n + "_sum"]), 0.00001 + 0.00005 + 0.0007 + 0.003 + 2.0);
  // Buckets in increasing order of le, +Inf last, 15 of them.
  std::vector<std::string> les;
  for (const std::string& line : lines_of(render(r))) {
    if (line.starts_with(n + "_bucket")) les.push_back(line.substr(line.find('"') + 1));
  }
  ASSERT_EQ(les.size(), kLatencyBuckets);
  EXPECT_TRUE(les.front().starts_with("0.00005\""));
  EXPECT_TRUE(les.back().starts_with("+Inf\""));
}

TEST(RegistryTest, CallbackValuesAndLabeledSamples) {
  Registry r;
  int collected = 0;
  r.add_collector([&] { ++collected; });
  r.set_value(Family::kStoreConnected, [] { return 0.0; });
  r.set_value(Family::kStoreWrites, [] { return 12345678901.0; });
  r.set_value(Family::kTransfersActive, [] { return 0.5; });
  r.set_samples(Family::kRackCompletedHosts, [](std::vector<Sample>& out) {
    out.push_back({label("rack", "r\"1\\\n"), 3});
  });
  const std::string text = render(r);
  EXPECT_EQ(collected, 1);
  auto s = samples_of(text);
  EXPECT_EQ(s["p2ptracker_store_connected"], "0");
  EXPECT_EQ(s["p2ptracker_store_writes_total"], "12345678901");
  EXPECT_EQ(s["p2ptracker_transfers_active"], "0.5");
  // Quote, backslash and newline escaped inside the label value.
  EXPECT_NE(text.find("p2ptracker_rack_completed_hosts{rack=\"r\\\"1\\\\\\n\"} 3\n"),
            std::string::npos)
      << text;
  render(r);
  EXPECT_EQ(collected, 2);
}

TEST(RegistryTest, NonFiniteValuesUseTheFormatsSpelling) {
  Registry r;
  r.set_value(Family::kPeers, [] { return std::numeric_limits<double>::quiet_NaN(); });
  r.set_value(Family::kSeeders, [] { return std::numeric_limits<double>::infinity(); });
  auto s = samples_of(render(r));
  EXPECT_EQ(s["p2ptracker_peers"], "NaN");
  EXPECT_EQ(s["p2ptracker_seeders"], "+Inf");
}

std::vector<Ranked> racks(int n) {
  std::vector<Ranked> items;
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "rack%03d", i);
    // weight = hosts; value = completed
    items.push_back({name, static_cast<double>(i % 7), static_cast<double>(i)});
  }
  return items;
}

TEST(BoundedTest, KeepsTheHeaviestAndSumsTheRestIntoOther) {
  auto items = racks(130);
  double all = 0;
  for (const auto& r : items) all += r.value;
  std::vector<Sample> out;
  append_bounded("rack", items, 100, "other", out);
  ASSERT_EQ(out.size(), 101u);
  std::set<std::string> labels;
  double sum = 0;
  for (const Sample& s : out) {
    labels.insert(s.labels);
    sum += s.value;
  }
  EXPECT_EQ(labels.size(), 101u);
  EXPECT_TRUE(labels.contains("rack=\"other\""));
  EXPECT_TRUE(labels.contains("rack=\"rack129\""));  // heaviest kept
  EXPECT_TRUE(labels.contains("rack=\"rack030\""));  // the 100th heaviest
  EXPECT_FALSE(labels.contains("rack=\"rack029\""));
  EXPECT_DOUBLE_EQ(sum, all);  // nothing lost, nothing counted twice
  double rest = 0;
  for (int i = 0; i < 30; ++i) rest += i % 7;
  EXPECT_DOUBLE_EQ(out.back().value, rest);
}

TEST(BoundedTest, NoOtherWhenEverythingFits) {
  auto items = racks(100);
  std::vector<Sample> out;
  append_bounded("rack", items, 100, "other", out);
  EXPECT_EQ(out.size(), 100u);
  for (const Sample& s : out) EXPECT_NE(s.labels, "rack=\"other\"");
  // In label order.
  EXPECT_EQ(out.front().labels, "rack=\"rack000\"");
  EXPECT_EQ(out.back().labels, "rack=\"rack099\"");
}

TEST(BoundedTest, WithoutOtherTheRestIsDropped) {
  std::vector<Ranked> items;
  for (int i = 0; i < 60; ++i) items.push_back({std::to_string(1000 + i), 0.5, double(i)});
  std::vector<Sample> out;
  append_bounded("info_hash", items, 50, {}, out);
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(out.front().labels, "info_hash=\"1010\"");
  EXPECT_EQ(out.back().labels, "info_hash=\"1059\"");
}

TEST(BoundedTest, TiesAreBrokenByLabelSoSeriesAreStable) {
  std::vector<Ranked> items = {{"c", 1, 5}, {"a", 1, 5}, {"b", 1, 5}};
  std::vector<Sample> out;
  append_bounded("rack", items, 2, "other", out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].labels, "rack=\"a\"");
  EXPECT_EQ(out[1].labels, "rack=\"b\"");
  EXPECT_EQ(out[2].labels, "rack=\"other\"");
}

TEST(BoundedTest, ARackNamedOtherSharesTheOverflowSeries) {
  std::vector<Ranked> items = {{"other", 2, 10}, {"x", 1, 9}, {"y", 4, 1}};
  std::vector<Sample> out;
  append_bounded("rack", items, 2, "other", out);
  ASSERT_EQ(out.size(), 2u);  // never two rack="other" series
  EXPECT_EQ(out[0].labels, "rack=\"other\"");
  EXPECT_DOUBLE_EQ(out[0].value, 6);
  EXPECT_EQ(out[1].labels, "rack=\"x\"");
}

}  // namespace
}  // namespace p2p::metrics

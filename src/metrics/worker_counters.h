// WorkerCounters: one thread's counters and latency histogram, summed with
// every other thread's only when /metrics is scraped.
//
// Each worker (and the blocking pool's thread) owns one block, allocated by
// metrics::Registry and cache-line aligned, so no two threads ever write the
// same cache line: counting costs a load and a store on a line the core
// already holds, with no lock prefix and no contention (STYLE.md: "counters
// per worker, relaxed, cache-line aligned").
//
// Thread-safety: add() and observe_latency() are for the block's owning thread
// only (single writer: load + store, relaxed). add_shared() is an atomic
// read-modify-write for the few values another thread may also change (open
// connections: a session can end off its worker). A counter is updated with
// one of the two, never both. Reads (get(), the latency accessors) are safe
// from any thread at any time; a scrape may see a block mid-update, which only
// means it sees the next increment on the next scrape.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/metric_list.h"

namespace p2p::metrics {

inline constexpr std::size_t kCacheLine = 64;  // x86-64 and most arm64 cores

// Upper bounds of p2ptracker_http_response_seconds's buckets, 50 us to 1 s:
// a warm announce is answered in tens of microseconds on loopback, a slow
// admin request (a .torrent upload written with fsync) in tens of
// milliseconds; past a second only "too slow" matters. Roughly 1-2.5-5 steps.
inline constexpr std::array<std::uint64_t, 14> kLatencyBoundsNs = {
    50'000,     100'000,    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000};
// The same bounds in seconds, as the `le` label prints them.
inline constexpr std::array<std::string_view, 14> kLatencyBoundsText = {
    "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",    "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1"};
// One count per bound plus the last, +Inf.
inline constexpr std::size_t kLatencyBuckets = kLatencyBoundsNs.size() + 1;

class alignas(kCacheLine) WorkerCounters {
 public:
  WorkerCounters() = default;
  WorkerCounters(const WorkerCounters&) = delete;
  WorkerCounters& operator=(const WorkerCounters&) = delete;

  // Owning thread only. Never blocks, never allocates.
  void add(Counter c, std::uint64_t n = 1) noexcept {
    std::atomic<std::uint64_t>& v = counters_[static_cast<std::size_t>(c)];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Any thread. For gauges kept per worker (may go "negative" in one block
  // when another thread decrements; the sum over blocks is right).
  void add_shared(Counter c, std::int64_t delta) noexcept {
    counters_[static_cast<std::size_t>(c)].fetch_add(static_cast<std::uint64_t>(delta),
                                                     std::memory_order_relaxed);
  }

  std::uint64_t get(Counter c) const noexcept {
    return counters_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }

  // Owning thread only. One observation of p2ptracker_http_response_seconds.
  void observe_latency(std::chrono::nanoseconds d) noexcept {
    const std::uint64_t ns = d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
    std::size_t i = 0;
    while (i < kLatencyBoundsNs.size() && ns > kLatencyBoundsNs[i]) ++i;
    bump(latency_buckets_[i], 1);
    bump(latency_sum_ns_, ns);
  }

  // Observations in bucket `i` alone (not cumulative); i == kLatencyBuckets - 1
  // is the +Inf bucket.
  std::uint64_t latency_bucket(std::size_t i) const noexcept {
    return latency_buckets_[i].load(std::memory_order_relaxed);
  }
  std::uint64_t latency_sum_ns() const noexcept {
    return latency_sum_ns_.load(std::memory_order_relaxed);
  }

 private:
  static void bump(std::atomic<std::uint64_t>& v, std::uint64_t n) noexcept {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, kCounterCount> counters_{};
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
};

}  // namespace p2p::metrics

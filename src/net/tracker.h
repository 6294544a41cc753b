// Tracker: the announce and scrape logic that every front door shares (HTTP
// now, UDP in BEP 15): one swarm, one policy, one store, whatever the wire.
//
// announce(): a parsed request and the address it speaks for -> the swarm
// update, the store record and the reply fields. Never blocks; with the
// worker's scratch warmed up it never allocates.
// Thread-safe: the swarm table and store are; per-call state is the caller's
// WorkerContext.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/clock.h"
#include "metrics/metric_list.h"
#include "net/client_address.h"
#include "net/http_types.h"
#include "net/source_limits.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"
#include "wire/announce.h"
#include "wire/scrape.h"

namespace p2p::net {

struct TrackerOptions {
  std::uint32_t active_interval = 45;
  std::uint32_t passive_interval = 300;
  std::uint32_t min_interval = 15;
  // Asked of a peer still downloading (left > 0) in an active transfer: the
  // policy's swarm::downloading_interval(); 0: active_interval.
  std::uint32_t downloading_interval = 0;
  std::uint32_t maxpeers = 35;
  bool full_scrape = true;
  // topology = static: a rack the map did not name is counted as a fallback
  // (p2ptracker_topology_fallbacks_total).
  bool static_topology = false;
  // Whose address a request is (net/client_address.h), HTTP and UDP alike.
  TrustOptions trust;
  // Per-source token buckets (rate_limit_* keys); off unless set.
  RateLimits rates;
  // topology_wait_ms: how long an announce may wait for a topology lookup
  // source's first answer about its address; 0: never waits.
  std::chrono::milliseconds topology_wait{0};
};

// What a refused request is told (HTTP failure reason, UDP error message).
inline constexpr std::string_view kAnnounceRateLimited =
    "too many announces from your address; slow down (rate_limit_announces)";
inline constexpr std::string_view kScrapeRateLimited =
    "too many scrapes from your address; slow down (rate_limit_scrapes)";
// proxypass: the trusted proxy's header named no address for the client
// (client_address.h, kUnknownClient).
inline constexpr std::string_view kAnnounceUnknownClient =
    "the proxy in front of the tracker did not name your address (proxy_header)";

// Counting is per worker (WorkerContext::counters, summed on /metrics):
// announce() counts ok/inactive announces and rack lookups itself; a front
// door counts what it answers without the Tracker, with these helpers. Owning
// thread of `context` only; never allocate.
//
// A malformed announce: result="failure" and its reason, derived from the
// parser's message (see announce_failure_reason).
void count_announce_failure(WorkerContext& context, std::string_view message) noexcept;
// One scrape request answered (ok) or refused (malformed, full scrape off).
void count_scrape(WorkerContext& context, bool ok) noexcept;
// The parameter a parser's failure message is about ("info_hash must be 20
// bytes" -> kInfoHash, "missing left" -> kCounters, unknown -> kOther).
metrics::FailureReason announce_failure_reason(std::string_view message) noexcept;

class Tracker {
 public:
  // `clock` refills the per-source token buckets (tests pass a ManualClock).
  Tracker(const TrackerOptions& options, swarm::SwarmTable& swarms, storage::Store& store,
          const core::Clock& clock = system_clock());

  // Whether `requester` (requester_address()) may make one more request of
  // `kind` now, by its token bucket in context.rates; a refusal is counted
  // (p2ptracker_rate_limited_total) and the front door answers with
  // kAnnounceRateLimited / kScrapeRateLimited. Owning thread of `context`;
  // never blocks; allocates only the worker's table, once.
  bool admit(RequestKind kind, const core::Address& requester, WorkerContext& context);

  // Applies `request` for the peer at `address` and fills `reply`; the peers
  // and the warning text it points to live in `context` until the next call.
  // Counts the announce (ok or inactive, under context.protocol) and its rack
  // lookup in context.counters. Returns the failure reason to send instead of
  // `reply` when the swarm refused a new peer (max_peers_per_address,
  // max_peers_per_transfer; counted in p2ptracker_peers_refused_total), else
  // an empty view.
  [[nodiscard]] std::string_view announce(const wire::AnnounceRequest& request,
                                          const core::Address& address, WorkerContext& context,
                                          wire::AnnounceReply& reply);

  // topology_wait: whether the announce from `address` should wait for a
  // topology answer; if so, `later`'s resumer is called when it is in (or
  // after topology_wait) and true is returned. One cache lookup per source
  // when not waiting; never blocks.
  bool await_topology(const core::Address& address, Deferrable& later);

  // Starts the topology lookup of `address` if a source has yet to place it,
  // without waiting: a UDP client's connect comes one round trip before its
  // announce, which then finds the answer in (UDP announces never wait).
  void prefetch_topology(const core::Address& address);

  // Counts for `hashes` (sorted and deduplicated in place) into `out`, which
  // must hold hashes.size() entries. Returns how many were written. The front
  // door counts the request (count_scrape).
  std::size_t scrape(std::vector<core::InfoHash>& hashes, std::span<wire::ScrapeEntry> out);
  // One transfer's counts (UDP scrape answers in request order).
  swarm::ScrapeCounts scrape_one(const core::InfoHash& info_hash) const {
    return swarms_.scrape(info_hash);
  }
  // Every active transfer, sorted by info-hash (allocates: a full scrape is
  // rare).
  std::vector<wire::ScrapeEntry> full_scrape() const;
  // The bencoded reply to a full scrape, built at most once per
  // kFullScrapeFor and shared by every request meanwhile: with open = true
  // it may list 50,000 transfers (3.5 MB, and up to half a second to build),
  // so each request building and holding its own copy let a few addresses
  // within their scrape rate take the workers and gigabytes of memory. While
  // one worker rebuilds it the others serve the previous one.
  std::shared_ptr<const std::string> full_scrape_reply();
  static constexpr core::Seconds kFullScrapeFor{5};

  const TrackerOptions& options() const { return options_; }

  // The process's wall clock, for callers that inject none.
  static const core::Clock& system_clock();

 private:
  TrackerOptions options_;
  const core::Clock& clock_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  std::mutex full_scrape_mu_;  // guards the three below
  std::shared_ptr<const std::string> full_scrape_reply_;
  core::TimePoint full_scrape_built_{};
  bool full_scrape_building_ = false;
};

}  // namespace p2p::net

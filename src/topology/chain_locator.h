// ChainLocator: the `topology` chain, lookup sources asked in order with
// fallback (`topology = ["smdb", "file", "subnet"]`).
//
// Lookup sources (the SMDB inventory service) answer slowly and may be down,
// so an announce never waits for one: locate() answers from each source's
// AnswerCache and, on a miss, starts a lookup on the chain's own thread and
// answers from the rest of the chain meanwhile (ultimately the map file or the
// subnet rule, the `fallback` locator). When the answer arrives and puts the
// host somewhere else, the relocation callback moves its peers
// (swarm::SwarmTable::relocate): a host is provisionally where the rest of
// the chain says, then where its source says, without a regroup.
//
// Each source is "up" while its lookups answer (found or unknown) and
// "down" after one fails; a change of state is logged once, not per lookup,
// and shown by /health and /metrics (source_stats()).
//
// Threads: locate(), rack_name(), generation() and source_stats() from any
// thread; answers are handled on the chain's thread (start() .. stop()).
// locate() takes one short cache lock per source; on a hit it never
// allocates, on a miss it allocates to queue the lookup.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "topology/answer_cache.h"
#include "topology/locator.h"
#include "topology/lookup_source.h"
#include "topology/rack_names.h"

namespace p2p::topology {

struct ChainOptions {
  core::Seconds ttl{3600};          // topology_cache_ttl: a found rack is asked again after this
  core::Seconds negative_ttl{60};   // topology_negative_ttl: unknown or failed, asked again after
  std::size_t cache_size = 200000;  // topology_cache_size: addresses kept per source
  std::size_t max_in_flight = 64;   // topology_max_in_flight: lookups running at once, all sources
  // Most distinct rack names the sources may introduce; past it a found
  // rack counts as an error (the table of names only grows).
  std::size_t max_rack_names = 100000;
  // Most announces waiting for an answer at once (await_answer); beyond,
  // an announce is answered from the rest of the chain at once.
  std::size_t max_waiters = 10000;
};

// Upper bounds (seconds) of the lookup latency histogram's buckets.
inline constexpr std::array<double, 8> kLookupSecondsBuckets = {0.001, 0.005, 0.01, 0.05,
                                                                0.1,   0.5,   1,    5};

// What /metrics and /health show of one source.
struct SourceStats {
  std::string name;
  bool up = true;        // false after a failed lookup, until one succeeds
  bool asked = false;    // any lookup finished yet
  core::TimePoint since; // when `up` last changed (start-up if never)
  std::string error;     // the last failure, while down
  std::uint64_t found = 0, unknown = 0, errors = 0;
  std::uint64_t ambiguous = 0;  // found among several candidates (the last taken)
  std::uint64_t skipped = 0;    // not asked: max_in_flight lookups were running
  std::uint64_t cache_hits = 0, cache_misses = 0;
  std::array<std::uint64_t, kLookupSecondsBuckets.size()> latency_buckets{};  // cumulative
  std::uint64_t latency_count = 0;
  double latency_sum = 0;
};

class ChainLocator final : public Locator {
 public:
  // `fallback` answers what no source does (a StaticMapLocator or a
  // SubnetLocator). Sources are added with add_source(), built on io().
  ChainLocator(std::unique_ptr<Locator> fallback, ChainOptions options, const core::Clock& clock,
               RackNames& names = RackNames::global());
  ~ChainLocator() override;

  boost::asio::io_context& io() { return io_; }
  // `max_in_flight`: most lookups of this source running at once (0: only
  // the chain's own bound applies).
  void add_source(std::unique_ptr<LookupSource> source, std::size_t max_in_flight = 0);
  // Called on the chain's thread when an answer moves `address` from rack
  // `from` to `to`: `moved` when a source had placed it in `from` (the
  // inventory moved it), else it was placed by the rest of the chain until
  // the answer came. Set before start().
  using Relocated =
      std::function<void(const core::Address&, core::RackId from, core::RackId to, bool moved)>;
  void on_relocate(Relocated fn) { relocate_ = std::move(fn); }
  void start();
  void stop();

  // Asks each source about `probe` once and waits for the answers (at most
  // each source's own timeout): the start-up check. Returns one line per
  // source that failed ("smdb: cannot connect ..."). Call after start().
  std::vector<std::string> check(const core::Address& probe);

  core::RackId locate(const core::Address& address) const noexcept override;
  std::string rack_name(core::RackId rack) const override;
  // Reloads the fallback (map file) and makes every cached answer stale, so
  // each host is asked about again at its next announce (placed where it
  // was meanwhile).
  core::Status reload() override;
  std::uint64_t generation() const noexcept override { return fallback_->generation(); }

  // topology_wait_ms: if a source must still be asked about `address` (its
  // cache misses), starts the lookup and calls `resume` once, from the
  // chain's thread, when no lookup of it is running any more or after
  // `wait`, and returns true (moving `resume` away). False (and `resume`
  // untouched) when the chain answers at once, or when max_waiters announces
  // already wait. Never blocks.
  bool await_answer(const core::Address& address, std::chrono::milliseconds wait,
                    std::function<void()>& resume) const;
  // Whether await_answer() would wait for `address`: a source still has to
  // be asked about it. One cache lookup per source; never allocates.
  bool unsettled(const core::Address& address) const noexcept;
  // Starts the lookups locate() would, for an address no request has proven
  // yet (swarm::RackMap::prefetch): only while fewer than half of
  // max_in_flight lookups run, so unproven addresses (a flood of forged UDP
  // connects) leave the other half to hosts that announce. Never blocks.
  void prefetch(const core::Address& address) const noexcept;

  std::vector<SourceStats> source_stats() const;
  std::size_t source_count() const { return sources_.size(); }

 private:
  struct Source {
    std::unique_ptr<LookupSource> lookup;
    std::unique_ptr<AnswerCache> cache;
    std::size_t max_in_flight = 0;
    std::size_t in_flight = 0;  // guarded by pending_mu_
    mutable std::mutex mu;  // guards stats
    SourceStats stats;
    // Counted on every announce: atomics, not `mu` (copied into stats when read).
    mutable std::atomic<std::uint64_t> cache_hits{0}, cache_misses{0};
    // Bad records are logged one a minute at most (guarded by mu): when the
    // last was, and how many were not logged since.
    core::TimePoint bad_record_logged{};
    std::uint64_t bad_records_unlogged = 0;
  };
  // Whom resolve() asks the sources for: no one, a host that announced, or
  // an address not proven yet (prefetch).
  enum class Asking { kNo, kProven, kUnproven };
  // The chain's answer for `address`; unless kNo, starts lookups for the
  // sources whose cache misses or is stale.
  core::RackId resolve(const core::Address& address, Asking asking) const noexcept;
  void ask(std::size_t source, const core::Address& address, Asking asking) const;
  void answered(std::size_t source, const core::Address& address, Answer answer,
                std::chrono::steady_clock::time_point started);
  // The RackId of a found answer's rack; past max_rack_names turns `a` into
  // an error (and returns none).
  core::RackId intern(Answer& a);
  // Keeps an answer about `address` (found: in `rack`) in the source's cache,
  // moves the host if that changes where the chain places it, asks the next
  // source if this one did not know, and wakes announces waiting for it.
  void store(std::size_t source, const core::Address& address, Answer::Kind kind,
             core::RackId rack, core::TimePoint now);
  // Counts `a` in `s`'s stats and tracks up/down, logging a change if `log`.
  void note_answer(Source& s, const Answer& a, double seconds, core::TimePoint now, bool log);

  // First in, last out: the sources' sockets and timers live on it.
  mutable boost::asio::io_context io_{1};
  std::unique_ptr<Locator> fallback_;
  ChainOptions options_;
  const core::Clock& clock_;
  RackNames& names_;
  std::vector<std::unique_ptr<Source>> sources_;
  Relocated relocate_;

  std::thread thread_;
  // Lookups running, by (source, address): one lookup per pair at a time.
  struct Pending {
    std::size_t source;
    core::Address address;
    bool operator==(const Pending&) const = default;
  };
  struct PendingHash {
    std::size_t operator()(const Pending& p) const noexcept {
      return std::hash<core::Address>{}(p.address) ^ (p.source * 0x9E3779B97F4A7C15ull);
    }
  };
  mutable std::mutex pending_mu_;
  mutable std::unordered_set<Pending, PendingHash> pending_;  // guarded by pending_mu_
  // Announces waiting for an address's answer (await_answer).
  struct Waiter;
  mutable std::unordered_multimap<core::Address, std::shared_ptr<Waiter>> waiters_;  // pending_mu_
  // The first source whose cache misses `address` (one to ask before the
  // chain's answer is final); source_count() when none.
  std::size_t first_miss(const core::Address& address) const noexcept;
  // Resumes the waiters of `address` if no lookup of it is running.
  void wake(const core::Address& address);
};

}  // namespace p2p::topology

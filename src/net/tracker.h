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
#include <cstdint>

#include "core/address.h"
#include "net/http_types.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"
#include "wire/announce.h"
#include "wire/scrape.h"

namespace p2p::net {

struct TrackerOptions {
  std::uint32_t active_interval = 45;
  std::uint32_t passive_interval = 300;
  std::uint32_t min_interval = 15;
  std::uint32_t maxpeers = 35;
  bool full_scrape = true;
  // HTTP only: whose address counts (see TrackerHandler).
  bool proxypass = false;
  std::vector<core::Cidr> trusted_proxies;
  std::vector<core::Cidr> trusted_networks;
};

struct TrackerStats {
  std::atomic<std::uint64_t> announces{0};
  std::atomic<std::uint64_t> announces_inactive{0};
  std::atomic<std::uint64_t> announce_failures{0};
  std::atomic<std::uint64_t> scrapes{0};
  std::atomic<std::uint64_t> scrape_failures{0};
};

class Tracker {
 public:
  Tracker(const TrackerOptions& options, swarm::SwarmTable& swarms, storage::Store& store);

  // Applies `request` for the peer at `address` and fills `reply`; the peers
  // and the warning text it points to live in `context` until the next call.
  void announce(const wire::AnnounceRequest& request, const core::Address& address,
                WorkerContext& context, wire::AnnounceReply& reply);

  // Counts for `hashes` (sorted and deduplicated in place) into `out`, which
  // must hold hashes.size() entries. Returns how many were written.
  std::size_t scrape(std::vector<core::InfoHash>& hashes, std::span<wire::ScrapeEntry> out);
  // One transfer's counts (UDP scrape answers in request order).
  swarm::ScrapeCounts scrape_one(const core::InfoHash& info_hash) const {
    return swarms_.scrape(info_hash);
  }
  // Every active transfer, sorted by info-hash (allocates: a full scrape is rare).
  std::vector<wire::ScrapeEntry> full_scrape() const;

  const TrackerOptions& options() const { return options_; }
  TrackerStats& stats() { return stats_; }
  const TrackerStats& stats() const { return stats_; }

 private:
  TrackerOptions options_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  TrackerStats stats_;
};

}  // namespace p2p::net

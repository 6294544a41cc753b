// TrackerHandler: the BitTorrent HTTP front door, /announce and /scrape.
//
// The announce path, in order: parse the query (wire), decide the peer's
// address (trust rules below), update the swarm and select peers (swarm, rack
// policy), note it for the store (queued, non-blocking), encode the reply into
// the connection's buffer (wire). Runs inline on the worker; uses only the
// worker's scratch, so a warm announce allocates nothing.
//
// Whose address counts: the TCP peer's. The `ip` parameter is honoured only
// from trusted_networks; with proxypass, X-Real-IP / X-Forwarded-For only from
// trusted_proxies. Anything else is ignored, never trusted blindly.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/address.h"
#include "net/http_types.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"

namespace p2p::net {

struct TrackerOptions {
  std::uint32_t active_interval = 45;
  std::uint32_t passive_interval = 300;
  std::uint32_t min_interval = 15;
  std::uint32_t maxpeers = 35;
  bool proxypass = false;
  bool full_scrape = true;
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

class TrackerHandler final : public HttpHandler {
 public:
  TrackerHandler(TrackerOptions options, swarm::SwarmTable& swarms, storage::Store& store);

  Placement placement(const HttpRequest&) const override { return Placement::kInline; }
  void handle(const HttpRequest& request, HttpResponse& response,
              WorkerContext& context) override;

  // The address a request speaks for, after the trust rules (exposed for tests).
  core::Address peer_address(const HttpRequest& request,
                             const std::optional<core::Address>& ip_param) const;

  const TrackerStats& stats() const { return stats_; }

 private:
  void announce(const HttpRequest& request, HttpResponse& response, WorkerContext& context);
  void scrape(const HttpRequest& request, HttpResponse& response, WorkerContext& context);

  TrackerOptions options_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  TrackerStats stats_;
};

}  // namespace p2p::net

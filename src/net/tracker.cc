#include "net/tracker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace p2p::net {

Tracker::Tracker(const TrackerOptions& options, swarm::SwarmTable& swarms, storage::Store& store,
                 const core::Clock& clock)
    : options_(options), clock_(clock), swarms_(swarms), store_(store) {
  if (options_.downloading_interval == 0) options_.downloading_interval = options_.active_interval;
  options_.downloading_interval = std::min(options_.downloading_interval, options_.active_interval);
  options_.min_interval = std::min(options_.min_interval, options_.active_interval);
}

const core::Clock& Tracker::system_clock() {
  static const core::SystemClock clock;
  return clock;
}

bool Tracker::admit(RequestKind kind, const core::Address& requester, WorkerContext& context) {
  if (!options_.rates.any()) return true;
  if (context.rates.admit(options_.rates, kind, requester, clock_.now_precise())) return true;
  context.count(metrics::rate_limited_counter(context.protocol, static_cast<std::size_t>(kind)));
  return false;
}

void count_announce_failure(WorkerContext& context, std::string_view message) noexcept {
  context.count(metrics::announce_counter(context.protocol, metrics::AnnounceStatus::kFailure));
  context.count(metrics::failure_counter(context.protocol, announce_failure_reason(message)));
}

void count_scrape(WorkerContext& context, bool ok) noexcept {
  context.count(metrics::scrape_counter(
      context.protocol, ok ? metrics::ScrapeStatus::kOk : metrics::ScrapeStatus::kFailure));
}

// Keyed on the words wire/ puts first in its messages ("missing port", "port
// must be ...", "unknown event ..."); tests/net/tracker_handler_test.cc sends
// one mistake of each kind so a reworded message cannot silently become
// "other".
metrics::FailureReason announce_failure_reason(std::string_view m) noexcept {
  using R = metrics::FailureReason;
  if (m.starts_with("missing ")) m.remove_prefix(8);
  if (m.starts_with("info_hash")) return R::kInfoHash;
  if (m.starts_with("peer_id")) return R::kPeerId;
  if (m.starts_with("port")) return R::kPort;
  if (m.starts_with("uploaded") || m.starts_with("downloaded") || m.starts_with("left")) {
    return R::kCounters;
  }
  if (m.starts_with("unknown event")) return R::kEvent;
  return R::kOther;
}

std::string_view Tracker::announce(const wire::AnnounceRequest& a, const core::Address& address,
                                   WorkerContext& context, wire::AnnounceReply& reply) {
  swarm::PeerAnnounce pa;
  pa.endpoint = {address, a.port};
  pa.peer_id = a.peer_id;
  pa.uploaded = a.uploaded;
  pa.downloaded = a.downloaded;
  pa.left = a.left;
  pa.event = a.event;
  pa.numwant = a.numwant.value_or(options_.maxpeers);
  pa.with_peer_ids = !a.compact && !a.no_peer_id;

  auto& peers = context.peers;
  peers.clear();
  if (peers.capacity() < options_.maxpeers) peers.reserve(options_.maxpeers);
  const swarm::AnnounceResult result = swarms_.announce(a.info_hash, pa, context.rng, peers);
  // The swarm located the peer once, whatever the transfer's state.
  context.count(metrics::Counter::kTopologyLookups);
  if (options_.static_topology && result.rack.tag != core::RackId::Tag::kNamed) {
    context.count(metrics::Counter::kTopologyFallbacks);
  }

  switch (result.outcome.refused) {
    case swarm::JoinRefusal::kNone:
      break;
    case swarm::JoinRefusal::kAddress:
      context.count(metrics::Counter::kPeersRefusedAddress);
      return "too many peers from your address in this transfer (max_peers_per_address)";
    case swarm::JoinRefusal::kTransfer:
      context.count(metrics::Counter::kPeersRefusedTransfer);
      return "this transfer has all the peers it may have (max_peers_per_transfer)";
    case swarm::JoinRefusal::kOpen:
      context.count(metrics::Counter::kPeersRefusedOpen);
      return "this tracker tracks all the peers of unregistered transfers it may "
             "(max_open_peers)";
  }

  reply.compact = a.compact;
  reply.no_peer_id = a.no_peer_id;
  reply.external_ip = address;
  if (spdlog::should_log(spdlog::level::debug)) {
    // Who was told of whom is what a policy decides; the list is what a
    // deploy that took more than one copy into a group is diagnosed from.
    fmt::memory_buffer given;
    for (const auto& p : peers) {
      fmt::format_to(std::back_inserter(given), " {}", p.endpoint.to_string());
    }
    constexpr std::string_view kEvents[] = {"none", "started", "completed", "stopped"};
    spdlog::debug("announce {} from {} (event {}, left {}): {}{}, {} peer(s) given{}{}",
                  a.info_hash.hex(), pa.endpoint.to_string(),
                  kEvents[static_cast<std::size_t>(a.event)], a.left,
                  !result.active                  ? "no active transfer"
                  : result.outcome.representative ? "representative"
                                                  : "member",
                  result.outcome.rack_changed ? ", moved to another rack" : "", peers.size(),
                  peers.empty() ? "" : ":", fmt::to_string(given));
  }
  if (result.outcome.replaced_stalled) {
    context.count(metrics::Counter::kRepresentativesReplaced);
    spdlog::info("transfer {}: {} took a place above its rack from a representative stalled there",
                 a.info_hash.hex(), pa.endpoint.to_string());
  }
  if (result.outcome.deploy_complete && result.registered) {
    spdlog::info(
        "transfer {} complete: no host is downloading any more ({} seeder(s) in the swarm)",
        a.info_hash.hex(), result.outcome.seeders);
  }
  if (result.active) {
    context.count(metrics::announce_counter(context.protocol, metrics::AnnounceStatus::kOk));
    reply.interval = a.left > 0 ? options_.downloading_interval : options_.active_interval;
    reply.min_interval = std::min(options_.min_interval, reply.interval);
    reply.complete = result.outcome.seeders;
    reply.incomplete = result.outcome.leechers;
    reply.peers = peers;
    storage::PeerUpdate u;
    u.info_hash = a.info_hash;
    u.peer_id = a.peer_id;
    u.endpoint = pa.endpoint;
    u.rack = result.rack;
    u.uploaded = a.uploaded;
    u.downloaded = a.downloaded;
    u.left = a.left;
    u.key = a.key.value_or(0);
    u.event = a.event;
    u.representative = result.outcome.representative;
    u.rack_changed = result.outcome.rack_changed;
    u.joined = result.outcome.joined;
    u.compact = a.compact;
    u.at = result.now;
    // The Redis mirror records deploys: peers of registered transfers. An
    // open tracker's other transfers come and go with whoever announces, and
    // their per-peer keys (a dozen per peer, kept as history) would grow
    // Redis without bound; they are only "seen", like unknown hashes.
    if (result.registered) {
      store_.peer_announced(u);
    } else {
      store_.transfer_seen(a.info_hash);
    }
    return {};
  }
  if (result.refused) context.count(metrics::Counter::kOpenTransfersRefused);
  context.count(metrics::announce_counter(context.protocol, metrics::AnnounceStatus::kInactive));
  reply.interval = options_.passive_interval;
  reply.min_interval = std::min(options_.min_interval, options_.passive_interval);
  reply.complete = reply.incomplete = 0;
  reply.peers = {};
  // Built in the worker's buffer: unknown hashes are common (clients keep
  // polling finished deploys), so this path must not allocate either.
  static constexpr std::string_view kNoTransfer = "No active transfer for that info_hash: ";
  auto& w = context.warning;
  static_assert(kNoTransfer.size() + 2 * core::InfoHash::kSize <=
                    std::tuple_size_v<decltype(context.warning)>,
                "the warning buffer must hold the message and 40 hex digits");
  std::copy(kNoTransfer.begin(), kNoTransfer.end(), w.begin());
  a.info_hash.hex_to(w.data() + kNoTransfer.size());
  reply.warning = std::string_view(w.data(), kNoTransfer.size() + 40);
  store_.transfer_seen(a.info_hash);
  return {};
}

bool Tracker::await_topology(const core::Address& address, Deferrable& later) {
  if (options_.topology_wait.count() <= 0) return false;
  const swarm::RackMap& racks = swarms_.rack_map();
  if (!racks.unsettled(address)) return false;
  std::function<void()> resume = later.resumer();
  return racks.await_answer(address, options_.topology_wait, resume);
}

void Tracker::prefetch_topology(const core::Address& address) {
  swarms_.rack_map().prefetch(address);
}

std::size_t Tracker::scrape(std::vector<core::InfoHash>& hashes, std::span<wire::ScrapeEntry> out) {
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  std::size_t n = 0;
  for (const auto& h : hashes) {
    swarm::ScrapeCounts c = swarms_.scrape(h);
    out[n++] = {h, c.complete, c.downloaded, c.incomplete};
  }
  return n;
}

std::vector<wire::ScrapeEntry> Tracker::full_scrape() const {
  std::vector<wire::ScrapeEntry> all;
  swarms_.for_each_active([&](const core::InfoHash& h, const swarm::ScrapeCounts& c) {
    all.push_back({h, c.complete, c.downloaded, c.incomplete});
  });
  std::sort(all.begin(), all.end(),
            [](const auto& x, const auto& y) { return x.info_hash < y.info_hash; });
  return all;
}

std::shared_ptr<const std::string> Tracker::full_scrape_reply() {
  const core::TimePoint now = clock_.now();
  {
    std::lock_guard lock(full_scrape_mu_);
    if (full_scrape_reply_ &&
        (now - full_scrape_built_ < kFullScrapeFor || full_scrape_building_)) {
      return full_scrape_reply_;
    }
    full_scrape_building_ = true;
  }
  auto reply = std::make_shared<std::string>();
  wire::encode_scrape(full_scrape(), *reply);
  std::lock_guard lock(full_scrape_mu_);
  full_scrape_reply_ = reply;
  full_scrape_built_ = now;
  full_scrape_building_ = false;
  return reply;
}

}  // namespace p2p::net

#include "net/tracker_handler.h"

#include <algorithm>
#include <array>

#include "wire/announce.h"
#include "wire/query.h"
#include "wire/scrape.h"

namespace p2p::net {
namespace {

bool in_any(const std::vector<core::Cidr>& nets, const core::Address& a) {
  return std::any_of(nets.begin(), nets.end(), [&](const core::Cidr& c) { return c.contains(a); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

swarm::Event to_swarm(wire::AnnounceEvent e) {
  switch (e) {
    case wire::AnnounceEvent::kStarted: return swarm::Event::kStarted;
    case wire::AnnounceEvent::kCompleted: return swarm::Event::kCompleted;
    case wire::AnnounceEvent::kStopped: return swarm::Event::kStopped;
    case wire::AnnounceEvent::kNone: break;
  }
  return swarm::Event::kNone;
}

storage::PeerEvent to_store(wire::AnnounceEvent e) {
  switch (e) {
    case wire::AnnounceEvent::kStarted: return storage::PeerEvent::kStarted;
    case wire::AnnounceEvent::kCompleted: return storage::PeerEvent::kCompleted;
    case wire::AnnounceEvent::kStopped: return storage::PeerEvent::kStopped;
    case wire::AnnounceEvent::kNone: break;
  }
  return storage::PeerEvent::kNone;
}

bool is_get(const HttpRequest& r) { return r.method == Method::kGet || r.method == Method::kHead; }

}  // namespace

TrackerHandler::TrackerHandler(TrackerOptions options, swarm::SwarmTable& swarms,
                               storage::Store& store)
    : options_(std::move(options)), swarms_(swarms), store_(store) {
  options_.min_interval = std::min(options_.min_interval, options_.active_interval);
}

void TrackerHandler::handle(const HttpRequest& request, HttpResponse& response,
                            WorkerContext& context) {
  if (!is_get(request)) {
    response.status = 405;
    wire::encode_failure("the tracker answers GET requests only", response.body);
    return;
  }
  if (request.path.starts_with("/scrape")) return scrape(request, response, context);
  announce(request, response, context);
}

core::Address TrackerHandler::peer_address(const HttpRequest& request,
                                           const std::optional<core::Address>& ip_param) const {
  core::Address addr = request.remote.address;
  if (options_.proxypass && in_any(options_.trusted_proxies, addr)) {
    if (auto real = core::Address::parse(trim(request.header("X-Real-IP")))) {
      addr = *real;
    } else if (std::string_view xff = request.header("X-Forwarded-For"); !xff.empty()) {
      // Each proxy appends the address it received from; walk back from the
      // right past our own proxies to the first address none of them is.
      while (!xff.empty()) {
        auto comma = xff.rfind(',');
        std::string_view entry =
            trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
        xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
        auto a = core::Address::parse(entry);
        if (!a) break;  // garbage: keep the last address we could trust
        addr = *a;
        if (!in_any(options_.trusted_proxies, *a)) break;
      }
    }
  }
  if (ip_param && in_any(options_.trusted_networks, addr)) addr = *ip_param;
  return addr;
}

void TrackerHandler::announce(const HttpRequest& request, HttpResponse& response,
                              WorkerContext& context) {
  ++stats_.announces;
  auto parsed = wire::parse_announce(request.query);
  if (!parsed) {
    ++stats_.announce_failures;
    wire::encode_failure(parsed.error().message, response.body);
    return;
  }
  const wire::AnnounceRequest& a = *parsed;
  const core::Address addr = peer_address(request, a.ip);

  swarm::PeerAnnounce pa;
  pa.endpoint = {addr, a.port};
  pa.peer_id = a.peer_id;
  pa.uploaded = a.uploaded;
  pa.downloaded = a.downloaded;
  pa.left = a.left;
  pa.event = to_swarm(a.event);
  pa.numwant = a.numwant.value_or(options_.maxpeers);

  auto& peers = context.peers;
  peers.clear();
  if (peers.capacity() < options_.maxpeers) peers.reserve(options_.maxpeers);
  const swarm::AnnounceResult result = swarms_.announce(a.info_hash, pa, context.rng, peers);

  wire::AnnounceReply reply;
  reply.compact = a.compact;
  reply.no_peer_id = a.no_peer_id;
  reply.external_ip = addr;
  std::array<char, 96> warning;
  if (result.active) {
    reply.interval = options_.active_interval;
    reply.min_interval = options_.min_interval;
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
    u.event = to_store(a.event);
    u.representative = result.outcome.representative;
    u.compact = a.compact;
    u.at = result.now;
    store_.peer_announced(u);
  } else {
    ++stats_.announces_inactive;
    reply.interval = options_.passive_interval;
    reply.min_interval = std::min(options_.min_interval, options_.passive_interval);
    static constexpr std::string_view kNoTransfer = "No active transfer for that info_hash: ";
    std::copy(kNoTransfer.begin(), kNoTransfer.end(), warning.begin());
    a.info_hash.hex_to(warning.data() + kNoTransfer.size());
    reply.warning = std::string_view(warning.data(), kNoTransfer.size() + 40);
    store_.transfer_seen(a.info_hash);
  }
  wire::encode_announce(reply, response.body);
}

void TrackerHandler::scrape(const HttpRequest& request, HttpResponse& response,
                            WorkerContext& context) {
  ++stats_.scrapes;
  auto& hashes = context.hashes;
  hashes.clear();
  if (hashes.capacity() < wire::kMaxScrapeHashes) hashes.reserve(wire::kMaxScrapeHashes);
  if (auto st = wire::parse_scrape(request.query, hashes); !st) {
    ++stats_.scrape_failures;
    wire::encode_failure(st.error().message, response.body);
    return;
  }
  if (hashes.empty()) {
    if (!options_.full_scrape) {
      ++stats_.scrape_failures;
      wire::encode_failure("full scrape is disabled on this tracker; pass info_hash",
                           response.body);
      return;
    }
    // A full scrape is rare and may be large: it may allocate.
    std::vector<wire::ScrapeEntry> all;
    swarms_.for_each_active([&](const core::InfoHash& h, const swarm::ScrapeCounts& c) {
      all.push_back({h, c.complete, c.downloaded, c.incomplete});
    });
    std::sort(all.begin(), all.end(),
              [](const auto& x, const auto& y) { return x.info_hash < y.info_hash; });
    wire::encode_scrape(all, response.body);
    return;
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  std::array<wire::ScrapeEntry, wire::kMaxScrapeHashes> entries;
  std::size_t n = 0;
  for (const auto& h : hashes) {
    swarm::ScrapeCounts c = swarms_.scrape(h);
    entries[n++] = {h, c.complete, c.downloaded, c.incomplete};
  }
  wire::encode_scrape(std::span<const wire::ScrapeEntry>(entries.data(), n), response.body);
}

}  // namespace p2p::net

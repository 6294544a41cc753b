// The one list of every metric p2ptracker exposes on /metrics (STYLE.md:
// "names declared in one list"), and the label vocabularies they use.
//
// Two tables, both here:
//   P2P_METRIC_FAMILIES: every metric name with its type and help text, in the
//     order /metrics prints them. docs/metrics.md documents each one.
//   P2P_WORKER_COUNTERS: the series counted per worker on the hot path, each
//     one family plus a fixed label set. Labels are bounded by construction:
//     every combination is listed, nothing is built from request data.
// Families not fed by worker counters get their values at scrape time from a
// callback (metrics::Registry::set_value / set_samples).
//
// Header only, no state. Thread-safe (constants).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace p2p::metrics {

enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };

// clang-format off
// X(id, name, type, help). Counter names end in _total (the text format's
// convention that promtool checks); units are base units (seconds, ratio).
#define P2P_METRIC_FAMILIES(X)                                                                  \
  X(kAnnounces, "p2ptracker_announces_total", kCounter,                                       \
    "Announces answered, by protocol and result: ok (active transfer), inactive (unknown "    \
    "transfer, passive reply with a warning), failure (malformed, failure reason sent).")      \
  X(kAnnounceFailures, "p2ptracker_announce_failures_total", kCounter,                        \
    "Malformed announces by protocol and the parameter at fault (info_hash, peer_id, port, "   \
    "counters = uploaded/downloaded/left, event, other).")                                     \
  X(kScrapes, "p2ptracker_scrapes_total", kCounter,                                           \
    "Scrapes answered, by protocol and result (failure: malformed or full scrape disabled).")  \
  X(kHttpRequests, "p2ptracker_http_requests_total", kCounter,                                \
    "HTTP requests dispatched to a handler, every endpoint.")                                  \
  X(kHttpResponseSeconds, "p2ptracker_http_response_seconds", kHistogram,                     \
    "Time from dispatching an HTTP request to its response written to the socket.")           \
  X(kHttpConnectionsAccepted, "p2ptracker_http_connections_accepted_total", kCounter,         \
    "TCP connections accepted, including those rejected at once.")                            \
  X(kHttpConnectionsRejected, "p2ptracker_http_connections_rejected_total", kCounter,         \
    "TCP connections closed at once because max_connections were open.")                      \
  X(kHttpConnectionsOpen, "p2ptracker_http_connections_open", kGauge,                         \
    "TCP connections open now.")                                                              \
  X(kHttpBadRequests, "p2ptracker_http_bad_requests_total", kCounter,                         \
    "HTTP requests refused before any handler: unparsable, oversized, or too slow.")          \
  X(kHttpUploadsRefused, "p2ptracker_http_uploads_refused_total", kCounter,                   \
    "Requests with a body refused with 503 before it was read: max_uploads_in_flight busy.")  \
  X(kHttpRepliesRefused, "p2ptracker_http_replies_refused_total", kCounter,                   \
    "Replies over 64 KiB (stats pages) answered 503 instead: max_reply_bytes_in_flight were "  \
    "being written.")                                                                         \
  X(kHttpInternalErrors, "p2ptracker_http_internal_errors_total", kCounter,                   \
    "Requests answered 500 because their handler failed: a bug; the log names the path and "  \
    "the cause.")                                                                             \
  X(kHttpAcceptErrors, "p2ptracker_http_accept_errors_total", kCounter,                       \
    "Failed accepts: no file descriptor (EMFILE) or memory left, which pause that worker's "  \
    "accepts briefly, or a connection reset before it was accepted.")                         \
  X(kOpenTransfersRefused, "p2ptracker_open_transfers_refused_total", kCounter,               \
    "With open: announces for a new info_hash answered as unknown because "                   \
    "max_open_transfers unregistered transfers were tracked.")                                \
  X(kHttpSourceConnectionsRejected, "p2ptracker_http_source_connections_rejected_total",      \
    kCounter,                                                                                 \
    "TCP connections closed at once because their source address already held "              \
    "max_connections_per_source.")                                                           \
  X(kRateLimited, "p2ptracker_rate_limited_total", kCounter,                                  \
    "Announces and scrapes refused because their source went over rate_limit_announces or "  \
    "rate_limit_scrapes (a failure reason over HTTP, an error packet over UDP), by protocol " \
    "and request; not counted in p2ptracker_announces_total or p2ptracker_scrapes_total.")    \
  X(kPeersRefused, "p2ptracker_peers_refused_total", kCounter,                                \
    "New peers refused a place in a swarm (failure reason sent), by limit: address "          \
    "(max_peers_per_address) or transfer (max_peers_per_transfer); not counted in "           \
    "p2ptracker_announces_total.")                                                            \
  X(kRepresentativesReplaced, "p2ptracker_representatives_replaced_total", kCounter,          \
    "Places above racks (a row's or datacenter's representative) given to another gateway "   \
    "because their holder was stalled there (docs/policy.md).")                               \
  X(kUdpPackets, "p2ptracker_udp_packets_total", kCounter,                                    \
    "UDP packets by what became of them: received; sent (replies); connect (connects "        \
    "answered); error (error packets sent); dropped (no reply: runt, bad protocol id or "     \
    "connection id, or a reply larger than its buffer, a bug).")                              \
  X(kTopologyLookups, "p2ptracker_topology_lookups_total", kCounter,                          \
    "Rack lookups made for announces.")                                                       \
  X(kTopologyFallbacks, "p2ptracker_topology_fallbacks_total", kCounter,                      \
    "Rack lookups a static topology map did not answer, decided by the subnet rule instead "  \
    "(always 0 with topology = subnet).")                                                     \
  X(kTopologySourceLookups, "p2ptracker_topology_source_lookups_total", kCounter,            \
    "Lookups of each topology lookup source (label source, as in the topology key) by "       \
    "outcome: found, unknown (the source does not know the address), error (down, timed "     \
    "out or a malformed answer), ambiguous (found among several servers, the last taken; "    \
    "also counted as found), skipped (not asked: topology_max_in_flight were running), "      \
    "cache_hit and cache_miss (announces answered from the source's cache or not).")          \
  X(kTopologySourceUp, "p2ptracker_topology_source_up", kGauge,                               \
    "1 while a topology lookup source answers, 0 after a lookup failed until one succeeds.") \
  X(kTopologySourceSeconds, "p2ptracker_topology_source_lookup_seconds", kHistogram,          \
    "Time from asking a topology lookup source to its answer, by source.")                   \
  X(kTransfersNotPrivate, "p2ptracker_transfers_not_private", kGauge,                        \
    "Registered transfers whose .torrent lacks the private flag: their clients also find "     \
    "peers by DHT and peer exchange, behind the tracker's back and across racks.")            \
  X(kTransfersActive, "p2ptracker_transfers_active", kGauge,                                  \
    "Active transfers: registered ones, and with open = true any announced.")                 \
  X(kPeers, "p2ptracker_peers", kGauge, "Peers in all active swarms.")                        \
  X(kSeeders, "p2ptracker_seeders", kGauge, "Seeders (left = 0) in all active swarms.")       \
  X(kLeechers, "p2ptracker_leechers", kGauge, "Leechers (left > 0) in all active swarms.")    \
  X(kRepresentatives, "p2ptracker_representatives", kGauge,                                   \
    "Rack representatives (peers told about other racks) in all active swarms.")              \
  X(kTransferProgress, "p2ptracker_transfer_progress_ratio", kGauge,                          \
    "Mean download progress (1 - left/size) of a transfer's peers, 0 to 1; only the 50 "      \
    "active transfers with the most peers.")                                                  \
  X(kRackCompletedHosts, "p2ptracker_rack_completed_hosts", kGauge,                           \
    "Peers of a rack that finished downloading, summed over active transfers; at most 100 "   \
    "racks (most peers first), the rest summed as rack=\"other\".")                           \
  X(kStoreWrites, "p2ptracker_store_writes_total", kCounter,                                  \
    "Records the store applied (Redis: written).")                                            \
  X(kStoreDropped, "p2ptracker_store_dropped_total", kCounter,                                \
    "Records dropped because the store's queue was full.")                                    \
  X(kStoreErrors, "p2ptracker_store_errors_total", kCounter,                                  \
    "Store writes that failed (Redis down, ...).")                                            \
  X(kStoreConnected, "p2ptracker_store_connected", kGauge,                                    \
    "1 while the store reaches its backend (Redis), 0 while it does not, from start-up on "    \
    "if Redis is down then; always 1 for store = memory.")                                     \
  X(kStoreResyncs, "p2ptracker_store_resyncs_total", kCounter,                                \
    "Catch-ups after Redis came back: deregistrations that had failed and every registered "  \
    "transfer re-sent.")                                                                      \
  X(kStoreSeenSkipped, "p2ptracker_store_seen_skipped_total", kCounter,                       \
    "Unregistered info-hashes not added to Redis's transfers set: max_seen_transfers were.")

// X(id, family, labels). The labels text goes between the braces as is. The
// order inside each labeled family is the arithmetic of announce_counter(),
// failure_counter() and scrape_counter() below (static_asserts check it).
#define P2P_WORKER_COUNTERS(X)                                                                \
  X(kAnnounceHttpOk, kAnnounces, "protocol=\"http\",result=\"ok\"")                           \
  X(kAnnounceHttpInactive, kAnnounces, "protocol=\"http\",result=\"inactive\"")               \
  X(kAnnounceHttpFailure, kAnnounces, "protocol=\"http\",result=\"failure\"")                 \
  X(kAnnounceUdpOk, kAnnounces, "protocol=\"udp\",result=\"ok\"")                             \
  X(kAnnounceUdpInactive, kAnnounces, "protocol=\"udp\",result=\"inactive\"")                 \
  X(kAnnounceUdpFailure, kAnnounces, "protocol=\"udp\",result=\"failure\"")                   \
  X(kFailureHttpInfoHash, kAnnounceFailures, "protocol=\"http\",reason=\"info_hash\"")        \
  X(kFailureHttpPeerId, kAnnounceFailures, "protocol=\"http\",reason=\"peer_id\"")            \
  X(kFailureHttpPort, kAnnounceFailures, "protocol=\"http\",reason=\"port\"")                 \
  X(kFailureHttpCounters, kAnnounceFailures, "protocol=\"http\",reason=\"counters\"")         \
  X(kFailureHttpEvent, kAnnounceFailures, "protocol=\"http\",reason=\"event\"")               \
  X(kFailureHttpOther, kAnnounceFailures, "protocol=\"http\",reason=\"other\"")               \
  X(kFailureUdpInfoHash, kAnnounceFailures, "protocol=\"udp\",reason=\"info_hash\"")          \
  X(kFailureUdpPeerId, kAnnounceFailures, "protocol=\"udp\",reason=\"peer_id\"")              \
  X(kFailureUdpPort, kAnnounceFailures, "protocol=\"udp\",reason=\"port\"")                   \
  X(kFailureUdpCounters, kAnnounceFailures, "protocol=\"udp\",reason=\"counters\"")           \
  X(kFailureUdpEvent, kAnnounceFailures, "protocol=\"udp\",reason=\"event\"")                 \
  X(kFailureUdpOther, kAnnounceFailures, "protocol=\"udp\",reason=\"other\"")                 \
  X(kScrapeHttpOk, kScrapes, "protocol=\"http\",result=\"ok\"")                               \
  X(kScrapeHttpFailure, kScrapes, "protocol=\"http\",result=\"failure\"")                     \
  X(kScrapeUdpOk, kScrapes, "protocol=\"udp\",result=\"ok\"")                                 \
  X(kScrapeUdpFailure, kScrapes, "protocol=\"udp\",result=\"failure\"")                       \
  X(kHttpRequests, kHttpRequests, "")                                                         \
  X(kHttpConnectionsAccepted, kHttpConnectionsAccepted, "")                                   \
  X(kHttpConnectionsRejected, kHttpConnectionsRejected, "")                                   \
  X(kHttpConnectionsOpen, kHttpConnectionsOpen, "")                                           \
  X(kHttpBadRequests, kHttpBadRequests, "")                                                   \
  X(kHttpUploadsRefused, kHttpUploadsRefused, "")                                             \
  X(kHttpRepliesRefused, kHttpRepliesRefused, "")                                             \
  X(kHttpInternalErrors, kHttpInternalErrors, "")                                             \
  X(kHttpAcceptErrors, kHttpAcceptErrors, "")                                                 \
  X(kOpenTransfersRefused, kOpenTransfersRefused, "")                                         \
  X(kHttpSourceConnectionsRejected, kHttpSourceConnectionsRejected, "")                       \
  X(kRateLimitedHttpAnnounce, kRateLimited, "protocol=\"http\",request=\"announce\"")         \
  X(kRateLimitedHttpScrape, kRateLimited, "protocol=\"http\",request=\"scrape\"")             \
  X(kRateLimitedUdpAnnounce, kRateLimited, "protocol=\"udp\",request=\"announce\"")           \
  X(kRateLimitedUdpScrape, kRateLimited, "protocol=\"udp\",request=\"scrape\"")               \
  X(kPeersRefusedAddress, kPeersRefused, "limit=\"address\"")                                 \
  X(kPeersRefusedTransfer, kPeersRefused, "limit=\"transfer\"")                               \
  X(kPeersRefusedOpen, kPeersRefused, "limit=\"open\"")                                       \
  X(kRepresentativesReplaced, kRepresentativesReplaced, "")                                 \
  X(kUdpReceived, kUdpPackets, "kind=\"received\"")                                          \
  X(kUdpSent, kUdpPackets, "kind=\"sent\"")                                                  \
  X(kUdpConnects, kUdpPackets, "kind=\"connect\"")                                           \
  X(kUdpErrors, kUdpPackets, "kind=\"error\"")                                               \
  X(kUdpDropped, kUdpPackets, "kind=\"dropped\"")                                            \
  X(kTopologyLookups, kTopologyLookups, "")                                                   \
  X(kTopologyFallbacks, kTopologyFallbacks, "")
// clang-format on

enum class Family : std::uint8_t {
#define P2P_X(id, name, type, help) id,
  P2P_METRIC_FAMILIES(P2P_X)
#undef P2P_X
};

enum class Counter : std::uint8_t {
#define P2P_X(id, family, labels) id,
  P2P_WORKER_COUNTERS(P2P_X)
#undef P2P_X
};

struct FamilyInfo {
  std::string_view name;
  Type type;
  std::string_view help;
};

struct CounterInfo {
  Family family;
  std::string_view labels;
};

inline constexpr std::array kFamilies = {
#define P2P_X(id, name, type, help) FamilyInfo{name, Type::type, help},
    P2P_METRIC_FAMILIES(P2P_X)
#undef P2P_X
};

inline constexpr std::array kCounters = {
#define P2P_X(id, family, labels) CounterInfo{Family::family, labels},
    P2P_WORKER_COUNTERS(P2P_X)
#undef P2P_X
};

inline constexpr std::size_t kFamilyCount = kFamilies.size();
inline constexpr std::size_t kCounterCount = kCounters.size();

constexpr const FamilyInfo& info(Family f) { return kFamilies[static_cast<std::size_t>(f)]; }
constexpr const CounterInfo& info(Counter c) { return kCounters[static_cast<std::size_t>(c)]; }

// Bounds on the label sets built from swarm data at scrape time: enough for
// every transfer and rack an operator watches in one deploy, few enough that a
// fleet of tens of thousands of hosts cannot blow up Prometheus's series count.
inline constexpr std::size_t kMaxTransferSeries = 50;    // p2ptracker_transfer_progress_ratio
inline constexpr std::size_t kMaxRackSeries = 100;       // p2ptracker_rack_completed_hosts
inline constexpr std::string_view kOtherRack = "other";  // the rest of the racks, summed

// --- Label vocabularies of the worker counters -----------------------------

// Which front door a request came through.
enum class Protocol : std::uint8_t { kHttp, kUdp };
inline constexpr std::size_t kProtocols = 2;

// How an announce was answered.
enum class AnnounceStatus : std::uint8_t { kOk, kInactive, kFailure };
inline constexpr std::size_t kAnnounceStatuses = 3;

// The parameter a malformed announce got wrong.
enum class FailureReason : std::uint8_t { kInfoHash, kPeerId, kPort, kCounters, kEvent, kOther };
inline constexpr std::size_t kFailureReasons = 6;

enum class ScrapeStatus : std::uint8_t { kOk, kFailure };
inline constexpr std::size_t kScrapeStatuses = 2;

constexpr Counter announce_counter(Protocol p, AnnounceStatus s) {
  return static_cast<Counter>(static_cast<std::size_t>(Counter::kAnnounceHttpOk) +
                              static_cast<std::size_t>(p) * kAnnounceStatuses +
                              static_cast<std::size_t>(s));
}
constexpr Counter failure_counter(Protocol p, FailureReason r) {
  return static_cast<Counter>(static_cast<std::size_t>(Counter::kFailureHttpInfoHash) +
                              static_cast<std::size_t>(p) * kFailureReasons +
                              static_cast<std::size_t>(r));
}
constexpr Counter scrape_counter(Protocol p, ScrapeStatus s) {
  return static_cast<Counter>(static_cast<std::size_t>(Counter::kScrapeHttpOk) +
                              static_cast<std::size_t>(p) * kScrapeStatuses +
                              static_cast<std::size_t>(s));
}

// Requests a source's token bucket refused, by protocol and request
// (0 announce, 1 scrape: net::RequestKind's values).
constexpr Counter rate_limited_counter(Protocol p, std::size_t request) {
  return static_cast<Counter>(static_cast<std::size_t>(Counter::kRateLimitedHttpAnnounce) +
                              static_cast<std::size_t>(p) * 2 + request);
}

static_assert(rate_limited_counter(Protocol::kUdp, 1) == Counter::kRateLimitedUdpScrape);
static_assert(rate_limited_counter(Protocol::kHttp, 1) == Counter::kRateLimitedHttpScrape);
static_assert(announce_counter(Protocol::kUdp, AnnounceStatus::kFailure) ==
              Counter::kAnnounceUdpFailure);
static_assert(announce_counter(Protocol::kHttp, AnnounceStatus::kInactive) ==
              Counter::kAnnounceHttpInactive);
static_assert(failure_counter(Protocol::kHttp, FailureReason::kOther) ==
              Counter::kFailureHttpOther);
static_assert(failure_counter(Protocol::kUdp, FailureReason::kCounters) ==
              Counter::kFailureUdpCounters);
static_assert(scrape_counter(Protocol::kUdp, ScrapeStatus::kFailure) == Counter::kScrapeUdpFailure);
static_assert(scrape_counter(Protocol::kHttp, ScrapeStatus::kFailure) ==
              Counter::kScrapeHttpFailure);

}  // namespace p2p::metrics

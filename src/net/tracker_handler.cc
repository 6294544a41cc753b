#include "net/tracker_handler.h"

#include <algorithm>
#include <array>

#include "net/client_address.h"
#include "wire/announce.h"
#include "wire/scrape.h"

namespace p2p::net {
namespace {

bool is_get(const HttpRequest& r) { return r.method == Method::kGet || r.method == Method::kHead; }

}  // namespace

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

bool TrackerHandler::defer(const HttpRequest& request, WorkerContext&, Deferrable& later) {
  if (!is_get(request) || request.path.starts_with("/scrape")) return false;
  // The address the request comes from: an `ip` parameter from a trusted
  // network is not parsed here, so such an announce does not wait.
  return tracker_.await_topology(requester_address(tracker_.options().trust, request), later);
}

void TrackerHandler::announce(const HttpRequest& request, HttpResponse& response,
                              WorkerContext& context) {
  const TrustOptions& trust = tracker_.options().trust;
  const core::Address requester = requester_address(trust, request);
  if (!tracker_.admit(RequestKind::kAnnounce, requester, context)) {
    wire::encode_failure(kAnnounceRateLimited, response.body);
    return;
  }
  auto parsed = wire::parse_announce(request.query);
  if (!parsed) {
    count_announce_failure(context, parsed.error().message);
    wire::encode_failure(parsed.error().message, response.body);
    return;
  }
  const core::Address announced = announced_address(trust, requester, parsed->ip);
  if (announced == kUnknownClient) {
    count_announce_failure(context, kAnnounceUnknownClient);
    wire::encode_failure(kAnnounceUnknownClient, response.body);
    return;
  }
  wire::AnnounceReply reply;
  const std::string_view refused = tracker_.announce(*parsed, announced, context, reply);
  if (!refused.empty()) {
    wire::encode_failure(refused, response.body);
    return;
  }
  wire::encode_announce(reply, response.body);
}

void TrackerHandler::scrape(const HttpRequest& request, HttpResponse& response,
                            WorkerContext& context) {
  if (!tracker_.admit(RequestKind::kScrape, requester_address(tracker_.options().trust, request),
                      context)) {
    wire::encode_failure(kScrapeRateLimited, response.body);
    return;
  }
  auto& hashes = context.hashes;
  hashes.clear();
  if (hashes.capacity() < wire::kMaxScrapeHashes) hashes.reserve(wire::kMaxScrapeHashes);
  if (auto st = wire::parse_scrape(request.query, hashes); !st) {
    count_scrape(context, false);
    wire::encode_failure(st.error().message, response.body);
    return;
  }
  if (hashes.empty()) {
    if (!tracker_.options().full_scrape) {
      count_scrape(context, false);
      wire::encode_failure("full scrape is disabled on this tracker; pass info_hash",
                           response.body);
      return;
    }
    count_scrape(context, true);
    response.shared_body = tracker_.full_scrape_reply();
    return;
  }
  count_scrape(context, true);
  std::array<wire::ScrapeEntry, wire::kMaxScrapeHashes> entries;
  std::size_t n = tracker_.scrape(hashes, entries);
  wire::encode_scrape(std::span<const wire::ScrapeEntry>(entries.data(), n), response.body);
}

}  // namespace p2p::net

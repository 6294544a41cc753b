// TrackerHandler: the HTTP front door of the Tracker, /announce and /scrape.
//
// HTTP-specific work only: the query is parsed (wire), the peer's address is
// decided by the trust rules below, the Tracker does the rest, and the reply
// is encoded into the connection's buffer. Runs inline on the worker.
//
// Whose address counts: net/client_address.h decides, as for UDP. The
// requester's address (the TCP peer, or the client a trusted proxy names)
// is charged against the per-source token buckets before the query is even
// parsed, so a flood of junk costs a table lookup each.
// Thread-safe.
#pragma once

#include <optional>

#include "core/address.h"
#include "net/http_types.h"
#include "net/tracker.h"

namespace p2p::net {

class TrackerHandler final : public HttpHandler {
 public:
  explicit TrackerHandler(Tracker& tracker) : tracker_(tracker) {}

  Placement placement(const HttpRequest&) const override { return Placement::kInline; }
  // The BitTorrent protocol itself: open to every client, whatever admin
  // access rules are in force (a non-GET gets its 405 from handle()).
  Access access(const HttpRequest&) const override { return Access::kPublic; }
  void handle(const HttpRequest& request, HttpResponse& response, WorkerContext& context) override;
  // An announce from an address a topology lookup source has yet to place
  // waits for its answer, at most topology_wait_ms (Tracker::await_topology),
  // so the peer is placed, and told about peers, where it really is.
  bool defer(const HttpRequest& request, WorkerContext& context, Deferrable& later) override;

 private:
  void announce(const HttpRequest& request, HttpResponse& response, WorkerContext& context);
  void scrape(const HttpRequest& request, HttpResponse& response, WorkerContext& context);

  Tracker& tracker_;
};

}  // namespace p2p::net

// TrackerHandler: the HTTP front door of the Tracker, /announce and /scrape.
//
// HTTP-specific work only: the query is parsed (wire), the peer's address is
// decided by the trust rules below, the Tracker does the rest, and the reply
// is encoded into the connection's buffer. Runs inline on the worker.
//
// Whose address counts: the client's (net/client_address.h: the TCP peer's, or
// with proxypass what trusted_proxies say). The `ip` parameter is honoured only
// from trusted_networks. Anything else is ignored, never trusted blindly.
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

  // The address a request speaks for, after the trust rules (exposed for
  // tests).
  core::Address peer_address(const HttpRequest& request,
                             const std::optional<core::Address>& ip_param) const;

 private:
  void announce(const HttpRequest& request, HttpResponse& response, WorkerContext& context);
  void scrape(const HttpRequest& request, HttpResponse& response, WorkerContext& context);

  Tracker& tracker_;
};

}  // namespace p2p::net

// The /transfers/ and /history/ endpoints: deploy progress for people and
// scripts, compatible with the original p2ptracker's JSON API.
//
//   GET    /transfers/                   {info_hash: file} of registered
//   transfers GET    /transfers/<hash>.json        {"global": {...}}; ?racks=1
//   adds "racks",
//                                        ?racks=1&peers=1 adds each rack's
//                                        members
//   DELETE /transfers/<hash>.json        deactivate; the record moves to
//   /history/ GET    /transfers/<kind>/<hash>.json kind: peers, seeders,
//   representants,
//                                        leechers (arrays of "ip:port"), racks
//   GET    /history/                     finished deploys, newest first
//
// <hash> is the 40-digit hex info-hash, either case. Runs on the blocking pool.
// Thread-safe.
#pragma once

#include "admin/transfers.h"
#include "net/http_types.h"

namespace p2p::admin {

class TransfersApi final : public net::HttpHandler {
 public:
  explicit TransfersApi(Transfers& transfers) : transfers_(transfers) {}

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kBlocking;
  }
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  void handle_history(const net::HttpRequest& request, net::HttpResponse& response);
  Transfers& transfers_;
};

}  // namespace p2p::admin

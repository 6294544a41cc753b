// The /transfers/ endpoints: deploy progress for people and scripts, in the
// original p2ptracker's shapes at /transfers/ and richer at /api/v1/transfers/
// (api_version.h; docs/api.md has both).
//
//   GET    /transfers/                    {info_hash: file} of registered transfers
//   DELETE /transfers/                    deactivate every transfer into history
//   GET    /transfers/<hash>.<ext>        {"global": {...}}; ?racks=1 adds "racks"
//                                         (/api/v1/: ?racks=1&peers=1 adds members)
//   DELETE /transfers/<hash>.<ext>        deactivate; the record moves to history
//   GET    /transfers/<kind>/<hash>.<ext> kind: peers, seeders, representants,
//                                         leechers ("ip:port" lists), racks
//   GET    /api/v1/history (/history/)    finished deploys, newest first
//
// <hash> is the 40-digit hex info-hash, either case; any extension (or none)
// is accepted, as the original did. Runs on the blocking pool. Thread-safe.
#pragma once

#include "admin/api_version.h"
#include "admin/transfers.h"
#include "net/http_types.h"

namespace p2p::admin {

class TransfersApi final : public net::HttpHandler {
 public:
  TransfersApi(Transfers& transfers, ApiVersion version)
      : transfers_(transfers), version_(version) {}

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kBlocking;
  }
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  void list(const net::HttpRequest& request, net::HttpResponse& response);
  void member_list(std::string_view kind, const core::InfoHash& hash,
                   net::HttpResponse& response) const;
  void one(const net::HttpRequest& request, const core::InfoHash& hash,
           net::HttpResponse& response);
  void history(const net::HttpRequest& request, net::HttpResponse& response) const;

  Transfers& transfers_;
  ApiVersion version_;
};

}  // namespace p2p::admin

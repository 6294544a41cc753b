// The /torrents/ endpoints: registering, listing, downloading and removing
// .torrent files, in the original p2ptracker's shapes at /torrents/ and richer
// at /api/v1/torrents/ (api_version.h; docs/api.md has both).
//
//   GET    /torrents/             {file: info_hash} (/api/v1/: a list of objects)
//   POST   /torrents/<f>.torrent  register (multipart form upload or raw body);
//                                 a registered name is replaced, as the original did
//   PUT    /torrents/<f>.torrent  same as POST
//   GET    /torrents/<f>.torrent  the file itself
//   DELETE /torrents/<f>.torrent  unregister; its transfer becomes inactive
//
// The work is Transfers' (registration activates the swarm; removal
// deactivates it and archives its stats in the history). Runs on the blocking
// pool (file I/O; uploads on the server's upload thread). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "admin/api_version.h"
#include "admin/transfers.h"
#include "net/http_types.h"

namespace p2p::admin {

class TorrentsApi final : public net::HttpHandler {
 public:
  TorrentsApi(Transfers& transfers, std::size_t max_torrent_bytes, ApiVersion version);

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kBlocking;
  }
  std::size_t body_limit(const net::HttpRequest& request) const override;
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  void list(net::HttpResponse& response) const;
  void add(const net::HttpRequest& request, std::string file, net::HttpResponse& response);
  void remove(const std::string& file, net::HttpResponse& response);
  void download(const std::string& file, net::HttpResponse& response);

  Transfers& transfers_;
  std::size_t max_torrent_bytes_;
  ApiVersion version_;
};

nlohmann::json torrent_json(const RegisteredTorrent& t);

}  // namespace p2p::admin

// The /torrents/ endpoints: registering, listing, downloading and removing
// .torrent files (the original p2ptracker's API).
//
//   GET    /torrents/             JSON list of registered torrents
//   POST   /torrents/<f>.torrent  register (multipart form upload or raw body)
//   PUT    /torrents/<f>.torrent  same as POST
//   GET    /torrents/<f>.torrent  the file itself
//   DELETE /torrents/<f>.torrent  unregister; its transfer becomes inactive
//
// Registration activates the transfer in the swarm table and tells the store;
// removal does the reverse. Runs on the blocking pool (file I/O, libtorrent).
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "admin/registry.h"
#include "core/clock.h"
#include "net/http_types.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"

namespace p2p::admin {

class TorrentsApi final : public net::HttpHandler {
 public:
  TorrentsApi(Registry& registry, swarm::SwarmTable& swarms, storage::Store& store,
              const core::Clock& clock, std::size_t max_torrent_bytes);

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kBlocking;
  }
  std::size_t body_limit(const net::HttpRequest& request) const override;
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

  // Makes a registered torrent live: swarm activation and store record. Used
  // for new uploads and, at start-up, for everything the registry loaded.
  static void activate(const RegisteredTorrent& t, swarm::SwarmTable& swarms,
                       storage::Store& store);

 private:
  void list(net::HttpResponse& response) const;
  void add(const net::HttpRequest& request, std::string file, net::HttpResponse& response);
  void remove(const std::string& file, net::HttpResponse& response);
  void download(const std::string& file, net::HttpResponse& response);

  Registry& registry_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  const core::Clock& clock_;
  std::size_t max_torrent_bytes_;
};

nlohmann::json torrent_json(const RegisteredTorrent& t);

}  // namespace p2p::admin

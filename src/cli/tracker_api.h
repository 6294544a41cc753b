// TrackerApi: the admin API calls the operator commands make (docs/api.md),
// with the tracker's JSON errors turned into messages for the operator.
//
// Blocking; not thread-safe (one per thread, like its HttpClient).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "core/digest.h"
#include "core/result.h"

namespace p2p::cli {

class TrackerApi {
 public:
  explicit TrackerApi(HttpClient client) : client_(std::move(client)) {}

  // GET `target` and parse its JSON. A non-2xx reply becomes an error carrying
  // the tracker's own message ("... (HTTP 404)") and a code from its status:
  // 404 kNotFound, 409 kAlreadyExists, 413 kTooLarge, 5xx kUnavailable, other
  // kInvalidArgument. No reply at all: kUnavailable from the HttpClient.
  core::Result<nlohmann::json> get_json(std::string_view target) const;

  // POST /torrents/<file_name> as a multipart form upload (what `curl -F
  // file=@x.torrent` sends); returns the tracker's JSON for the registration.
  core::Result<nlohmann::json> register_torrent(std::string_view file_name,
                                                std::string_view torrent_bytes) const;

  // The transfer an operator means by `arg`: 40 hex digits, or the file name
  // or torrent name of a registered torrent (looked up in GET /torrents/).
  // Errors: kInvalidArgument / kNotFound saying what was tried.
  core::Result<core::InfoHash> resolve_transfer(std::string_view arg) const;

  // DELETE /api/v1/transfers/<hash>: the transfer's history record.
  core::Result<nlohmann::json> deactivate(const core::InfoHash& info_hash) const;

  // GET /transfers/<hash>.json?racks=1.
  core::Result<nlohmann::json> transfer(const core::InfoHash& info_hash, bool racks) const;

  const TrackerUrl& tracker() const { return client_.tracker(); }
  // The same API (tracker, token) with another deadline per request.
  TrackerApi with_timeout(std::chrono::milliseconds timeout) const {
    return TrackerApi(client_.with_timeout(timeout));
  }

 private:
  core::Result<nlohmann::json> parse_reply(const HttpReply& reply, std::string_view what) const;

  HttpClient client_;
};

}  // namespace p2p::cli

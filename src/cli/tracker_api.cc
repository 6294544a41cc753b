#include "cli/tracker_api.h"

#include <fmt/format.h>

#include <filesystem>
#include <random>

#include "cli/json_fields.h"

namespace p2p::cli {
namespace {

core::Error error_for_status(int status, std::string message) {
  message += fmt::format(" (HTTP {})", status);
  switch (status) {
    case 404:
      return core::not_found(std::move(message));
    case 409:
      return core::already_exists(std::move(message));
    case 413:
      return core::too_large(std::move(message));
    default:
      if (status >= 500) return core::unavailable(std::move(message));
      return core::invalid_argument(std::move(message));
  }
}

// A reply body for an error message: short, one line.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

// A multipart boundary: 128 random bits, so it cannot be guessed by (and
// almost surely does not occur in) the payload; checked anyway.
std::string boundary_for(std::string_view data) {
  std::random_device rd;
  for (;;) {
    std::string b = "p2ptracker-";
    for (int i = 0; i < 4; ++i) b += fmt::format("{:08x}", rd());
    if (data.find(b) == std::string_view::npos) return b;
  }
}

}  // namespace

core::Result<nlohmann::json> TrackerApi::parse_reply(const HttpReply& reply,
                                                     std::string_view what) const {
  auto json = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (!reply.ok()) {
    if (json.is_object() && json.contains("error") && json["error"].is_string()) {
      return error_for_status(reply.status, json["error"].get<std::string>());
    }
    return error_for_status(reply.status,
                            fmt::format("{} failed: {} answered '{}'", what,
                                        client_.tracker().authority(), excerpt(reply.body)));
  }
  if (json.is_discarded()) {
    return core::invalid_argument(
        fmt::format("{}: {} answered HTTP {} but not with JSON ('{}'); is --tracker a p2ptracker?",
                    what, client_.tracker().url(""), reply.status, excerpt(reply.body)));
  }
  return json;
}

core::Result<nlohmann::json> TrackerApi::get_json(std::string_view target) const {
  auto reply = client_.get(target);
  if (!reply) return reply.error();
  return parse_reply(*reply, fmt::format("GET {}", target));
}

core::Result<nlohmann::json> TrackerApi::register_torrent(std::string_view file_name,
                                                          std::string_view torrent_bytes) const {
  const std::string boundary = boundary_for(torrent_bytes);
  std::string body;
  body.reserve(torrent_bytes.size() + 512);
  body += "--" + boundary + "\r\n";
  // The file name is ours (a basename ending in .torrent); quotes and line
  // breaks would break the header, so they never reach it.
  std::string quoted;
  for (char c : file_name) quoted += (c == '"' || c == '\r' || c == '\n') ? '_' : c;
  body += fmt::format("Content-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n", quoted);
  body += "Content-Type: application/x-bittorrent\r\n\r\n";
  body += torrent_bytes;
  body += "\r\n--" + boundary + "--\r\n";
  const std::string target = "/api/v1/torrents/" + percent_encode_segment(file_name);
  auto reply = client_.post(target, std::move(body), "multipart/form-data; boundary=" + boundary);
  if (!reply) return reply.error();
  return parse_reply(*reply, fmt::format("POST {}", target));
}

core::Result<nlohmann::json> TrackerApi::transfer(const core::InfoHash& info_hash,
                                                  bool racks) const {
  return get_json(fmt::format("/api/v1/transfers/{}{}", info_hash.hex(), racks ? "?racks=1" : ""));
}

core::Result<nlohmann::json> TrackerApi::deactivate(const core::InfoHash& info_hash) const {
  const std::string target = "/api/v1/transfers/" + info_hash.hex();
  auto reply = client_.del(target);
  if (!reply) return reply.error();
  return parse_reply(*reply, fmt::format("DELETE {}", target));
}

core::Result<core::InfoHash> TrackerApi::resolve_transfer(std::string_view arg) const {
  if (auto h = core::InfoHash::from_hex(arg)) return *h;
  if (arg.empty())
    return core::invalid_argument("empty transfer: give an info-hash (40 hex digits)");
  // Not a hash: a registered file (as given to register, maybe with a
  // directory) or the torrent's name.
  auto list = get_json("/api/v1/torrents/");
  if (!list) return list.error();
  const std::string base = std::filesystem::path(std::string(arg)).filename().string();
  std::vector<std::string> by_name;
  for (const auto& t : *list) {
    if (!t.is_object()) continue;
    const std::string file = text_field(t, "file");
    const std::string hash = text_field(t, "info_hash");
    if (file == base || file == base + ".torrent") {
      if (auto h = core::InfoHash::from_hex(hash)) return *h;
    }
    if (text_field(t, "name") == arg) by_name.push_back(hash);
  }
  if (by_name.size() == 1) {
    if (auto h = core::InfoHash::from_hex(by_name.front())) return *h;
  }
  if (by_name.size() > 1) {
    return core::invalid_argument(fmt::format(
        "{} registered torrents are named '{}'; give the info-hash or the .torrent file name",
        by_name.size(), arg));
  }
  return core::not_found(
      fmt::format("'{}' is neither an info-hash (40 hex digits) nor a torrent registered at {} "
                  "(p2ptracker status lists them)",
                  arg, client_.tracker().authority()));
}

}  // namespace p2p::cli

#include "admin/torrents_api.h"

#include <fmt/format.h>

#include "admin/json_reply.h"
#include "admin/stats_json.h"
#include "wire/multipart.h"
#include "wire/query.h"

namespace p2p::admin {
namespace {

constexpr std::string_view kPrefix = "/torrents";

}  // namespace

nlohmann::json torrent_json(const RegisteredTorrent& t) {
  nlohmann::json j = {{"file", t.file},
                      {"info_hash", t.meta.primary().hex()},
                      {"name", t.meta.name},
                      {"length", t.meta.length},
                      {"files", t.meta.files},
                      {"private", t.meta.is_private},
                      {"registered", core::iso8601(t.registered)}};
  if (t.meta.v2_hex) j["info_hash_v2"] = *t.meta.v2_hex;
  return j;
}

TorrentsApi::TorrentsApi(Transfers& transfers, std::size_t max_torrent_bytes, ApiVersion version)
    : transfers_(transfers), max_torrent_bytes_(max_torrent_bytes), version_(version) {}

std::size_t TorrentsApi::body_limit(const net::HttpRequest& request) const {
  if (request.method == net::Method::kPost || request.method == net::Method::kPut) {
    // Room for the multipart envelope around the largest accepted file.
    return max_torrent_bytes_ + 64 * 1024;
  }
  return 0;
}

void TorrentsApi::handle(const net::HttpRequest& request, net::HttpResponse& response,
                         net::WorkerContext&) {
  std::string_view rest = unversioned(request.path, version_).substr(kPrefix.size());
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  std::string file(rest.size(), '\0');
  auto n = wire::percent_decode(rest, file.data(), file.size());
  if (!n) return reply_error(response, 400, "bad percent-encoding in the torrent file name");
  file.resize(*n);

  if (file.empty()) {
    if (request.method == net::Method::kGet || request.method == net::Method::kHead) {
      return list(response);
    }
    if (request.method == net::Method::kPost) return add(request, "", response);
    return reply_error(response, 405, "use GET to list or POST a multipart upload");
  }
  switch (request.method) {
    case net::Method::kGet:
    case net::Method::kHead:
      return download(file, response);
    case net::Method::kPost:
    case net::Method::kPut:
      return add(request, file, response);
    case net::Method::kDelete:
      return remove(file, response);
    default:
      return reply_error(response, 405, "use GET, POST, PUT or DELETE on /torrents/<name>.torrent");
  }
}

void TorrentsApi::list(net::HttpResponse& response) const {
  if (version_ == ApiVersion::kOriginal) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& t : transfers_.registry().list()) out[t.file] = t.meta.primary().hex();
    return reply_json(response, 200, out);
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : transfers_.registry().list()) arr.push_back(torrent_json(t));
  reply_json(response, 200, arr);
}

void TorrentsApi::add(const net::HttpRequest& request, std::string file,
                      net::HttpResponse& response) {
  std::string_view bytes = request.body;
  std::string_view content_type = request.header("Content-Type");
  if (content_type.substr(0, 19) == "multipart/form-data") {
    auto part = wire::parse_form_file(content_type, request.body);
    if (!part) return reply_error(response, part.error());
    bytes = part->data;
    if (file.empty()) file = std::string(part->filename);
  }
  if (file.empty()) {
    return reply_error(response, 400,
                       "no file name: POST to /torrents/<name>.torrent or "
                       "upload with a filename");
  }
  if (bytes.size() > max_torrent_bytes_) {
    return reply_error(response, 413,
                       fmt::format("torrent file is {} bytes; max_torrent_bytes is {}",
                                   bytes.size(), max_torrent_bytes_));
  }
  auto r = transfers_.add(file, bytes);
  if (!r) return reply_error(response, r.error());
  if (version_ == ApiVersion::kOriginal) {
    // The original answered every accepted upload with 200 and no body.
    response.status = 200;
    response.content_type = "text/plain; charset=utf-8";
    return;
  }
  nlohmann::json j = torrent_json(r->torrent);
  switch (r->what) {
    case Registration::kAdded:
      j["registration"] = "added";
      break;
    case Registration::kReplaced:
      j["registration"] = "replaced";
      j["replaced"] = v1_record_json(*r->replaced);
      break;
    case Registration::kUnchanged:
      j["registration"] = "unchanged";
      break;
  }
  reply_json(response, r->what == Registration::kAdded ? 201 : 200, j);
}

void TorrentsApi::remove(const std::string& file, net::HttpResponse& response) {
  auto t = transfers_.registry().find(file);
  auto r = transfers_.deactivate(file);
  if (!r) return reply_error(response, r.error());
  if (version_ == ApiVersion::kOriginal) {
    response.status = 200;  // the original's empty 200
    response.content_type = "text/plain; charset=utf-8";
    return;
  }
  reply_json(response, 200, torrent_json(*t));
}

void TorrentsApi::download(const std::string& file, net::HttpResponse& response) {
  auto bytes = transfers_.registry().read(file);
  if (!bytes) return reply_error(response, bytes.error());
  response.status = 200;
  response.content_type = "application/x-bittorrent";
  response.body = std::move(*bytes);
  // A quoted-string (RFC 9110): a '"' in the name is escaped, so the name
  // cannot end the parameter and add others. ('\\' is not in names.)
  std::string quoted;
  for (char c : file) {
    if (c == '"') quoted.push_back('\\');
    quoted.push_back(c);
  }
  response.extra_headers =
      fmt::format("Content-Disposition: attachment; filename=\"{}\"\r\n", quoted);
}

}  // namespace p2p::admin

#include "admin/transfers_api.h"

#include <fmt/format.h>

#include "admin/json_reply.h"
#include "admin/stats_json.h"
#include "wire/query.h"

namespace p2p::admin {
namespace {

bool query_flag(std::string_view query, std::string_view name) {
  const auto v = wire::query_value(query, name);
  return v && !(v->empty() || *v == "0" || *v == "false" || *v == "no");
}

// "<40 hex>.<ext>" or "<40 hex>" -> info-hash. The original took any
// extension (it logged those other than json and torrent).
std::optional<core::InfoHash> hash_of(std::string_view segment) {
  if (auto dot = segment.find('.'); dot != std::string_view::npos) segment = segment.substr(0, dot);
  return core::InfoHash::from_hex(segment);
}

bool is_read(const net::HttpRequest& r) {
  return r.method == net::Method::kGet || r.method == net::Method::kHead;
}

}  // namespace

void TransfersApi::handle(const net::HttpRequest& request, net::HttpResponse& response,
                          net::WorkerContext&) {
  // The tracker's time (RFC 9110 has an origin server send it): a page
  // measures "since" on the clock the stats' times are on, not its own.
  response.extra_headers = fmt::format("Date: {}\r\n", core::http_date(transfers_.now()));
  std::string_view path = unversioned(request.path, version_);
  if (path.starts_with("/history")) return history(request, response);
  std::string_view rest = path.substr(std::string_view("/transfers").size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return list(request, response);

  if (auto slash = rest.find('/'); slash != std::string_view::npos) {  // <kind>/<hash>
    if (!is_read(request)) return reply_error(response, 405, "member lists are read-only: use GET");
    auto hash = hash_of(rest.substr(slash + 1));
    if (!hash) {
      return reply_error(response, 400, "expected /transfers/<kind>/<40 hex digit info_hash>.json");
    }
    return member_list(rest.substr(0, slash), *hash, response);
  }
  auto hash = hash_of(rest);
  if (!hash) return reply_error(response, 400, "expected /transfers/<40 hex digit info_hash>.json");
  one(request, *hash, response);
}

void TransfersApi::list(const net::HttpRequest& request, net::HttpResponse& response) {
  if (request.method == net::Method::kDelete) {
    std::optional<core::Error> error;
    auto records = transfers_.deactivate_all(&error);
    if (error) return reply_error(response, *error);
    if (version_ == ApiVersion::kOriginal) {
      // The original flushed Redis; its history is kept here instead.
      return reply_text(response, 200, "Deleted all transfers");
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : records) list.push_back(v1_record_json(r));
    return reply_json(response, 200, {{"deactivated", std::move(list)}});
  }
  if (!is_read(request)) return reply_error(response, 405, "use GET or DELETE on /transfers/");
  nlohmann::json out = nlohmann::json::object();
  for (const auto& t : transfers_.registry().list()) out[t.meta.primary().hex()] = t.file;
  reply_json(response, 200, out);
}

void TransfersApi::member_list(std::string_view kind, const core::InfoHash& hash,
                               net::HttpResponse& response) const {
  const bool original = version_ == ApiVersion::kOriginal;
  if (kind == "racks") {
    auto stats = transfers_.stats(hash, true, !original);
    if (original) {
      // The original's list of rack names; like its other lists, an unknown
      // transfer has none rather than a 404.
      std::vector<std::string> names;
      if (stats) {
        for (const auto& r : stats->racks) names.push_back(r.name);
      }
      return reply_json(response, 200, member_list_json(kind, names));
    }
    if (!stats) {
      return reply_error(response, 404,
                         fmt::format("no registered transfer has info_hash {}", hash.hex()));
    }
    nlohmann::json out = nlohmann::json::object();
    for (const auto& r : stats->racks) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : r.members) list.push_back(p.endpoint);
      out[r.name] = std::move(list);
    }
    return reply_json(response, 200, out);
  }
  auto which = member_kind(kind);
  if (!which) {
    return reply_error(response, 404,
                       fmt::format("unknown list '{}' (peers, seeders, representants, "
                                   "leechers, racks)",
                                   kind));
  }
  auto members = transfers_.members(hash, *which);
  if (original) {
    return reply_json(response, 200,
                      member_list_json(kind, members ? *members : std::vector<std::string>{}));
  }
  if (!members) {
    return reply_error(response, 404,
                       fmt::format("no registered transfer has info_hash {}", hash.hex()));
  }
  reply_json(response, 200, *members);
}

void TransfersApi::one(const net::HttpRequest& request, const core::InfoHash& hash,
                       net::HttpResponse& response) {
  const bool original = version_ == ApiVersion::kOriginal;
  if (request.method == net::Method::kDelete) {
    auto r = transfers_.deactivate(hash);
    if (!r) return reply_error(response, r.error());
    if (original) return reply_text(response, 200, "deleting transfer: " + hash.hex());
    return reply_json(response, 200, v1_record_json(*r));
  }
  if (!is_read(request)) {
    return reply_error(response, 405, "use GET or DELETE on /transfers/<hash>.json");
  }
  const bool racks = query_flag(request.query, "racks");
  const bool members = !original && racks && query_flag(request.query, "peers");
  auto stats = transfers_.stats(hash, racks, members);
  if (!stats) {
    return reply_error(response, 404,
                       fmt::format("no registered transfer has info_hash {} (GET /transfers/ "
                                   "lists them; finished ones are in /api/v1/history)",
                                   hash.hex()));
  }
  reply_json(response, 200,
             original ? original_stats_json(*stats, racks) : v1_stats_json(*stats, racks, members));
}

void TransfersApi::history(const net::HttpRequest& request, net::HttpResponse& response) const {
  if (!is_read(request)) return reply_error(response, 405, "use GET on /api/v1/history");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : transfers_.history().list()) list.push_back(v1_record_json(r));
  reply_json(response, 200, {{"deploys", std::move(list)}});
}

}  // namespace p2p::admin

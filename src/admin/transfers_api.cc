#include "admin/transfers_api.h"

#include <fmt/format.h>

#include "admin/json_reply.h"
#include "wire/query.h"

namespace p2p::admin {
namespace {

bool query_flag(std::string_view query, std::string_view name) {
  wire::QueryIterator it(query);
  std::string_view k, v;
  bool on = false;
  while (it.next(k, v)) {
    if (k == name) on = !(v == "0" || v == "false" || v == "no");
  }
  return on;
}

// "<40 hex>.json" -> info-hash.
std::optional<core::InfoHash> hash_of(std::string_view segment) {
  constexpr std::string_view kJson = ".json";
  if (!segment.ends_with(kJson)) return std::nullopt;
  return core::InfoHash::from_hex(segment.substr(0, segment.size() - kJson.size()));
}

}  // namespace

void TransfersApi::handle(const net::HttpRequest& request, net::HttpResponse& response,
                          net::WorkerContext&) {
  if (request.path.starts_with("/history")) return handle_history(request, response);
  const bool is_get = request.method == net::Method::kGet || request.method == net::Method::kHead;
  std::string_view rest = request.path.substr(std::string_view("/transfers").size());
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);

  if (rest.empty()) {
    if (!is_get) return reply_error(response, 405, "use GET on /transfers/");
    nlohmann::json out = nlohmann::json::object();
    for (const auto& t : transfers_.registry().list()) out[t.meta.primary().hex()] = t.file;
    return reply_json(response, 200, out);
  }

  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {  // /transfers/<kind>/<hash>.json
    std::string_view kind = rest.substr(0, slash);
    auto hash = hash_of(rest.substr(slash + 1));
    if (!is_get) return reply_error(response, 405, "member lists are read-only: use GET");
    if (!hash) {
      return reply_error(response, 400, "expected /transfers/<kind>/<40 hex digit info_hash>.json");
    }
    auto list = transfers_.members(*hash, kind);
    if (!list) {
      if (!transfers_.registry().find(*hash)) {
        return reply_error(response, 404,
                           fmt::format("no registered transfer has info_hash {}", hash->hex()));
      }
      return reply_error(response, 404,
                         fmt::format("unknown list '{}' (peers, seeders, representants, "
                                     "leechers, racks)",
                                     kind));
    }
    return reply_json(response, 200, *list);
  }

  auto hash = hash_of(rest);
  if (!hash) {
    return reply_error(response, 400, "expected /transfers/<40 hex digit info_hash>.json");
  }
  if (request.method == net::Method::kDelete) {
    auto r = transfers_.deactivate(*hash);
    if (!r) return reply_error(response, r.error());
    return reply_json(response, 200, r->to_json());
  }
  if (!is_get) return reply_error(response, 405, "use GET or DELETE on /transfers/<hash>.json");
  const bool racks = query_flag(request.query, "racks");
  const bool members = racks && query_flag(request.query, "peers");
  auto stats = transfers_.stats(*hash, racks, members);
  if (!stats) {
    return reply_error(response, 404,
                       fmt::format("no registered transfer has info_hash {} (GET /transfers/ "
                                   "lists them; finished ones are in /history/)",
                                   hash->hex()));
  }
  reply_json(response, 200, *stats);
}

void TransfersApi::handle_history(const net::HttpRequest& request, net::HttpResponse& response) {
  if (request.method != net::Method::kGet && request.method != net::Method::kHead) {
    return reply_error(response, 405, "use GET on /history/");
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : transfers_.history().list()) {
    auto j = r.to_json();
    j.erase("t");
    list.push_back(std::move(j));
  }
  reply_json(response, 200, {{"deploys", std::move(list)}});
}

}  // namespace p2p::admin

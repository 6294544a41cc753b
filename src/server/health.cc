#include "server/health.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"

namespace p2p::server {

void HealthHandler::handle(const net::HttpRequest& request, net::HttpResponse& response,
                           net::WorkerContext&) {
  if (request.method != net::Method::kGet && request.method != net::Method::kHead) {
    response.status = 405;
    response.extra_headers = "Allow: GET, HEAD\r\n";
    response.body = "/health answers GET only\n";
    return;
  }
  const bool stopping = sources_.stopping != nullptr && sources_.stopping->load();
  nlohmann::ordered_json components;
  // This answer came through the HTTP server, so it is up until it stops.
  components["http"] = stopping ? "stopping" : "up";
  components["udp"] = sources_.udp ? (stopping ? "stopping" : "up") : "off";
  bool store_up = true;
  if (sources_.store != nullptr) {
    const storage::StoreStats s = sources_.store->stats();
    store_up = s.connected;
    nlohmann::ordered_json store = {
        {"kind", sources_.store_kind},
        {"state", s.connected ? "up" : "down"},
        {"since", core::iso8601(s.since == core::TimePoint{} ? sources_.started : s.since)},
    };
    if (!sources_.store_target.empty()) store["target"] = sources_.store_target;
    if (!s.connected) store["error"] = s.error;
    components["store"] = std::move(store);
  }
  bool topology_up = true;
  if (sources_.topology != nullptr) {
    nlohmann::ordered_json sources = nlohmann::ordered_json::object();
    for (const topology::SourceStats& s : sources_.topology->source_stats()) {
      topology_up = topology_up && s.up;
      nlohmann::ordered_json one = {
          {"state", !s.asked ? "unknown" : s.up ? "up" : "down"},
          {"since", core::iso8601(s.since)},
      };
      if (!s.up) one["error"] = s.error;
      sources[s.name] = std::move(one);
    }
    components["topology"] = std::move(sources);
  }
  // The store is a write-behind mirror and topology sources are asked in the
  // background: announces are answered without either.
  const char* status = stopping ? "stopping" : store_up && topology_up ? "ok" : "degraded";
  response.status = stopping ? 503 : 200;
  response.content_type = "application/json";
  // A health answer is about now; no cache may keep it.
  response.extra_headers = "Cache-Control: no-store\r\n";
  // Fields in a fixed order (ordered_json), status first, for people reading it.
  response.body = core::json_text(
      nlohmann::ordered_json{{"status", status}, {"components", std::move(components)}});
  response.body.push_back('\n');
}

}  // namespace p2p::server

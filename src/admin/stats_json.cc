#include "admin/stats_json.h"

#include <fmt/format.h>

#include <cmath>

namespace p2p::admin {
namespace {

nlohmann::json iso_or_null(core::PreciseTime t) {
  if (t == core::PreciseTime{}) return nullptr;
  return core::iso8601(t);
}

nlohmann::json python_or_null(core::PreciseTime t) {
  if (t == core::PreciseTime{}) return nullptr;
  return core::python_datetime(t);
}

// /api/v1/ shows percentages to one decimal.
double round1(double v) { return std::round(v * 10.0) / 10.0; }

// The original's "%0.2f%%".
std::string percent(double v) { return fmt::format("{:.2f}%", v); }

}  // namespace

nlohmann::json original_stats_json(const TransferStats& s, bool racks) {
  // The original read `size` back from Redis as a string, and wrote 0 (a
  // number) when it had none; progress needs a size to mean anything.
  nlohmann::json size = s.size > 0 ? nlohmann::json(std::to_string(s.size)) : nlohmann::json(0);
  nlohmann::json global = {
      {"active", true},
      {"peers", s.peers},
      {"seeders", s.seeders},
      {"leechers", s.leechers},
      {"started", python_or_null(core::PreciseTime(s.registered))},
      {"first_start", python_or_null(s.first_start)},
      {"last_start", python_or_null(s.last_start)},
      {"first_complete", python_or_null(s.first_complete)},
      {"last_complete", python_or_null(s.last_complete)},
      {"complete", s.complete()},
      {"size", std::move(size)},
      {"progress", s.size > 0 ? percent(s.progress) : "Unknown"},
  };
  nlohmann::json out = {{"global", std::move(global)}};
  if (racks) {
    nlohmann::json by_rack = nlohmann::json::object();
    for (const RackStats& r : s.racks) {
      by_rack[r.name] = {{"N", r.peers},
                         {"R", r.representatives},
                         {"S", r.seeders},
                         {"progress", s.size > 0 ? percent(r.progress) : "Unknown"}};
    }
    out["racks"] = std::move(by_rack);
  }
  return out;
}

nlohmann::json v1_stats_json(const TransferStats& s, bool racks, bool members) {
  nlohmann::json completions = nlohmann::json::array();
  for (core::TimePoint c : s.completions) completions.push_back(core::iso8601(c));
  nlohmann::json global = {
      {"info_hash", s.info_hash.hex()},
      {"file", s.file},
      {"name", s.name},
      {"private", s.is_private},
      {"active", true},
      {"peers", s.peers},
      {"seeders", s.seeders},
      {"leechers", s.leechers},
      {"representatives", s.representatives},
      {"stuck", s.stuck},
      {"slow_announcers", s.slow_announcers},
      {"racks", s.rack_count},
      {"completed", s.completed},
      {"peers_seen", s.peers_seen},
      {"finished", s.finished},
      {"started", core::iso8601(s.registered)},
      {"first_start", iso_or_null(s.first_start)},
      {"last_start", iso_or_null(s.last_start)},
      {"first_complete", iso_or_null(s.first_complete)},
      {"last_complete", iso_or_null(s.last_complete)},
      {"complete", s.complete()},
      {"size", s.size},
      {"progress", round1(s.progress)},
      {"completions", std::move(completions)},
  };
  nlohmann::json out = {{"global", std::move(global)}};
  if (racks) {
    nlohmann::json by_rack = nlohmann::json::object();
    for (const RackStats& r : s.racks) {
      nlohmann::json rj = {{"N", r.peers},     {"R", r.representatives},
                           {"S", r.seeders},   {"progress", round1(r.progress)},
                           {"stuck", r.stuck}, {"complete", r.peers > 0 && r.seeders == r.peers}};
      if (members) {
        nlohmann::json list = nlohmann::json::array();
        for (const PeerStats& p : r.members) {
          list.push_back({{"peer", p.endpoint},
                          {"left", p.left},
                          {"progress", round1(p.progress)},
                          {"representative", p.representative},
                          {"seeder", p.seeder},
                          {"stuck", p.stuck},
                          {"last_seen", core::iso8601(p.last_seen)}});
        }
        rj["members"] = std::move(list);
      }
      if (!r.parent.empty()) rj["parent"] = r.parent;
      by_rack[r.name] = std::move(rj);
    }
    out["racks"] = std::move(by_rack);
    // Rows and datacenters, when the topology has levels above racks.
    if (!s.groups.empty()) {
      nlohmann::json groups = nlohmann::json::object();
      for (const auto& g : s.groups) {
        groups[g.name] = {{"level", g.level},
                          {"parent", g.parent.empty() ? nlohmann::json() : nlohmann::json(g.parent)},
                          {"representatives", g.representatives}};
      }
      out["levels"] = std::move(groups);
    }
  }
  return out;
}

nlohmann::json member_list_json(std::string_view kind, const std::vector<std::string>& members) {
  return {{std::string(kind), members}};
}

nlohmann::json v1_record_json(const DeployRecord& record) {
  nlohmann::json j = record.to_json();
  j.erase("t");  // the history file's machine-readable copy of the times
  return j;
}

}  // namespace p2p::admin

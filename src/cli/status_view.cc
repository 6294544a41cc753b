#include "cli/status_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/json_fields.h"
#include "cli/terminal.h"

namespace p2p::cli {
namespace {

// A string field as shown on a terminal; "-" when absent.
std::string shown(const nlohmann::json& j, const char* key) {
  return printable(text_field(j, key, "-"));
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string percent_text(double percent) { return fmt::format("{:.1f}%", percent); }

std::vector<RackRow> rack_rows(const nlohmann::json& stats) {
  std::vector<RackRow> rows;
  auto racks = stats.find("racks");
  if (racks == stats.end() || !racks->is_object()) return rows;
  for (const auto& [name, r] : racks->items()) {
    rows.push_back({printable(name), count_field(r, "N"), count_field(r, "R"), count_field(r, "S"),
                    number_field(r, "progress"), count_field(r, "stuck"),
                    flag_field(r, "complete")});
  }
  std::sort(rows.begin(), rows.end(),
            [](const RackRow& a, const RackRow& b) { return natural_less(a.rack, b.rack); });
  return rows;
}

std::string transfers_table(const std::vector<nlohmann::json>& globals) {
  Table t({"INFO_HASH", "FILE", "PROGRESS", "PEERS", "SEEDERS", "STUCK", "COMPLETE"},
          {false, false, true, true, true, true, false});
  for (const auto& g : globals) {
    t.add({shown(g, "info_hash"), shown(g, "file"), percent_text(number_field(g, "progress")),
           std::to_string(count_field(g, "peers")), std::to_string(count_field(g, "seeders")),
           std::to_string(count_field(g, "stuck")), yes_no(flag_field(g, "complete"))});
  }
  return t.render();
}

std::string history_table(const nlohmann::json& history) {
  const auto& deploys =
      history.is_object() && history.contains("deploys") ? history["deploys"] : nlohmann::json();
  if (!deploys.is_array() || deploys.empty()) return {};
  Table t({"ENDED", "FILE", "INFO_HASH", "COMPLETED", "DURATION", "RACKS"},
          {false, false, false, true, true, true});
  for (const auto& d : deploys) {
    const auto& duration = d.is_object() && d.contains("duration") ? d["duration"] : nullptr;
    std::string took = "-";  // null: nobody completed
    if (duration.is_number_unsigned()) {
      took = human_duration(static_cast<std::int64_t>(
          std::min<std::uint64_t>(duration.get<std::uint64_t>(), INT64_MAX)));
    } else if (duration.is_number_integer() && duration.get<std::int64_t>() >= 0) {
      took = human_duration(duration.get<std::int64_t>());
    }
    t.add({shown(d, "deregistered"), shown(d, "file"), shown(d, "info_hash"),
           fmt::format("{} / {}", count_field(d, "completed"), count_field(d, "peers")), took,
           std::to_string(count_field(d, "racks"))});
  }
  return t.render();
}

std::string transfer_summary(const nlohmann::json& stats) {
  const auto& g = object_field(stats, "global");
  std::string out;
  out += fmt::format("transfer   {} ({}, {})\n", shown(g, "name"), shown(g, "file"),
                     human_bytes(count_field(g, "size")));
  out += fmt::format("info_hash  {}\n", shown(g, "info_hash"));
  out += fmt::format("progress   {}, complete: {}\n", percent_text(number_field(g, "progress")),
                     yes_no(flag_field(g, "complete")));
  out += fmt::format(
      "peers      {} ({} seeders, {} leechers, {} representatives, {} stuck) in {} "
      "rack{}\n",
      count_field(g, "peers"), count_field(g, "seeders"), count_field(g, "leechers"),
      count_field(g, "representatives"), count_field(g, "stuck"), count_field(g, "racks"),
      count_field(g, "racks") == 1 ? "" : "s");
  if (const auto slow = count_field(g, "slow_announcers"); slow > 0) {
    // Shown only when there are any: the policy's failover leans on announces.
    out += fmt::format(
        "slow       {} downloading host{} announcing over twice the asked interval apart "
        "(docs/clients.md)\n",
        slow, slow == 1 ? "" : "s");
  }
  out += fmt::format("started    {} (registered); first start {}, last start {}\n",
                     shown(g, "started"), shown(g, "first_start"), shown(g, "last_start"));
  out += fmt::format("completed  {} peer{}; first {}, last {}\n", count_field(g, "completed"),
                     count_field(g, "completed") == 1 ? "" : "s", shown(g, "first_complete"),
                     shown(g, "last_complete"));
  // What the deploy reached, whoever is still in the swarm now.
  out +=
      fmt::format("reached    {} of {} host{} that joined finished\n", count_field(g, "finished"),
                  count_field(g, "peers_seen"), count_field(g, "peers_seen") == 1 ? "" : "s");
  return out;
}

std::string racks_table(const nlohmann::json& stats) {
  auto rows = rack_rows(stats);
  if (rows.empty()) return "no peer has announced yet\n";
  Table t({"RACK", "N", "R", "S", "PROGRESS", "STUCK", "COMPLETE"},
          {false, true, true, true, true, true, false});
  for (const auto& r : rows) {
    t.add({r.rack, std::to_string(r.peers), std::to_string(r.representatives),
           std::to_string(r.seeders), percent_text(r.progress), std::to_string(r.stuck),
           yes_no(r.complete)});
  }
  return t.render();
}

std::vector<LevelRow> level_rows(const nlohmann::json& stats) {
  std::vector<LevelRow> rows;
  auto levels = stats.find("levels");
  if (levels == stats.end() || !levels->is_object()) return rows;
  for (const auto& [name, g] : levels->items()) {
    std::string reps;
    auto list = g.find("representatives");
    if (list != g.end() && list->is_array()) {
      for (const auto& r : *list) {
        if (!r.is_string()) continue;
        reps += (reps.empty() ? "" : " ") + r.get<std::string>();
      }
    }
    rows.push_back({printable(name), shown(g, "level"), shown(g, "parent"),
                    reps.empty() ? "-" : printable(reps)});
  }
  // Paths sort a datacenter before its rows.
  std::sort(rows.begin(), rows.end(),
            [](const LevelRow& a, const LevelRow& b) { return natural_less(a.group, b.group); });
  return rows;
}

std::string levels_table(const nlohmann::json& stats) {
  const auto rows = level_rows(stats);
  if (rows.empty()) return "";
  Table t({"GROUP", "LEVEL", "PARENT", "REPRESENTATIVES"}, {false, false, false, false});
  for (const auto& r : rows) t.add({r.group, r.level, r.parent, r.representatives});
  return t.render();
}

}  // namespace p2p::cli

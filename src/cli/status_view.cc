#include "cli/status_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/terminal.h"

namespace p2p::cli {
namespace {

const nlohmann::json& global_of(const nlohmann::json& stats) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  auto it = stats.find("global");
  return it != stats.end() && it->is_object() ? *it : kEmpty;
}

std::uint64_t count(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

double number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

bool flag(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string text(const nlohmann::json& j, const char* key, const char* absent = "-") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : absent;
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string percent_text(double percent) { return fmt::format("{:.1f}%", percent); }

std::vector<RackRow> rack_rows(const nlohmann::json& stats) {
  std::vector<RackRow> rows;
  auto racks = stats.find("racks");
  if (racks == stats.end() || !racks->is_object()) return rows;
  for (const auto& [name, r] : racks->items()) {
    rows.push_back({name, count(r, "N"), count(r, "R"), count(r, "S"), number(r, "progress"),
                    count(r, "stuck"), flag(r, "complete")});
  }
  std::sort(rows.begin(), rows.end(),
            [](const RackRow& a, const RackRow& b) { return natural_less(a.rack, b.rack); });
  return rows;
}

std::string transfers_table(const std::vector<nlohmann::json>& globals) {
  Table t({"INFO_HASH", "FILE", "PROGRESS", "PEERS", "SEEDERS", "STUCK", "COMPLETE"},
          {false, false, true, true, true, true, false});
  for (const auto& g : globals) {
    t.add({text(g, "info_hash"), text(g, "file"), percent_text(number(g, "progress")),
           std::to_string(count(g, "peers")), std::to_string(count(g, "seeders")),
           std::to_string(count(g, "stuck")), yes_no(flag(g, "complete"))});
  }
  return t.render();
}

std::string transfer_summary(const nlohmann::json& stats) {
  const auto& g = global_of(stats);
  std::string out;
  out += fmt::format("transfer   {} ({}, {})\n", text(g, "name"), text(g, "file"),
                     human_bytes(count(g, "size")));
  out += fmt::format("info_hash  {}\n", text(g, "info_hash"));
  out += fmt::format("progress   {}, complete: {}\n", percent_text(number(g, "progress")),
                     yes_no(flag(g, "complete")));
  out += fmt::format(
      "peers      {} ({} seeders, {} leechers, {} representatives, {} stuck) in {} "
      "rack{}\n",
      count(g, "peers"), count(g, "seeders"), count(g, "leechers"), count(g, "representatives"),
      count(g, "stuck"), count(g, "racks"), count(g, "racks") == 1 ? "" : "s");
  if (const auto slow = count(g, "slow_announcers"); slow > 0) {
    // Shown only when there are any: the policy's failover leans on announces.
    out += fmt::format(
        "slow       {} downloading host{} announcing over twice the asked interval apart "
        "(docs/clients.md)\n",
        slow, slow == 1 ? "" : "s");
  }
  out += fmt::format("started    {} (registered); first start {}, last start {}\n",
                     text(g, "started"), text(g, "first_start"), text(g, "last_start"));
  out += fmt::format("completed  {} peer{}; first {}, last {}\n", count(g, "completed"),
                     count(g, "completed") == 1 ? "" : "s", text(g, "first_complete"),
                     text(g, "last_complete"));
  // What the deploy reached, whoever is still in the swarm now.
  out += fmt::format("reached    {} of {} host{} that joined finished\n", count(g, "finished"),
                     count(g, "peers_seen"), count(g, "peers_seen") == 1 ? "" : "s");
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
    rows.push_back({name, text(g, "level"), text(g, "parent"), reps.empty() ? "-" : reps});
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

// Text views of the tracker's transfer JSON (docs/api.md, GET /transfers/),
// shared by `status` and `watch`. Pure; thread-safe. Any JSON renders:
// missing fields, and fields of another type, read as zero/false/"-", so an
// older or newer tracker still renders; names and text are printable().
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace p2p::cli {

struct RackRow {
  std::string rack;
  std::uint64_t peers = 0;            // N
  std::uint64_t representatives = 0;  // R
  std::uint64_t seeders = 0;          // S
  double progress = 0;                // percent
  std::uint64_t stuck = 0;
  bool complete = false;

  bool operator==(const RackRow&) const = default;
};

// The "racks" object of a ?racks=1 reply, in natural rack-name order.
std::vector<RackRow> rack_rows(const nlohmann::json& stats);

// One line per transfer: INFO_HASH FILE PROGRESS PEERS SEEDERS STUCK COMPLETE,
// from the "global" objects.
std::string transfers_table(const std::vector<nlohmann::json>& globals);

// A few "key  value" lines about the transfer as a whole.
std::string transfer_summary(const nlohmann::json& stats);

// RACK N R S PROGRESS STUCK COMPLETE, or a note that no peer announced yet.
std::string racks_table(const nlohmann::json& stats);

// One group above the racks (a row, a datacenter) of a ?racks=1 reply.
struct LevelRow {
  std::string group, level, parent;  // parent "-" at the top
  std::string representatives;       // "ip:port ip:port", "-" for none
  friend bool operator==(const LevelRow&, const LevelRow&) = default;
};

// The "levels" object, datacenters before their rows.
std::vector<LevelRow> level_rows(const nlohmann::json& stats);

// GROUP LEVEL PARENT REPRESENTATIVES: the rows and datacenters above the
// racks, or "" when racks are the only level.
std::string levels_table(const nlohmann::json& stats);

// "61.5%".
std::string percent_text(double percent);

// `history`'s table of GET /api/v1/history's {"deploys": [...]}, in the
// reply's order (newest first): when each ended, its file and hash, hosts
// completed of those seen, how long from the first start to the last
// completion, its racks. Empty when there is no deploy.
std::string history_table(const nlohmann::json& history);

}  // namespace p2p::cli

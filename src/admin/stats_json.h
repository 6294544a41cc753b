// The two renderings of a transfer's stats (TransferStats, computed once by
// Transfers): the original p2ptracker's /transfers/ JSON, kept so its deploy
// scripts and dashboards keep working, and /api/v1/'s richer one.
//
// Pure functions; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "admin/history.h"
#include "admin/transfers.h"

namespace p2p::admin {

// The original's shape: {"global": {...}} (and "racks" when `racks`), its
// field names and types: times as str(datetime.now()) wrote them or null,
// `size` the byte count as a string (0 when unknown), `progress` "25.00%"
// ("Unknown" when the size is unknown).
nlohmann::json original_stats_json(const TransferStats& stats, bool racks);

// /api/v1/: numbers as numbers, ISO 8601 times, counts of representatives,
// stuck hosts and completions; with `members`, each rack's hosts.
nlohmann::json v1_stats_json(const TransferStats& stats, bool racks, bool members);

// {"<kind>": ["ip:port", ...]}, as the original's member lists.
nlohmann::json member_list_json(std::string_view kind, const std::vector<std::string>& members);

// A history record, as /api/v1/history lists it.
nlohmann::json v1_record_json(const DeployRecord& record);

}  // namespace p2p::admin

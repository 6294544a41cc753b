// p2ptracker status: the registered transfers, or one transfer's racks.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/options.h"
#include "cli/status_view.h"
#include "cli/terminal.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

constexpr std::string_view kCommand = "status";

struct Options {
  std::string transfer;
  std::string tracker;
  std::string token_file;
  bool json = false;
};

int list_transfers(const TrackerApi& api, bool json) {
  auto registered = api.get_json("/api/v1/transfers/");
  if (!registered) return fail(kCommand, registered.error().message);
  if (!registered->is_object()) {
    return fail(kCommand,
                "GET /transfers/ did not answer with a JSON object; is --tracker a "
                "p2ptracker?");
  }
  std::vector<nlohmann::json> rows;
  for (const auto& [hex, file] : registered->items()) {
    auto hash = core::InfoHash::from_hex(hex);
    if (!hash) continue;
    auto stats = api.transfer(*hash, /*racks=*/false);
    if (!stats) {
      // Deregistered between the two requests: no longer part of the list.
      if (stats.error().code == core::ErrorCode::kNotFound) continue;
      return fail(kCommand, stats.error().message);
    }
    rows.push_back(object_field(*stats, "global"));
  }
  std::sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return natural_less(text_field(a, "file"), text_field(b, "file"));
  });
  if (json) {
    std::cout << core::json_text(nlohmann::json(rows), 2) << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cerr << "no registered transfers at " << api.tracker().authority() << "\n";
    return 0;
  }
  std::cout << transfers_table(rows);
  return 0;
}

int show_transfer(const TrackerApi& api, const std::string& arg, bool json) {
  auto hash = api.resolve_transfer(arg);
  if (!hash) return fail(kCommand, hash.error().message);
  auto stats = api.transfer(*hash, /*racks=*/true);
  if (!stats) return fail(kCommand, stats.error().message);
  if (json) {
    std::cout << core::json_text(*stats, 2) << "\n";
    return 0;
  }
  std::cout << transfer_summary(*stats) << "\n" << racks_table(*stats);
  if (std::string levels = levels_table(*stats); !levels.empty()) std::cout << "\n" << levels;
  return 0;
}

int run(const Options& o) {
  auto api = api_from(o.tracker, o.token_file);
  if (!api) return fail(kCommand, api.error().message);
  if (o.transfer.empty()) return list_transfers(*api, o.json);
  return show_transfer(*api, o.transfer, o.json);
}

}  // namespace

Command add_status(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "status", "Show the registered transfers, or one transfer's progress rack by rack.");
  cmd->add_option("HASH", o->transfer,
                  "A transfer: its info-hash, or the registered .torrent's file name (default: "
                  "list every transfer)");
  add_tracker_option(cmd, o->tracker);
  add_token_file_option(cmd, o->token_file);
  cmd->add_flag("--json", o->json,
                "Print JSON: a list of the transfers' \"global\" objects, or the tracker's "
                "GET /transfers/<hash>.json?racks=1 reply");
  cmd->footer(
      "Columns of the rack table: N peers, R representatives (the hosts that fetch from\n"
      "other racks), S seeders, mean PROGRESS, STUCK peers (no progress for a while).\n"
      "With levels above racks (rows, datacenters), a second table lists each GROUP, its\n"
      "LEVEL, the group above it and the hosts that represent it.");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

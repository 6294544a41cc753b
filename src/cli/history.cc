// p2ptracker history: the finished deploys the tracker keeps (history_days).
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/status_view.h"
#include "cli/terminal.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

constexpr std::string_view kCommand = "history";

struct Options {
  std::string tracker;
  std::string token_file;
  bool json = false;
};

int run(const Options& o) {
  auto api = api_from(o.tracker, o.token_file);
  if (!api) return fail(kCommand, api.error().message);
  auto history = api->get_json("/api/v1/history");
  if (!history) return fail(kCommand, history.error().message);
  if (!history->is_object() || !history->contains("deploys")) {
    return fail(kCommand,
                "GET /api/v1/history did not answer with {\"deploys\": [...]}; is --tracker a "
                "p2ptracker?");
  }
  if (o.json) {
    std::cout << core::json_text(*history, 2) << "\n";
    return 0;
  }
  const std::string table = history_table(*history);
  if (table.empty()) {
    std::cerr << "no finished deploys at " << api->tracker().authority()
              << " (a deploy is kept for history_days once it is deactivated or replaced)\n";
    return 0;
  }
  std::cout << table;
  return 0;
}

}  // namespace

Command add_history(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "history", "List finished deploys, newest first: when each ended, hosts, duration, racks.");
  add_tracker_option(cmd, o->tracker);
  add_token_file_option(cmd, o->token_file);
  cmd->add_flag("--json", o->json, "Print the tracker's answer (JSON) instead of the table");
  cmd->footer(
      "GET /api/v1/history. A deploy is recorded when its transfer is deactivated or its\n"
      "file registered again, and kept for history_days (docs/api.md). DURATION is from the\n"
      "first start to the last completion. Exit status 1 when the tracker cannot be asked.");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

// p2ptracker deactivate: end a deploy. The transfer stops handing out peers
// (announces get passive_interval and a warning), its registration is removed
// and its final stats move to the history.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/options.h"
#include "cli/terminal.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

constexpr std::string_view kCommand = "deactivate";

struct Options {
  std::string transfer;
  std::string tracker;
  std::string token_file;
  bool json = false;
};

int run(const Options& o) {
  auto api = api_from(o.tracker, o.token_file);
  if (!api) return fail(kCommand, api.error().message);
  auto hash = api->resolve_transfer(o.transfer);
  if (!hash) return fail(kCommand, hash.error().message);
  auto record = api->deactivate(*hash);
  if (!record) return fail(kCommand, record.error().message);
  if (o.json) {
    std::cout << core::json_text(*record, 2) << "\n";
    return 0;
  }
  std::cerr << fmt::format(
      "deactivated {} ({}): {} peers, {} seeders, {} completed; its record is in the history\n",
      printable(text_field(*record, "file", "?")), hash->hex(), count_field(*record, "peers"),
      count_field(*record, "seeders"), count_field(*record, "completed"));
  std::cout << hash->hex() << "\n";
  return 0;
}

}  // namespace

Command add_deactivate(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "deactivate", "End a deploy: the transfer stops handing out peers and moves to the history.");
  cmd->add_option("HASH", o->transfer,
                  "The transfer: its info-hash, or the registered .torrent's file name")
      ->required();
  add_tracker_option(cmd, o->tracker);
  add_token_file_option(cmd, o->token_file);
  cmd->add_flag("--json", o->json, "Print the transfer's history record (JSON)");
  cmd->footer(
      "DELETE /api/v1/transfers/<hash>. Prints the info-hash on stdout; exit status 1 when\n"
      "the transfer is not registered (or no longer) or the tracker refuses it.");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

// p2ptracker register: upload a .torrent to the tracker, activating its transfer.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/options.h"
#include "cli/terminal.h"
#include "cli/torrent_maker.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kCommand = "register";

struct Options {
  std::string file;
  std::string tracker;
  std::string token_file;
  std::string as;
  bool exist_ok = false;
  bool json = false;
};

core::Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return core::not_found(path + ": no such file");
  if (fs::is_directory(path, ec)) {
    return core::invalid_argument(path + " is a directory; give the .torrent file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  if (!in || !(data << in.rdbuf())) {
    return core::unavailable(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  return std::move(data).str();
}

bool same_tracker(const std::string& announce, const TrackerUrl& ours) {
  auto u = parse_tracker_url(announce);
  return u && u->port == ours.port && u->base_path == ours.base_path && u->host == ours.host;
}

int run(const Options& o) {
  auto api = api_from(o.tracker, o.token_file);
  if (!api) return fail(kCommand, api.error().message);
  auto bytes = read_file(o.file);
  if (!bytes) return fail(kCommand, bytes.error().message);
  // Checked here too (the tracker would refuse it) for a message naming the file.
  auto torrent = read_torrent(*bytes);
  if (!torrent) return fail(kCommand, o.file + ": " + torrent.error().message);

  std::string name = o.as.empty() ? fs::path(o.file).filename().string() : o.as;
  if (!name.ends_with(".torrent")) name += ".torrent";

  const TrackerUrl& tracker = api->tracker();
  if (!torrent->trackers.empty() &&
      std::none_of(torrent->trackers.begin(), torrent->trackers.end(),
                   [&](const std::string& t) { return same_tracker(t, tracker); })) {
    std::cerr << fmt::format(
        "warning: {} announces to {}, but is being registered at {}; unless both name the "
        "same tracker, its clients will never ask this one for peers\n",
        o.file, torrent->trackers.front(), tracker.announce_url());
  }
  if (!torrent->is_private) {
    std::cerr << fmt::format(
        "warning: {} is not private: clients may find peers through DHT and peer exchange, "
        "which bypasses the rack policy (make it with p2ptracker make-torrent)\n",
        o.file);
  }

  auto reply = api->register_torrent(name, *bytes);
  if (!reply) return fail(kCommand, reply.error().message);
  const nlohmann::json& j = *reply;
  if (o.json) {
    std::cout << core::json_text(j, 2) << "\n";
    return 0;
  }
  const std::string hash = printable(text_field(j, "info_hash", torrent->info_hash));
  const std::string what = text_field(j, "registration", "added");
  if (what == "unchanged") {
    std::cerr << fmt::format("{} is already registered with this content at {}\n", name,
                             tracker.url("/torrents/" + percent_encode_segment(name)));
    std::cout << hash << "\n";
    return 0;
  }
  if (what == "replaced" && j.is_object() && j.contains("replaced")) {
    std::cerr << fmt::format("replaced {}: its previous transfer {} moved to the history\n", name,
                             printable(text_field(object_field(j, "replaced"), "info_hash", "?")));
  }
  const std::uint64_t files =
      count_field(j, "files", static_cast<std::uint64_t>(std::max(torrent->files, 0)));
  std::cerr << fmt::format(
      "registered {} ({}, {} file{}, {}) at {}\n", printable(text_field(j, "file", name)),
      printable(text_field(j, "name", torrent->name)), files, files == 1 ? "" : "s",
      human_bytes(count_field(j, "length", torrent->length)),
      tracker.url("/torrents/" + percent_encode_segment(name)));
  std::cout << hash << "\n";
  return 0;
}

}  // namespace

Command add_register(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "register", "Upload a .torrent to the tracker, which activates its transfer.");
  cmd->add_option("FILE", o->file, "The .torrent file")->required();
  add_tracker_option(cmd, o->tracker);
  add_token_file_option(cmd, o->token_file);
  cmd->add_option("--as", o->as,
                  "Register under this file name (default: FILE's name; .torrent is added if "
                  "missing)")
      ->type_name("NAME");
  cmd->add_flag("--exist-ok", o->exist_ok,
                "Accepted for older deploy scripts: registering the same content under the same "
                "name always succeeds, and other content replaces it");
  cmd->add_flag("--json", o->json, "Print the tracker's JSON reply instead of the info-hash");
  cmd->footer(
      "Uploads to <tracker>/api/v1/torrents/<name>.torrent and prints the info-hash on stdout.\n"
      "A name already registered with other content is replaced: its transfer moves to the\n"
      "history and the new one becomes active (a deploy pipeline's next release).\n"
      "Exit status 1 when the tracker refuses it (its message on stderr): a corrupt file,\n"
      "an info-hash already registered under another name (409), a file too large (413).");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

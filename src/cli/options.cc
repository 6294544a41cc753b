#include "cli/options.h"

#include <iostream>

#include "cli/terminal.h"
#include "core/token_file.h"

namespace p2p::cli {

void add_tracker_option(CLI::App* cmd, std::string& value) {
  cmd->add_option("-t,--tracker", value,
                  "The tracker: its announce URL (http://HOST:6969/announce) or base URL "
                  "(http://HOST:6969)")
      ->envname(kTrackerEnv)
      ->type_name("URL");
}

void add_token_file_option(CLI::App* cmd, std::string& value) {
  cmd->add_option("--token-file", value,
                  "File holding the tracker's admin token (its admin_token_file), sent as "
                  "Authorization: Bearer; needed when the tracker has one")
      ->envname(kTokenFileEnv)
      ->type_name("FILE");
}

core::Result<TrackerUrl> tracker_from(const std::string& value) {
  if (value.empty()) {
    return core::invalid_argument(
        "no tracker given: pass --tracker http://HOST:6969 or set P2PTRACKER_URL");
  }
  return parse_tracker_url(value);
}

core::Result<TrackerApi> api_from(const std::string& value, const std::string& token_file,
                                  std::chrono::milliseconds timeout) {
  auto url = tracker_from(value);
  if (!url) return url.error();
  std::string token;
  if (!token_file.empty()) {
    auto file = core::read_token_file(token_file);
    if (!file) return core::invalid_argument("--token-file: " + file.error().message);
    token = std::move(file->token);
  }
  return TrackerApi(HttpClient(std::move(*url), timeout, std::move(token)));
}

int fail(std::string_view command, std::string_view message) {
  // The message may quote the tracker's reply.
  std::cerr << "p2ptracker " << command << ": " << printable(message) << "\n";
  return 1;
}

}  // namespace p2p::cli

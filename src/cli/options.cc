#include "cli/options.h"

#include <iostream>

namespace p2p::cli {

void add_tracker_option(CLI::App* cmd, std::string& value) {
  cmd->add_option("-t,--tracker", value,
                  "The tracker: its announce URL (http://HOST:6969/announce) or base URL "
                  "(http://HOST:6969)")
      ->envname(kTrackerEnv)
      ->type_name("URL");
}

core::Result<TrackerUrl> tracker_from(const std::string& value) {
  if (value.empty()) {
    return core::invalid_argument(
        "no tracker given: pass --tracker http://HOST:6969 or set P2PTRACKER_URL");
  }
  return parse_tracker_url(value);
}

core::Result<TrackerApi> api_from(const std::string& value, std::chrono::milliseconds timeout) {
  auto url = tracker_from(value);
  if (!url) return url.error();
  return TrackerApi(HttpClient(std::move(*url), timeout));
}

int fail(std::string_view command, std::string_view message) {
  std::cerr << "p2ptracker " << command << ": " << message << "\n";
  return 1;
}

}  // namespace p2p::cli

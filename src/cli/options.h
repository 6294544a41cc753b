// Flags shared by the operator subcommands, so every one spells them alike:
// --tracker (default $P2PTRACKER_URL), --token-file (default
// $P2PTRACKER_TOKEN_FILE) and --json. Main thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "cli/tracker_api.h"
#include "cli/tracker_url.h"
#include "core/result.h"

namespace p2p::cli {

// The environment variables --tracker and --token-file default to.
inline constexpr const char* kTrackerEnv = "P2PTRACKER_URL";
inline constexpr const char* kTokenFileEnv = "P2PTRACKER_TOKEN_FILE";

// Adds -t,--tracker URL (default $P2PTRACKER_URL) storing into `value`.
void add_tracker_option(CLI::App* cmd, std::string& value);

// Parses the --tracker value; an empty one (no flag, no variable) is an error
// saying how to give it.
core::Result<TrackerUrl> tracker_from(const std::string& value);

// Adds --token-file FILE (default $P2PTRACKER_TOKEN_FILE) storing into `value`:
// the file holding the tracker's admin token, for a tracker with
// admin_token_file set.
void add_token_file_option(CLI::App* cmd, std::string& value);

// A TrackerApi for the --tracker value, each request bounded by `timeout` and
// carrying the token read from `token_file` (empty: no token). Errors: the
// tracker URL's, or the token file's (unreadable, empty).
core::Result<TrackerApi> api_from(const std::string& value, const std::string& token_file,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Prints "p2ptracker <command>: <message>" on stderr and returns 1.
int fail(std::string_view command, std::string_view message);

}  // namespace p2p::cli

// Flags shared by the operator subcommands, so every one spells them alike:
// --tracker (default $P2PTRACKER_URL) and --json. Main thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "cli/tracker_api.h"
#include "cli/tracker_url.h"
#include "core/result.h"

namespace p2p::cli {

// The environment variable --tracker defaults to.
inline constexpr const char* kTrackerEnv = "P2PTRACKER_URL";

// Adds -t,--tracker URL (default $P2PTRACKER_URL) storing into `value`.
void add_tracker_option(CLI::App* cmd, std::string& value);

// Parses the --tracker value; an empty one (no flag, no variable) is an error
// saying how to give it.
core::Result<TrackerUrl> tracker_from(const std::string& value);

// A TrackerApi for the --tracker value, each request bounded by `timeout`.
core::Result<TrackerApi> api_from(const std::string& value,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Prints "p2ptracker <command>: <message>" on stderr and returns 1.
int fail(std::string_view command, std::string_view message);

}  // namespace p2p::cli

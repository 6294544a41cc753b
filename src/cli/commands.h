// The operator subcommands of the p2ptracker binary: make-torrent, register,
// status, watch, deactivate, history, simulate. main.cc adds each to its
// CLI11 app and runs the one parsed.
//
// Exit codes: 0 success; 1 an error (message on stderr); watch: 2 when its
// --timeout passes. Called from main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace p2p::cli {

struct Command {
  CLI::App* app = nullptr;   // the subcommand, owned by the parent app
  std::function<int()> run;  // call after a successful parse when app->parsed()
};

Command add_make_torrent(CLI::App& parent);
Command add_register(CLI::App& parent);
Command add_status(CLI::App& parent);
Command add_watch(CLI::App& parent);
Command add_deactivate(CLI::App& parent);
Command add_history(CLI::App& parent);
Command add_simulate(CLI::App& parent);  // simulate.cc, built with the executable (p2p_sim)

}  // namespace p2p::cli

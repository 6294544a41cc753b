// p2ptracker: flags -> config -> server, or flags -> one operator subcommand
// (src/cli/); nothing else.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "config/config.h"
#include "server/server.h"

namespace {

// The environment variable the original p2ptracker read a further config file
// from, on top of the one on its command line.
constexpr const char* kConfigEnv = "P2PTRACKERCONFIG";

struct ServeFlags {
  std::string config_option;      // --config FILE
  std::string config_positional;  // serve FILE, as the original's run_*.py FILE
  std::vector<std::string> overrides;
  bool print_config = false;
};

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return a == b || std::filesystem::equivalent(a, b, ec);
}

// The config files in the order they apply, as the original loaded them:
// the file given, then $P2PTRACKERCONFIG on top.
std::vector<std::string> config_files(const std::string& given) {
  std::vector<std::string> files;
  if (!given.empty()) files.push_back(given);
  const char* env = std::getenv(kConfigEnv);
  // The same file twice would only repeat its warnings.
  if (env != nullptr && *env != '\0' && !(given.size() > 0 && same_file(given, env))) {
    files.push_back(env);
  }
  return files;
}

int serve(const ServeFlags& flags) {
  if (!flags.config_option.empty() && !flags.config_positional.empty() &&
      flags.config_option != flags.config_positional) {
    std::cerr << "p2ptracker: two config files given (" << flags.config_positional
              << " and --config " << flags.config_option << "); give one, and put a second in $"
              << kConfigEnv << "\n";
    return 2;
  }
  const std::string& given =
      flags.config_option.empty() ? flags.config_positional : flags.config_option;
  const std::vector<std::string> files = config_files(given);

  p2p::config::Loaded loaded;
  for (const std::string& file : files) {
    if (auto st = p2p::config::load_file_onto(loaded, file); !st) {
      std::cerr << "p2ptracker: " << st.error().message << "\n";
      return 2;
    }
  }
  for (const auto& o : flags.overrides) {
    if (auto st = p2p::config::apply_override(loaded, o); !st) {
      std::cerr << "p2ptracker: " << st.error().message << "\n";
      return 2;
    }
  }
  // The topology settings are checked as serve would use them (a map file
  // that loads, an http:// smdb_url), so --print-config refuses what serve
  // would, and with the same status.
  p2p::core::Status valid = p2p::config::validate(loaded);
  if (valid) valid = p2p::server::check_topology(loaded);
  if (!valid) {
    // What the loaders left out may be why ("'smdb_url' ignored: only
    // UPPER_CASE names ..." before "topology \"smdb\" needs smdb_url").
    for (const auto& w : loaded.warnings) std::cerr << "p2ptracker: warning: " << w << "\n";
    std::cerr << "p2ptracker: " << valid.error().message << "\n";
    return 2;
  }
  const p2p::config::Config& config = loaded.config;
  if (flags.print_config) {
    // stdout is the TOML file; what the loaders noticed goes beside it.
    for (const auto& w : loaded.warnings) std::cerr << "p2ptracker: warning: " << w << "\n";
    std::cout << p2p::config::to_toml(config);
    return 0;
  }

  auto level = spdlog::level::from_str(config.log_level);
  if (config.debug) level = std::min(level, spdlog::level::debug);
  spdlog::set_level(level);
  if (files.empty()) {
    spdlog::info("config: built-in defaults{}", flags.overrides.empty() ? "" : " and --set");
  } else {
    std::string order;
    for (const auto& f : files) order += (order.empty() ? "" : ", then ") + f;
    spdlog::info("config: {} on top of the built-in defaults{}", order,
                 flags.overrides.empty() ? "" : ", then --set");
  }
  for (const auto& w : loaded.warnings) spdlog::warn("config: {}", w);
  for (const auto& line : p2p::config::describe_settings(loaded)) {
    spdlog::debug("config: {}", line);
  }

  auto server = p2p::server::Server::create(loaded);
  if (!server) {
    std::cerr << "p2ptracker: cannot start: " << server.error().message << "\n";
    return 1;
  }
  return (*server)->run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "p2ptracker: a location-aware BitTorrent tracker. Shapes each swarm by rack so that\n"
      "a deploy crosses each rack's uplink about once, not once per host."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "p2ptracker " P2P_VERSION);

  ServeFlags flags;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the tracker (HTTP announce, scrape and the admin API on one port).");
  serve_cmd
      ->add_option("FILE", flags.config_positional,
                   "Config file, as the original's run_develop.py FILE: TOML, or the "
                   "original p2ptracker's Python-style KEY = value file")
      ->type_name("");
  serve_cmd->add_option("-c,--config", flags.config_option, "The same as FILE")->type_name("FILE");
  serve_cmd->add_option("--set", flags.overrides,
                        "Override one key, e.g. --set port=7000 --set topology=static "
                        "(repeatable; see docs/configuration.md)");
  serve_cmd->add_flag("--print-config", flags.print_config,
                      "Print the effective configuration as TOML and exit");
  serve_cmd->footer(
      "Settings apply in this order, later ones winning: the built-in defaults, FILE\n"
      "(or --config FILE), the file named by $P2PTRACKERCONFIG (as the original\n"
      "p2ptracker loaded it, on top of the file given), then each --set.\n"
      "Endpoints: /announce, /scrape, /torrents/, /health, /metrics (see docs/api.md).\n"
      "Signals: SIGHUP reloads the topology map; SIGINT/SIGTERM stop.");

  // The operator commands: clients of a running tracker's HTTP API.
  const p2p::cli::Command commands[] = {
      p2p::cli::add_make_torrent(app), p2p::cli::add_register(app),   p2p::cli::add_status(app),
      p2p::cli::add_watch(app),        p2p::cli::add_deactivate(app), p2p::cli::add_history(app),
      p2p::cli::add_simulate(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (serve_cmd->parsed()) return serve(flags);
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    // A command reads replies from whatever answers at --tracker; should a
    // bug still throw, the operator gets a line saying so, not a core dump.
    try {
      return c.run();
    } catch (const std::exception& e) {
      return p2p::cli::fail(c.app->get_name(),
                            std::string("internal error (please report it): ") + e.what());
    }
  }
  return 0;
}

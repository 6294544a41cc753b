// p2ptracker: flags -> config -> server, or flags -> one operator subcommand
// (src/cli/); nothing else.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "config/config.h"
#include "server/server.h"

namespace {

int serve(const std::string& config_path, const std::vector<std::string>& overrides,
          bool print_config) {
  p2p::config::Config config;
  std::string path = config_path;
  if (path.empty()) {
    // The original p2ptracker read its config file name from this variable.
    if (const char* env = std::getenv("P2PTRACKERCONFIG"); env != nullptr) path = env;
  }
  if (!path.empty()) {
    auto loaded = p2p::config::load_file(path);
    if (!loaded) {
      std::cerr << "p2ptracker: " << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(*loaded);
  }
  for (const auto& o : overrides) {
    if (auto st = p2p::config::apply_override(config, o); !st) {
      std::cerr << "p2ptracker: --set " << o << ": " << st.error().message << "\n";
      return 2;
    }
  }
  if (auto st = p2p::config::validate(config); !st) {
    std::cerr << "p2ptracker: " << (path.empty() ? "" : path + ": ") << st.error().message
              << "\n";
    return 2;
  }
  if (print_config) {
    std::cout << p2p::config::to_toml(config);
    return 0;
  }

  spdlog::set_level(config.debug ? spdlog::level::debug
                                 : spdlog::level::from_str(config.log_level));
  auto server = p2p::server::Server::create(config);
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

  std::string config_path;
  std::vector<std::string> overrides;
  bool print_config = false;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the tracker (HTTP announce, scrape and the admin API on one port).");
  serve_cmd->add_option("-c,--config", config_path,
                        "Config file: TOML, or the original p2ptracker's KEY = value file "
                        "(default: $P2PTRACKERCONFIG, else built-in defaults)");
  serve_cmd->add_option("--set", overrides,
                        "Override one key, e.g. --set port=7000 --set topology=static "
                        "(repeatable; see docs/configuration.md)");
  serve_cmd->add_flag("--print-config", print_config,
                      "Print the effective configuration as TOML and exit");
  serve_cmd->footer(
      "Endpoints: /announce, /scrape, /torrents/ (see README.md).\n"
      "Signals: SIGHUP reloads the topology map; SIGINT/SIGTERM stop.");

  // The operator commands: clients of a running tracker's HTTP API.
  const p2p::cli::Command commands[] = {
      p2p::cli::add_make_torrent(app),
      p2p::cli::add_register(app),
      p2p::cli::add_status(app),
      p2p::cli::add_watch(app),
      p2p::cli::add_simulate(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (serve_cmd->parsed()) return serve(config_path, overrides, print_config);
  for (const auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return 0;
}

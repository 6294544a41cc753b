// Transfers: the operations on registered transfers that several endpoints
// share, so /torrents/ and /transfers/ behave identically:
//   register: parse and store the .torrent, activate its swarm, tell the store;
//   deactivate: unregister, drop the swarm, archive its stats in History;
//   stats: a transfer's progress, globally and per rack.
//
// Thread-safe. Every method may do file I/O (registry, history): callers run it
// on the blocking pool, never on the announce path.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "admin/history.h"
#include "admin/registry.h"
#include "core/clock.h"
#include "core/rack.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"

namespace p2p::admin {

using RackNamer = std::function<std::string(core::RackId)>;

struct StatsOptions {
  core::Seconds stall_after{135};  // stall_intervals x active_interval
};

class Transfers {
 public:
  Transfers(Registry& registry, History& history, swarm::SwarmTable& swarms, storage::Store& store,
            const core::Clock& clock, RackNamer rack_name, StatsOptions options);

  // Makes every registered torrent live (start-up).
  void activate_registered();

  core::Result<RegisteredTorrent> add(std::string_view file, std::string_view bytes);
  // Unregisters the transfer and records it in History.
  core::Result<DeployRecord> deactivate(std::string_view file);
  core::Result<DeployRecord> deactivate(const core::InfoHash& info_hash);

  // {"global": {...}} and, if `racks`, "racks": {...}; with `members`, each
  // rack lists its peers. nullopt: not a registered transfer.
  std::optional<nlohmann::json> stats(const core::InfoHash& info_hash, bool racks,
                                      bool members) const;
  // One of the original's member lists: kind "peers", "seeders",
  // "representants", "leechers" (arrays of "ip:port") or "racks" (rack ->
  // array). nullopt: unknown transfer or kind.
  std::optional<nlohmann::json> members(const core::InfoHash& info_hash,
                                        std::string_view kind) const;

  Registry& registry() { return registry_; }
  History& history() { return history_; }

 private:
  void activate(const RegisteredTorrent& t);

  Registry& registry_;
  History& history_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  const core::Clock& clock_;
  RackNamer rack_name_;
  StatsOptions options_;
};

}  // namespace p2p::admin

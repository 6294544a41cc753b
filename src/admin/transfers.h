// Transfers: the operations on registered transfers that several endpoints
// share, so /torrents/ and /transfers/ behave identically:
//   register: parse and store the .torrent, activate its swarm, tell the store;
//   deactivate: unregister, drop the swarm, archive its stats in History;
//   stats: a transfer's progress, globally and per rack (TransferStats; the
//   API versions render it, stats_json.h).
//
// Thread-safe. Every method may do file I/O (registry, history): callers run it
// on the blocking pool, never on the announce path.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
  core::Seconds peer_timeout{150};  // beyond it a client's announce gap stretches stall_after
  core::Seconds assumed_gap{300};   // a peer's gap until it has shown one
  core::Seconds announce_interval{45};  // the gap asked of downloading peers
  // The names of a location's levels, outermost first, the rack's last
  // (config `levels`): what the groups above racks are called.
  std::vector<std::string> level_names{"dc", "row", "rack"};
};

// One peer of a transfer, as the stats show it.
struct PeerStats {
  std::string endpoint;  // "ip:port", "[v6]:port"
  std::uint64_t left = 0;
  double progress = 0;  // percent of the registered size; 100 when the size is unknown
  bool representative = false;
  bool seeder = false;
  bool stuck = false;
  core::TimePoint last_seen;
};

struct RackStats {
  std::string name;
  std::string parent;  // the group right above it (its row), "" when none
  std::uint32_t peers = 0, representatives = 0, seeders = 0, stuck = 0;
  double progress = 0;             // mean over the rack's peers, percent
  std::vector<PeerStats> members;  // filled when asked for
};

// A transfer's progress, computed once and rendered by each API version
// (stats_json.h): the original's /transfers/ shapes and /api/v1/.
struct TransferStats {
  core::InfoHash info_hash;
  std::string file, name;
  std::uint64_t size = 0;  // registered payload length, 0 when unknown
  core::TimePoint registered;
  // The .torrent's private flag: without it clients also find peers by DHT
  // and peer exchange, behind the tracker's back (and its racks').
  bool is_private = true;
  std::uint32_t peers = 0, seeders = 0, leechers = 0, representatives = 0, stuck = 0;
  // Downloading peers announcing further apart than twice the gap asked of
  // them (Torrent::slow_announcers): clients on their own schedule.
  std::uint32_t slow_announcers = 0;
  std::uint32_t completed = 0;  // peers that sent completed, each once
  // What the deploy reached, whoever is still in the swarm: peers that joined,
  // and hosts that finished (completed, plus origin seeders that joined).
  std::uint32_t peers_seen = 0, finished = 0;
  // Zero when it has not happened.
  core::PreciseTime first_start{}, last_start{}, first_complete{}, last_complete{};
  std::vector<core::TimePoint> completions;
  double progress = 0;  // mean over the peers, percent; 0 without peers
  // At least one completed event was seen and nobody is still downloading:
  // the original's rule (peers == seeders and a last_completed), which holds
  // on once every host has left.
  bool complete() const { return seeders == peers && completed > 0; }
  std::uint32_t rack_count = 0;
  std::vector<RackStats> racks;  // filled when asked for
  // The groups above racks (rows, datacenters) and who represents each,
  // filled with `racks`; empty when racks are the only level.
  struct GroupStats {
    std::string name, level, parent;  // parent "" at the top
    std::vector<std::string> representatives;  // "ip:port", in promotion order
  };
  std::vector<GroupStats> groups;
};

// The original's member lists: which peers of a transfer to list.
enum class MemberKind { kPeers, kSeeders, kLeechers, kRepresentatives };
// "peers", "seeders", "leechers", "representants" (the original's spelling).
std::optional<MemberKind> member_kind(std::string_view word);

// What a registration did.
enum class Registration {
  kAdded,      // a new file name
  kReplaced,   // the name held other content, now deactivated into history
  kUnchanged,  // the same content was already registered under that name
};

struct Registered {
  RegisteredTorrent torrent;
  Registration what = Registration::kAdded;
  std::optional<DeployRecord> replaced;  // with kReplaced: the old transfer's record
};

class Transfers {
 public:
  Transfers(Registry& registry, History& history, swarm::SwarmTable& swarms, storage::Store& store,
            const core::Clock& clock, RackNamer rack_name, StatsOptions options);

  // Makes every registered torrent live (start-up).
  void activate_registered();

  // The deploys so far, in `file` (progress.json in data_dir), so that a
  // restart or a crash loses no milestone, completed host or count that
  // `watch`, `status` and the history record read. restore_progress(): at
  // start, after activate_registered(), gives each registered transfer what
  // the last run wrote; returns what to warn about (a damaged file).
  // save_progress(): writes every registered transfer's progress when it
  // changed since the last save (the server does every few seconds, and at
  // exit).
  std::vector<std::string> restore_progress(const std::filesystem::path& file);
  core::Status save_progress(const std::filesystem::path& file);

  // Registers `bytes` as `file`. A file name already registered is replaced,
  // as the original did for deploy pipelines that upload app.torrent again for
  // every release: the old transfer moves to History and the new one becomes
  // active; the same content again changes nothing.
  core::Result<Registered> add(std::string_view file, std::string_view bytes);
  // Unregisters the transfer and records it in History.
  core::Result<DeployRecord> deactivate(std::string_view file);
  core::Result<DeployRecord> deactivate(const core::InfoHash& info_hash);
  // Deactivates every registered transfer; the records of those it could
  // deactivate, and the first error met, if any.
  std::vector<DeployRecord> deactivate_all(std::optional<core::Error>* error);

  // nullopt: not a registered transfer. `racks` fills TransferStats::racks,
  // `members` each rack's members too.
  std::optional<TransferStats> stats(const core::InfoHash& info_hash, bool racks,
                                     bool members) const;
  // The "ip:port" of the transfer's peers of one kind (empty for a transfer
  // without a swarm); nullopt: not registered.
  std::optional<std::vector<std::string>> members(const core::InfoHash& info_hash,
                                                  MemberKind kind) const;

  // The tracker's time: the clock every time in the stats is on.
  core::TimePoint now() const { return clock_.now(); }

  Registry& registry() { return registry_; }
  History& history() { return history_; }

 private:
  void activate(const RegisteredTorrent& t);
  // The record a deactivation archives, from the swarm's final state.
  DeployRecord record_of(const RegisteredTorrent& t) const;
  // Drops `t`'s swarms and archives `r`.
  core::Status retire(const RegisteredTorrent& t, const DeployRecord& r);

  Registry& registry_;
  History& history_;
  swarm::SwarmTable& swarms_;
  storage::Store& store_;
  const core::Clock& clock_;
  RackNamer rack_name_;
  StatsOptions options_;
  std::mutex progress_mu_;
  std::string progress_written_;  // save_progress()'s last text, guarded by progress_mu_
  // The digest of what progress_written_ holds (guarded by progress_mu_);
  // nullopt until a save_progress() wrote or found the same text.
  std::optional<std::uint64_t> progress_digest_;
};

}  // namespace p2p::admin

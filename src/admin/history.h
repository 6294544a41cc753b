// History: finished deploys (deactivated transfers) with their stats, kept in
// <data_dir>/history.json across restarts and pruned after `max_age`.
//
// The original p2ptracker renamed a deactivated transfer's Redis keys to
// "<datetime>:<hash>"; this is the same record in a form the API can list.
// Thread-safe (one mutex); does file I/O, so callers keep it off the announce
// path.
#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/digest.h"
#include "core/result.h"

namespace p2p::admin {

struct DeployRecord {
  core::InfoHash info_hash;
  std::string file;  // "<name>.torrent"
  std::string name;
  std::uint64_t size = 0;
  core::TimePoint registered;
  core::TimePoint deregistered;
  // Zero when it never happened.
  core::TimePoint first_start{}, last_start{}, first_complete{}, last_complete{};
  std::uint32_t peers = 0;      // in the swarm when deactivated
  std::uint32_t seeders = 0;    // ... of which seeding
  std::uint32_t completed = 0;  // completed events during the deploy
  std::uint32_t racks = 0;

  nlohmann::json to_json() const;
  static std::optional<DeployRecord> from_json(const nlohmann::json& j);
};

class History {
 public:
  static core::Result<std::unique_ptr<History>> open(const std::filesystem::path& data_dir,
                                                     const core::Clock& clock,
                                                     core::Seconds max_age);

  // Appends and persists (atomically), pruning records older than max_age.
  core::Status add(const DeployRecord& record);
  // Newest first.
  std::vector<DeployRecord> list() const;

 private:
  History(std::filesystem::path file, const core::Clock& clock, core::Seconds max_age);
  void prune();               // mu_ held
  core::Status save() const;  // mu_ held

  std::filesystem::path file_;
  const core::Clock& clock_;
  core::Seconds max_age_;
  mutable std::mutex mu_;
  std::vector<DeployRecord> records_;  // guarded by mu_; oldest first
};

// ISO 8601, or JSON null for a time that never happened (zero).
nlohmann::json time_or_null(core::TimePoint t);

}  // namespace p2p::admin

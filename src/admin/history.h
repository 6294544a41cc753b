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
#include <optional>
#include <string>
#include <vector>

#include "admin/data_files.h"
#include "core/clock.h"
#include "core/result.h"

namespace p2p::admin {

class History {
 public:
  // Loads <data_dir>/history.json if there is one. Error (naming the file):
  // it cannot be read, or is not a history file at all. Entries that are not
  // deploy records are left out, the file as it was is copied to
  // history.json.damaged-<time>, and load_warnings() says both.
  static core::Result<std::unique_ptr<History>> open(const std::filesystem::path& data_dir,
                                                     const core::Clock& clock,
                                                     core::Seconds max_age);
  const std::vector<std::string>& load_warnings() const { return warnings_; }

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
  std::vector<std::string> warnings_;  // set by open()
};

}  // namespace p2p::admin

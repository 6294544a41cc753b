// The JSON files the tracker keeps in data_dir, read back: history.json's
// deploy records, registry.json's index and progress.json's deploys so far. They are the tracker's
// own writing, but a disk, a crash or an operator's editor may have changed them, so nothing in
// them is trusted: a value of the wrong type or out of range leaves its entry out (counted), and
// only text that is not such a file at all is an error. Fuzzed by tests/fuzz/data_files_fuzz.cc.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/digest.h"
#include "core/result.h"
#include "swarm/deploy_progress.h"

namespace p2p::admin {

// A finished deploy (a deactivated transfer) with its stats.
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
  // Nullopt unless `j` is a record as to_json writes it: the hash and the
  // machine-readable times present, every field of its type, times within
  // years 1970-9999.
  static std::optional<DeployRecord> from_json(const nlohmann::json& j);

  friend bool operator==(const DeployRecord&, const DeployRecord&) = default;
};

// ISO 8601, or JSON null for a time that never happened (zero).
nlohmann::json time_or_null(core::TimePoint t);

struct HistoryFile {
  std::vector<DeployRecord> records;  // in the file's order
  std::size_t skipped = 0;            // entries that are not records
};
// history.json's text. Error: not JSON, or no "deploys" array.
core::Result<HistoryFile> parse_history(std::string_view text);

struct RegistryIndex {
  std::map<std::string, std::int64_t> registered_at;  // file name -> seconds since the epoch
  std::size_t skipped = 0;                            // entries without both, typed
};
// registry.json's text. Error: not JSON, or no "torrents" array.
core::Result<RegistryIndex> parse_registry_index(std::string_view text);

// progress.json: every active transfer's deploy so far (swarm::DeployProgress),
// written while the tracker runs so that a restart goes on from it.
struct ProgressFile {
  std::vector<std::pair<core::InfoHash, swarm::DeployProgress>> transfers;
  std::size_t skipped = 0;  // entries that are not a transfer's progress
};
std::string progress_text(const ProgressFile& file);
// progress.json's text. Error: not JSON, or no "transfers" array.
core::Result<ProgressFile> parse_progress(std::string_view text);

}  // namespace p2p::admin

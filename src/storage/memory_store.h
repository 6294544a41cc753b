// MemoryStore: the key model (docs/storage.md) kept in this process's memory.
//
// The store for a tracker without Redis, and the conformance suite's reference:
// it applies the same commands RedisStore sends (KeyModel) to two ordered maps,
// one of string keys and one of set keys, so both stores mean the same thing.
// Its writer thread applies queued records; reads take the data lock briefly.
// Nothing survives a restart. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "storage/write_behind_store.h"

namespace p2p::storage {

class MemoryStore final : public WriteBehindStore {
 public:
  MemoryStore(const Options& options, RackNamer rack_namer, const core::Clock& clock);
  ~MemoryStore() override;

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

 protected:
  core::Result<std::vector<std::string>> set_members(const std::string& key) override;
  core::Result<std::vector<std::optional<std::string>>> values(
      const std::vector<std::string>& keys) override;

 private:
  void run();
  // Applies `batch` to the maps. Caller holds data_mu_.
  void apply_locked(const CommandBatch& batch);
  // Renames every key starting with `from_prefix` as archived_key() says.
  // Caller holds data_mu_.
  void archive_locked(const std::string& from_prefix, core::TimePoint at);

  std::mutex data_mu_;
  std::map<std::string, std::string> strings_;         // guarded by data_mu_
  std::map<std::string, std::set<std::string>> sets_;  // guarded by data_mu_
  std::thread writer_;                                 // started last, after every member it uses
};

}  // namespace p2p::storage

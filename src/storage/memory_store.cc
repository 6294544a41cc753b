#include "storage/memory_store.h"

#include <utility>

namespace p2p::storage {

MemoryStore::MemoryStore(const Options& options, RackNamer rack_namer, const core::Clock& clock)
    : WriteBehindStore(options, std::move(rack_namer), clock), writer_([this] { run(); }) {}

MemoryStore::~MemoryStore() {
  // The writer drains what is queued (all in memory, so quickly) and stops.
  stop_queue();
  writer_.join();
}

void MemoryStore::run() {
  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  records.reserve(kBatchRecords);
  CommandBatch batch;
  while (queue_.pop(records, transfers, kBatchRecords)) {
    std::size_t next_transfer = 0;
    for (const QueuedRecord& record : records) {
      const TransferRecord* transfer = nullptr;
      if (record.kind == QueuedRecord::Kind::kRegistered) transfer = &transfers[next_transfer++];
      batch.clear();
      // Planning calls the rack namer; keep it outside the data lock.
      plan(record, transfer, batch);
      std::lock_guard lock(data_mu_);
      apply_locked(batch);
      if (record.kind == QueuedRecord::Kind::kDeregistered) {
        archive_locked(model_.transfer_key_prefix(record.peer.info_hash), record.peer.at);
      }
    }
    finish(records.size(), 0);
  }
}

void MemoryStore::apply_locked(const CommandBatch& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const CommandBatch::Command& c = batch.command(i);
    auto arg = [&](std::uint32_t n) { return std::string(batch.argument(c.first_arg + n)); };
    switch (c.verb) {
      case Verb::kSadd:
        sets_[arg(0)].insert(arg(1));
        break;
      case Verb::kSrem: {
        auto it = sets_.find(arg(0));
        if (it == sets_.end()) break;
        it->second.erase(arg(1));
        // As in Redis, a set that loses its last member no longer exists.
        if (it->second.empty()) sets_.erase(it);
        break;
      }
      case Verb::kSet:
        strings_[arg(0)] = arg(1);
        break;
      case Verb::kSetnx:
        strings_.try_emplace(arg(0), arg(1));
        break;
      case Verb::kMset:
        for (std::uint32_t n = 0; n + 1 < c.argc; n += 2) strings_[arg(n)] = arg(n + 1);
        break;
    }
  }
}

namespace {

// Moves every entry whose key starts with `from_prefix` to its archived name.
template <class Map, class Rename>
void rename_prefixed(Map& map, const std::string& from_prefix, Rename rename) {
  auto it = map.lower_bound(from_prefix);
  while (it != map.end() && it->first.compare(0, from_prefix.size(), from_prefix) == 0) {
    auto node = map.extract(it++);
    node.key() = rename(node.key());
    // RENAME overwrites an existing destination. The archived name never
    // starts with `from_prefix` (a time is not hex), so `it` stays valid.
    map.erase(node.key());
    map.insert(std::move(node));
  }
}

}  // namespace

void MemoryStore::archive_locked(const std::string& from_prefix, core::TimePoint at) {
  auto rename = [&](const std::string& key) { return model_.archived_key(key, at); };
  rename_prefixed(strings_, from_prefix, rename);
  rename_prefixed(sets_, from_prefix, rename);
}

core::Result<std::vector<std::string>> MemoryStore::set_members(const std::string& key) {
  std::lock_guard lock(data_mu_);
  auto it = sets_.find(key);
  if (it == sets_.end()) return std::vector<std::string>{};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

core::Result<std::vector<std::optional<std::string>>> MemoryStore::values(
    const std::vector<std::string>& keys) {
  std::lock_guard lock(data_mu_);
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    auto it = strings_.find(key);
    out.push_back(it == strings_.end() ? std::nullopt : std::optional<std::string>(it->second));
  }
  return out;
}

}  // namespace p2p::storage

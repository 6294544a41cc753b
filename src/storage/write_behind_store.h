// WriteBehindStore: the half of RedisStore that is not Redis — the write methods
// (into a WriteQueue), flush, stats, the reads composed from two primitives
// each store provides (set members, string values), and the registered
// transfers a writer re-sends when its backend comes back.
//
// A subclass owns the one writer thread that pops the queue and applies
// records; it must call stop_queue() and join that thread in its destructor,
// before its own members die. Thread-safe, like Store.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "storage/key_model.h"
#include "storage/store.h"
#include "storage/write_queue.h"

namespace p2p::storage {

class WriteBehindStore : public Store {
 public:
  WriteBehindStore(const Options& options, RackNamer rack_namer, const core::Clock& clock);

  // A zero time (TimePoint{}) in a write means "now" by the injected clock.
  void peer_announced(const PeerUpdate& update) noexcept override;
  void transfer_seen(const core::InfoHash& info_hash) noexcept override;
  void transfer_registered(const TransferRecord& record) override;
  void transfer_deregistered(const core::InfoHash& info_hash, core::TimePoint at) override;
  core::Status flush(std::chrono::milliseconds timeout) override;

  core::Result<std::vector<core::InfoHash>> seen_transfers() override;
  core::Result<std::vector<TransferRecord>> active_transfers() override;
  core::Result<std::vector<std::string>> racks() override;
  core::Result<std::vector<std::string>> rack_hosts(const std::string& rack) override;
  core::Result<std::vector<std::string>> transfer_peers(const core::InfoHash& info_hash,
                                                        char kind) override;
  core::Result<std::vector<std::string>> rack_peers(const core::InfoHash& info_hash,
                                                    const std::string& rack, char kind) override;
  core::Result<std::map<std::string, std::string>> peer_fields(const core::InfoHash& info_hash,
                                                               const core::Endpoint& peer) override;
  core::Result<std::map<std::string, std::string>> transfer_fields(
      const core::InfoHash& info_hash) override;

  StoreStats stats() const override;

 protected:
  // Records a writer thread takes from the queue at once: big enough to fill a
  // Redis pipeline (about 12 commands per announce), small enough that a
  // flush() waits for little beyond its own writes.
  static constexpr std::size_t kBatchRecords = 256;

  // --- Read primitives ------------------------------------------------------
  // Members of the set at full key `key`, empty if it does not exist.
  virtual core::Result<std::vector<std::string>> set_members(const std::string& key) = 0;
  // Values of the string keys, nullopt where a key does not exist.
  virtual core::Result<std::vector<std::optional<std::string>>> values(
      const std::vector<std::string>& keys) = 0;

  // --- For the writer thread -------------------------------------------------
  // Appends the commands of `record` (the payload `transfer` for kRegistered)
  // to `batch`. Calls the rack namer for peer updates.
  void plan(const QueuedRecord& record, const TransferRecord* transfer, CommandBatch& batch);
  // Reads the string keys `prefix` + field, keyed by field, for those set.
  core::Result<std::map<std::string, std::string>> read_fields(const std::string& prefix,
                                                               const std::string_view* fields,
                                                               std::size_t count);
  // Counts `count` finished records, `failed` of them failed, and releases
  // flush() waiters.
  void finish(std::size_t count, std::size_t failed);
  // Closes the queue; the writer drains it and stops.
  void stop_queue() { queue_.close(); }

  // Records the link to the backend: up, or down because of `error`. A change
  // stamps stats().since with the injected clock.
  void set_connected(bool up, std::string_view error = {});
  // Every transfer registered and not deregistered since this store started,
  // in info-hash order: what a writer re-sends after its backend was away.
  std::vector<TransferRecord> registered_transfers() const;
  void count_resync() { resyncs_.fetch_add(1, std::memory_order_relaxed); }

  WriteQueue queue_;
  const KeyModel model_;

 private:
  RackNamer rack_namer_;
  const core::Clock& clock_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> resyncs_{0};
  std::atomic<std::uint64_t> seen_skipped_{0};
  // Writer thread only: unregistered hashes already sent to `transfers`, at
  // most max_seen_transfers_ (20 bytes each plus the set's node).
  const std::size_t max_seen_transfers_;
  std::unordered_set<core::InfoHash> seen_;
  std::atomic<bool> connected_{true};

  mutable std::mutex state_mu_;
  core::TimePoint since_{};  // guarded by state_mu_
  std::string error_;        // guarded by state_mu_

  mutable std::mutex registered_mu_;
  std::map<core::InfoHash, TransferRecord> registered_;  // guarded by registered_mu_
};

}  // namespace p2p::storage

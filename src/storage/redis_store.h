// RedisStore: the key model (docs/storage.md) kept in Redis, where the
// original p2ptracker's tools can read it.
//
// Writes: one writer thread pops the shared WriteQueue and pipelines each batch
// (redisAppendCommandArgv for all commands, then one redisGetReply per
// command) over its own connection. When the connection fails it counts the
// batch as errors, marks the store disconnected and reconnects with backoff;
// writes queued while Redis is unreachable are counted as errors, not kept.
// Redis may be down from the start: the store then starts disconnected.
//
// Catching up (resync): after every reconnect, before anything newer, the
// writer re-sends the deregistrations that failed while Redis was away, then
// every transfer registered now (SADD transfers/active_transfers, SET name,
// length, registered). Peers are not replayed: each announce rewrites its
// peer's keys, so they are whole again one announce interval later. What is
// lost: event times (first_/last_started, ...) of announces made while Redis
// was away, and peers that left meanwhile stay in Redis's current sets.
//
// Reads: a second connection, guarded by read_mu_, reconnected on demand;
// failures return kUnavailable. The store never logs; the server watches
// stats(). Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/write_behind_store.h"

struct redisContext;
struct redisReply;

namespace p2p::storage {

class RedisStore final : public WriteBehindStore {
 public:
  // Tries Redis once (kConnectTimeout) and starts the writer. An unreachable
  // Redis is not an error: the store starts disconnected, stats().error says
  // why, and the writer keeps trying with backoff.
  static core::Result<std::unique_ptr<RedisStore>> connect(const Options& options,
                                                           RackNamer rack_namer,
                                                           const core::Clock& clock);
  // Stops the writer after draining what it can within kShutdownDrain.
  ~RedisStore() override;

  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

 protected:
  core::Result<std::vector<std::string>> set_members(const std::string& key) override;
  core::Result<std::vector<std::optional<std::string>>> values(
      const std::vector<std::string>& keys) override;

 private:
  RedisStore(const Options& options, RackNamer rack_namer, const core::Clock& clock,
             Context writer_context);

  core::Result<Context> open() const;

  // --- Writer thread ----------------------------------------------------------
  void run();
  // Writes `records` (`transfers`: the payloads of its kRegistered, in order);
  // marks failed_ per record and returns how many failed. Deregistrations
  // that failed are kept for the next resync.
  std::size_t write_batch(const std::vector<QueuedRecord>& records,
                          const std::vector<TransferRecord>& transfers);
  // The catch-up after a reconnect (see the top of this file). False when the
  // connection failed again; the next reconnect tries again.
  bool resync();
  // Sends `batch_` as one pipeline; commands up to record_end_[i] belong to
  // records_[first_record + i]. Returns false when the connection failed (all
  // those records are then marked failed and the connection is dropped).
  bool send_pipeline(std::size_t first_record);
  // Renames every key of the transfer to its archived name (SCAN + RENAME),
  // each to expire after archive_expiry_ (Options::archive_expiry).
  bool archive(const core::InfoHash& info_hash, core::TimePoint at);
  // Forgets the writer's connection; `reason` is why (hiredis's errstr).
  void drop_connection(std::string_view reason);
  // Counts every queued record as failed; used while Redis is unreachable.
  void fail_queued();
  // Keeps failed deregistrations in `records` (per failed_) for the next resync.
  void keep_failed_deregistrations(const std::vector<QueuedRecord>& records);

  // --- Reads ------------------------------------------------------------------
  // Runs one command on the read connection, reconnecting once if it broke.
  core::Result<Reply> read_command(const std::vector<std::string>& argv);

  const std::string host_;
  const std::uint16_t port_;
  const std::chrono::seconds archive_expiry_;

  // Writer-thread state; only run() and its helpers touch it.
  Context writer_context_;
  CommandBatch batch_;
  std::vector<std::size_t> record_end_;  // per planned record: commands so far
  std::vector<char> failed_;             // per popped record
  std::vector<const char*> argv_;
  std::vector<std::size_t> argv_len_;
  // Deregistrations Redis has not seen, oldest first (kDeregistered records).
  std::vector<QueuedRecord> unsent_deregistrations_;

  std::mutex read_mu_;
  Context read_context_;  // guarded by read_mu_; null when broken

  std::thread writer_;  // started by connect() once the store is built
};

}  // namespace p2p::storage

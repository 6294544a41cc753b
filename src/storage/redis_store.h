// RedisStore: the key model (docs/storage.md) kept in Redis, where the
// original p2ptracker's tools can read it.
//
// Writes: one writer thread pops the shared WriteQueue and pipelines each batch
// (redisAppendCommandArgv for all commands, then one redisGetReply per
// command) over its own connection. When the connection fails it counts the
// batch as errors, marks the store disconnected and reconnects with backoff;
// writes queued while Redis is unreachable are counted as errors, not kept.
// Reads: a second connection, guarded by read_mu_, reconnected on demand;
// failures return kUnavailable. The store never logs; the server watches
// stats(). Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/write_behind_store.h"

struct redisContext;
struct redisReply;

namespace p2p::storage {

class RedisStore final : public WriteBehindStore {
 public:
  // Connects both connections; kUnavailable with a hint for the operator when
  // Redis cannot be reached, so a misconfigured tracker does not start.
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
             Context writer_context, Context read_context);

  core::Result<Context> open() const;

  // --- Writer thread ----------------------------------------------------------
  void run();
  // Writes one popped batch; marks `failed` per record.
  void write_batch(const std::vector<QueuedRecord>& records,
                   const std::vector<TransferRecord>& transfers);
  // Sends `batch_` as one pipeline; commands up to record_end_[i] belong to
  // records_[first_record + i]. Returns false when the connection failed (all
  // those records are then marked failed and the connection is dropped).
  bool send_pipeline(std::size_t first_record);
  // Renames every key of the transfer to its archived name (SCAN + RENAME).
  bool archive(const core::InfoHash& info_hash, core::TimePoint at);
  void drop_connection();
  // Counts every queued record as failed; used while Redis is unreachable.
  void fail_queued();

  // --- Reads ------------------------------------------------------------------
  // Runs one command on the read connection, reconnecting once if it broke.
  core::Result<Reply> read_command(const std::vector<std::string>& argv);

  const std::string host_;
  const std::uint16_t port_;

  // Writer-thread state; only run() and its helpers touch it.
  Context writer_context_;
  CommandBatch batch_;
  std::vector<std::size_t> record_end_;  // per planned record: commands so far
  std::vector<char> failed_;             // per popped record
  std::vector<const char*> argv_;
  std::vector<std::size_t> argv_len_;

  std::mutex read_mu_;
  Context read_context_;  // guarded by read_mu_; null when broken

  std::thread writer_;  // started last, after every member it uses
};

}  // namespace p2p::storage

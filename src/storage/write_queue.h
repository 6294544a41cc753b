// WriteQueue: the bounded queue between the announce path and a store's writer
// thread (RedisStore's).
//
// A fixed-capacity ring of trivially copyable records, allocated once. Any
// thread may push; pushing takes one short mutex, never waits for the consumer
// and never allocates for peer updates or seen info-hashes. A full ring drops
// the record and counts it. Registrations carry a string, so their payload
// waits in a side deque (they are rare and may allocate). Exactly one consumer
// thread pops batches, applies them and reports them done(); flush() callers
// wait for that report. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "core/result.h"
#include "storage/store.h"

namespace p2p::storage {

// One queued write. kSeen and kDeregistered use only `peer.info_hash` and
// `peer.at`; kRegistered takes its TransferRecord from the side deque, in order.
struct QueuedRecord {
  enum class Kind : std::uint8_t { kPeer, kSeen, kRegistered, kDeregistered };
  Kind kind = Kind::kPeer;
  PeerUpdate peer;
};
static_assert(std::is_trivially_copyable_v<QueuedRecord>,
              "ring slots are copied by value on the announce path");

class WriteQueue {
 public:
  // Registrations and deregistrations may use this many slots beyond
  // `capacity`: one lost announce is repaired by the next, a lost registration
  // is not, so a flood of announces must not crowd them out.
  static constexpr std::size_t kRareReserve = 64;

  explicit WriteQueue(std::size_t capacity);

  // --- Producers (any thread) ----------------------------------------------
  // Each returns false when the record was dropped (full ring or closed).
  bool push_peer(const PeerUpdate& update) noexcept;
  bool push_seen(const core::InfoHash& info_hash) noexcept;
  bool push_registered(const TransferRecord& record);
  bool push_deregistered(const core::InfoHash& info_hash, core::TimePoint at);

  // Waits until every record accepted before the call is done() or `timeout`
  // passes. kUnavailable on timeout, or when some records done meanwhile
  // failed (the caller's writes may be among them).
  core::Status wait_done(std::chrono::milliseconds timeout);

  // --- The consumer (one thread) -------------------------------------------
  // Blocks until records are queued or the queue is closed, then moves up to
  // `max` of them into `records` (cleared first) and the payloads of any
  // kRegistered among them, in order, into `transfers` (cleared first).
  // Returns false only once the queue is closed and empty.
  bool pop(std::vector<QueuedRecord>& records, std::vector<TransferRecord>& transfers,
           std::size_t max);
  // Like pop() but never waits: returns how many records it moved (maybe 0).
  std::size_t take(std::vector<QueuedRecord>& records, std::vector<TransferRecord>& transfers,
                   std::size_t max);
  // Reports `count` popped records finished, `failed` of them unsuccessfully.
  void done(std::size_t count, std::size_t failed);
  // Sleeps up to `d`, returning early (true) once the queue is closed.
  bool wait_closed_for(std::chrono::milliseconds d);

  // Rejects further pushes and wakes the consumer so it can drain and stop.
  void close();
  bool closed() const;

  std::uint64_t dropped() const;
  std::size_t capacity() const { return capacity_; }

 private:
  // Appends `record` if the ring holds fewer than `limit` records. Caller holds
  // mu_. Returns whether it was appended and whether the consumer must be woken.
  bool append_locked(const QueuedRecord& record, std::size_t limit, bool& wake);
  bool push(const QueuedRecord& record, std::size_t limit) noexcept;
  // Moves up to `max` records out. Caller holds mu_.
  std::size_t take_locked(std::vector<QueuedRecord>& records,
                          std::vector<TransferRecord>& transfers, std::size_t max);

  const std::size_t capacity_;
  const std::size_t slots_size_;  // capacity_ + kRareReserve
  const std::unique_ptr<QueuedRecord[]> slots_;

  mutable std::mutex mu_;
  std::condition_variable consumer_cv_;  // records arrived or closed; guarded by mu_
  std::condition_variable done_cv_;      // done_ advanced or closed; guarded by mu_
  // All guarded by mu_.
  std::size_t head_ = 0;  // oldest record
  std::size_t size_ = 0;
  std::deque<TransferRecord> transfers_;  // payloads of queued kRegistered
  std::uint64_t accepted_ = 0;            // records ever appended
  std::uint64_t done_ = 0;                // records ever reported done
  std::uint64_t failed_ = 0;              // of done_, unsuccessful
  std::uint64_t dropped_ = 0;
  bool consumer_waiting_ = false;  // pop() sleeps and no push has woken it yet
  bool closed_ = false;
};

}  // namespace p2p::storage

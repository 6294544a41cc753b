#include "storage/write_queue.h"

#include <cassert>
#include <string>

namespace p2p::storage {

WriteQueue::WriteQueue(std::size_t capacity)
    : capacity_(capacity),
      slots_size_(capacity + kRareReserve),
      // Allocated once, here, so no push ever allocates.
      slots_(std::make_unique<QueuedRecord[]>(capacity + kRareReserve)) {
  assert(capacity > 0);
}

bool WriteQueue::append_locked(const QueuedRecord& record, std::size_t limit, bool& wake) {
  if (closed_ || size_ >= limit) {
    ++dropped_;
    return false;
  }
  slots_[(head_ + size_) % slots_size_] = record;
  ++size_;
  ++accepted_;
  // Wake a sleeping consumer once; later pushes before it runs need not.
  wake = consumer_waiting_;
  consumer_waiting_ = false;
  return true;
}

bool WriteQueue::push(const QueuedRecord& record, std::size_t limit) noexcept {
  bool wake = false;
  bool appended;
  {
    std::lock_guard lock(mu_);
    appended = append_locked(record, limit, wake);
  }
  // Notify outside the lock so the woken consumer does not block on mu_ at once.
  if (wake) consumer_cv_.notify_one();
  return appended;
}

bool WriteQueue::push_peer(const PeerUpdate& update) noexcept {
  QueuedRecord record;
  record.kind = QueuedRecord::Kind::kPeer;
  record.peer = update;
  return push(record, capacity_);
}

bool WriteQueue::push_seen(const core::InfoHash& info_hash) noexcept {
  QueuedRecord record;
  record.kind = QueuedRecord::Kind::kSeen;
  record.peer.info_hash = info_hash;
  return push(record, capacity_);
}

bool WriteQueue::push_registered(const TransferRecord& transfer) {
  QueuedRecord record;
  record.kind = QueuedRecord::Kind::kRegistered;
  record.peer.info_hash = transfer.info_hash;
  record.peer.at = transfer.registered;
  bool wake = false;
  bool appended;
  {
    std::lock_guard lock(mu_);
    appended = append_locked(record, slots_size_, wake);
    // The payload joins the side deque under the same lock, so the consumer
    // finds payloads in the order it finds their ring slots.
    if (appended) transfers_.push_back(transfer);
  }
  if (wake) consumer_cv_.notify_one();
  return appended;
}

bool WriteQueue::push_deregistered(const core::InfoHash& info_hash, core::TimePoint at) {
  QueuedRecord record;
  record.kind = QueuedRecord::Kind::kDeregistered;
  record.peer.info_hash = info_hash;
  record.peer.at = at;
  return push(record, slots_size_);
}

core::Status WriteQueue::wait_done(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = accepted_;
  const std::uint64_t failed_before = failed_;
  if (!done_cv_.wait_for(lock, timeout, [&] { return done_ >= target; })) {
    return core::unavailable("storage flush timed out after " + std::to_string(timeout.count()) +
                             " ms with " + std::to_string(target - done_) + " writes still queued");
  }
  if (failed_ > failed_before) {
    return core::unavailable(std::to_string(failed_ - failed_before) +
                             " storage writes failed while flushing (see store errors)");
  }
  return {};
}

bool WriteQueue::pop(std::vector<QueuedRecord>& records, std::vector<TransferRecord>& transfers,
                     std::size_t max) {
  std::unique_lock lock(mu_);
  while (size_ == 0 && !closed_) {
    // Set before every wait: a push clears it when it notifies.
    consumer_waiting_ = true;
    consumer_cv_.wait(lock);
  }
  consumer_waiting_ = false;
  // Empty here means closed and drained.
  return take_locked(records, transfers, max) > 0;
}

std::size_t WriteQueue::take(std::vector<QueuedRecord>& records,
                             std::vector<TransferRecord>& transfers, std::size_t max) {
  std::lock_guard lock(mu_);
  return take_locked(records, transfers, max);
}

std::size_t WriteQueue::take_locked(std::vector<QueuedRecord>& records,
                                    std::vector<TransferRecord>& transfers, std::size_t max) {
  records.clear();
  transfers.clear();
  const std::size_t n = size_ < max ? size_ : max;
  for (std::size_t i = 0; i < n; ++i) {
    const QueuedRecord& record = slots_[(head_ + i) % slots_size_];
    records.push_back(record);
    if (record.kind == QueuedRecord::Kind::kRegistered) {
      assert(!transfers_.empty());
      transfers.push_back(std::move(transfers_.front()));
      transfers_.pop_front();
    }
  }
  head_ = (head_ + n) % slots_size_;
  size_ -= n;
  return n;
}

void WriteQueue::done(std::size_t count, std::size_t failed) {
  {
    std::lock_guard lock(mu_);
    done_ += count;
    failed_ += failed;
  }
  done_cv_.notify_all();
}

bool WriteQueue::wait_closed_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return consumer_cv_.wait_for(lock, d, [&] { return closed_; });
}

void WriteQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  consumer_cv_.notify_all();
  done_cv_.notify_all();
}

bool WriteQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::uint64_t WriteQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace p2p::storage

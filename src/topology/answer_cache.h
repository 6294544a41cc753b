// AnswerCache: a lookup source's answers by address, with a time to live,
// bounded in size.
//
// A found rack stays usable after its TTL ("stale"): the chain keeps placing
// the host there while it asks again, so a slow or down source never sends a
// known host back to the subnet rule. An unknown or failed lookup is kept as
// a negative entry for the negative TTL, so a source that does not know an
// address (or is down) is not asked at every announce. When full, the oldest
// entry goes first (insertion order).
//
// Thread-safe: 16 shards, each a mutex over a hash map, held for one find or
// one insert. get() never allocates; put() may (the map grows up to the
// bound).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/address.h"
#include "core/clock.h"
#include "core/rack.h"

namespace p2p::topology {

class AnswerCache {
 public:
  struct Hit {
    enum class State { kMiss, kFresh, kStale, kNegative };
    State state = State::kMiss;
    core::RackId rack;  // kFresh, kStale
  };

  // `capacity`: most entries kept (at least 16).
  explicit AnswerCache(std::size_t capacity);

  Hit get(const core::Address& address, core::TimePoint now) const noexcept;
  // A found rack, fresh until `fresh_until`.
  void put_found(const core::Address& address, core::RackId rack, core::TimePoint fresh_until);
  // No rack from the source until `retry_at`. With `keep_found` (the lookup
  // failed, rather than the source saying it does not know the address) a
  // rack already kept stays, used until `retry_at`: a failed refresh does not
  // forget where a host is.
  void put_negative(const core::Address& address, core::TimePoint retry_at, bool keep_found);
  // Makes every found rack stale and drops negative entries (a reload: ask
  // the source again, placing hosts where they were meanwhile).
  void expire_all();

  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Entry {
    core::RackId rack;             // tag kNone: negative
    core::TimePoint until;         // fresh (found) or retry (negative) until
    std::uint64_t epoch = 0;       // expire_all() generation it was stored in
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<core::Address, Entry> entries;
    std::deque<core::Address> order;  // insertion order, for eviction
  };
  Shard& shard_of(const core::Address& a) { return shards_[std::hash<core::Address>{}(a) % kShards]; }
  const Shard& shard_of(const core::Address& a) const {
    return shards_[std::hash<core::Address>{}(a) % kShards];
  }
  void put(const core::Address& address, Entry e);

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace p2p::topology

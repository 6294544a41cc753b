#include "topology/answer_cache.h"

#include <algorithm>
#include <atomic>

namespace p2p::topology {

AnswerCache::AnswerCache(std::size_t capacity)
    : per_shard_(std::max<std::size_t>(1, capacity / kShards)) {}

AnswerCache::Hit AnswerCache::get(const core::Address& address,
                                  core::TimePoint now) const noexcept {
  const Shard& s = shard_of(address);
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  std::lock_guard lock(s.mu);
  auto it = s.entries.find(address);
  if (it == s.entries.end()) return {};
  const Entry& e = it->second;
  const bool current = e.epoch == epoch && now < e.until;
  if (e.rack.tag == core::RackId::Tag::kNone) {
    return current ? Hit{Hit::State::kNegative, {}} : Hit{};
  }
  return {current ? Hit::State::kFresh : Hit::State::kStale, e.rack};
}

void AnswerCache::put(const core::Address& address, Entry e) {
  Shard& s = shard_of(address);
  std::lock_guard lock(s.mu);
  auto [it, inserted] = s.entries.try_emplace(address, e);
  if (!inserted) {
    it->second = e;
    return;
  }
  s.order.push_back(address);
  while (s.entries.size() > per_shard_ && !s.order.empty()) {
    s.entries.erase(s.order.front());
    s.order.pop_front();
  }
}

void AnswerCache::put_found(const core::Address& address, core::RackId rack,
                            core::TimePoint fresh_until) {
  put(address, {rack, fresh_until, epoch_.load(std::memory_order_acquire)});
}

void AnswerCache::put_negative(const core::Address& address, core::TimePoint retry_at,
                               bool keep_found) {
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  Shard& s = shard_of(address);
  {
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(address);
    if (keep_found && it != s.entries.end() && it->second.rack.tag != core::RackId::Tag::kNone) {
      // Keep the rack; ask again at retry_at, serving it stale meanwhile.
      it->second.until = retry_at;
      it->second.epoch = epoch;
      return;
    }
  }
  put(address, {core::RackId{}, retry_at, epoch});
}

void AnswerCache::expire_all() {
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    std::erase_if(s.entries, [](const auto& kv) { return kv.second.rack.tag == core::RackId::Tag::kNone; });
    std::erase_if(s.order, [&](const core::Address& a) { return !s.entries.contains(a); });
  }
}

std::size_t AnswerCache::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace p2p::topology

#include "net/source_limits.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>

namespace p2p::net {

core::SipKey random_sip_key() {
  core::SipKey key;
  std::random_device rd;
  for (auto& b : key) b = static_cast<std::uint8_t>(rd());
  return key;
}

// 32 bytes: two to a cache line.
struct SourceRates::Slot {
  core::Address address;
  std::int64_t last_us = kEmpty;   // when the tokens were last brought up to date
  float tokens[2] = {0.0f, 0.0f};  // by RequestKind
  static constexpr std::int64_t kEmpty = std::numeric_limits<std::int64_t>::min();
};
static_assert(sizeof(core::Address) == 16);

SourceRates::SourceRates() : key_(random_sip_key()) {}
SourceRates::~SourceRates() = default;
SourceRates::SourceRates(SourceRates&&) noexcept = default;
SourceRates& SourceRates::operator=(SourceRates&&) noexcept = default;

bool SourceRates::admit(const RateLimits& limits, RequestKind kind, const core::Address& source,
                        core::PreciseTime now) {
  const std::uint32_t rate[2] = {limits.announces_per_second, limits.scrapes_per_second};
  const float burst[2] = {static_cast<float>(std::max<std::uint32_t>(1, limits.announce_burst)),
                          static_cast<float>(std::max<std::uint32_t>(1, limits.scrape_burst))};
  const auto k = static_cast<std::size_t>(kind);
  if (rate[k] == 0) return true;
  if (!slots_) slots_.reset(new Slot[kSlots]);

  const std::int64_t now_us = now.time_since_epoch().count();
  const std::size_t set =
      core::siphash24(key_, source.bytes().data(), source.bytes().size()) % kSets;
  Slot* const ways = slots_.get() + set * kWays;
  Slot* slot = nullptr;
  Slot* victim = ways;
  for (std::size_t i = 0; i < kWays; ++i) {
    Slot& s = ways[i];
    if (s.last_us != Slot::kEmpty && s.address == source) {
      slot = &s;
      break;
    }
    if (s.last_us < victim->last_us) victim = &s;  // empty slots are the oldest
  }
  if (slot == nullptr) {
    // A source not seen (or forgotten) starts with full buckets.
    slot = victim;
    slot->address = source;
    slot->last_us = now_us;
    slot->tokens[0] = burst[0];
    slot->tokens[1] = burst[1];
  } else if (now_us > slot->last_us) {
    // A clock that steps back refills nothing (and takes nothing away).
    const double elapsed = static_cast<double>(now_us - slot->last_us) / 1e6;
    for (std::size_t i = 0; i < 2; ++i) {
      slot->tokens[i] = static_cast<float>(
          std::min<double>(burst[i], slot->tokens[i] + elapsed * static_cast<double>(rate[i])));
    }
    slot->last_us = now_us;
  }
  if (slot->tokens[k] < 1.0f) return false;
  slot->tokens[k] -= 1.0f;
  return true;
}

SourceConnections::SourceConnections()
    : counts_(new std::atomic<std::uint32_t>[kSlots]), key_(random_sip_key()) {
  for (std::size_t i = 0; i < kSlots; ++i) counts_[i].store(0, std::memory_order_relaxed);
}

SourceConnections::Ticket SourceConnections::slots_of(const core::Address& source) const {
  const std::uint64_t h = core::siphash24(key_, source.bytes().data(), source.bytes().size());
  Ticket t{static_cast<std::uint32_t>(h % kSlots), static_cast<std::uint32_t>((h >> 32) % kSlots)};
  // Two distinct slots, else the sketch degenerates to one counter.
  if (t.b == t.a) t.b = (t.a + 1) % kSlots;
  return t;
}

std::optional<SourceConnections::Ticket> SourceConnections::acquire(const core::Address& source,
                                                                    std::uint32_t cap) {
  const Ticket t = slots_of(source);
  const std::uint32_t a = counts_[t.a].fetch_add(1, std::memory_order_relaxed) + 1;
  const std::uint32_t b = counts_[t.b].fetch_add(1, std::memory_order_relaxed) + 1;
  if (std::min(a, b) > cap) {
    release(t);
    return std::nullopt;
  }
  return t;
}

void SourceConnections::release(Ticket t) {
  counts_[t.a].fetch_sub(1, std::memory_order_relaxed);
  counts_[t.b].fetch_sub(1, std::memory_order_relaxed);
}

std::uint32_t SourceConnections::count(const core::Address& source) const {
  const Ticket t = slots_of(source);
  return std::min(counts_[t.a].load(std::memory_order_relaxed),
                  counts_[t.b].load(std::memory_order_relaxed));
}

}  // namespace p2p::net

// Per-source bounds: a token bucket per source address for announces and
// scrapes (SourceRates, one per worker) and a count of open HTTP connections
// per source address (SourceConnections, shared by a server's workers).
//
// Both live in fixed-size tables allocated once, so no request allocates and
// no attacker grows them: a source that does not fit evicts another, and the
// tables are sized so that what is evicted is a source that was not being
// limited anyway (see each class). Keys are hashed with a per-process random
// SipHash key, so nobody can aim many addresses at one slot.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/siphash.h"

namespace p2p::net {

// A fresh random SipHash key (std::random_device).
core::SipKey random_sip_key();

// The rates a source may send at; 0 per second turns that kind off.
struct RateLimits {
  std::uint32_t announces_per_second = 0;
  std::uint32_t announce_burst = 1;
  std::uint32_t scrapes_per_second = 0;
  std::uint32_t scrape_burst = 1;

  bool any() const { return announces_per_second > 0 || scrapes_per_second > 0; }
};

enum class RequestKind : std::uint8_t { kAnnounce = 0, kScrape = 1 };

// One worker's token buckets, keyed by source address: each source holds up to
// `burst` tokens of each kind, refilled at `per_second`, and a request takes
// one. Owning thread only (a worker's WorkerContext holds it); never blocks;
// allocates its table once, on the first request with limits on.
//
// Eviction: the table is set-associative (kWays slots per set); a new source
// takes an empty slot of its set, else the one untouched longest. A bucket
// refills to full after burst / per_second seconds (10 s with the defaults)
// and a full bucket is exactly what a new entry starts with, so evicting a
// source idle that long forgets nothing. kSlots is far more sources than
// one worker sees inside that window from a fleet announcing every 45 s, so
// only an attacker cycling through many addresses evicts anything, and then
// it evicts its own entries first.
class SourceRates {
 public:
  static constexpr std::size_t kWays = 8;
  static constexpr std::size_t kSets = 4096;
  static constexpr std::size_t kSlots = kWays * kSets;  // 32 bytes each: 1 MiB

  SourceRates();
  ~SourceRates();
  SourceRates(SourceRates&&) noexcept;
  SourceRates& operator=(SourceRates&&) noexcept;

  // Takes a token of `kind` for `source` at `now`; false when its bucket is
  // empty. True whenever that kind is off.
  bool admit(const RateLimits& limits, RequestKind kind, const core::Address& source,
             core::PreciseTime now);

 private:
  struct Slot;
  std::unique_ptr<Slot[]> slots_;  // kSlots, on first use
  core::SipKey key_;
};

// Open HTTP connections per source address, shared by every worker of one
// server (a source's connections land on any worker: SO_REUSEPORT spreads
// them by port). Lock-free: each address counts in two slots picked by two
// hashes, and its count is the smaller (a count-min sketch), which is exact
// unless both slots are shared with other busy sources, and can only
// over-count. With kSlots slots and a per-source cap of c, filling
// max_connections takes max_connections / c sources occupying at most twice
// that many slots; an innocent source is refused only if both its slots are
// among them (about (2 x 20000 / 512 / 65536)^2 = 1.4e-6 with the defaults).
// Thread-safe.
class SourceConnections {
 public:
  static constexpr std::size_t kSlots = 1 << 16;

  struct Ticket {
    std::uint32_t a = 0, b = 0;
  };

  SourceConnections();

  // Counts one more connection from `source`; nullopt (and nothing counted)
  // when it already holds `cap`. Never blocks, never allocates.
  std::optional<Ticket> acquire(const core::Address& source, std::uint32_t cap);
  // Counts out a connection acquire() let in.
  void release(Ticket t);
  // Connections `source` holds (an upper bound; see above). For tests.
  std::uint32_t count(const core::Address& source) const;

 private:
  Ticket slots_of(const core::Address& source) const;
  std::unique_ptr<std::atomic<std::uint32_t>[]> counts_;
  core::SipKey key_;
};

}  // namespace p2p::net

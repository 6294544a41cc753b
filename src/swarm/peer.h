// Peer: one member of a swarm as the tracker keeps it, packed for the
// announce path, and the rules read straight off its record (its announce
// gap, when it counts as stalled).
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/address.h"
#include "core/clock.h"

namespace p2p::swarm {

// A time in 32 bits (seconds since the Unix epoch, good until 2106): every
// peer carries two, and a tracker holds millions of peers.
class Stamp32 {
 public:
  Stamp32() = default;
  Stamp32(core::TimePoint t)  // NOLINT: converts like the TimePoint it stores
      : s_(static_cast<std::uint32_t>(t.time_since_epoch().count())) {}
  core::TimePoint time() const { return core::TimePoint(core::Seconds(s_)); }

 private:
  std::uint32_t s_ = 0;
};

// A byte count in 32 bits: exact below 2 GiB, above that in KiB rounded up
// (so never 0 unless 0), capped at 2 TiB. A peer's bytes left: exact where a
// small payload needs it, within 0.05% on a large one.
class Bytes32 {
 public:
  Bytes32() = default;
  explicit Bytes32(std::uint64_t bytes)
      : v_(bytes < kKib ? static_cast<std::uint32_t>(bytes)
                        : kKib | static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                     bytes / 1024 + (bytes % 1024 != 0), kKib - 1))) {}
  std::uint64_t bytes() const { return v_ & kKib ? std::uint64_t{v_ & ~kKib} * 1024 : v_; }
  bool zero() const { return v_ == 0; }

 private:
  static constexpr std::uint32_t kKib = 1u << 31;  // set: the rest counts KiB
  std::uint32_t v_ = 0;
};

// One peer of a swarm: what the announce path reads of it, in 32 bytes
// aligned to 32, so a record never straddles two cache lines and a binary
// search or a rack sample costs one miss per peer it touches. (Its peer_id,
// read only for non-compact replies, lives in RackGroup::peer_ids.) It is also
// the unit the tracker's memory scales with.
struct alignas(32) Peer {
  // Bits of `flags`.
  static constexpr std::uint8_t kRepresentative = 1;  // may see other racks
  static constexpr std::uint8_t kOrigin = 2;          // first seen with left == 0: a source
  static constexpr std::uint8_t kCompleted = 4;       // sent event=completed (counted once)
  static constexpr std::uint8_t kMoved = 8;  // regrouped into another rack since its last announce
  // Lost its place above its rack for stalling there (Torrent::climb); may
  // take one again once it makes progress.
  static constexpr std::uint8_t kStalledOut = 16;

  core::Endpoint endpoint;
  std::uint8_t flags = 0;
  // The gap between its last two regular announces (no event), in 8-second
  // units, 0 until known: clients announce on their own schedule (libtorrent
  // never more often than every 300 s, whatever the interval asked), and
  // expiry and stall detection follow it (PolicyOptions::extra_life). Fills the
  // byte the endpoint's alignment left free.
  std::uint8_t cadence8 = 0;
  Bytes32 left;  // bytes left to download
  Stamp32 last_seen;
  Stamp32 last_progress;  // when `left` last went down (stall detection)

  bool seeder() const { return left.zero(); }
  core::Seconds cadence() const { return core::Seconds(std::int64_t{cadence8} * 8); }
  bool representative() const { return flags & kRepresentative; }
  bool origin() const { return flags & kOrigin; }
};
static_assert(sizeof(Peer) == 32, "a peer record grew: every tracker's memory grows with it");

// The gap `p` keeps between regular announces: the one it showed, or until it
// has shown one (its first regular announce), `assumed_gap`.
inline core::Seconds announce_gap(const Peer& p, core::Seconds assumed_gap) {
  return p.cadence8 != 0 ? p.cadence() : assumed_gap;
}

// How long `p` may go without progress before it counts as stalled:
// `stall_after`, or for a peer whose regular announces come (or, not shown
// yet, may come) further apart than `peer_timeout`, two of its gaps (it shows
// progress only that often).
inline core::Seconds stall_time(const Peer& p, core::Seconds stall_after,
                                core::Seconds peer_timeout, core::Seconds assumed_gap) {
  const core::Seconds gap = announce_gap(p, assumed_gap);
  return gap > peer_timeout ? std::max(stall_after, 2 * gap) : stall_after;
}

}  // namespace p2p::swarm

// RackId: which rack a peer sits in, as a compact value the swarm can group by.
//
// The swarm only compares RackIds; what they mean (a /24, a named rack from a
// map file) and their printable names belong to topology/. The encoding lets
// the default subnet rule work with no name table and no lock on the announce
// path, and stays invertible so topology can always print a rack's name:
//   tag kNamed: `lo` indexes topology's append-only table of rack names;
//   tag kV4:    `lo` is the IPv4 network (host order), `prefix` its length;
//   tag kV6:    `lo` is the top 64 bits of the IPv6 network, `prefix` <= 64.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace p2p::core {

// Levels a location may have above its rack (a row, a datacenter, a
// region): a swarm groups peers at each of them (swarm/torrent.h).
inline constexpr std::size_t kMaxUpperLevels = 3;

struct RackId {
  enum class Tag : std::uint8_t { kNone = 0, kNamed = 1, kV4 = 2, kV6 = 3 };

  Tag tag = Tag::kNone;  // kNone: no rack known (never produced by a locator)
  std::uint8_t prefix = 0;
  std::uint64_t lo = 0;

  static RackId named(std::uint32_t index) { return {Tag::kNamed, 0, index}; }
  static RackId v4_prefix(std::uint32_t network, int prefix_len) {
    return {Tag::kV4, static_cast<std::uint8_t>(prefix_len), network};
  }
  static RackId v6_prefix(std::uint64_t top64, int prefix_len) {
    return {Tag::kV6, static_cast<std::uint8_t>(prefix_len), top64};
  }

  friend auto operator<=>(const RackId&, const RackId&) = default;
};

}  // namespace p2p::core

template <>
struct std::hash<p2p::core::RackId> {
  std::size_t operator()(p2p::core::RackId r) const noexcept {
    return static_cast<std::size_t>((r.lo ^ (std::uint64_t(r.tag) << 56 | r.prefix)) *
                                    0x9E3779B97F4A7C15ull);
  }
};

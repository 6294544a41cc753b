// RackId: which rack a peer sits in, as a compact value the swarm can group by.
//
// The swarm only compares RackIds; what they mean (a /24, a named rack from a
// map file) and their printable names belong to topology/. Two encodings share
// the 64 bits so that the default subnet rule needs no name table and no lock:
//   bits 63-62 = 01: a named rack, low 32 bits index topology's name table;
//   bits 63-62 = 10: an IPv4 prefix: bits 39-32 prefix length, low 32 network;
//   bits 63-62 = 11: an IPv6 prefix: bits 61-55 prefix length, low 55 bits a
//                    hash of the network (prefixes longer than /55 may share
//                    an id only by a 2^-55 chance).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace p2p::core {

struct RackId {
  std::uint64_t value = 0;  // 0: no rack known (never produced by a locator)

  static constexpr std::uint64_t kNamedTag = 1ull << 62;
  static constexpr std::uint64_t kV4Tag = 2ull << 62;
  static constexpr std::uint64_t kV6Tag = 3ull << 62;
  static constexpr std::uint64_t kTagMask = 3ull << 62;

  static RackId named(std::uint32_t index) { return {kNamedTag | index}; }
  static RackId v4_prefix(std::uint32_t network, int prefix_len) {
    return {kV4Tag | (std::uint64_t(prefix_len) << 32) | network};
  }

  friend auto operator<=>(const RackId&, const RackId&) = default;
};

}  // namespace p2p::core

template <>
struct std::hash<p2p::core::RackId> {
  std::size_t operator()(p2p::core::RackId r) const noexcept {
    return static_cast<std::size_t>(r.value * 0x9E3779B97F4A7C15ull);
  }
};

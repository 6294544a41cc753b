// Address, Endpoint and Cidr: where a peer is, independent of any socket API.
//
// IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so one 16-byte form
// serves both families; is_v4() tells them apart. Plain values, thread-safe to
// copy. Conversion to and from Asio types lives in net/, at the module edge.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace p2p::core {

class Address {
 public:
  Address() = default;  // ::, the unspecified IPv6 address

  static Address v4(std::uint32_t host_order);
  static Address v4_bytes(const std::uint8_t bytes[4]);
  static Address v6_bytes(const std::uint8_t bytes[16]);

  // Parses dotted IPv4 or textual IPv6 (IPv4-mapped IPv6 folds to IPv4).
  static std::optional<Address> parse(std::string_view text);

  bool is_v4() const;
  // Host-order IPv4 value; only meaningful when is_v4().
  std::uint32_t v4_value() const;
  bool is_loopback() const;
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  // The 4 address bytes of an IPv4 address (for compact peer lists).
  const std::uint8_t* v4_data() const { return bytes_.data() + 12; }

  std::string to_string() const;

  // Two 64-bit compares instead of the array's byte-wise memcmp: swarms
  // binary-search peers by endpoint on every announce, and memcmp was a tenth
  // of the announce path's CPU (docs/performance.md). Same order as the bytes:
  // big-endian words compare like the bytes they hold.
  friend bool operator==(const Address& a, const Address& b) {
    return a.word(0) == b.word(0) && a.word(1) == b.word(1);
  }
  friend std::strong_ordering operator<=>(const Address& a, const Address& b) {
    if (auto c = a.ordered_word(0) <=> b.ordered_word(0); c != 0) return c;
    return a.ordered_word(1) <=> b.ordered_word(1);
  }

 private:
  std::uint64_t word(int i) const {
    std::uint64_t w;
    std::memcpy(&w, bytes_.data() + 8 * i, 8);
    return w;
  }
  std::uint64_t ordered_word(int i) const {
    std::uint64_t w = word(i);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }

  std::array<std::uint8_t, 16> bytes_{};
};

struct Endpoint {
  Address address;
  std::uint16_t port = 0;

  // "1.2.3.4:6881" or "[::1]:6881".
  std::string to_string() const;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// A network prefix: "10.0.0.0/8", "2001:db8::/32"; a bare address is a host
// prefix (/32 or /128).
class Cidr {
 public:
  Cidr() = default;
  Cidr(Address network, int prefix_len);  // masks host bits off `network`

  static Result<Cidr> parse(std::string_view text);

  bool contains(const Address& a) const;
  const Address& network() const { return network_; }
  // Prefix length in the address's own family (0-32 for IPv4, 0-128 for IPv6).
  int prefix_len() const;
  std::string to_string() const;

  friend auto operator<=>(const Cidr&, const Cidr&) = default;

 private:
  Address network_;
  int prefix_len128_ = 0;  // over the 128-bit (mapped) form
};

// The prefix of `a` of `prefix_len` bits in its own family.
Address mask(const Address& a, int prefix_len);

}  // namespace p2p::core

template <>
struct std::hash<p2p::core::Address> {
  std::size_t operator()(const p2p::core::Address& a) const noexcept {
    std::uint64_t hi, lo;
    std::memcpy(&hi, a.bytes().data(), 8);
    std::memcpy(&lo, a.bytes().data() + 8, 8);
    return static_cast<std::size_t>((hi * 0x9E3779B97F4A7C15ull) ^ lo);
  }
};

template <>
struct std::hash<p2p::core::Endpoint> {
  std::size_t operator()(const p2p::core::Endpoint& e) const noexcept {
    return std::hash<p2p::core::Address>()(e.address) * 31 + e.port;
  }
};

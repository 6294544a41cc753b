// InfoHash and PeerId: the two 20-byte identifiers of the BitTorrent protocol.
//
// Plain values, trivially copyable, safe to share between threads. Hex form is
// lower case, as the original p2ptracker wrote hashes (in Redis and its API).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::core {

// Writes 2 * bytes.size() lower-case hex digits to `out` (no terminator);
// never allocates. The one hex spelling of hashes in the project.
inline void hex_to(std::string_view bytes, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[c >> 4];
    out[2 * i + 1] = kDigits[c & 0xF];
  }
}

inline std::string to_hex(std::string_view bytes) {
  std::string out(2 * bytes.size(), '0');
  hex_to(bytes, out.data());
  return out;
}

template <class Tag>
struct Digest20 {
  static constexpr std::size_t kSize = 20;
  std::array<std::uint8_t, kSize> bytes{};

  // From exactly 20 raw bytes; nullopt for any other length.
  static std::optional<Digest20> from_bytes(std::string_view raw) {
    if (raw.size() != kSize) return std::nullopt;
    Digest20 d;
    std::memcpy(d.bytes.data(), raw.data(), kSize);
    return d;
  }

  // From 40 hex digits, either case; nullopt otherwise.
  static std::optional<Digest20> from_hex(std::string_view hex) {
    if (hex.size() != 2 * kSize) return std::nullopt;
    Digest20 d;
    for (std::size_t i = 0; i < kSize; ++i) {
      int hi = hex_value(hex[2 * i]);
      int lo = hex_value(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      d.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return d;
  }

  std::string hex() const {
    std::string out(2 * kSize, '0');
    hex_to(out.data());
    return out;
  }

  // Writes the 40 hex digits to `out` (no terminator); never allocates.
  void hex_to(char* out) const { core::hex_to(view(), out); }

  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), kSize}; }

  // The first 8 bytes: already uniformly distributed for info-hashes (SHA-1).
  std::uint64_t prefix64() const {
    std::uint64_t v;
    std::memcpy(&v, bytes.data(), sizeof v);
    return v;
  }

  friend auto operator<=>(const Digest20&, const Digest20&) = default;
  // Three word compares, not the array's out-of-line memcmp: every announce
  // looks its swarm up by info-hash (memcmp was 1.5% of the UDP announce path).
  friend bool operator==(const Digest20& a, const Digest20& b) {
    std::uint64_t a0, a1, b0, b1;
    std::uint32_t a2, b2;
    std::memcpy(&a0, a.bytes.data(), 8);
    std::memcpy(&b0, b.bytes.data(), 8);
    std::memcpy(&a1, a.bytes.data() + 8, 8);
    std::memcpy(&b1, b.bytes.data() + 8, 8);
    std::memcpy(&a2, a.bytes.data() + 16, 4);
    std::memcpy(&b2, b.bytes.data() + 16, 4);
    return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0;
  }

 private:
  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
};

struct InfoHashTag {};
struct PeerIdTag {};
using InfoHash = Digest20<InfoHashTag>;
using PeerId = Digest20<PeerIdTag>;

}  // namespace p2p::core

template <class Tag>
struct std::hash<p2p::core::Digest20<Tag>> {
  std::size_t operator()(const p2p::core::Digest20<Tag>& d) const noexcept {
    // Info-hashes are SHA-1 output; peer ids are not, so mix the bytes in.
    std::uint64_t a, b;
    std::memcpy(&a, d.bytes.data(), 8);
    std::memcpy(&b, d.bytes.data() + 8, 8);
    return static_cast<std::size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};

// Helpers shared by the wire tests: a printed, overridable random seed and a
// percent-encoder that varies its output the way real clients do.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "core/rng.h"

namespace p2p::wire::testing {

// The seed for randomized tests: $P2P_TEST_SEED if set, else fresh. Printed
// once so a failure can be replayed.
inline std::uint64_t test_seed() {
  static const std::uint64_t seed = [] {
    std::uint64_t s;
    if (const char* env = std::getenv("P2P_TEST_SEED")) {
      s = std::strtoull(env, nullptr, 10);
    } else {
      std::random_device rd;
      s = std::uint64_t{rd()} << 32 | rd();
    }
    std::printf("wire tests: P2P_TEST_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// Percent-encodes every byte that needs it; unreserved bytes are sent raw or
// escaped at random, escapes in random case (clients differ on both).
inline std::string percent_encode(std::string_view bytes, core::Rng& rng) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved && rng.below(4) != 0) {
      out.push_back(c);
      continue;
    }
    const char* digits = rng.below(2) ? kUpper : kLower;
    out.push_back('%');
    out.push_back(digits[u >> 4]);
    out.push_back(digits[u & 0xF]);
  }
  return out;
}

// Exactly what BitTorrent clients do: every byte outside the unreserved set
// escaped, upper-case hex.
inline std::string percent_encode_all(std::string_view bytes) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kUpper[u >> 4]);
    out.push_back(kUpper[u & 0xF]);
  }
  return out;
}

inline std::string random_bytes(core::Rng& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng.next());
  return s;
}

}  // namespace p2p::wire::testing

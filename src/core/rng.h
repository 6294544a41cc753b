// Rng: a small, fast, seedable generator for peer sampling.
//
// xoshiro256** (Blackman and Vigna). Each worker owns one, so it is not
// thread-safe by design; tests seed it to make selections reproducible.
#pragma once

#include <cstdint>

namespace p2p::core {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0x5EED) {
    // splitmix64 spreads a small seed over the whole state.
    for (auto& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound > 0. The modulo bias is below 2^-32 for the
  // bounds we use (peer counts), which sampling tolerates.
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace p2p::core

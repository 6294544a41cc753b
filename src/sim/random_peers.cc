#include "sim/random_peers.h"

#include <algorithm>

namespace p2p::sim {

void RandomPeers::announce(std::uint32_t node, bool seeder, std::uint32_t limit, core::Rng& rng,
                           std::vector<std::uint32_t>& out) {
  if (!member_[node]) {
    member_[node] = 1;
    members_.push_back(node);
  }
  seeder_[node] = seeder ? 1 : 0;
  auto wanted = [&](std::uint32_t p) { return p != node && !(seeder && seeder_[p]); };
  const std::size_t base = out.size();
  const std::size_t n = members_.size();
  if (n <= 4 * static_cast<std::size_t>(limit)) {
    // Small swarm: reservoir sampling over everyone (Algorithm R).
    std::uint64_t seen = 0;
    for (std::uint32_t p : members_) {
      if (!wanted(p)) continue;
      if (seen < limit) {
        out.push_back(p);
      } else if (auto j = rng.below(seen + 1); j < limit) {
        out[base + j] = p;
      }
      ++seen;
    }
    return;
  }
  // Large swarm: draw with rejection; most draws succeed, so a bounded number
  // of tries fills the reply (a seeder among mostly seeders may get fewer).
  for (std::uint32_t tries = 0; out.size() - base < limit && tries < 16 * limit; ++tries) {
    const std::uint32_t p = members_[rng.below(n)];
    if (!wanted(p) || std::find(out.begin() + base, out.end(), p) != out.end()) continue;
    out.push_back(p);
  }
}

}  // namespace p2p::sim

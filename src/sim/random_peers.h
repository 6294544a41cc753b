// RandomPeers: the BASELINE peer source of the simulator, not p2ptracker's
// policy. It answers like a general-purpose tracker (opentracker): a uniform
// random sample of the whole swarm, never the announcing peer itself, and no
// seeders for a seeder. It knows nothing about racks.
//
// Peers are simulator node indices. Not thread-safe; one per simulation.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace p2p::sim {

class RandomPeers {
 public:
  explicit RandomPeers(std::uint32_t nodes) : member_(nodes, 0), seeder_(nodes, 0) {}

  // Records an announce of `node` (joining the swarm on its first one) and
  // appends at most `limit` distinct peers to `out`.
  void announce(std::uint32_t node, bool seeder, std::uint32_t limit, core::Rng& rng,
                std::vector<std::uint32_t>& out);

 private:
  std::vector<std::uint32_t> members_;  // in join order
  std::vector<std::uint8_t> member_;    // by node
  std::vector<std::uint8_t> seeder_;    // by node
};

}  // namespace p2p::sim

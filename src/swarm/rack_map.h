// RackMap: how the swarm asks which rack an address is in.
//
// The swarm depends only on core (STYLE.md), so it declares the one question it
// needs answered; server/ adapts a topology::Locator to it. Implementations
// must be thread-safe, never block and never allocate.
#pragma once

#include <cstdint>

#include "core/address.h"
#include "core/rack.h"

namespace p2p::swarm {

class RackMap {
 public:
  virtual ~RackMap() = default;
  virtual core::RackId rack_of(const core::Address& address) const noexcept = 0;
  // Changes whenever racks may have moved (a topology reload); torrents then
  // regroup their peers on their next announce.
  virtual std::uint64_t generation() const noexcept = 0;
};

}  // namespace p2p::swarm

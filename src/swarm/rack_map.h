// RackMap: how the swarm asks which rack an address is in.
//
// The swarm depends only on core (STYLE.md), so it declares the one question it
// needs answered; server/ adapts a topology::Locator to it. Implementations
// must be thread-safe, never block and never allocate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>

#include "core/address.h"
#include "core/rack.h"

namespace p2p::swarm {

class RackMap {
 public:
  virtual ~RackMap() = default;
  virtual core::RackId rack_of(const core::Address& address) const noexcept = 0;
  // The groups above `rack` (a row, then its datacenter...), outermost first,
  // into `out` (at most out.size(), the nearest ones); returns how many. Asked
  // when a rack first appears in a transfer, not per announce; may take a
  // lock. Default: none, the rack is the only level.
  virtual std::size_t ancestors(core::RackId /*rack*/, std::span<core::RackId> /*out*/) const {
    return 0;
  }
  // Changes whenever racks may have moved (a topology reload); torrents then
  // regroup their peers on their next announce.
  virtual std::uint64_t generation() const noexcept = 0;
  // topology_wait_ms. Whether the rack of `address` still waits for a
  // lookup that may place it elsewhere: cheap, no side effect, for every
  // announce. Default: racks are always known at once.
  virtual bool unsettled(const core::Address& /*address*/) const noexcept { return false; }
  // Starts the lookup that would place `address`, for a request that has not
  // proven it is from there (a UDP connect, which anyone can send with a
  // forged source): it may use only part of the lookups' budget, so a flood
  // of them cannot crowd out the lookups of hosts that have. Never blocks.
  virtual void prefetch(const core::Address& /*address*/) const noexcept {}
  // If so, arranges for `resume` to be called once, from any thread, when
  // the answer is in or after `wait`, whichever comes first, and returns
  // true (taking `resume`); otherwise returns false, leaving `resume`.
  // Never blocks.
  virtual bool await_answer(const core::Address& /*address*/, std::chrono::milliseconds /*wait*/,
                            std::function<void()>& /*resume*/) const {
    return false;
  }
};

}  // namespace p2p::swarm

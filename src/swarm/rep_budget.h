// RepBudget: repr_budget = "per_rack", one rack's representative budget shared
// by every active transfer.
//
// Per transfer, a rack's first max_repr_rack peers represent it; two deploys
// at once then let twice as many hosts pull across the rack's uplink (the
// original's README names this limit). With a shared budget, at most
// max_repr_rack distinct hosts (addresses) represent a rack across all
// transfers: a transfer reuses the hosts that already represent the rack in
// another one, and any other host of the rack is served as a member until a
// slot frees. The levels above racks choose among these hosts, so they are
// bounded too.
//
// Thread-safe (torrents in different shards share it); sharded by rack. Asked
// only when a peer could take a free representative slot, not on every
// announce.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/address.h"
#include "core/rack.h"

namespace p2p::swarm {

class RepBudget {
 public:
  explicit RepBudget(std::uint32_t hosts_per_rack) : per_rack_(hosts_per_rack) {}
  RepBudget(const RepBudget&) = delete;
  RepBudget& operator=(const RepBudget&) = delete;

  // Whether `address` may represent `rack` in one more transfer: it already
  // does in another, or fewer than hosts_per_rack hosts do. If so, counts it
  // (release() gives it back).
  bool acquire(core::RackId rack, const core::Address& address);
  // `address` stopped representing `rack` in one transfer.
  void release(core::RackId rack, const core::Address& address);
  // Distinct hosts representing `rack` now.
  std::size_t hosts(core::RackId rack) const;

 private:
  struct Holder {
    core::Address address;
    std::uint32_t transfers = 0;  // in how many transfers it represents the rack
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<core::RackId, std::vector<Holder>> racks;  // guarded by mu
  };
  Shard& shard_of(core::RackId rack) { return shards_[std::hash<core::RackId>{}(rack) % kShards]; }
  const Shard& shard_of(core::RackId rack) const {
    return shards_[std::hash<core::RackId>{}(rack) % kShards];
  }

  static constexpr std::size_t kShards = 16;
  const std::uint32_t per_rack_;
  std::array<Shard, kShards> shards_;
};

}  // namespace p2p::swarm

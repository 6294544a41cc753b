// A RackMap with three levels by address, as the subnet rule draws them with
// `levels = ["dc", "row", "rack"]` and prefixes 16, 20, 24: /24 racks under
// /20 rows under /16 datacenters (IPv4 only). Tests and fuzz targets place
// hosts with it without a topology.
#pragma once

#include <cstdint>
#include <span>

#include "core/address.h"
#include "core/rack.h"
#include "swarm/rack_map.h"

namespace p2p::test {

class ThreeLevels final : public swarm::RackMap {
 public:
  core::RackId rack_of(const core::Address& a) const noexcept override {
    return core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
  }
  std::size_t ancestors(core::RackId rack, std::span<core::RackId> out) const override {
    if (!levels || out.size() < 2) return 0;
    const auto net = static_cast<std::uint32_t>(rack.lo);
    out[0] = core::RackId::v4_prefix(net & 0xFFFF0000u, 16);
    out[1] = core::RackId::v4_prefix(net & 0xFFFFF000u, 20);
    return 2;
  }
  std::uint64_t generation() const noexcept override { return 1; }

  bool levels = true;  // false: racks only, no rows or datacenters above them
};

}  // namespace p2p::test

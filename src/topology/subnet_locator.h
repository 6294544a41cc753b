// SubnetLocator: the default rule, a rack is the peer's /prefix network.
//
// Needs no files and no name table: the RackId encodes the network itself
// (core/rack.h, tags kV4 and kV6), so locate() is pure arithmetic. Also the
// fallback of StaticMapLocator for addresses its map does not cover. Immutable
// after construction; every method is safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "topology/locator.h"

namespace p2p::topology {

// Prefix limits. IPv6 stops at 64 because a kV6 RackId keeps only the top 64
// bits of the network (core/rack.h); /64 is also the smallest subnet IPv6
// hands a LAN, so a longer prefix would not name a rack anyway.
inline constexpr int kMaxSubnetPrefixV4 = 32;
inline constexpr int kMaxSubnetPrefixV6 = 64;

// The subnet rack of `address`: its /prefix_v4 network for IPv4, the top 64
// bits of its /prefix_v6 network for IPv6. Prefixes must be in 1-32 and 1-64
// (make_locator() checks). Never allocates.
core::RackId subnet_rack(const core::Address& address, int prefix_v4, int prefix_v6) noexcept;

class SubnetLocator final : public Locator {
 public:
  // `prefix_v4` in 1-32, `prefix_v6` in 1-64 (asserted; make_locator() returns
  // an error for anything else before getting here).
  SubnetLocator(int prefix_v4, int prefix_v6);

  core::RackId locate(const core::Address& address) const noexcept override;
  // Formats every kind of RackId, named ones through RackNames::global().
  std::string rack_name(core::RackId rack) const override;
  // Nothing to re-read: always succeeds and leaves generation() at 0.
  core::Status reload() override;
  std::uint64_t generation() const noexcept override { return 0; }

 private:
  int prefix_v4_;
  int prefix_v6_;
};

}  // namespace p2p::topology

#include "topology/subnet_locator.h"

#include <cassert>

#include "topology/rack_names.h"

namespace p2p::topology {

core::RackId subnet_rack(const core::Address& address, int prefix_v4, int prefix_v6) noexcept {
  if (address.is_v4()) {
    // prefix_v4 >= 1, so the shift is at most 31 (shifting a 32-bit value by 32
    // would be undefined).
    std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix_v4);
    return core::RackId::v4_prefix(address.v4_value() & mask, prefix_v4);
  }
  const auto& b = address.bytes();
  std::uint64_t top64 = 0;
  for (int i = 0; i < 8; ++i) top64 = top64 << 8 | b[static_cast<std::size_t>(i)];
  // prefix_v6 in 1-64: shift 0-63.
  std::uint64_t mask = ~std::uint64_t{0} << (64 - prefix_v6);
  return core::RackId::v6_prefix(top64 & mask, prefix_v6);
}

SubnetLocator::SubnetLocator(int prefix_v4, int prefix_v6)
    : prefix_v4_(prefix_v4), prefix_v6_(prefix_v6) {
  assert(prefix_v4 >= 1 && prefix_v4 <= kMaxSubnetPrefixV4);
  assert(prefix_v6 >= 1 && prefix_v6 <= kMaxSubnetPrefixV6);
}

core::RackId SubnetLocator::locate(const core::Address& address) const noexcept {
  return subnet_rack(address, prefix_v4_, prefix_v6_);
}

std::string SubnetLocator::rack_name(core::RackId rack) const {
  return format_rack(rack, RackNames::global());
}

core::Status SubnetLocator::reload() { return {}; }

}  // namespace p2p::topology

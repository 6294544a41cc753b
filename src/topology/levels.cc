#include "topology/levels.h"

#include <algorithm>
#include <cstdint>

namespace p2p::topology {

std::size_t rack_ancestors(core::RackId rack, const SubnetLevels& subnet, const RackNames& names,
                           std::span<core::RackId> out) {
  using Tag = core::RackId::Tag;
  if (rack.tag == Tag::kNamed) return names.ancestors(rack.lo, out);
  if (rack.tag != Tag::kV4 && rack.tag != Tag::kV6) return 0;
  const bool v4 = rack.tag == Tag::kV4;
  const std::vector<int>& prefixes = v4 ? subnet.v4 : subnet.v6;
  const int width = v4 ? 32 : 64;
  core::RackId found[64];
  std::size_t n = 0;
  for (int p : prefixes) {
    if (p < 1 || p >= rack.prefix || n == std::size(found)) continue;
    const std::uint64_t mask = (~std::uint64_t{0} << (width - p)) &
                               (v4 ? std::uint64_t{0xFFFFFFFFu} : ~std::uint64_t{0});
    found[n++] = v4 ? core::RackId::v4_prefix(static_cast<std::uint32_t>(rack.lo & mask), p)
                    : core::RackId::v6_prefix(rack.lo & mask, p);
  }
  // The nearest out.size(), outermost first.
  const std::size_t skip = n > out.size() ? n - out.size() : 0;
  std::copy(found + skip, found + n, out.begin());
  return n - skip;
}

}  // namespace p2p::topology

#include "topology/locator.h"

#include <fmt/format.h>

#include "topology/static_map_locator.h"
#include "topology/subnet_locator.h"

namespace p2p::topology {

core::Result<std::unique_ptr<Locator>> make_locator(const Options& options) {
  // Both kinds use the subnet rule (the static map as its fallback), so the
  // prefixes are checked whatever the kind.
  if (options.subnet_prefix_v4 < 1 || options.subnet_prefix_v4 > kMaxSubnetPrefixV4) {
    return core::invalid_argument(fmt::format("subnet_prefix_v4 = {} is out of range (1-{})",
                                              options.subnet_prefix_v4, kMaxSubnetPrefixV4));
  }
  if (options.subnet_prefix_v6 < 1 || options.subnet_prefix_v6 > kMaxSubnetPrefixV6) {
    return core::invalid_argument(
        fmt::format("subnet_prefix_v6 = {} is out of range (1-{}; a rack is at most a /64)",
                    options.subnet_prefix_v6, kMaxSubnetPrefixV6));
  }
  if (options.kind == "subnet") {
    return std::unique_ptr<Locator>(
        new SubnetLocator(options.subnet_prefix_v4, options.subnet_prefix_v6));
  }
  if (options.kind == "static") {
    if (options.map_file.empty()) {
      return core::invalid_argument(
          "topology \"static\" requires map_file (config key topology_file): the rack map to "
          "load");
    }
    auto locator =
        StaticMapLocator::open(options.map_file, options.subnet_prefix_v4, options.subnet_prefix_v6,
                               RackNames::global(), options.depth);
    if (!locator) return locator.error();
    return std::unique_ptr<Locator>(std::move(*locator));
  }
  return core::invalid_argument(
      fmt::format("unknown topology kind '{}' (valid: subnet, static)", options.kind));
}

}  // namespace p2p::topology

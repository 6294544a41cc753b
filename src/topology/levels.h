// The groups above a rack (a row, a datacenter), which a swarm shapes itself
// around level by level (swarm/torrent.h):
//   - a named rack is a path, outermost first ("ams1/row3/rack12"): its
//     groups are the path's prefixes ("ams1", "ams1/row3"), from RackNames;
//   - a subnet rack (/24) is under the wider prefixes subnet_levels_v4 lists
//     ([16, 20]: its /16 is the datacenter, its /20 the row), likewise IPv6.
#pragma once

#include <span>
#include <vector>

#include "core/rack.h"
#include "topology/rack_names.h"

namespace p2p::topology {

struct SubnetLevels {
  std::vector<int> v4;  // prefix lengths above the rack's, outermost (shortest) first
  std::vector<int> v6;
};

// The groups above `rack`, outermost first, into `out` (at most out.size(),
// the nearest ones); returns how many. Prefixes not shorter than a subnet
// rack's own are skipped. Not for the announce path (a named rack's takes
// RackNames' lock): a swarm asks once per rack it meets.
std::size_t rack_ancestors(core::RackId rack, const SubnetLevels& subnet, const RackNames& names,
                           std::span<core::RackId> out);

}  // namespace p2p::topology

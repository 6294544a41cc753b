// Reports of simulator runs: a human table and JSON. Pure functions of the
// runs; any thread.
#pragma once

#include <string>
#include <vector>

#include "sim/simulator.h"

namespace p2p::sim {

struct Run {
  Options options;
  Result result;
};

// One line per run: policy, fleet, amplification (max, mean), egress max, peak
// rack uplink use, origin copies, deploy time, completion percentiles.
std::string table(const std::vector<Run>& runs);

// {"runs": [{"policy", "hosts", "racks", "hosts_per_rack", "payload_bytes",
//   "amplification": {max, mean, median}, "egress", "peak_uplink_in", ...}]}
// (docs/simulator.md lists every field). `per_rack` adds each rack's bytes.
std::string json(const std::vector<Run>& runs, bool per_rack);

}  // namespace p2p::sim

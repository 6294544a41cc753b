#include "swarm/policy/options.h"

namespace p2p::swarm {

const char* policy_mode_name(PolicyMode mode) {
  switch (mode) {
    case PolicyMode::kOriginal:
      return "original";
    case PolicyMode::kStandby:
      return "standby";
    case PolicyMode::kProgress:
      return "progress";
    case PolicyMode::kRelay:
      return "relay";
    case PolicyMode::kChain:
      return "chain";
    case PolicyMode::kTree:
      return "tree";
  }
  return "?";
}

bool parse_policy_mode(std::string_view name, PolicyMode& mode) {
  for (auto m : {PolicyMode::kOriginal, PolicyMode::kStandby, PolicyMode::kProgress,
                 PolicyMode::kRelay, PolicyMode::kChain, PolicyMode::kTree}) {
    if (name == policy_mode_name(m)) {
      mode = m;
      return true;
    }
  }
  return false;
}

}  // namespace p2p::swarm

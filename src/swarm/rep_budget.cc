#include "swarm/rep_budget.h"

#include <algorithm>

namespace p2p::swarm {

bool RepBudget::acquire(core::RackId rack, const core::Address& address) {
  Shard& s = shard_of(rack);
  std::lock_guard lock(s.mu);
  std::vector<Holder>& holders = s.racks[rack];
  for (Holder& h : holders) {
    if (h.address == address) {
      ++h.transfers;
      return true;
    }
  }
  if (holders.size() >= per_rack_) return false;
  holders.push_back({address, 1});
  return true;
}

void RepBudget::release(core::RackId rack, const core::Address& address) {
  Shard& s = shard_of(rack);
  std::lock_guard lock(s.mu);
  auto it = s.racks.find(rack);
  if (it == s.racks.end()) return;
  std::vector<Holder>& holders = it->second;
  auto h = std::find_if(holders.begin(), holders.end(),
                        [&](const Holder& x) { return x.address == address; });
  if (h == holders.end()) return;
  if (--h->transfers == 0) holders.erase(h);
  if (holders.empty()) s.racks.erase(it);
}

std::size_t RepBudget::hosts(core::RackId rack) const {
  const Shard& s = shard_of(rack);
  std::lock_guard lock(s.mu);
  auto it = s.racks.find(rack);
  return it == s.racks.end() ? 0 : it->second.size();
}

}  // namespace p2p::swarm

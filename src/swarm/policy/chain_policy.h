// The chain policy (PolicyMode::kChain): the swarm as one line of hosts, so
// that every uplink carries the payload into its group once and out once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "core/peer.h"
#include "swarm/peer.h"
#include "swarm/policy/options.h"
#include "swarm/rack_group.h"

namespace p2p::swarm::policy {

// A host on kChain's line: not an origin seeder, and announced within its
// life (peer_timeout and its extra_life).
inline bool on_chain(const Peer& p, core::TimePoint stale_before, const PolicyOptions& policy) {
  return !p.origin() && p.last_seen.time() + policy.extra_life(p) >= stale_before;
}

// The host on the line of `g` next to `from` in the order hosts joined the
// rack: the first that joined after it when `forward`, else the last that
// joined before it (`from` null: the first, or the last, of all), other than
// `skip_a` and `skip_b`. Null when there is none. One scan of the rack.
const Peer* next_joined(const RackGroup& g, const Peer* from, bool forward, const Peer* skip_a,
                        const Peer* skip_b, core::TimePoint stale_before,
                        const PolicyOptions& policy);

// The head of `g` as drawn, with no stuck one handing over: the host on the
// line that joined the rack first, other than its exit (RackGroup::exit)
// unless the exit was bound as the head or is the rack's only host on the
// line. `after`: the first such host that joined after it instead (the one
// a stuck head hands its role to). Null when there is none.
const Peer* chain_head(const RackGroup& g, core::TimePoint stale_before,
                       const PolicyOptions& policy, const Peer* after = nullptr);

// The host that feeds `g`'s head as drawn (its feeder's exit, with no stuck
// one passed over), or null when the origin seeders do.
const Peer* chain_feed(const SwarmView& swarm, const RackGroup& g, core::TimePoint now,
                       core::TimePoint stale_before, const PolicyOptions& policy);

// Appends to `out` at most `limit` of the peers `self` (one of `own`'s, in
// `swarm`) is told about under kChain: its neighbours on the line. Peers last
// seen before `stale_before` (and their extra_life) are never chosen; nothing
// allocates (`out` must have room).
void select_chain(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                  std::uint32_t limit, bool with_peer_ids, core::TimePoint now,
                  core::TimePoint stale_before, const PolicyOptions& policy,
                  std::vector<core::PeerContact>& out);

}  // namespace p2p::swarm::policy

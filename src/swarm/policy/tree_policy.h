// The tree policy (PolicyMode::kTree): the swarm as a tree of hosts, each fed
// by one parent and feeding at most two, so that one link enters each rack,
// row and datacenter and a piece crosses about log2(hosts) hosts on its way
// down instead of every host before it (kChain's line).
//
// Torrent places each host (Torrent::tree_place) and keeps the links
// (RackGroup::tree); what is here only reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "core/peer.h"
#include "swarm/peer.h"
#include "swarm/policy/options.h"
#include "swarm/rack_group.h"

namespace p2p::swarm::policy {

// Children a host feeds when there is room: two halves its upload to each, a
// line's one gives depth as long as the fleet.
inline constexpr int kTreeFanOut = 2;

// How long a rack's first host waits for a place that a group can spare
// (Torrent::place_entry) before any host with room there takes it.
inline constexpr core::Seconds kTreePatience{15};
// Past its patience, until it has waited this long, a rack's first host is
// taken only by a host whose rack keeps a place for a host of its own after
// it (Torrent::tree_adopt); then by any host with room.
inline constexpr core::Seconds kTreeKeepOwnFor{30};
// When most racks whose first host came this long ago still have that one
// host (a canary of one host a rack), no rack keeps a place for a host of
// its own that may never come (Torrent::racks_keep_places).
inline constexpr core::Seconds kTreeLoneAfter{5};

// The least time without progress that shows a host hangs when a host it
// feeds shows the same (tree_stuck): a client gets nothing for a while with
// no fault, while it connects or is choked for a round (libtorrent decides
// every 15 s); two rounds are more. Real clients announcing every 2 s
// (bench/deploy) were otherwise passed over for a pause: up to 1.57 copies
// into a rack.
inline constexpr core::Seconds kTreeHangShownAfter{30};

// A host placed this long or more after its rack's first host came is told
// of the rack's hosts that feed no other rack as well (select_tree): a host
// that comes with the rack's first grows with it, a later one catches up.
inline constexpr core::Seconds kTreeMeshAfter{15};

// How many hosts that have it all an entry hung off one of them is told of,
// its parent among them (select_tree): each more feeds a rack that starts
// late faster, and adds the blocks a client asks of every peer at the end of
// its download, which come into the rack twice.
inline constexpr std::size_t kTreeSeedersTold = 2;

// Whether `entry`, the entry of `g`, waits for a place: neither hung off a
// host nor fed by the origin seeders.
inline bool tree_waiting(const RackGroup& g, const Peer& entry) {
  const TreeLink& l = g.link_of(entry);
  return l.depth == 0 && !l.origin_fed && l.parent_joined == 0;
}

// A host in the tree: not an origin seeder, and announced within its life
// (peer_timeout and its extra_life).
inline bool in_tree(const Peer& p, core::TimePoint stale_before, const PolicyOptions& policy) {
  return !p.origin() && p.last_seen.time() + policy.extra_life(p) >= stale_before;
}

// The host `p` (of `g`) was given as its parent, while that same host is
// still in the swarm (in `*parent_group` when that is given); null when it
// left, or when `p` has none (not placed, or fed by the origin seeders).
const Peer* tree_parent(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                        const RackGroup** parent_group = nullptr);

// Whether `p` (of `g`) is stuck: no progress for its stall time, counted from
// no earlier than when it was given its parent (or its rack's entry role),
// while that parent has it all (a seeder, the origin) or is an eighth of the
// payload ahead of it and still moving. A host whose parent has nothing more
// to give is waiting, not stuck. A former
// entry that lost its role for being stuck stays stuck until it receives.
// A host gone silent while every host it feeds announced without progress for
// its own stall time is judged as if it had shown no progress itself: one that
// died before it showed its schedule would otherwise be waited on until it
// expires. Sooner than its stall time, a host is judged once a host it feeds
// showed no progress over a whole announce gap while it showed none either,
// or missed an announce. Counted from no earlier than when the parent's rack
// began to receive or, if sooner, when the parent had it all.
bool tree_stuck(const SwarmView& swarm, const RackGroup& g, const Peer& p, core::TimePoint now,
                const PolicyOptions& policy);

// Appends to `out` at most `limit` of the peers `self` (one of `own`'s, in
// `swarm`) is told about under kTree: its parent (the origin seeders for an
// entry they feed) and its children; an origin seeder is told of the entries
// it feeds. A downloading entry hung off a host that had it all is also told
// of another host that has it all in the group it is fed from
// (kTreeSeedersTold), and a host that
// came kTreeMeshAfter after its rack's first of the rack's hosts that feed no
// other rack. Peers last seen before `stale_before` (and their extra_life) are
// never chosen; nothing allocates (`out` must have room).
void select_tree(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                 std::uint32_t limit, bool with_peer_ids, core::TimePoint stale_before,
                 const PolicyOptions& policy, std::vector<core::PeerContact>& out);

}  // namespace p2p::swarm::policy

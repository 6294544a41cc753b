// The policy's knobs: which rule picks a rack's gateways, how many
// representatives, how long a peer lives without an announce.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "core/clock.h"
#include "core/rack.h"
#include "swarm/peer.h"

namespace p2p::swarm {

// Which rule decides a rack's gateways to the rest of the swarm.
enum class PolicyMode : std::uint8_t {
  // The original p2ptracker's: every representative sees outside peers.
  kOriginal,
  // One representative at a time pulls from outside; the others stand by and
  // take over when it stops, expires or stalls (no progress for stall_after);
  // when all are stalled they take turns. A gateway that finished keeps the
  // role: its rack now has the payload.
  kStandby,
  // kStandby's one gateway, plus every other representative once it holds
  // grant_percent of the payload: it then pulls at most the rest from outside
  // (so a rack's uplink carries at most 1 + (max_repr_rack - 1) x (1 -
  // grant_percent / 100) copies) and gives other racks a second source.
  kProgress,
  // kStandby's gateway, but while it downloads it trades inside its rack only
  // with the other representatives, and the rest of the rack only with them:
  // each piece it brings in crosses its upload into the rack about once, so
  // more of that upload serves other racks' gateways.
  kRelay,
  // The hosts in a line, each told of the one before it and the ones after
  // it: a rack's head is fed by one host of the rack before it (its exit),
  // racks hang off the newest rack of their row (else datacenter, else
  // transfer), so one link enters each rack, row and datacenter and each
  // host uploads to about one other (policy/chain_policy.cc).
  kChain,
  // The hosts in a tree, each fed by one parent and feeding at most two:
  // a rack's first host (its entry) hangs off the shallowest host with a free
  // place in the nearest group it shares with hosts already there, the rest
  // of the rack off the shallowest of their rack, so one link enters each
  // rack, row and datacenter and the payload crosses log2(hosts) hops
  // instead of kChain's one per host (policy/tree_policy.cc).
  kTree,
};

// The `policy` key's spelling of each mode ("original", "standby", "progress").
const char* policy_mode_name(PolicyMode mode);
// Sets `mode` to the mode `name` spells; false (and `mode` untouched) if none.
bool parse_policy_mode(std::string_view name, PolicyMode& mode);

// The gap between announces asked of a host still downloading. kTree feeds
// each host from one place and learns that a host stopped feeding the ones
// below it only from their announces, so it asks for `downloading`
// (downloading_interval; 0: none) where that is shorter than `active`. Every
// other mode asks `active`, as the original did; kChain too, as its stall
// time (stall_intervals of this gap) would then pass over hosts only slow.
inline std::uint32_t downloading_interval(PolicyMode mode, std::uint32_t active,
                                          std::uint32_t downloading) {
  return mode == PolicyMode::kTree && downloading > 0 ? std::min(active, downloading) : active;
}

// Whether `mode` feeds each host from one place (kChain, kTree): a host that
// fails then holds the hosts below it until their announces show it, so such
// a mode is only as quick to route round it as its clients announce.
inline bool one_source(PolicyMode mode) {
  return mode == PolicyMode::kChain || mode == PolicyMode::kTree;
}

// Policy knobs (from config; see docs/configuration.md).
struct PolicyOptions {
  std::uint32_t max_repr_rack = 2;
  std::uint32_t maxpeers = 35;
  PolicyMode mode = PolicyMode::kOriginal;
  core::Seconds stall_after{135};    // kStandby, kProgress: a gateway this long without progress
                                     // is stalled
  // The gap asked of downloading clients between announces
  // (downloading_interval() above). kTree's
  // hosts that agree a host gives them nothing show it over one such gap
  // (tree_stuck), never less.
  core::Seconds announce_interval{45};
  std::uint32_t grant_percent = 50;  // kProgress: share of the payload a standby must hold
  // Bounds on who may join a swarm (peers already in it always re-announce);
  // 0: no bound. See max_peers_per_address / max_peers_per_transfer in
  // docs/configuration.md for the defaults' reasons.
  std::uint32_t max_peers_per_address = 0;   // peers (ports) of one address
  std::uint32_t max_peers_per_transfer = 0;  // peers of the whole swarm
  // A peer is dropped after peer_timeout without an announce. One whose
  // regular announces come further apart than that (Peer::cadence8) is kept
  // for its gap and half a peer_timeout more, never longer than
  // peer_timeout_max, and judged stalled only after two of its gaps without
  // progress: a client on its own slower schedule is neither gone nor stuck.
  // Clients that announce within peer_timeout are judged as before.
  // A peer that has not shown its gap yet (one announce so far) is taken to
  // keep assumed_gap: libtorrent's clients announce again only after 300 s,
  // and a rule that waited to learn that would drop each of them once.
  core::Seconds peer_timeout{150};
  core::Seconds peer_timeout_max{900};
  core::Seconds assumed_gap{300};

  // Representatives of each group above racks, by height (0: a row, right
  // above racks; 1: a datacenter...), chosen among those of the level below.
  std::array<std::uint32_t, core::kMaxUpperLevels> max_repr_up{2, 2, 2};

  core::Seconds gap_of(const Peer& p) const { return announce_gap(p, assumed_gap); }
  bool slow(const Peer& p) const { return gap_of(p) > peer_timeout; }
  // How much longer than peer_timeout `p` lives without an announce.
  core::Seconds extra_life(const Peer& p) const {
    if (!slow(p)) return core::Seconds(0);
    return std::min(gap_of(p) + peer_timeout / 2, std::max(peer_timeout, peer_timeout_max)) -
           peer_timeout;
  }
  core::Seconds stall_of(const Peer& p) const {
    return stall_time(p, stall_after, peer_timeout, assumed_gap);
  }
  // Whether `q`, still announcing on its schedule, has reported no progress
  // for its stall time while `silent` sent no announce for as long: what
  // shows that a host which died before it showed its own schedule (kept, and
  // judged by its own progress, as a client announcing every assumed_gap) no
  // longer serves the hosts that depend on it.
  bool starved_while_silent(const Peer& q, const Peer& silent, core::TimePoint now) const {
    const core::Seconds stall = stall_of(q);
    return !q.seeder() && now - silent.last_seen.time() >= stall &&
           now - q.last_seen.time() < stall && q.last_seen.time() - q.last_progress.time() >= stall;
  }
};

}  // namespace p2p::swarm

// Torrent: the swarm of one transfer (info-hash), with its peers grouped by
// rack and the rack policy that decides who sees whom.
//
// Not thread-safe: SwarmTable guards each Torrent with its shard's mutex.
// Usable on its own (tests, the simulator) with no locks at all.
//
// Layout: racks_ is a vector of RackGroup sorted by RackId; each group keeps
// its peers in a vector sorted by endpoint (binary search, no per-peer heap
// node) plus the endpoints of its representatives and origin seeders, so the
// policy reads "my rack" and "the other racks' representatives" as slices
// instead of scanning the whole swarm.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rack.h"
#include "core/rng.h"

namespace p2p::swarm {

using core::AnnounceEvent;

// A time in 32 bits (seconds since the Unix epoch, good until 2106): every
// peer carries two, and a tracker holds millions of peers.
class Stamp32 {
 public:
  Stamp32() = default;
  Stamp32(core::TimePoint t)  // NOLINT: converts like the TimePoint it stores
      : s_(static_cast<std::uint32_t>(t.time_since_epoch().count())) {}
  core::TimePoint time() const { return core::TimePoint(core::Seconds(s_)); }

 private:
  std::uint32_t s_ = 0;
};

// A byte count in 32 bits: exact below 2 GiB, above that in KiB rounded up
// (so never 0 unless 0), capped at 2 TiB. A peer's bytes left: exact where a
// small payload needs it, within 0.05% on a large one.
class Bytes32 {
 public:
  Bytes32() = default;
  explicit Bytes32(std::uint64_t bytes)
      : v_(bytes < kKib ? static_cast<std::uint32_t>(bytes)
                        : kKib | static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                     bytes / 1024 + (bytes % 1024 != 0), kKib - 1))) {}
  std::uint64_t bytes() const { return v_ & kKib ? std::uint64_t{v_ & ~kKib} * 1024 : v_; }
  bool zero() const { return v_ == 0; }

 private:
  static constexpr std::uint32_t kKib = 1u << 31;  // set: the rest counts KiB
  std::uint32_t v_ = 0;
};

// One peer of a swarm: what the announce path reads of it, in 32 bytes
// aligned to 32, so a record never straddles two cache lines and a binary
// search or a rack sample costs one miss per peer it touches. (Its peer_id,
// read only for non-compact replies, lives in RackGroup::peer_ids.) It is also
// the unit the tracker's memory scales with.
struct alignas(32) Peer {
  // Bits of `flags`.
  static constexpr std::uint8_t kRepresentative = 1;  // may see other racks
  static constexpr std::uint8_t kOrigin = 2;          // first seen with left == 0: a source
  static constexpr std::uint8_t kCompleted = 4;       // sent event=completed (counted once)
  static constexpr std::uint8_t kMoved = 8;  // regrouped into another rack since its last announce

  core::Endpoint endpoint;
  std::uint8_t flags = 0;
  // The gap between its last two regular announces (no event), in 8-second
  // units, 0 until known: clients announce on their own schedule (libtorrent
  // never more often than every 300 s, whatever the interval asked), and
  // expiry and stall detection follow it (PolicyOptions::extra_life). Fills the
  // byte the endpoint's alignment left free.
  std::uint8_t cadence8 = 0;
  Bytes32 left;  // bytes left to download
  Stamp32 last_seen;
  Stamp32 last_progress;  // when `left` last went down (stall detection)

  bool seeder() const { return left.zero(); }
  core::Seconds cadence() const { return core::Seconds(std::int64_t{cadence8} * 8); }
  bool representative() const { return flags & kRepresentative; }
  bool origin() const { return flags & kOrigin; }
};
static_assert(sizeof(Peer) == 32, "a peer record grew: every tracker's memory grows with it");

// The gap `p` keeps between regular announces: the one it showed, or until it
// has shown one (its first regular announce), `assumed_gap`.
inline core::Seconds announce_gap(const Peer& p, core::Seconds assumed_gap) {
  return p.cadence8 != 0 ? p.cadence() : assumed_gap;
}

// How long `p` may go without progress before it counts as stalled:
// `stall_after`, or for a peer whose regular announces come (or, not shown
// yet, may come) further apart than `peer_timeout`, two of its gaps (it shows
// progress only that often).
inline core::Seconds stall_time(const Peer& p, core::Seconds stall_after,
                                core::Seconds peer_timeout, core::Seconds assumed_gap) {
  const core::Seconds gap = announce_gap(p, assumed_gap);
  return gap > peer_timeout ? std::max(stall_after, 2 * gap) : stall_after;
}

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
};

// The `policy` key's spelling of each mode ("original", "standby", "progress").
const char* policy_mode_name(PolicyMode mode);
// Sets `mode` to the mode `name` spells; false (and `mode` untouched) if none.
bool parse_policy_mode(std::string_view name, PolicyMode& mode);

// Policy knobs (from config; see docs/configuration.md).
struct PolicyOptions {
  std::uint32_t max_repr_rack = 2;
  std::uint32_t maxpeers = 35;
  PolicyMode mode = PolicyMode::kOriginal;
  core::Seconds stall_after{135};    // kStandby, kProgress: a gateway this long without progress
                                     // is stalled
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
};

// A member of a rack group named outside its sorted peer vector (one of its
// representatives or origin seeders), with where it was last found there. The
// hint saves a binary search (a handful of cache misses on a busy tracker) each
// time a rack-mate announces; inserts and removals shift positions, so it is
// checked before use.
struct MemberRef {
  core::Endpoint endpoint;
  mutable std::uint32_t hint = 0;
};

struct RackGroup {
  core::RackId rack;
  std::vector<Peer> peers;             // sorted by endpoint
  std::vector<core::PeerId> peer_ids;  // peer_ids[i] is peers[i]'s
  // The group's representatives (at most max_repr_rack, in promotion order)
  // and origin seeders: the only members other racks may ever be told about.
  std::vector<MemberRef> representatives;
  std::vector<MemberRef> origins;
  std::uint32_t seeders = 0;
  // Since when the group has peers but no representative (none left and no
  // member has announced since to take a slot); zero while it has one. Kept
  // by Torrent::expire, for the log (SwarmTable::sweep).
  core::TimePoint unrepresented_since{};
  bool unrepresented_reported = false;

  const Peer* find(const core::Endpoint& e) const;
  const Peer* find(const MemberRef& m) const;
  // `p` must be one of `peers`.
  const core::PeerId& peer_id_of(const Peer& p) const { return peer_ids[&p - peers.data()]; }
  // Whether `p`, one of this rack's peers, may exchange data with other racks
  // under `policy` at `now`: a representative in kOriginal mode; in kStandby
  // mode only the first representative (in promotion order) that is not
  // stalled, or when all are, each in turn for stall_after (the second
  // first); in kProgress mode that one and every representative whose bytes
  // left are at most (100 - grant_percent)% of `payload` (the transfer's size
  // as Torrent estimates it; a seeder always qualifies). (Origin seeders are
  // visible to other racks' gateways in every mode, but are told only about
  // their own rack unless they represent it.)
  bool is_gateway(const Peer& p, const PolicyOptions& policy, core::TimePoint now,
                  std::uint64_t payload) const;
  Peer* find(const core::Endpoint& e);
};

// One announce as the swarm sees it: already parsed and located.
struct PeerAnnounce {
  core::Endpoint endpoint;
  core::PeerId peer_id;
  core::RackId rack;
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  AnnounceEvent event = AnnounceEvent::kNone;
  std::uint32_t numwant = 0;  // already defaulted by the caller
  // When a started or completed event happened, to the microsecond (the
  // deploy's first/last times); unset for other announces, which keep
  // whole seconds.
  core::PreciseTime event_time{};
  // Whether the reply shows peer ids (non-compact HTTP without no_peer_id).
  // Compact and UDP replies do not: their contacts leave peer_id zero, which
  // saves a read of RackGroup::peer_ids (a cache miss) per peer.
  bool with_peer_ids = true;
};

// Why a new peer was not let into a swarm.
enum class JoinRefusal : std::uint8_t {
  kNone,
  kAddress,   // its address already has max_peers_per_address peers there
  kTransfer,  // the swarm already has max_peers_per_transfer peers
};

struct AnnounceOutcome {
  std::uint32_t seeders = 0;
  std::uint32_t leechers = 0;
  bool representative = false;  // the announcing peer's role after this announce
  bool joined = false;          // it was not in the swarm before
  bool left_swarm = false;      // event=stopped removed it
  bool rack_changed = false;    // a topology reload moved it since its last announce
  // This completed event left no leecher: the deploy is complete (once, until
  // a leecher joins again).
  bool deploy_complete = false;
  // Not kNone: the peer was new and was not added; nothing else changed and
  // no peers were selected.
  JoinRefusal refused = JoinRefusal::kNone;
};

class Torrent {
 public:
  // Applies one announce and, unless it is a stop, appends the peers this peer
  // should see to `out` (at most min(numwant, maxpeers); `out` is not cleared;
  // its capacity must already hold that many so nothing allocates). Peers last
  // seen before `stale_before` are never handed out. A new peer over
  // policy.max_peers_per_address or max_peers_per_transfer is refused
  // (outcome.refused) and changes nothing.
  AnnounceOutcome announce(const PeerAnnounce& a, core::TimePoint now, core::TimePoint stale_before,
                           const PolicyOptions& policy, core::Rng& rng,
                           std::vector<core::PeerContact>& out);

  // Drops peers last seen before `cutoff` (now - peer_timeout) and their
  // extra_life, freeing their representative slots, and tells `dropped`
  // (when given) about each one and its rack. Returns how many were dropped.
  std::size_t expire(core::TimePoint cutoff, const PolicyOptions& policy,
                     const std::function<void(const Peer&, core::RackId)>* dropped = nullptr);
  // Racks that have had peers but no representative since before `before`,
  // each reported once (until it has one again): calls `fn(rack, peers,
  // since)`. Called by the sweep after expire().
  void report_unrepresented(core::TimePoint now, core::TimePoint before,
                            const std::function<void(core::RackId, std::size_t, core::TimePoint)>& fn);

  // Moves the peers at `address` (every port) from rack `from` to rack `to`:
  // a topology answer that arrived after they were placed. Each leaves its
  // old group as if it had stopped (a representative's slot frees for the
  // next rack-mate to announce) and joins the new one as a peer arriving
  // there, keeping its progress and history. Returns how many moved.
  // Allocates; not on the announce path.
  std::size_t relocate(const core::Address& address, core::RackId from, core::RackId to,
                       const PolicyOptions& policy);

  // Moves every peer to the rack `rack_of` now gives; representatives keep
  // their role where their rack's slots allow.
  template <class RackOf>
  void regroup(RackOf&& rack_of, const PolicyOptions& policy);

  std::uint32_t seeders() const { return seeders_; }
  std::uint32_t leechers() const { return leechers_; }
  std::uint32_t completed() const { return completed_; }  // completed events, ever
  // What the deploy reached, kept when its hosts have left: peers that joined
  // (a host that expired and came back counts again), and of those the ones
  // that arrived complete (origin seeders, which never send completed).
  std::uint32_t joined() const { return joined_; }
  std::uint32_t origins_joined() const { return origins_joined_; }
  // The payload's size when the transfer was registered with it (0: unknown).
  // Until then kProgress estimates it from the announced `left`s.
  void set_payload(std::uint64_t bytes) {
    payload_ = bytes;
    payload_known_ = bytes > 0;
  }
  std::size_t size() const { return seeders_ + leechers_; }
  bool empty() const { return size() == 0; }
  const std::vector<RackGroup>& racks() const { return racks_; }

  std::uint64_t topology_generation = 0;  // which RackMap generation grouped us

  // Deploy milestones, for the stats API.
  // Deploy events, to the microsecond. last_completed moves with every
  // completed event, a repeated one of the same peer included (as the
  // original's HASH:last_completed did); completed() counts each peer once.
  core::PreciseTime first_started{}, last_started{}, first_completed{}, last_completed{};
  // When each completed event was counted, oldest first (one per peer that
  // finished): the dashboard's completed-hosts-over-time plot.
  const std::vector<core::TimePoint>& completions() const { return completions_; }

 private:
  RackGroup& group_for(core::RackId rack);
  // The group of `rack`, or null (never creates one).
  RackGroup* find_group(core::RackId rack);
  // Returns the iterator after the removed peer.
  std::vector<Peer>::iterator remove_peer(RackGroup& g, std::vector<Peer>::iterator it);
  // Returns the inserted peer.
  Peer& insert_peer(RackGroup& g, const Peer& p, const core::PeerId& peer_id,
                    const PolicyOptions& policy);
  void select(const RackGroup& own, const Peer& self, std::uint32_t limit, bool with_peer_ids,
              core::TimePoint now, core::TimePoint stale_before, const PolicyOptions& policy,
              core::Rng& rng, std::vector<core::PeerContact>& out) const;

  std::vector<RackGroup> racks_;  // sorted by rack
  std::uint32_t seeders_ = 0;
  std::uint32_t leechers_ = 0;
  std::uint32_t completed_ = 0;
  std::uint32_t joined_ = 0;
  std::uint32_t origins_joined_ = 0;
  std::vector<core::TimePoint> completions_;
  // What kProgress measures a representative's share against: the registered
  // size, else the largest `left` any peer announced (a fresh downloader's
  // first announce carries the whole size; an open tracker knows no better).
  std::uint64_t payload_ = 0;
  bool payload_known_ = false;
  bool complete_ = false;  // the last leecher completed (AnnounceOutcome::deploy_complete)
};

template <class RackOf>
void Torrent::regroup(RackOf&& rack_of, const PolicyOptions& policy) {
  std::vector<RackGroup> old;
  old.swap(racks_);
  seeders_ = leechers_ = 0;
  // Representatives first, so they keep their slots in their (new) rack.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& g : old) {
      for (std::size_t i = 0; i < g.peers.size(); ++i) {
        const Peer& p = g.peers[i];
        if (p.representative() != (pass == 0)) continue;
        Peer copy = p;
        copy.flags &= static_cast<std::uint8_t>(~Peer::kRepresentative);
        const core::RackId rack = rack_of(p.endpoint.address);
        if (rack != g.rack) copy.flags |= Peer::kMoved;
        insert_peer(group_for(rack), copy, g.peer_ids[i], policy);
      }
    }
  }
}

}  // namespace p2p::swarm

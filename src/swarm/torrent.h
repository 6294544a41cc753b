// Torrent: the swarm of one transfer (info-hash), with its peers grouped by
// rack: membership, representative slots, expiry and relocation. Who is told
// about whom is the policy's (swarm/policy/rack_policy.h), which reads this
// state through a SwarmView.
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
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rack.h"
#include "core/rng.h"
#include "swarm/deploy_progress.h"
#include "swarm/peer.h"
#include "swarm/policy/options.h"
#include "swarm/rack_group.h"
#include "swarm/rack_map.h"
#include "swarm/rep_budget.h"

namespace p2p::swarm {

using core::AnnounceEvent;

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
  kOpen,      // unregistered transfers already have max_open_peers peers (SwarmTable)
};

struct AnnounceOutcome {
  std::uint32_t seeders = 0;
  std::uint32_t leechers = 0;
  bool representative = false;  // the announcing peer's role after this announce
  bool joined = false;          // it was not in the swarm before
  bool left_swarm = false;      // event=stopped removed it
  bool rack_changed = false;    // a topology reload moved it since its last announce
  // The rack it is a peer of: where it was located, unless it was already a
  // peer of another (see Torrent::group_holding).
  core::RackId rack;
  // It took a place above its rack (a row's or datacenter's representative)
  // from a representative stalled there.
  bool replaced_stalled = false;
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
  // (when given) about each one and its rack, and counts every upper group's
  // best_left again from the peers left. Returns how many were dropped.
  std::size_t expire(core::TimePoint cutoff, const PolicyOptions& policy,
                     const std::function<void(const Peer&, core::RackId)>* dropped = nullptr);
  // Racks that have had peers but no representative since before `before`,
  // each reported once (until it has one again): calls `fn(rack, peers,
  // since)`. Called by the sweep after expire().
  void report_unrepresented(
      core::TimePoint now, core::TimePoint before,
      const std::function<void(core::RackId, std::size_t, core::TimePoint)>& fn);

  // Downloading peers whose regular announces have come further apart than
  // twice `asked`, the gap asked of them, plus the 8 s a shown gap is rounded
  // to (a client on its own schedule, as libtorrent's 300 s floor), and the
  // widest such gap.
  struct SlowAnnouncers {
    std::size_t peers = 0;
    core::Seconds widest{0};
  };
  SlowAnnouncers slow_announcers(core::Seconds asked) const;
  // slow_announcers(), returned only when their count has reached twice what
  // it last returned (1, 2, 4, ...: a few reports over a whole deploy).
  // Called by the sweep.
  std::optional<SlowAnnouncers> report_slow_announcers(core::Seconds asked);

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
  // Whether `e`, located in `rack`, is a peer here (in that rack or, see
  // group_holding, in another).
  bool contains(const core::Endpoint& e, core::RackId rack) const {
    return group_holding(e, rack) != nullptr;
  }
  bool empty() const { return size() == 0; }
  const std::vector<RackGroup>& racks() const { return racks_; }
  // What the policy reads: the groups and the payload size it judges by.
  SwarmView view() const {
    return {racks_, uppers_, payload_, uppers_.empty() ? nullptr : &whole_};
  }
  const std::vector<UpperGroup>& uppers() const { return uppers_; }

  // Where a rack's groups above it come from (RackMap::ancestors), asked when
  // the rack first appears in this transfer; null (the default): racks are
  // the only level.
  void set_rack_map(const RackMap* map) { rack_map_ = map; }
  // repr_budget = "per_rack": a representative slot is taken only with the
  // budget's consent (rep_budget.h). Null (the default): per transfer.
  void set_rep_budget(RepBudget* budget) { budget_ = budget; }
  // Gives back every representative slot this transfer holds in the budget:
  // before the transfer is dropped (the budget outlives it).
  void release_representatives();

  std::uint64_t topology_generation = 0;  // which RackMap generation grouped us

  // Deploy milestones, for the stats API.
  // Deploy events, to the microsecond. last_completed moves with every
  // completed event, a repeated one of the same peer included (as the
  // original's HASH:last_completed did); completed() counts each peer once.
  core::PreciseTime first_started{}, last_started{}, first_completed{}, last_completed{};
  // When each completed event was counted, oldest first (one per peer that
  // finished): the dashboard's completed-hosts-over-time plot.
  const std::vector<core::TimePoint>& completions() const { return completions_; }

  // The milestones and counts above, and the peers here now, for a restart
  // to give back (restore). Allocates: not for the announce path.
  DeployProgress progress() const;
  // A digest of what progress() would return, without building it: one pass
  // over the peers, no allocation, so the server can look every few seconds
  // and write the progress only when it changed.
  std::uint64_t progress_digest() const;
  // After a restart: the counts and times `p` has, and its members expected
  // back. One that announces before `until` (the longest a peer would have
  // lived without an announce) is the peer it was, not a new one: it counts
  // as joining no second time, and one that comes back complete without
  // having counted as completed finished while the tracker was away, and
  // counts as completed now. A member that was a representative has its
  // places (its rack's, and those above it it held) kept for it, in its
  // promotion order, for as long as it would have lived without an announce
  // from `now`: no other host takes them meanwhile. Called before any
  // announce of the transfer.
  void restore(DeployProgress p, core::TimePoint now, core::TimePoint until,
               const PolicyOptions& policy);
  // The places restore() keeps that are not taken back yet (tests, stats).
  std::size_t kept_places() const { return holds_.size(); }

 private:
  RackGroup& group_for(core::RackId rack);
  // Gives a new group its feeder on kChain's line (RackGroup::feeder).
  void place_on_line(RackGroup& g);
  // Binds `g`'s exit (RackGroup::exit) unless it has one still here: the
  // host on its line that joined last, other than its head, else its head.
  static void bind_exit(RackGroup& g, core::TimePoint stale_before, const PolicyOptions& policy);
  // kChain: records the head of `g` as drawn now and the host feeding it
  // (RackGroup::head, feed) and, when either is another host than last
  // recorded, since when.
  void note_head(RackGroup& g, core::TimePoint now, core::TimePoint stale_before,
                 const PolicyOptions& policy);
  // kTree: `g`'s tree state, made (every host unplaced) if it has none.
  RackTree& tree_of(RackGroup& g);
  // kTree (policy/tree_policy.h): gives `self` (of `g`) its place in the
  // tree at its first announce, and another when its parent left, went stale
  // or is stuck; a host waiting on a stuck entry takes the entry's role.
  void tree_place(RackGroup& g, Peer& self, core::TimePoint now, core::TimePoint stale_before,
                  const PolicyOptions& policy);
  // `self` becomes `g`'s entry: hung off the shallowest host with room that
  // is shallower than `max_depth`, outside `g`, in the nearest group `g`
  // shares with hosts already there (else off the origin seeders). With
  // `may_wait`, where that host's place is one its rack, row or datacenter
  // keeps for its own, `self` waits instead (tree_waiting_).
  void place_entry(RackGroup& g, Peer& self, int max_depth, core::TimePoint now,
                   core::TimePoint stale_before, const PolicyOptions& policy,
                   bool may_wait = false);
  // Whether the places racks keep for hosts of their own are worth waiting
  // for: not when most racks (but `g`) that came kTreeLoneAfter ago or more
  // still have one host, as in a canary of one host a rack.
  bool racks_keep_places(const RackGroup& g, core::TimePoint now) const;
  // `self` (of `g`), announcing, takes waiting entries as its children while
  // it has room, in the order they began to wait: those whose nearest group
  // shared with hosts there is the one they share with `g`, when `g` has
  // room to spare there, or once they waited kTreePatience.
  void tree_adopt(RackGroup& g, const Peer& self, core::TimePoint now, core::TimePoint stale_before,
                  const PolicyOptions& policy);
  // kTree: UpperGroup::tree_free, the places its racks (but `except`) can
  // spare, each keeping one for a host of its own, of every group above
  // racks inside the one `level` levels down that `near` is in (every group
  // for level 0).
  void sum_tree_free(const RackGroup* except, const RackGroup& near, std::size_t level);
  // kTree, after sum_tree_free for a group `r` is in: whether `r` lacks room to spare, in itself
  // (fewer than two free places) or in a group `level` or more levels above
  // racks down (fewer than two to spare): a rack, row or datacenter keeps
  // those for a host or rack of its own.
  bool tree_crowded(const RackGroup& r, std::size_t level);
  // `entry`, the entry of `g`, took a place after it waited: the depths of
  // the hosts that hung below it meanwhile follow.
  static void end_wait(RackGroup& g, const Peer& entry);
  // The number of levels above racks that `g` shares with the nearest other
  // rack that has hosts in the tree and is neither waiting nor fed through
  // `g`; none: no such rack.
  std::optional<std::size_t> tree_scope(const RackGroup& g, core::TimePoint stale_before,
                                        const PolicyOptions& policy) const;
  // `self`, not `g`'s entry: hung off the shallowest host of `g` with room
  // that is shallower than `max_depth` (else the entry).
  void place_member(RackGroup& g, Peer& self, int max_depth, core::TimePoint now,
                    core::TimePoint stale_before, const PolicyOptions& policy);
  // `child` (of `g`) hangs off `parent` (of `pg`; null: the origin seeders).
  void tree_link(RackGroup& g, Peer& child, RackGroup* pg, const Peer* parent, core::TimePoint now);
  // `child` (of `g`) no longer hangs off its parent; its depth is kept.
  void tree_unlink(RackGroup& g, const Peer& child);
  // `child` (of `g`) no longer counts among its parent's children, which
  // frees its place there; its link is kept. Once a host has it all: the
  // place then goes to a host that starts later, which takes the upload of a
  // host that has it all instead of hanging deeper or off a busy one.
  void tree_release(RackGroup& g, const Peer& child);
  // Whether `p` (of `g`) is `top` (of `top_g`) or hangs, at any depth, below
  // it; `top` null: below any host of `top_g` (or in it).
  bool tree_below(const RackGroup& g, const Peer& p, const RackGroup& top_g, const Peer* top) const;
  // Erases an empty group; the groups it fed are fed from its feeder.
  std::vector<RackGroup>::iterator erase_group(std::vector<RackGroup>::iterator g);
  UpperGroup& upper_for(core::RackId id, core::RackId parent, std::uint8_t height);
  UpperGroup* find_upper(core::RackId id);
  const UpperGroup* find_upper(core::RackId id) const;
  // A representative of `g` takes a free representative slot in each group
  // above it in turn (its row, then its datacenter...) while it holds the one
  // below, or the place of one stalled in it (policy::stalled_above).
  // Allocates only when it takes one.
  // Returns whether it took a stalled one's place.
  bool climb(const RackGroup& g, const Peer& self, const PolicyOptions& policy,
             core::TimePoint now);
  // The first representative of `u` (of those that came through `child`,
  // unless RackId{}) stalled in it at `now`, or end(); `self`, a gateway of
  // `g` that would take its place, is the witness policy::stalled_above asks.
  std::vector<UpperGroup::Member>::iterator stalled_member(UpperGroup& u, core::RackId child,
                                                           const RackGroup& g, const Peer& self,
                                                           const PolicyOptions& policy,
                                                           core::TimePoint now);
  // Whether a peer at `address` may take a free representative slot of `g`
  // (always, unless a shared budget says no; a yes is counted in it).
  bool may_represent(const RackGroup& g, const core::Address& address) {
    return budget_ == nullptr || budget_->acquire(g.rack, address);
  }
  // `e`, leaving group `g`, frees its slots above it.
  void leave_uppers(const RackGroup& g, const core::Endpoint& e);
  static void erase_member(UpperGroup& u, const core::Endpoint& e);
  // A peer of `g` announced `left` (`progress`: less than before): `g`
  // learns since when its peers have been receiving (RackGroup::
  // progress_since), the groups above it when the first of their peers
  // received anything, and how far their furthest peer got.
  void note_left(RackGroup& g, const Bytes32& left, bool progress, core::TimePoint now,
                 const PolicyOptions& policy);
  // The groups above `g`, and the whole swarm, learn that a peer of `g` has
  // `left` bytes to go (their best_left goes down to it).
  void lower_best_left(const RackGroup& g, std::uint64_t left);
  // The group of `rack`, or null (never creates one).
  RackGroup* find_group(core::RackId rack);
  const RackGroup* find_group(core::RackId rack) const;
  // The group holding peer `e`, located in `rack` now: that rack's, else any
  // other (then a pass over the groups); null when `e` is not a peer here.
  RackGroup* group_holding(const core::Endpoint& e, core::RackId rack);
  const RackGroup* group_holding(const core::Endpoint& e, core::RackId rack) const;
  // Returns the iterator after the removed peer.
  std::vector<Peer>::iterator remove_peer(RackGroup& g, std::vector<Peer>::iterator it);
  // Returns the inserted peer.
  Peer& insert_peer(RackGroup& g, const Peer& p, const core::PeerId& peer_id,
                    const PolicyOptions& policy);

  std::vector<RackGroup> racks_;    // sorted by rack
  std::vector<UpperGroup> uppers_;  // sorted by id; empty with one level
  std::uint64_t arrivals_ = 0;      // groups created so far (RackGroup::arrival)
  UpperGroup whole_;                // SwarmView::whole: its best_left and first_progress
  // kTree: racks whose entry waits for a place (place_entry), oldest first,
  // since when, and the scope (tree_scope) they had when last looked at. A
  // rack is here at most once.
  struct TreeWait {
    core::RackId rack;
    core::TimePoint since;
    std::size_t scope = 0;
    core::TimePoint scoped_at;  // when `scope` was last worked out
    // The rack's groups above it (RackGroup::up, fixed for a group's life):
    // most waiting racks are passed over for not sharing `scope` levels with
    // the announcing host's, told from these without looking the rack up.
    std::array<core::RackId, core::kMaxUpperLevels> up{};
    std::uint8_t levels_up = 0;
  };
  std::vector<TreeWait> tree_waiting_;
  // `rack`'s entry in tree_waiting_, or its end().
  std::vector<TreeWait>::iterator find_wait(core::RackId rack) {
    return std::find_if(tree_waiting_.begin(), tree_waiting_.end(),
                        [&](const TreeWait& w) { return w.rack == rack; });
  }
  const RackMap* rack_map_ = nullptr;
  RepBudget* budget_ = nullptr;
  std::uint32_t seeders_ = 0;
  std::uint32_t leechers_ = 0;
  std::uint32_t completed_ = 0;
  std::uint32_t joined_ = 0;
  std::uint32_t origins_joined_ = 0;
  std::size_t slow_reported_ = 0;  // report_slow_announcers()'s last count
  std::vector<core::TimePoint> completions_;
  // restore()'s members not back yet, sorted by endpoint, until `returning_until_`.
  std::vector<DeployProgress::Member> returning_;
  std::vector<bool> returned_;  // returning_[i] came back (take_returning)
  core::TimePoint returning_until_{};
  // `e`'s record in returning_ the first time it is asked before
  // returning_until_; null otherwise.
  const DeployProgress::Member* take_returning(const core::Endpoint& e, core::TimePoint now);
  // A representative's places restore() keeps for it (Member::rank). Its
  // groups are known once its rack is: the rack map may still be asking
  // where it is (RackMap::unsettled), and is asked again at each sweep.
  struct Hold {
    core::Endpoint endpoint;
    core::TimePoint seen_until;  // kept while seen_until >= the sweep's cutoff
    std::uint8_t above = 0;      // Member::above
    std::uint8_t groups = 0;     // 0: not located yet; else its rack, then `above` groups
    std::array<core::RackId, 1 + core::kMaxUpperLevels> group{};
  };
  std::vector<Hold> holds_;  // sorted by endpoint
  // How many places each group (a rack or a group above) keeps, by id.
  std::vector<std::pair<core::RackId, std::uint32_t>> held_;
  // Places kept in group `id` for representatives not back.
  std::uint32_t held(core::RackId id) const {
    if (held_.empty()) return 0;
    auto it = std::lower_bound(held_.begin(), held_.end(), id,
                               [](const auto& h, core::RackId r) { return h.first < r; });
    return it != held_.end() && it->first == id ? it->second : 0;
  }
  // Locates the holds not located yet (`again`: every hold, as after a
  // topology reload) and counts their places in held_.
  void locate_holds(bool again);
  // `e` is back (or stopped): its places are free for it (or anyone).
  void release_hold(const core::Endpoint& e);
  void count_hold(const Hold& h, int by);
  // Puts `g`'s representative `e`, back after a restart with `rank`, at its
  // place in the promotion order among the others back.
  void reorder_returning(RackGroup& g, const core::Endpoint& e, std::uint8_t rank);
  // Peer `q` of `g` as progress() records it.
  DeployProgress::Member member_of(const RackGroup& g, const Peer& q) const;
  // A peer's first completed: counts it, at `at` (its event's time), `now` on the plot.
  void count_completed(core::PreciseTime at, core::TimePoint now);
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
  uppers_.clear();  // representatives climb again on their next announce
  seeders_ = leechers_ = 0;
  // Representatives first, so they keep their slots in their (new) rack.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& g : old) {
      for (std::size_t i = 0; i < g.peers.size(); ++i) {
        const Peer& p = g.peers[i];
        if (p.representative() != (pass == 0)) continue;
        if (budget_ != nullptr && p.representative()) budget_->release(g.rack, p.endpoint.address);
        Peer copy = p;
        copy.flags &= static_cast<std::uint8_t>(~Peer::kRepresentative);
        const core::RackId rack = rack_of(p.endpoint.address);
        if (rack != g.rack) copy.flags |= Peer::kMoved;
        insert_peer(group_for(rack), copy, g.peer_ids[i], policy);
      }
    }
  }
  if (!holds_.empty()) locate_holds(/*again=*/true);
}

}  // namespace p2p::swarm

// RackGroup: the peers of one transfer in one rack, as the swarm keeps them;
// UpperGroup: the representatives of a row or a datacenter; and SwarmView,
// what the policy may read of a whole swarm.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/rack.h"
#include "swarm/peer.h"

namespace p2p::swarm {

// A member of a rack group named outside its sorted peer vector (one of its
// representatives or origin seeders), with where it was last found there. The
// hint saves a binary search (a handful of cache misses on a busy tracker) each
// time a rack-mate announces; inserts and removals shift positions, so it is
// checked before use.
struct MemberRef {
  core::Endpoint endpoint;
  mutable std::uint32_t hint = 0;
};

// kTree (policy/tree_policy.cc): where one host hangs in the transfer's tree.
// The parent is known by its rack group, its endpoint and its joined number
// there, so a host that left and came back at the same endpoint is not taken
// for the parent it was.
struct TreeLink {
  core::RackId parent_rack{};
  Stamp32 since;  // when it was given this parent (or its rack's entry role)
  core::Endpoint parent{};
  std::uint32_t parent_joined = 0;  // 0: no parent (not placed, or fed by the origin seeders)
  std::uint16_t depth = 0;          // hops from the origin seeders; 0: not placed
  std::uint8_t children = 0;        // hosts placed under it that are still here
  bool origin_fed = false;          // a rack's entry fed by the origin seeders
  // A host that has it all keeps its link (its depth, the way up for loop
  // checks) but is no longer one of its parent's children: the place is free.
  bool released = false;
  // Given its first place (or the entry role) yet; and then, whether
  // kTreeMeshAfter or more after its rack's first host came.
  bool placed = false;
  bool came_late = false;
  // Its parent had it all when it was given it.
  bool parent_had_all = false;
  // A former entry that lost its role for being stuck: its last progress
  // then. It is stuck until it receives again (zero: not such a host).
  Stamp32 stuck_since;
};

// kTree's state of one rack group: each host's place, the rack's entry (the
// one host fed from outside it; entry_joined 0: none), the racks whose entry
// hangs off a host of this one, and the places its hosts still have for
// children (two each), kept as links come and go.
struct RackTree {
  std::vector<TreeLink> links;  // links[i] is RackGroup::peers[i]'s
  MemberRef entry{};
  std::uint32_t entry_joined = 0;
  std::vector<core::RackId> fed;
  std::int32_t free = 0;
  Stamp32 opened;  // when its first host announced
};

// A value held apart from its owner, made only when needed and copied with
// it (C++26's std::indirect, which Debian 12's compilers lack, plus "none"):
// a rack group pays one pointer for kTree's state under every other policy.
template <class T>
class HeldApart {
 public:
  HeldApart() = default;
  HeldApart(const HeldApart& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  HeldApart& operator=(const HeldApart& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  HeldApart(HeldApart&&) noexcept = default;
  HeldApart& operator=(HeldApart&&) noexcept = default;

  explicit operator bool() const { return p_ != nullptr; }
  T& emplace() { return *(p_ = std::make_unique<T>()); }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }

 private:
  std::unique_ptr<T> p_;
};

struct RackGroup {
  core::RackId rack;
  // The groups above this rack, outermost first (a datacenter, then a row):
  // up[0..levels_up). None when racks are the only level.
  std::array<core::RackId, core::kMaxUpperLevels> up{};
  std::uint8_t levels_up = 0;
  // kChain (policy/chain_policy.cc): the group this rack's head is fed from,
  // fixed when the group appears (Torrent::place_on_line) and changed only
  // when that group goes; RackId{} for the origin seeders. `arrival` orders
  // the groups by when they appeared.
  core::RackId feeder{};
  std::uint64_t arrival = 0;
  // kChain: the host the racks this one feeds are fed from, last in the
  // rack's line; bound when a rack it feeds first needs it
  // (Torrent::bind_exit) and kept while it is here, so no head it fed is ever
  // given a second host of this rack to pull from.
  MemberRef exit{};
  bool has_exit = false;
  // The exit was bound as the rack's head (it was its only host then): it
  // stays the head too. Otherwise the head is never the exit while another
  // host is on the line.
  bool exit_is_head = false;
  // kChain: the rack's head as drawn (policy::chain_head, known by its
  // joined number; 0: none yet) and the host that feeds it
  // (policy::chain_feed; none: the origin seeders) at the last announce of
  // one of its hosts, and since when they have been. A head that has just
  // taken the role, or been given a new host to pull from (the former went
  // stale), is not judged stuck for the time it waited on the former one.
  std::uint32_t head_joined = 0;
  core::Endpoint feed{};
  core::TimePoint head_since{};
  std::vector<Peer> peers;             // sorted by endpoint
  std::vector<core::PeerId> peer_ids;  // peer_ids[i] is peers[i]'s
  // joined[i]: when peers[i] joined the group, counted in joins to it (the
  // order of kChain's rack line, where a host that comes later goes after
  // those already linked instead of between two of them).
  std::vector<std::uint32_t> joined;
  std::uint32_t joins = 0;
  // kTree's state (RackTree); none until a host of the rack is placed under
  // kTree, then kept while the group is.
  HeldApart<RackTree> tree;
  // Since when its peers have been reporting that they receive (their `left`
  // goes down), with no pause of stall_after or more between two reports;
  // zero until the first. kChain's stuck hosts count from no earlier: after
  // a pause (a failed host upstream), the hosts of a rack start again one
  // after the other, and one that has not announced since the host before it
  // did is not stuck.
  core::TimePoint progress_since{};
  core::TimePoint last_progress{};
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
  std::uint32_t joined_of(const Peer& p) const { return joined[&p - peers.data()]; }
  // kTree: `p`'s place in the tree; the group must have its tree.
  const TreeLink& link_of(const Peer& p) const { return tree->links[&p - peers.data()]; }
  TreeLink& link_of(const Peer& p) { return tree->links[&p - peers.data()]; }
  // kTree: the rack's entry while it is still here, else null.
  const Peer* entry() const {
    if (!tree || tree->entry_joined == 0) return nullptr;
    const Peer* e = find(tree->entry);
    return e != nullptr && joined_of(*e) == tree->entry_joined ? e : nullptr;
  }
  Peer* find(const core::Endpoint& e);
  // The group right above this rack (its row), or RackId{} when none.
  core::RackId parent() const { return levels_up > 0 ? up[levels_up - 1] : core::RackId{}; }
};

// A group above racks in one transfer (a row, a datacenter), known by its
// location path (RackMap::ancestors). Its representatives are chosen among
// the representatives of the groups right below it, first come first served,
// at most max_repr_up[height - 1] and at most one from each group below (so
// a row's representatives sit in different racks, a datacenter's in
// different rows); they are the only members of the groups below that the
// groups beside it are told about.
struct UpperGroup {
  struct Member {
    core::Endpoint endpoint;
    core::RackId rack;      // the rack group the member is in
    core::RackId child;     // the group right below this one it came through
    core::TimePoint since;  // when it took its place
  };
  core::RackId id;
  core::RackId parent;                  // the group above it; RackId{} at the top
  std::uint8_t height = 1;              // 1: right above racks (a row); 2: above those...
  std::vector<Member> representatives;  // in promotion order
  // How far its furthest peer got: the least `left` a peer of its racks
  // announced (Bytes32's rounding), lowered on each announce and counted
  // again from the peers still here at each expiry sweep. A representative
  // that has at least as much as its row's best has nothing to fetch from the
  // row's racks, so it waits without being stalled (policy::is_gateway).
  std::uint64_t best_left = UINT64_MAX;
  // kTree's scratch while it places a rack's entry: the places the group's
  // racks have for racks from outside it (Torrent::place_entry).
  std::int32_t tree_free = 0;
  // When a peer in one of its racks first received anything (its `left` went
  // down); zero until then. Stall times count from no earlier.
  core::TimePoint first_progress{};

  bool has(const core::Endpoint& e) const {
    for (const Member& m : representatives) {
      if (m.endpoint == e) return true;
    }
    return false;
  }
  bool has_child(core::RackId child) const {
    for (const Member& m : representatives) {
      if (m.child == child) return true;
    }
    return false;
  }
};

// The number of levels two racks, each given by its groups above it
// (RackGroup::up, outermost first), share: 0 none; both in one row of one
// datacenter, 2.
inline std::size_t shared_levels(std::span<const core::RackId> a, std::span<const core::RackId> b) {
  std::size_t s = 0;
  while (s < a.size() && s < b.size() && a[s] == b[s]) ++s;
  return s;
}
inline std::size_t shared_levels(const RackGroup& a, const RackGroup& b) {
  return shared_levels(std::span(a.up).first(a.levels_up), std::span(b.up).first(b.levels_up));
}

// The swarm state the policy decides from, read-only: every rack group of one
// transfer (sorted by rack) and the payload size kProgress measures shares
// against. Torrent::view() makes one; nothing in it is copied.
struct SwarmView {
  std::span<const RackGroup> groups;
  std::span<const UpperGroup> uppers;  // sorted by id; empty with one level
  std::uint64_t payload = 0;
  // How far the furthest peer of the whole swarm got, and when the first one
  // had anything (an origin has from its arrival): the level above the top
  // groups, as an UpperGroup's are for the groups below it. Null with one
  // level.
  const UpperGroup* whole = nullptr;

  // The rack group `rack`, or null.
  const RackGroup* group(core::RackId rack) const;
  // The upper group `id`, or null.
  const UpperGroup* upper(core::RackId id) const;
};

}  // namespace p2p::swarm

#include "swarm/torrent.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <climits>
#include <cstring>
#include <tuple>

#include "swarm/policy/chain_policy.h"
#include "swarm/policy/rack_policy.h"
#include "swarm/policy/tree_policy.h"

namespace p2p::swarm {
namespace {

// TreeLink::parent_joined of an entry whose parent's group was erased: no
// host has it, so the parent is looked for and not found.
constexpr std::uint32_t kGoneParent = UINT32_MAX;

// Waiting racks an announce looks at for a place under the announcing host
// (Torrent::tree_adopt).
constexpr int kTreeLooks = 8;

// A host that has it all and feeds nobody: a host hung off it takes its
// whole upload, where one off a host that feeds another takes half.
bool idle_seeder(const Peer& p, const TreeLink& l) { return p.seeder() && l.children == 0; }

// A function object, not a function, so std::lower_bound inlines it.
constexpr auto endpoint_less = [](const Peer& p, const core::Endpoint& e) {
  return p.endpoint < e;
};

// std::vector doubles its capacity, leaving peer vectors about a third empty
// on average, and peer records are what the tracker's memory is made of
// (docs/performance.md): grow by a sixteenth (at least 4) instead. Inserting
// into a sorted vector moves the tail anyway, so the extra reallocations cost
// little; the memory benchmark went from 83.9 to 79.1 bytes per peer.
template <class T>
void make_room_for_one(std::vector<T>& v) {
  if (v.size() == v.capacity()) v.reserve(v.size() + v.size() / 16 + 4);
}

// After expiry a swarm that shrank keeps its peak capacity; give it back once
// it is more than half again the peers left (a swarm that shrank for good,
// not one between two announces of its peers). Not on the announce path:
// expire() runs on the sweep.
template <class T>
void release_slack(std::vector<T>& v) {
  if (v.capacity() > v.size() + v.size() / 2 + 4) v.shrink_to_fit();
}

void erase_endpoint(std::vector<MemberRef>& v, const core::Endpoint& e) {
  auto it = std::find_if(v.begin(), v.end(), [&](const MemberRef& m) { return m.endpoint == e; });
  if (it != v.end()) v.erase(it);
}

}  // namespace

const Peer* RackGroup::find(const core::Endpoint& e) const {
  auto it = std::lower_bound(peers.begin(), peers.end(), e, endpoint_less);
  return it != peers.end() && it->endpoint == e ? &*it : nullptr;
}

const Peer* RackGroup::find(const MemberRef& m) const {
  if (m.hint < peers.size() && peers[m.hint].endpoint == m.endpoint) return &peers[m.hint];
  const Peer* p = find(m.endpoint);
  if (p != nullptr) m.hint = static_cast<std::uint32_t>(p - peers.data());
  return p;
}

const RackGroup* SwarmView::group(core::RackId rack) const {
  auto it = std::lower_bound(groups.begin(), groups.end(), rack,
                             [](const RackGroup& g, core::RackId r) { return g.rack < r; });
  return it != groups.end() && it->rack == rack ? &*it : nullptr;
}

const UpperGroup* SwarmView::upper(core::RackId id) const {
  auto it = std::lower_bound(uppers.begin(), uppers.end(), id,
                             [](const UpperGroup& u, core::RackId r) { return u.id < r; });
  return it != uppers.end() && it->id == id ? &*it : nullptr;
}

Peer* RackGroup::find(const core::Endpoint& e) {
  return const_cast<Peer*>(std::as_const(*this).find(e));
}

RackGroup* Torrent::find_group(core::RackId rack) {
  auto it = std::lower_bound(racks_.begin(), racks_.end(), rack,
                             [](const RackGroup& g, core::RackId r) { return g.rack < r; });
  return it != racks_.end() && it->rack == rack ? &*it : nullptr;
}

const RackGroup* Torrent::find_group(core::RackId rack) const {
  return const_cast<Torrent*>(this)->find_group(rack);
}

// A peer is in one group. Its rack is a function of its address only while
// the locator remembers the address: an answer dropped from the locator's
// cache and asked again may come back as the fallback (the source slow or
// down) or as a new rack, and nothing relocates the peer then. Taken as a new
// peer of that rack it would be in two (counted twice, holding two
// representative slots, listed twice to others, one copy left behind by its
// stop), so a peer not in its rack's group is looked for in the others: it
// stays where it is until the locator moves it (relocate, regroup). The pass
// is a binary search per group (3 us a join in 200 racks, against 0.5 us
// without), so announce() pays it only where such a peer can be: not for a
// `started` join (a client's first announce, the whole fleet at a deploy's
// start), only for an announce without one that is not in its rack's group (a
// peer back after a restart or an expiry, or one the locator forgot) and for
// a stop.
RackGroup* Torrent::group_holding(const core::Endpoint& e, core::RackId rack) {
  RackGroup* g = find_group(rack);
  if (g != nullptr && g->find(e) != nullptr) return g;
  for (RackGroup& other : racks_) {
    if (&other != g && other.find(e) != nullptr) return &other;
  }
  return nullptr;
}

const RackGroup* Torrent::group_holding(const core::Endpoint& e, core::RackId rack) const {
  return const_cast<Torrent*>(this)->group_holding(e, rack);
}

RackGroup& Torrent::group_for(core::RackId rack) {
  auto it = std::lower_bound(racks_.begin(), racks_.end(), rack,
                             [](const RackGroup& g, core::RackId r) { return g.rack < r; });
  if (it == racks_.end() || it->rack != rack) {
    it = racks_.insert(it, RackGroup{});
    it->rack = rack;
    if (rack_map_ != nullptr) {
      it->levels_up = static_cast<std::uint8_t>(rack_map_->ancestors(rack, it->up));
    }
    place_on_line(*it);
  }
  return *it;
}

void Torrent::place_on_line(RackGroup& g) {
  // The newest group of its row, else of its datacenter, else of the transfer
  // (else the origin seeders): a new rack goes at the end of its row's part of
  // the line, a new row's first rack hangs off its datacenter's newest rack.
  // Appended, never inserted, so no host already fed is given a second
  // feeder. A rack of origin seeders only feeds nobody.
  g.arrival = ++arrivals_;
  const RackGroup* best = nullptr;
  std::size_t best_shared = 0;
  for (const RackGroup& other : racks_) {
    if (&other == &g || other.peers.size() == other.origins.size()) continue;
    const std::size_t shared = shared_levels(g, other);
    if (best == nullptr || shared > best_shared ||
        (shared == best_shared && other.arrival > best->arrival)) {
      best = &other;
      best_shared = shared;
    }
  }
  g.feeder = best != nullptr ? best->rack : core::RackId{};
}

void Torrent::bind_exit(RackGroup& g, core::TimePoint stale_before, const PolicyOptions& policy) {
  if (g.has_exit && g.find(g.exit) != nullptr) return;
  const Peer* head = policy::chain_head(g, stale_before, policy);
  // The host that joined last, so that it is behind every host of its rack.
  const Peer* exit =
      policy::next_joined(g, nullptr, /*forward=*/false, head, nullptr, stale_before, policy);
  g.exit_is_head = exit == nullptr;
  if (exit == nullptr) exit = head;
  g.has_exit = exit != nullptr;
  if (exit != nullptr) g.exit = {exit->endpoint};
}

void Torrent::note_head(RackGroup& g, core::TimePoint now, core::TimePoint stale_before,
                        const PolicyOptions& policy) {
  const Peer* head = policy::chain_head(g, stale_before, policy);
  if (head == nullptr) return;
  const Peer* feed = policy::chain_feed(view(), g, now, stale_before, policy);
  const core::Endpoint feed_at = feed != nullptr ? feed->endpoint : core::Endpoint{};
  if (g.head_joined == g.joined_of(*head) && feed_at == g.feed) {
    return;
  }
  g.head_joined = g.joined_of(*head);
  g.feed = feed_at;
  g.head_since = now;
}

std::vector<RackGroup>::iterator Torrent::erase_group(std::vector<RackGroup>::iterator g) {
  for (RackGroup& other : racks_) {
    if (other.feeder == g->rack) other.feeder = g->feeder;
  }
  // kTree: the entries it fed look for another parent; a group of the same
  // rack made later must not be taken for this one.
  if (g->tree) {
    for (const core::RackId fed : g->tree->fed) {
      RackGroup* other = find_group(fed);
      const Peer* e = other != nullptr ? other->entry() : nullptr;
      if (e != nullptr && other->link_of(*e).parent_rack == g->rack) {
        other->link_of(*e).parent_joined = kGoneParent;
      }
    }
  }
  return racks_.erase(g);
}

RackTree& Torrent::tree_of(RackGroup& g) {
  if (!g.tree) {  // its first host under kTree, or the policy became kTree while hosts were here
    RackTree& t = g.tree.emplace();
    t.links.resize(g.peers.size());
    for (const Peer& p : g.peers) t.free += p.origin() ? 0 : policy::kTreeFanOut;
  }
  return *g.tree;
}

void Torrent::tree_link(RackGroup& g, Peer& child, RackGroup* pg, const Peer* parent,
                        core::TimePoint now) {
  TreeLink& link = g.link_of(child);
  link.since = now;
  if (!link.placed) {
    link.placed = true;
    link.came_late = now - g.tree->opened.time() >= policy::kTreeMeshAfter;
  }
  link.origin_fed = parent == nullptr;
  link.released = false;
  if (parent == nullptr) {
    link.parent = {};
    link.parent_rack = {};
    link.parent_joined = 0;
    link.parent_had_all = false;
    link.depth = 1;
    return;
  }
  link.parent = parent->endpoint;
  link.parent_had_all = parent->seeder();
  link.parent_rack = pg->rack;
  link.parent_joined = pg->joined_of(*parent);
  TreeLink& up = pg->link_of(*parent);
  link.depth = static_cast<std::uint16_t>(std::min(up.depth + 1, 0xffff));
  pg->tree->free -= up.children < policy::kTreeFanOut ? 1 : 0;
  if (up.children < 0xff) ++up.children;
  if (pg != &g) pg->tree->fed.push_back(g.rack);
}

void Torrent::tree_unlink(RackGroup& g, const Peer& child) {
  tree_release(g, child);
  TreeLink& link = g.link_of(child);
  if (link.parent_joined != 0 && link.parent_rack != g.rack) {
    if (RackGroup* pg = find_group(link.parent_rack); pg != nullptr && pg->tree) {
      auto& fed = pg->tree->fed;
      auto it = std::find(fed.begin(), fed.end(), g.rack);
      if (it != fed.end()) fed.erase(it);
    }
  }
  link.parent = {};
  link.parent_rack = {};
  link.parent_joined = 0;
  link.origin_fed = false;
  link.released = false;
}

void Torrent::tree_release(RackGroup& g, const Peer& self) {
  TreeLink& link = g.link_of(self);
  if (link.released) return;
  link.released = true;
  const RackGroup* cpg = nullptr;
  const Peer* parent = policy::tree_parent(view(), g, self, &cpg);
  if (parent == nullptr) return;
  RackGroup& pg = const_cast<RackGroup&>(*cpg);  // one of racks_
  TreeLink& up = pg.link_of(*parent);
  if (up.children > 0) --up.children;
  pg.tree->free += up.children < policy::kTreeFanOut ? 1 : 0;
}

bool Torrent::tree_below(const RackGroup& g, const Peer& p, const RackGroup& top_g,
                         const Peer* top) const {
  const SwarmView swarm = view();
  const RackGroup* at_g = &g;
  const Peer* at = &p;
  // Depths fall by one a hop; a walk longer than the deepest host is a loop
  // (which this check exists to prevent) or a stale depth: either way, no.
  for (int hops = 0; hops <= 0xffff && at != nullptr; ++hops) {
    if (at_g == &top_g && (top == nullptr || at == top)) return true;
    const RackGroup* next_g = nullptr;
    at = policy::tree_parent(swarm, *at_g, *at, &next_g);
    at_g = next_g;
  }
  return false;
}

void Torrent::tree_place(RackGroup& g, Peer& self, core::TimePoint now,
                         core::TimePoint stale_before, const PolicyOptions& policy) {
  tree_of(g);
  const SwarmView swarm = view();
  if (self.seeder()) {
    tree_release(g, self);
    return;
  }
  auto live = [&](const Peer& p) { return policy::in_tree(p, stale_before, policy); };
  const Peer* entry = g.entry();
  if (entry != nullptr && !live(*entry)) {
    // A stale entry is no longer fed from outside for this rack: the next
    // host to announce takes the role; the former one hangs in the rack if
    // it comes back.
    tree_unlink(g, *entry);
    g.link_of(*entry).depth = 0;
    g.tree->entry_joined = 0;
    entry = nullptr;
  }
  TreeLink& link = g.link_of(self);
  if (entry == nullptr) {
    if (g.tree->opened.time() == core::TimePoint{}) g.tree->opened = now;
    tree_unlink(g, self);
    g.tree->entry = {self.endpoint};
    g.tree->entry_joined = g.joined_of(self);
    // Only a rack that feeds nothing yet may wait: one whose entry left may
    // have hosts, and racks, below it.
    const bool first =
        g.tree->fed.empty() && std::none_of(g.peers.begin(), g.peers.end(), [&](const Peer& p) {
          return &p != &self && g.link_of(p).depth > 0;
        });
    place_entry(g, self, INT_MAX, now, stale_before, policy, first);
    return;
  }
  if (entry == &self) {
    if (link.origin_fed) return;
    const RackGroup* pg = nullptr;
    const Peer* parent = policy::tree_parent(swarm, g, self, &pg);
    if (parent != nullptr && live(*parent) &&
        !policy::tree_stuck(swarm, *pg, *parent, now, policy)) {
      return;
    }
    // A waiting entry that announces again takes a place as any would, but
    // not before tree_adopt would give it any (kTreeKeepOwnFor): the wait
    // must not end sooner for a host asked to announce more often. With 10 s
    // announces it did, and a place a group kept for its own hosts went to
    // the first rack to re-announce (10,000 hosts, 10 a rack, starting over
    // 60 s: 95.3 s, now 88.4 s; with 45 s announces, 84.1 s).
    const bool waited = policy::tree_waiting(g, self);
    if (waited) {
      auto w = find_wait(g.rack);
      if (w != tree_waiting_.end() && now - w->since < policy::kTreeKeepOwnFor) return;
    }
    const int depth = waited ? INT_MAX : link.depth;
    tree_unlink(g, self);
    place_entry(g, self, depth, now, stale_before, policy);
    if (waited) end_wait(g, self);
    return;
  }
  const Peer* parent = policy::tree_parent(swarm, g, self);
  if (parent == entry && policy::tree_stuck(swarm, g, *entry, now, policy)) {
    // Waiting on a stuck entry: this host takes its role, and its place
    // above the rack, which keeps one way in. The former entry hangs in the
    // rack below it at its next announce, and is stuck for the hosts still
    // below it until it receives again: they find another parent at their
    // next announce instead of stall_after later.
    TreeLink& former = g.link_of(*entry);
    const int depth = former.depth;
    tree_unlink(g, *entry);
    former.depth = 0;
    former.stuck_since = entry->last_progress.time();
    tree_unlink(g, self);
    g.tree->entry = {self.endpoint};
    g.tree->entry_joined = g.joined_of(self);
    place_entry(g, self, depth, now, stale_before, policy);
    return;
  }
  if (parent != nullptr && live(*parent) && !policy::tree_stuck(swarm, g, *parent, now, policy)) {
    return;
  }
  // Above itself when it had a place, so it never hangs below its own subtree.
  const int max_depth = link.parent_joined != 0 && link.depth > 0 ? link.depth : INT_MAX;
  tree_unlink(g, self);
  place_member(g, self, max_depth, now, stale_before, policy);
}

void Torrent::place_member(RackGroup& g, Peer& self, int max_depth, core::TimePoint now,
                           core::TimePoint stale_before, const PolicyOptions& policy) {
  const SwarmView swarm = view();
  // Shallowest first among hosts with room; when all are full, the one with
  // the fewest children (then the shallowest); then the earliest to join.
  using Key = std::tuple<bool, bool, int, int, std::uint32_t>;
  const Peer* best = nullptr;
  Key best_key{};
  for (const Peer& p : g.peers) {
    const TreeLink& l = g.link_of(p);
    if (&p == &self || l.depth == 0 || l.depth >= max_depth ||
        !policy::in_tree(p, stale_before, policy)) {
      continue;
    }
    const bool full = l.children >= policy::kTreeFanOut;
    const Key key{full, !idle_seeder(p, l), full ? l.children : 0, l.depth, g.joined_of(p)};
    if (best != nullptr && !(key < best_key)) continue;
    if (policy::tree_stuck(swarm, g, p, now, policy) || tree_below(g, p, g, &self)) continue;
    best = &p;
    best_key = key;
  }
  if (best == nullptr) best = g.entry();
  // No entry to hang off, or only one below it (a link kept from before
  // the entry changed): placed at its next announce.
  if (best == nullptr || best == &self || tree_below(g, *best, g, &self)) return;
  tree_link(g, self, &g, best, now);
}

std::optional<std::size_t> Torrent::tree_scope(const RackGroup& g, core::TimePoint stale_before,
                                               const PolicyOptions& policy) const {
  auto live = [&](const Peer& p) { return policy::in_tree(p, stale_before, policy); };
  // The nearest group shared with hosts already here: one link enters it.
  // Racks that went silent do not count (their places are not there to
  // take), nor racks fed through this one (an entry that lost its parent
  // looks further out, as the group is then entered through it), nor racks
  // that wait for a place (nothing comes in through them yet).
  // The cheap test first: a rack no nearer than the nearest found so far
  // cannot change the answer, and only the racks that could are walked up
  // the tree (tree_below: a few hops each, every hop a lookup), which with
  // a thousand racks was most of an announce's work while racks waited.
  std::optional<std::size_t> scope;
  for (const RackGroup& r : racks_) {
    if (&r == &g) continue;
    const std::size_t shared = shared_levels(g, r);
    if (scope.has_value() && shared <= *scope) continue;
    if (std::none_of(r.peers.begin(), r.peers.end(), live)) continue;
    const Peer* re = r.entry();
    if (re != nullptr && (tree_below(r, *re, g, nullptr) || policy::tree_waiting(r, *re))) {
      continue;
    }
    scope = shared;
    if (shared >= g.levels_up) break;  // no two racks share more than every level above
  }
  return scope;
}

bool Torrent::racks_keep_places(const RackGroup& g, core::TimePoint now) const {
  std::size_t settled = 0, alone = 0;
  for (const RackGroup& r : racks_) {
    // A rack of origin seeders only has no entry, and no tree hosts to come.
    if (&r == &g || r.entry() == nullptr || now - r.tree->opened.time() < policy::kTreeLoneAfter) {
      continue;
    }
    ++settled;
    alone += r.peers.size() == 1 ? 1 : 0;
  }
  return alone * 2 <= settled;
}

void Torrent::place_entry(RackGroup& g, Peer& self, int max_depth, core::TimePoint now,
                          core::TimePoint stale_before, const PolicyOptions& policy,
                          bool may_wait) {
  const SwarmView swarm = view();
  auto live = [&](const Peer& p) { return policy::in_tree(p, stale_before, policy); };
  const std::optional<std::size_t> nearest = tree_scope(g, stale_before, policy);
  const bool any = nearest.has_value();
  const std::size_t scope = nearest.value_or(0);
  const RackGroup* best_group = nullptr;
  const Peer* best = nullptr;
  // Not "crowded" first: a host with room in a rack (and row, datacenter)
  // that keeps room for its own; then, among crowded ones, the fewest
  // children; the shallowest; the rack that came first, its first host.
  using Key = std::tuple<bool, bool, int, int, std::uint64_t, std::uint32_t>;
  Key best_key{};
  if (any) {
    // One place in each rack is kept for a host of its own, and in each row
    // and datacenter for a rack of its own: without it a burst of new racks
    // fills a rack's places before its own hosts come, and they then make a
    // third child (160 hosts, racks only: 89.6 s against 51.9 s).
    sum_tree_free(&g, g, scope);
    // Only the nearest group: a host of a wider one would be a second way
    // into it. Shallower than max_depth first; when none is (all are stuck
    // or below this one), any not below it: the origin seeders taking it
    // would make a second way into that group (real clients, a dead entry
    // above its datacenter: two copies into it).
    auto find_best = [&](int below_depth) {
      const std::size_t at = scope;
      for (const RackGroup& r : racks_) {
        if (&r == &g || !r.tree || shared_levels(g, r) != at) continue;
        if (const Peer* re = r.entry(); re != nullptr && policy::tree_waiting(r, *re)) continue;
        const bool crowded = tree_crowded(r, at);
        for (const Peer& p : r.peers) {
          const TreeLink& l = r.link_of(p);
          if (l.depth == 0 || l.depth >= below_depth || !live(p)) continue;
          const bool full = crowded || l.children >= policy::kTreeFanOut;
          const Key key{full,    !idle_seeder(p, l), full ? l.children : 0,
                        l.depth, r.arrival,          r.joined_of(p)};
          if (best != nullptr && !(key < best_key)) continue;
          if (policy::tree_stuck(swarm, r, p, now, policy) || tree_below(r, p, g, nullptr)) {
            continue;
          }
          best = &p;
          best_group = &r;
          best_key = key;
        }
      }
    };
    find_best(max_depth);
    if (best == nullptr && max_depth != INT_MAX) find_best(INT_MAX);
  }
  // With nothing above shared, the origin seeders take a second entry rather
  // than a host that has no room: that would put a rack's subtree at a third
  // of a host's upload, this puts one more copy on the origin's uplink only.
  if (best != nullptr && scope == 0 && std::get<0>(best_key)) {
    int origin_fed = 0;
    for (const RackGroup& r : racks_) {
      const Peer* e = &r != &g ? r.entry() : nullptr;
      if (e != nullptr && r.link_of(*e).origin_fed && live(*e)) ++origin_fed;
    }
    if (origin_fed < policy::kTreeFanOut) best = nullptr;
  }
  // A place kept for a group's own hosts is theirs: a rack's first host
  // given it makes that host's own next one a third child, and every host
  // below it then gets a third of an upload (10,000 hosts, 10 a rack: the
  // first entries, all at the top of the tree, fed three). So it waits for a
  // host there with room to spare to announce and take it (tree_adopt), or
  // for its own next announce. Not while every rack has one host: then none
  // may ever come to use the place (a canary of one host a rack).
  if (may_wait && best != nullptr && scope > 0 && std::get<0>(best_key) &&
      racks_keep_places(g, now)) {
    tree_unlink(g, self);
    g.link_of(self).depth = 0;
    auto w = find_wait(g.rack);
    const TreeWait wait{g.rack, now, scope, now, g.up, g.levels_up};
    if (w != tree_waiting_.end()) {
      *w = wait;
    } else {
      tree_waiting_.push_back(wait);
    }
    return;
  }
  tree_link(g, self, const_cast<RackGroup*>(best_group), best, now);
}

void Torrent::sum_tree_free(const RackGroup* except, const RackGroup& near, std::size_t level) {
  // Only the groups inside `near`'s at `level` are read after (tree_crowded
  // of racks there, from that level down), and only their racks add to
  // them: the lookups stay within one row or datacenter once it has hosts
  // (100,000 hosts over 10,000 racks: a third of an announce's time when
  // every rack's were summed).
  auto inside = [&](const RackGroup& r) { return r.tree && shared_levels(near, r) >= level; };
  for (const RackGroup& r : racks_) {
    if (!inside(r)) continue;
    for (std::size_t l = level; l < r.levels_up; ++l) {
      if (UpperGroup* u = find_upper(r.up[l])) u->tree_free = 0;
    }
  }
  for (const RackGroup& r : racks_) {
    if (&r == except || !inside(r)) continue;
    const std::int32_t spare = std::max(0, r.tree->free - 1);
    for (std::size_t l = level; l < r.levels_up; ++l) {
      if (UpperGroup* u = find_upper(r.up[l])) u->tree_free += spare;
    }
  }
}

bool Torrent::tree_crowded(const RackGroup& r, std::size_t level) {
  if (r.tree->free < policy::kTreeFanOut) return true;
  for (std::size_t l = level; l < r.levels_up; ++l) {
    const UpperGroup* u = find_upper(r.up[l]);
    if (u != nullptr && u->tree_free < policy::kTreeFanOut) return true;
  }
  return false;
}

void Torrent::end_wait(RackGroup& g, const Peer& entry) {
  // Every other host of `g` placed while its entry waited hangs below it,
  // its depth counted from it (tree_place lets only a rack with no other
  // host placed wait): each is now that many hops below the entry's place.
  const std::uint16_t entry_depth = g.link_of(entry).depth;
  for (const Peer& p : g.peers) {
    TreeLink& l = g.link_of(p);
    if (&p != &entry && l.depth > 0) {
      l.depth = static_cast<std::uint16_t>(std::min(l.depth + entry_depth, 0xffff));
    }
  }
}

void Torrent::tree_adopt(RackGroup& g, const Peer& self, core::TimePoint now,
                         core::TimePoint stale_before, const PolicyOptions& policy) {
  if (tree_waiting_.empty() || !g.tree) return;
  const SwarmView swarm = view();
  auto live = [&](const Peer& p) { return policy::in_tree(p, stale_before, policy); };
  const Peer* own_entry = g.entry();
  if (g.link_of(self).depth == 0 || own_entry == nullptr || policy::tree_waiting(g, *own_entry) ||
      !live(self) || policy::tree_stuck(swarm, g, self, now, policy)) {
    return;
  }
  // Whether `g` has room to spare from `level` down, as place_entry asks of
  // a host that is not crowded. A waiting rack is in none of the groups
  // looked at (those from the first it does not share with `g`), so the
  // sums need not leave it out. Sums made from one level hold for every
  // level below it, so they are made again only for a wider one.
  std::optional<std::size_t> summed;
  auto spares_from = [&](std::size_t level) {
    if (!summed.has_value() || level < *summed) {
      sum_tree_free(nullptr, g, level);
      summed = level;
    }
    return !tree_crowded(g, level);
  };
  // Each look reads every rack (tree_scope): a few an announce bound the
  // work a burst of waiting racks makes; the rest are looked at by the next.
  int looks = kTreeLooks;
  for (auto w = tree_waiting_.begin();
       w != tree_waiting_.end() && looks > 0 && g.link_of(self).children < policy::kTreeFanOut;) {
    // `g` must be in the nearest group the waiting rack shares with hosts
    // there. That grows as hosts come, so most racks are passed over here,
    // from the path kept with them (looking each up, with thousands
    // waiting, was half of an announce's time); it shrinks only as racks
    // leave, so past its patience a rack's is worked out afresh, once every
    // kTreePatience: were it each time, a few hundred racks waiting
    // elsewhere in the fleet took every look of every announce, and a rack
    // here waited for a place while hosts with room announced (10,000 hosts
    // over 1,000 racks starting over 60 s: 105.2 s, now 98.7 s). A rack that
    // no longer waits is dropped when next looked at.
    const std::size_t shared =
        shared_levels(std::span(g.up).first(g.levels_up), std::span(w->up).first(w->levels_up));
    const bool patient = now - w->since < policy::kTreePatience;
    const bool rescope = !patient && now - w->scoped_at >= policy::kTreePatience;
    if (shared < w->scope && !rescope) {
      ++w;
      continue;
    }
    RackGroup* r = find_group(w->rack);
    const Peer* e = r != nullptr && r->tree ? r->entry() : nullptr;
    if (e == nullptr || !policy::tree_waiting(*r, *e) || !live(*e)) {
      w = tree_waiting_.erase(w);
      continue;
    }
    --looks;
    w->scope = tree_scope(*r, stale_before, policy).value_or(0);
    w->scoped_at = now;
    // Past its patience, and until kTreeKeepOwnFor, still not the last free
    // place of `g`'s rack: the racks of a row wait on its first rack, and
    // took the places its own hosts came for a little later, which then
    // each fed three, the row's entries a third of an upload each (10,000
    // hosts, 10 a rack, starting over 60 s: 98.7 s, now 83.7 s, over 3 seeds).
    const bool keeps_own = now - w->since < policy::kTreeKeepOwnFor;
    // Nothing hangs below a waiting rack (place_entry passes its hosts
    // over), so `self` cannot be below it; checked all the same, as a loop
    // would cut every host on it off the origin.
    if (shared != w->scope || (patient && !spares_from(shared)) ||
        (keeps_own && g.tree->free < policy::kTreeFanOut) || tree_below(g, self, *r, nullptr)) {
      ++w;
      continue;
    }
    tree_link(*r, const_cast<Peer&>(*e), &g, &self, now);
    end_wait(*r, *e);
    w = tree_waiting_.erase(w);
  }
}

void Torrent::release_representatives() {
  if (budget_ == nullptr) return;
  for (const RackGroup& g : racks_) {
    for (const Peer& p : g.peers) {
      if (p.representative()) budget_->release(g.rack, p.endpoint.address);
    }
  }
}

UpperGroup* Torrent::find_upper(core::RackId id) {
  auto it = std::lower_bound(uppers_.begin(), uppers_.end(), id,
                             [](const UpperGroup& u, core::RackId r) { return u.id < r; });
  return it != uppers_.end() && it->id == id ? &*it : nullptr;
}

const UpperGroup* Torrent::find_upper(core::RackId id) const {
  return const_cast<Torrent*>(this)->find_upper(id);
}

UpperGroup& Torrent::upper_for(core::RackId id, core::RackId parent, std::uint8_t height) {
  auto it = std::lower_bound(uppers_.begin(), uppers_.end(), id,
                             [](const UpperGroup& u, core::RackId r) { return u.id < r; });
  if (it == uppers_.end() || it->id != id) {
    it = uppers_.insert(it, UpperGroup{});
    it->id = id;
    it->parent = parent;
    it->height = height;
  }
  return *it;
}

bool Torrent::climb(const RackGroup& g, const Peer& self, const PolicyOptions& policy,
                    core::TimePoint now) {
  bool replaced = false;
  // From the row outwards: a peer represents a datacenter only while it
  // represents one of its rows. One representative per group below: two from
  // one rack would share its uplink and its rack-mates' connections (the
  // simulator stranded whole rows so at 100,000 hosts), and a second rack
  // gives the row a second way in.
  for (std::size_t i = g.levels_up; i-- > 0;) {
    const auto height = static_cast<std::uint8_t>(g.levels_up - i);
    UpperGroup& u = upper_for(g.up[i], i > 0 ? g.up[i - 1] : core::RackId{}, height);
    if (u.has(self.endpoint)) continue;
    const core::RackId child = i + 1 < g.levels_up ? g.up[i + 1] : g.rack;
    const bool full = u.representatives.size() + held(u.id) >= policy.max_repr_up[height - 1];
    if (full || u.has_child(child)) {
      // A place held by a representative stalled in it goes to a gateway of
      // the level below. Not judged by its own progress: the peers of a
      // group whose representative hung were starved with it. The one that
      // lost the place may not win it back before it makes progress.
      const auto stalled = stalled_member(u, full ? core::RackId{} : child, g, self, policy, now);
      if (stalled == u.representatives.end() || (self.flags & Peer::kStalledOut) ||
          !policy::is_gateway(view(), g, self, policy, now)) {
        return replaced;
      }
      // It gives up this group and, as it came through it, every one above.
      const UpperGroup::Member gone = *stalled;
      u.representatives.erase(stalled);
      for (std::size_t j = 0; j < i; ++j) {
        if (UpperGroup* above = find_upper(g.up[j])) erase_member(*above, gone.endpoint);
      }
      if (RackGroup* rg = find_group(gone.rack)) {
        if (Peer* p = rg->find(gone.endpoint)) p->flags |= Peer::kStalledOut;
      }
      replaced = true;
    }
    u.representatives.push_back({self.endpoint, g.rack, child, now});
  }
  return replaced;
}

std::vector<UpperGroup::Member>::iterator Torrent::stalled_member(UpperGroup& u, core::RackId child,
                                                                  const RackGroup& g,
                                                                  const Peer& self,
                                                                  const PolicyOptions& policy,
                                                                  core::TimePoint now) {
  const SwarmView swarm = view();
  return std::find_if(u.representatives.begin(), u.representatives.end(),
                      [&](const UpperGroup::Member& m) {
                        if (child != core::RackId{} && m.child != child) return false;
                        const RackGroup* rg = swarm.group(m.rack);
                        const Peer* p = rg != nullptr ? rg->find(m.endpoint) : nullptr;
                        return p == nullptr ||
                               policy::stalled_above(swarm, u, m, *p, policy, now, &g, &self);
                      });
}

void Torrent::note_left(RackGroup& g, const Bytes32& left, bool progress, core::TimePoint now,
                        const PolicyOptions& policy) {
  lower_best_left(g, left.bytes());
  if ((progress || left.zero()) && whole_.first_progress == core::TimePoint{}) {
    whole_.first_progress = now;
  }
  if (!progress) return;
  if (g.progress_since == core::TimePoint{} || now - g.last_progress >= policy.stall_after) {
    g.progress_since = now;
  }
  g.last_progress = std::max(g.last_progress, now);
  for (std::size_t i = 0; i < g.levels_up; ++i) {
    UpperGroup* u = find_upper(g.up[i]);
    if (u != nullptr && u->first_progress == core::TimePoint{}) u->first_progress = now;
  }
}

void Torrent::lower_best_left(const RackGroup& g, std::uint64_t left) {
  whole_.best_left = std::min(whole_.best_left, left);
  for (std::size_t i = 0; i < g.levels_up; ++i) {
    if (UpperGroup* u = find_upper(g.up[i])) u->best_left = std::min(u->best_left, left);
  }
}

void Torrent::leave_uppers(const RackGroup& g, const core::Endpoint& e) {
  for (std::size_t i = 0; i < g.levels_up; ++i) {
    if (UpperGroup* u = find_upper(g.up[i])) erase_member(*u, e);
  }
}

void Torrent::erase_member(UpperGroup& u, const core::Endpoint& e) {
  auto& reps = u.representatives;
  reps.erase(std::remove_if(reps.begin(), reps.end(),
                            [&](const UpperGroup::Member& m) { return m.endpoint == e; }),
             reps.end());
}

Peer& Torrent::insert_peer(RackGroup& g, const Peer& p, const core::PeerId& peer_id,
                           const PolicyOptions& policy) {
  const auto at =
      std::lower_bound(g.peers.begin(), g.peers.end(), p.endpoint, endpoint_less) - g.peers.begin();
  make_room_for_one(g.peers);
  make_room_for_one(g.peer_ids);
  make_room_for_one(g.joined);
  g.peer_ids.insert(g.peer_ids.begin() + at, peer_id);
  g.joined.insert(g.joined.begin() + at, ++g.joins);
  // kTree's links are kept only while the policy is (or was) kTree: they
  // would cost every other policy 40 bytes a peer.
  if (policy.mode == PolicyMode::kTree || g.tree) {
    RackTree& t = tree_of(g);
    make_room_for_one(t.links);
    t.links.insert(t.links.begin() + at, TreeLink{});
    if (!p.origin()) t.free += policy::kTreeFanOut;
  }
  auto it = g.peers.insert(g.peers.begin() + at, p);
  // The first max_repr_rack peers of a rack to announce represent it.
  if (g.representatives.size() + held(g.rack) < policy.max_repr_rack &&
      may_represent(g, it->endpoint.address)) {
    it->flags |= Peer::kRepresentative;
    g.representatives.push_back({it->endpoint, static_cast<std::uint32_t>(it - g.peers.begin())});
  }
  if (it->origin()) g.origins.push_back({it->endpoint});
  if (it->seeder()) {
    ++g.seeders;
    ++seeders_;
  } else {
    ++leechers_;
  }
  return *it;
}

std::vector<Peer>::iterator Torrent::remove_peer(RackGroup& g, std::vector<Peer>::iterator it) {
  if (it->representative()) {
    erase_endpoint(g.representatives, it->endpoint);
    leave_uppers(g, it->endpoint);
    if (budget_ != nullptr) budget_->release(g.rack, it->endpoint.address);
  }
  if (it->origin()) erase_endpoint(g.origins, it->endpoint);
  if (it->seeder()) {
    --g.seeders;
    --seeders_;
  } else {
    --leechers_;
  }
  if (g.tree) {
    tree_unlink(g, *it);
    const TreeLink& link = g.link_of(*it);
    if (!it->origin()) g.tree->free -= std::max(0, policy::kTreeFanOut - link.children);
    g.tree->links.erase(g.tree->links.begin() + (it - g.peers.begin()));
  }
  g.peer_ids.erase(g.peer_ids.begin() + (it - g.peers.begin()));
  g.joined.erase(g.joined.begin() + (it - g.peers.begin()));
  return g.peers.erase(it);
}

AnnounceOutcome Torrent::announce(const PeerAnnounce& a, core::TimePoint now,
                                  core::TimePoint stale_before, const PolicyOptions& policy,
                                  core::Rng& rng, std::vector<core::PeerContact>& out) {
  AnnounceOutcome outcome;
  outcome.rack = a.rack;
  if (a.event == AnnounceEvent::kStopped) {
    // A representative not back since a restart that stops will not need
    // its places.
    if (!holds_.empty()) release_hold(a.endpoint);
    // A stop for a peer we never saw (or already expired) changes nothing and
    // must not create an empty rack group.
    if (RackGroup* g = group_holding(a.endpoint, a.rack)) {
      auto it = std::lower_bound(g->peers.begin(), g->peers.end(), a.endpoint, endpoint_less);
      outcome.rack = g->rack;
      outcome.rack_changed = it->flags & Peer::kMoved;
      remove_peer(*g, it);
      outcome.left_swarm = true;
      if (g->peers.empty()) erase_group(racks_.begin() + (g - racks_.data()));
    }
    outcome.seeders = seeders_;
    outcome.leechers = leechers_;
    return outcome;
  }

  RackGroup* existing = find_group(a.rack);
  Peer* self = existing != nullptr ? existing->find(a.endpoint) : nullptr;
  const std::size_t other_groups = racks_.size() - (existing != nullptr ? 1 : 0);
  if (self == nullptr && a.event != AnnounceEvent::kStarted && other_groups > 0) {
    if (RackGroup* holder = group_holding(a.endpoint, a.rack)) {
      existing = holder;
      self = holder->find(a.endpoint);
      outcome.rack = holder->rack;
    }
  }
  if (self == nullptr) {
    // Checked before anything changes, so a refused join leaves no trace
    // (not even an empty rack group). One address's peers share a rack (the
    // rack is a function of the address) and sort together (by address, then
    // port), so counting them is two binary searches.
    if (policy.max_peers_per_transfer > 0 && size() >= policy.max_peers_per_transfer) {
      outcome.refused = JoinRefusal::kTransfer;
    } else if (policy.max_peers_per_address > 0 && existing != nullptr) {
      const auto& peers = existing->peers;
      const auto first = std::lower_bound(peers.begin(), peers.end(),
                                          core::Endpoint{a.endpoint.address, 0}, endpoint_less);
      const auto last = std::lower_bound(first, peers.end(),
                                         core::Endpoint{a.endpoint.address, 65535}, endpoint_less);
      const auto held = static_cast<std::size_t>(last - first) +
                        (last != peers.end() && last->endpoint.address == a.endpoint.address);
      if (held >= policy.max_peers_per_address) outcome.refused = JoinRefusal::kAddress;
    }
    if (outcome.refused != JoinRefusal::kNone) {
      outcome.seeders = seeders_;
      outcome.leechers = leechers_;
      return outcome;
    }
  }

  if (!payload_known_) payload_ = std::max(payload_, a.left);
  RackGroup& g = existing != nullptr ? *existing : group_for(a.rack);
  const Bytes32 left(a.left);
  if (self == nullptr) {
    Peer p;
    p.endpoint = a.endpoint;
    p.left = left;
    p.last_seen = p.last_progress = now;
    const DeployProgress::Member* back =
        returning_.empty() ? nullptr : take_returning(a.endpoint, now);
    if (back == nullptr) {
      // A peer that arrives complete is a source (a build server), not a
      // downloader that finished: every rack's representatives may see it.
      if (a.left == 0) p.flags |= Peer::kOrigin;
      ++joined_;
      if (a.left == 0) ++origins_joined_;
    } else {
      if (back->origin) p.flags |= Peer::kOrigin;
      if (back->completed) p.flags |= Peer::kCompleted;
      if (back->rank != 0) release_hold(a.endpoint);
    }
    self = &insert_peer(g, p, a.peer_id, policy);
    if (back != nullptr && back->rank != 0 && self->representative()) {
      reorder_returning(g, a.endpoint, back->rank);
    }
    note_left(g, left, false, now, policy);
    outcome.joined = true;
    if (back != nullptr && a.left == 0 && !back->completed && !back->origin &&
        a.event != AnnounceEvent::kCompleted) {
      // It completed while the tracker was away: its completed event went
      // unheard.
      self->flags |= Peer::kCompleted;
      count_completed(core::PreciseTime(now), now);
    }
  } else {
    // Same address and port: the same peer, whatever peer_id it sends now.
    g.peer_ids[self - g.peers.data()] = a.peer_id;
    outcome.rack_changed = self->flags & Peer::kMoved;
    self->flags &= static_cast<std::uint8_t>(~Peer::kMoved);
    if (left.bytes() < self->left.bytes()) {
      self->last_progress = now;
      self->flags &= static_cast<std::uint8_t>(~Peer::kStalledOut);
      note_left(g, left, true, now, policy);
    }
    // Events come when they happen; regular announces show the client's
    // schedule.
    if (a.event == AnnounceEvent::kNone && now > self->last_seen.time()) {
      const auto gap = std::chrono::duration_cast<core::Seconds>(now - self->last_seen.time());
      self->cadence8 =
          static_cast<std::uint8_t>(std::min<std::int64_t>(255, (gap.count() + 7) / 8));
    }
    if (self->seeder() != left.zero()) {
      if (left.zero()) {
        ++g.seeders;
        ++seeders_;
        --leechers_;
      } else {  // a seeder that starts over (data deleted, re-check failed)
        --g.seeders;
        --seeders_;
        ++leechers_;
      }
    }
    self->left = left;
    self->last_seen = now;
    // A slot freed by a representative that left goes to the next peer of the
    // rack to announce.
    if (!self->representative() && g.representatives.size() + held(g.rack) < policy.max_repr_rack &&
        may_represent(g, self->endpoint.address)) {
      self->flags |= Peer::kRepresentative;
      g.representatives.push_back({self->endpoint});
    }
  }

  const core::PreciseTime event_time =
      a.event_time == core::PreciseTime{} ? core::PreciseTime(now) : a.event_time;
  if (a.event == AnnounceEvent::kStarted) {
    if (first_started == core::PreciseTime{}) first_started = event_time;
    last_started = event_time;
  }
  if (a.event == AnnounceEvent::kCompleted) {
    if (!(self->flags & Peer::kCompleted)) {
      self->flags |= Peer::kCompleted;
      // An origin that reports completed (a seeder announcing its first
      // completed) counts once, as completed.
      if (self->flags & Peer::kOrigin) --origins_joined_;
      count_completed(event_time, now);
    } else {
      if (first_completed == core::PreciseTime{}) first_completed = event_time;
      last_completed = event_time;
    }
  }
  if (leechers_ > 0) {
    complete_ = false;
  } else if (a.event == AnnounceEvent::kCompleted && !complete_) {
    complete_ = outcome.deploy_complete = true;
  }

  if (self->representative() && g.levels_up > 0) {
    outcome.replaced_stalled = climb(g, *self, policy, now);
  }
  // kChain: a host about to be told of its feeder's exit (its rack's head, or
  // one passing over a stuck head) fixes which host that is, the first time
  // (the feeder may have only its head yet).
  if (policy.mode == PolicyMode::kChain && !self->origin()) {
    if (g.feeder != core::RackId{}) {
      if (RackGroup* f = find_group(g.feeder)) bind_exit(*f, stale_before, policy);
    }
    note_head(g, now, stale_before, policy);
  }
  if (policy.mode == PolicyMode::kTree && !self->origin()) {
    tree_place(g, *self, now, stale_before, policy);
    tree_adopt(g, *self, now, stale_before, policy);
  }
  outcome.representative = self->representative();
  outcome.seeders = seeders_;
  outcome.leechers = leechers_;
  std::uint32_t limit = std::min(a.numwant, policy.maxpeers);
  assert(out.capacity() - out.size() >= limit);
  if (limit > 0) {
    policy::select_peers(view(), g, *self, limit, a.with_peer_ids, now, stale_before, policy, rng,
                         out);
  }
  return outcome;
}

void Torrent::report_unrepresented(
    core::TimePoint now, core::TimePoint before,
    const std::function<void(core::RackId, std::size_t, core::TimePoint)>& fn) {
  for (RackGroup& g : racks_) {
    if (!g.representatives.empty() || g.peers.empty() || held(g.rack) > 0) {
      g.unrepresented_since = {};
      g.unrepresented_reported = false;
      continue;
    }
    if (g.unrepresented_since == core::TimePoint{}) g.unrepresented_since = now;
    if (!g.unrepresented_reported && g.unrepresented_since < before) {
      g.unrepresented_reported = true;
      fn(g.rack, g.peers.size(), g.unrepresented_since);
    }
  }
}

Torrent::SlowAnnouncers Torrent::slow_announcers(core::Seconds asked) const {
  SlowAnnouncers out;
  for (const RackGroup& g : racks_) {
    for (const Peer& p : g.peers) {
      // cadence8 == 0: no gap shown yet (one announce so far). A gap is kept
      // rounded up to 8 s, so a client asked every 2 s that keeps to it shows 8.
      if (p.seeder() || p.cadence8 == 0 || p.cadence() <= 2 * asked + core::Seconds(8)) continue;
      ++out.peers;
      out.widest = std::max(out.widest, p.cadence());
    }
  }
  return out;
}

void Torrent::count_completed(core::PreciseTime at, core::TimePoint now) {
  ++completed_;
  completions_.push_back(now);
  if (first_completed == core::PreciseTime{}) first_completed = at;
  last_completed = at;
}

DeployProgress::Member Torrent::member_of(const RackGroup& g, const Peer& q) const {
  DeployProgress::Member m{q.endpoint, (q.flags & Peer::kCompleted) != 0, q.origin()};
  if (!q.representative()) return m;
  const auto rank = std::find_if(g.representatives.begin(), g.representatives.end(),
                                 [&](const MemberRef& r) { return r.endpoint == q.endpoint; }) -
                    g.representatives.begin();
  m.rank = static_cast<std::uint8_t>(std::min<std::ptrdiff_t>(rank + 1, 255));
  // From its row outwards, as climb() takes the places.
  for (std::size_t i = g.levels_up; i-- > 0;) {
    const UpperGroup* u = find_upper(g.up[i]);
    if (u == nullptr || !u->has(q.endpoint)) break;
    ++m.above;
  }
  m.cadence8 = q.cadence8;
  return m;
}

DeployProgress Torrent::progress() const {
  DeployProgress p{first_started,   last_started, first_completed,
                   last_completed,  completed_,   joined_,
                   origins_joined_, completions_, {}};
  p.members.reserve(size());
  for (const RackGroup& g : racks_) {
    for (const Peer& q : g.peers) p.members.push_back(member_of(g, q));
  }
  std::sort(p.members.begin(), p.members.end(),
            [](const auto& x, const auto& y) { return x.endpoint < y.endpoint; });
  return p;
}

namespace {

// splitmix64's finalizer: every input bit reaches every output bit.
std::uint64_t mixed(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t Torrent::progress_digest() const {
  std::uint64_t d = 0;
  auto add = [&d](std::uint64_t v) { d = mixed(d ^ mixed(v)); };
  for (core::PreciseTime t : {first_started, last_started, first_completed, last_completed}) {
    add(static_cast<std::uint64_t>(t.time_since_epoch().count()));
  }
  add(completed_);
  add(joined_);
  add(origins_joined_);
  add(completions_.size());
  if (!completions_.empty()) {
    add(static_cast<std::uint64_t>(completions_.back().time_since_epoch().count()));
  }
  // Members in any order: a sum of their digests.
  std::uint64_t members = 0;
  for (const RackGroup& g : racks_) {
    for (const Peer& q : g.peers) {
      std::uint64_t hi = 0, lo = 0;
      std::memcpy(&hi, q.endpoint.address.bytes().data(), 8);
      std::memcpy(&lo, q.endpoint.address.bytes().data() + 8, 8);
      const DeployProgress::Member m = member_of(g, q);
      const std::uint64_t how = std::uint64_t{m.cadence8} << 40 | std::uint64_t{m.above} << 32 |
                                std::uint64_t{m.rank} << 24 | std::uint64_t{m.endpoint.port} << 2 |
                                (m.completed ? 2 : 0) | (m.origin ? 1 : 0);
      members += mixed(mixed(hi) ^ lo ^ mixed(how));
    }
  }
  add(members);
  return d;
}

void Torrent::restore(DeployProgress p, core::TimePoint now, core::TimePoint until,
                      const PolicyOptions& policy) {
  first_started = p.first_started;
  last_started = p.last_started;
  first_completed = p.first_completed;
  last_completed = p.last_completed;
  completed_ = p.completed;
  joined_ = p.joined;
  origins_joined_ = p.origins_joined;
  completions_ = std::move(p.completions);
  returning_ = std::move(p.members);
  std::sort(returning_.begin(), returning_.end(),
            [](const auto& x, const auto& y) { return x.endpoint < y.endpoint; });
  returned_.assign(returning_.size(), false);
  returning_until_ = until;
  holds_.clear();
  held_.clear();
  for (const DeployProgress::Member& m : returning_) {
    if (m.rank == 0) continue;
    Peer gone;
    gone.cadence8 = m.cadence8;
    holds_.push_back(
        {m.endpoint, now + policy.extra_life(gone),
         static_cast<std::uint8_t>(std::min<std::size_t>(m.above, core::kMaxUpperLevels))});
  }
  locate_holds(/*again=*/false);
}

void Torrent::locate_holds(bool again) {
  if (again) held_.clear();
  if (rack_map_ == nullptr) return;
  for (Hold& h : holds_) {
    if (again) h.groups = 0;
    if (h.groups != 0) continue;
    // Asks the lookup sources about it (as its announce would) when they
    // have not answered yet; the sweep looks again.
    const core::RackId rack = rack_map_->rack_of(h.endpoint.address);
    if (rack_map_->unsettled(h.endpoint.address)) continue;
    std::array<core::RackId, core::kMaxUpperLevels> up{};
    const std::size_t levels = rack_map_->ancestors(rack, up);
    const std::size_t above = std::min<std::size_t>(h.above, levels);
    h.group[0] = rack;
    for (std::size_t k = 0; k < above; ++k) h.group[1 + k] = up[levels - 1 - k];
    h.groups = static_cast<std::uint8_t>(1 + above);
    count_hold(h, +1);
  }
}

void Torrent::count_hold(const Hold& h, int by) {
  for (std::size_t k = 0; k < h.groups; ++k) {
    auto it = std::lower_bound(held_.begin(), held_.end(), h.group[k],
                               [](const auto& x, core::RackId r) { return x.first < r; });
    if (it == held_.end() || it->first != h.group[k]) it = held_.insert(it, {h.group[k], 0});
    it->second += by;
    if (it->second == 0) held_.erase(it);
  }
}

void Torrent::release_hold(const core::Endpoint& e) {
  auto it = std::lower_bound(holds_.begin(), holds_.end(), e,
                             [](const Hold& h, const core::Endpoint& x) { return h.endpoint < x; });
  if (it == holds_.end() || it->endpoint != e) return;
  count_hold(*it, -1);
  holds_.erase(it);
}

void Torrent::reorder_returning(RackGroup& g, const core::Endpoint& e, std::uint8_t rank) {
  auto& reps = g.representatives;
  auto self =
      std::find_if(reps.begin(), reps.end(), [&](const MemberRef& r) { return r.endpoint == e; });
  if (self == reps.end()) return;
  const MemberRef moved = *self;
  reps.erase(self);
  // The rank a representative here had before the restart, if it is one
  // back; 0 for one elected since, which goes after them.
  auto rank_of = [&](const core::Endpoint& x) -> std::uint8_t {
    auto it =
        std::lower_bound(returning_.begin(), returning_.end(), x,
                         [](const auto& m, const core::Endpoint& y) { return m.endpoint < y; });
    return it != returning_.end() && it->endpoint == x && returned_[it - returning_.begin()]
               ? it->rank
               : 0;
  };
  auto at = reps.begin();
  while (at != reps.end()) {
    const std::uint8_t r = rank_of(at->endpoint);
    if (r == 0 || r > rank) break;
    ++at;
  }
  reps.insert(at, moved);
}

const DeployProgress::Member* Torrent::take_returning(const core::Endpoint& e,
                                                      core::TimePoint now) {
  if (now > returning_until_) return nullptr;
  auto it = std::lower_bound(returning_.begin(), returning_.end(), e,
                             [](const auto& m, const core::Endpoint& x) { return m.endpoint < x; });
  if (it == returning_.end() || it->endpoint != e) return nullptr;
  // Once only: a peer back that leaves and joins again is a peer joining again.
  auto taken = returned_.begin() + (it - returning_.begin());
  if (*taken) return nullptr;
  *taken = true;
  return &*it;
}

std::optional<Torrent::SlowAnnouncers> Torrent::report_slow_announcers(core::Seconds asked) {
  const SlowAnnouncers now = slow_announcers(asked);
  if (now.peers == 0 || now.peers < 2 * slow_reported_) return std::nullopt;
  slow_reported_ = now.peers;
  return now;
}

std::size_t Torrent::relocate(const core::Address& address, core::RackId from, core::RackId to,
                              const PolicyOptions& policy) {
  if (from == to) return 0;
  RackGroup* g = find_group(from);
  if (g == nullptr) return 0;
  struct Moved {
    Peer peer;
    core::PeerId peer_id;
  };
  std::vector<Moved> moved;
  auto it =
      std::lower_bound(g->peers.begin(), g->peers.end(), core::Endpoint{address, 0}, endpoint_less);
  while (it != g->peers.end() && it->endpoint.address == address) {
    moved.push_back({*it, g->peer_id_of(*it)});
    it = remove_peer(*g, it);
  }
  if (g->peers.empty()) erase_group(racks_.begin() + (g - racks_.data()));
  // group_for() may move the groups: `g` is not used past this point.
  for (Moved& m : moved) {
    m.peer.flags &= static_cast<std::uint8_t>(~Peer::kRepresentative);
    m.peer.flags |= Peer::kMoved;
    RackGroup& dest = group_for(to);
    insert_peer(dest, m.peer, m.peer_id, policy);
    // Its new row has a peer that got this far (since its last progress).
    note_left(dest, m.peer.left, m.peer.left.bytes() < payload_, m.peer.last_progress.time(),
              policy);
  }
  return moved.size();
}

std::size_t Torrent::expire(core::TimePoint cutoff, const PolicyOptions& policy,
                            const std::function<void(const Peer&, core::RackId)>* dropped_peer) {
  std::size_t dropped = 0;
  // note_left only ever lowers best_left, so a furthest peer that left (or
  // started over) would be kept as if it were still there, and the
  // representatives of its groups judged stalled against it. The sweep visits
  // every peer anyway: it counts the best again from those still here.
  whole_.best_left = UINT64_MAX;
  for (UpperGroup& u : uppers_) u.best_left = UINT64_MAX;
  if (!returning_.empty() && cutoff > returning_until_) {
    returning_ = {};
    returned_ = {};
  }
  if (!holds_.empty()) {
    // A representative not back by when it would have expired gives its
    // places up, as it would have by expiring.
    std::erase_if(holds_, [&](const Hold& h) {
      if (returning_.empty() || h.seen_until < cutoff) {
        count_hold(h, -1);
        return true;
      }
      return false;
    });
    locate_holds(/*again=*/false);
  }
  for (auto g = racks_.begin(); g != racks_.end();) {
    std::uint64_t best_left = UINT64_MAX;
    for (auto it = g->peers.begin(); it != g->peers.end();) {
      if (it->last_seen.time() + policy.extra_life(*it) < cutoff) {
        if (dropped_peer != nullptr) (*dropped_peer)(*it, g->rack);
        it = remove_peer(*g, it);
        ++dropped;
      } else {
        best_left = std::min(best_left, it->left.bytes());
        ++it;
      }
    }
    if (g->peers.empty()) {
      g = erase_group(g);
    } else {
      lower_best_left(*g, best_left);
      release_slack(g->peers);
      release_slack(g->peer_ids);
      release_slack(g->joined);
      if (g->tree) release_slack(g->tree->links);
      ++g;
    }
  }
  return dropped;
}

}  // namespace p2p::swarm

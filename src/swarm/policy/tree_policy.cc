// The tree policy: who a host is told about, from the links Torrent keeps.
//
// A line (kChain) moves each piece at a host's full upload, but the last host
// gets its first piece only after it crossed every host before it: about
// `pieces + hosts` piece-times for the whole deploy. A host feeding two halves
// the rate below it, but the depth is log2(hosts): about `2 x pieces + 2 x
// log2(hosts)` (docs/policy.md measures both). The links are kept, not drawn
// anew at each announce, so a host is never given a second parent while its
// first still serves it.
#include "swarm/policy/tree_policy.h"

#include <algorithm>
#include <array>

namespace p2p::swarm::policy {

const Peer* tree_parent(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                        const RackGroup** parent_group) {
  const TreeLink& link = g.link_of(p);
  if (link.parent_joined == 0) return nullptr;
  const RackGroup* pg = link.parent_rack == g.rack ? &g : swarm.group(link.parent_rack);
  if (pg == nullptr || !pg->tree) return nullptr;
  const Peer* parent = pg->find(link.parent);
  if (parent == nullptr || pg->joined_of(*parent) != link.parent_joined) return nullptr;
  if (parent_group != nullptr) *parent_group = pg;
  return parent;
}

namespace {

// Whether `l` names `p`, the host of `pg` that joined `joined`-th, as its
// parent.
bool names_parent(const TreeLink& l, const RackGroup& pg, const Peer& p, std::uint32_t joined) {
  return l.parent_joined == joined && l.parent_rack == pg.rack && l.parent == p.endpoint;
}

// Calls fn(group, child, link) for each host `p` (of `g`) feeds: in its rack,
// and the entries of the racks it feeds.
template <class Fn>
void for_each_child(const SwarmView& swarm, const RackGroup& g, const Peer& p, Fn&& fn) {
  const std::uint32_t joined = g.joined_of(p);
  for (std::size_t i = 0; i < g.peers.size(); ++i) {
    if (names_parent(g.tree->links[i], g, p, joined)) fn(g, g.peers[i], g.tree->links[i]);
  }
  for (const core::RackId fed : g.tree->fed) {
    const RackGroup* r = swarm.group(fed);
    const Peer* e = r != nullptr ? r->entry() : nullptr;
    if (e != nullptr && names_parent(r->link_of(*e), g, p, joined)) fn(*r, *e, r->link_of(*e));
  }
}

// The hosts of a rack that pass the payload on to other racks: its entry,
// and each host that feeds another rack's entry with every host above it in
// the rack. At most kMax (a walk's bound, with no allocation on the announce
// path); a rack with more is not known.
struct Trunk {
  static constexpr std::size_t kMax = 64;
  std::array<const Peer*, kMax> hosts{};
  std::size_t n = 0;
  bool has(const Peer* p) const {
    return std::find(hosts.begin(), hosts.begin() + n, p) != hosts.begin() + n;
  }
  bool add(const Peer* p) {
    if (has(p)) return true;
    if (n == kMax) return false;
    hosts[n++] = p;
    return true;
  }
};

// Fills `out` with `g`'s trunk; false when it has more than Trunk::kMax.
bool rack_trunk(const SwarmView& swarm, const RackGroup& g, Trunk& out) {
  if (const Peer* e = g.entry(); e != nullptr && !out.add(e)) return false;
  for (const core::RackId fed : g.tree->fed) {
    const RackGroup* r = swarm.group(fed);
    const Peer* e = r != nullptr ? r->entry() : nullptr;
    const RackGroup* at_g = nullptr;
    const Peer* at = e != nullptr ? tree_parent(swarm, *r, *e, &at_g) : nullptr;
    // Up the rack to its entry; a host already in the trunk has the rest
    // above it there.
    while (at != nullptr && at_g == &g && !out.has(at)) {
      if (!out.add(at)) return false;
      const RackGroup* next_g = nullptr;
      at = tree_parent(swarm, g, *at, &next_g);
      at_g = next_g;
    }
  }
  return true;
}

// Whether `p` has been silent while every host it feeds (one at least) went
// on announcing without progress for its stall time: then it is judged as if
// it had announced no progress itself. A host that died after its first
// announce has not shown its schedule: it is kept, and judged by its own
// progress, as a libtorrent client that announces every 300 s would be (two
// such gaps), so without this its hosts waited for its expiry. One that is
// silent but feeds them is not judged so, nor by hosts that are silent
// themselves.
bool starves_its_children(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                          core::TimePoint now, const PolicyOptions& policy) {
  // stall_of is never shorter than stall_after: most hosts stop here.
  if (now - p.last_seen.time() < policy.stall_after) return false;
  bool any = false, fed = false;
  for_each_child(swarm, g, p, [&](const RackGroup&, const Peer& c, const TreeLink& l) {
    if (c.seeder()) return;
    any = true;
    fed =
        fed || now - l.since.time() < policy.stall_of(c) || !policy.starved_while_silent(c, p, now);
  });
  return any && !fed;
}

// What a whole announce gap is at least: 7/8 of the one asked, and
// kTreeHangShownAfter.
core::Seconds least_gap(const PolicyOptions& policy) {
  return std::max(policy.announce_interval * 7 / 8, kTreeHangShownAfter);
}

// Whether `q`'s latest announce showed no progress over a whole gap of its
// own, counted from no earlier than `from`: the gap it showed (less the 8 s
// it is rounded up to), and least_gap.
bool showed_nothing(const Peer& q, core::TimePoint from, const PolicyOptions& policy) {
  if (q.seeder() || q.cadence8 == 0) return false;
  const core::TimePoint since = std::max(q.last_progress.time(), from);
  const core::Seconds gap = std::max(q.cadence() - core::Seconds(8), least_gap(policy));
  return q.last_seen.time() > since && q.last_seen.time() - since >= gap;
}

// Whether `p` and a host it feeds both show that `p` no longer feeds it: the
// host showed no progress over one announce gap, all of it while fed by `p`,
// and `p` showed none either, or missed an announce (on its own schedule,
// or until it has shown one, on the host's). Two hosts that agree are as sure
// a sign as one host over its stall time, and a host that died before it
// showed its schedule is not waited on for a libtorrent client's gap.
bool starved_together(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                      core::TimePoint now, const PolicyOptions& policy) {
  const bool nothing = showed_nothing(p, g.link_of(p).since.time(), policy);
  bool starved = false;
  for_each_child(swarm, g, p, [&](const RackGroup&, const Peer& c, const TreeLink& l) {
    if (starved || !showed_nothing(c, l.since.time(), policy)) return;
    const core::Seconds gap = p.cadence8 != 0 ? p.cadence() : c.cadence();
    starved = nothing || now - p.last_seen.time() >= gap + core::Seconds(8);
  });
  return starved;
}

}  // namespace

bool tree_stuck(const SwarmView& swarm, const RackGroup& g, const Peer& p, core::TimePoint now,
                const PolicyOptions& policy) {
  const core::Seconds stall = policy.stall_of(p);
  const TreeLink& link = g.link_of(p);
  if (p.seeder()) return false;
  if (link.stuck_since.time() != core::TimePoint{} &&
      p.last_progress.time() <= link.stuck_since.time()) {
    return true;
  }
  // Judged over its stall time, or over one announce gap when a host it
  // feeds shows the same (`together`).
  bool together = false;
  if ((now - p.last_progress.time() < stall || now - link.since.time() < stall) &&
      !starves_its_children(swarm, g, p, now, policy)) {
    together = starved_together(swarm, g, p, now, policy);
    if (!together) return false;
  }
  // A parent that has it all (the origin, a seeder) gives without pause:
  // any bytes left without progress is a hang, however few. Asked to be an
  // eighth ahead, as a parent still downloading is, it would leave a hang in
  // the last eighth unjudged, and what the host lacks would reach no host
  // below it: the deploy would never complete.
  if (link.origin_fed) {
    for (const RackGroup& og : swarm.groups) {
      for (const MemberRef& m : og.origins) {
        const Peer* o = og.find(m);
        if (o != nullptr && o->seeder()) return true;
      }
    }
    return false;
  }
  const RackGroup* pg = nullptr;
  const Peer* parent = tree_parent(swarm, g, p, &pg);
  if (parent == nullptr) return false;
  // A parent has had something to give only since its rack began to receive
  // (without a pause since), or since it had it all: one that took over from
  // a failed host had had little time, even if it has it all by now, and
  // the host's latest announce, from before, could not show progress. A
  // host judged stuck sooner is passed over, but its client keeps the
  // connection and pulls from it all the same: real clients, a hung entry,
  // up to 1.53 copies into a row.
  core::TimePoint since = pg->progress_since;
  if (parent->seeder() && (since == core::TimePoint{} || parent->last_progress.time() < since)) {
    since = parent->last_progress.time();
  }
  if (since == core::TimePoint{}) return false;
  const core::Seconds had = now - since;
  const core::Seconds gap = least_gap(policy);
  if (together ? had < gap
               : had < stall && (had < gap || !starved_together(swarm, g, p, now, policy))) {
    return false;
  }
  if (parent->seeder()) return true;
  const std::uint64_t margin = swarm.payload / 8;
  if (parent->left.bytes() + margin >= p.left.bytes()) return false;
  return now - parent->last_progress.time() < policy.stall_of(*parent);
}

void select_tree(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                 std::uint32_t limit, bool with_peer_ids, core::TimePoint stale_before,
                 const PolicyOptions& policy, std::vector<core::PeerContact>& out) {
  const std::size_t base = out.size();
  const bool self_seeds = self.seeder();
  // A seeder is never told about seeders (they have nothing to trade).
  auto tell = [&](const RackGroup& g, const Peer& p) {
    if (&p == &self || (self_seeds && p.seeder()) || out.size() - base >= limit) return;
    for (std::size_t i = base; i < out.size(); ++i) {
      if (out[i].endpoint == p.endpoint) return;
    }
    out.push_back({p.endpoint, with_peer_ids ? g.peer_id_of(p) : core::PeerId{}});
  };
  auto live = [&](const Peer& p) { return in_tree(p, stale_before, policy); };
  auto fed_entry = [&](const RackGroup& g) -> const Peer* {
    const Peer* e = g.entry();
    return e != nullptr && live(*e) ? e : nullptr;
  };

  if (self.origin()) {  // an origin seeder feeds the entries fed by no rack
    for (const RackGroup& g : swarm.groups) {
      const Peer* e = fed_entry(g);
      if (e != nullptr && g.link_of(*e).origin_fed) tell(g, *e);
    }
    return;
  }
  const RackGroup* pg = nullptr;
  const Peer* parent = nullptr;
  if (own.link_of(self).origin_fed && fed_entry(own) == &self) {
    for (const RackGroup& g : swarm.groups) {
      for (const MemberRef& m : g.origins) {
        const Peer* o = g.find(m);
        if (o != nullptr && o->seeder() &&
            o->last_seen.time() + policy.extra_life(*o) >= stale_before) {
          tell(g, *o);
        }
      }
    }
  } else {
    parent = tree_parent(swarm, own, self, &pg);
    if (parent != nullptr && live(*parent)) tell(*pg, *parent);
  }
  for_each_child(swarm, own, self, [&](const RackGroup& g, const Peer& c, const TreeLink&) {
    if (live(c)) tell(g, c);
  });
  if (self_seeds) return;
  // An entry hung off a host that had it all is also told of another host
  // that has it all in the group it is fed from (kTreeSeedersTold): a rack
  // that starts late is fed at twice one host's upload (a canary of one host
  // a rack starting over 60 s: 77.4 s, now 69.1 s). No more: at the end of a
  // download a client asks the blocks it still lacks of every peer that has
  // them, and those asked outside the rack twice come in twice (real clients,
  // an entry told of 8: up to 1.16 copies into its rack; of 2: 1.09; of its
  // parent only: 1.00). Only a rack that came once its parent was done (told
  // so once its parent finished, real clients took up to 1.07 copies into a
  // rack, 1.14 on the wire with narrow links), and not an entry whose parent
  // downloads: one that lost its role keeps the links it was given, and
  // would still pull from outside (up to 1.09 copies).
  if (parent != nullptr && pg != &own && fed_entry(own) == &self &&
      own.link_of(self).parent_had_all) {
    const std::size_t scope = shared_levels(own, *pg);
    // From the rack group after its own on, and in each from a host as far
    // along, so that the racks fed from one group spread over its hosts.
    const std::size_t n = swarm.groups.size();
    const auto first = static_cast<std::size_t>(&own - swarm.groups.data()) + 1;
    std::size_t told = 1;  // its parent
    for (std::size_t k = 0; k < n && told < kTreeSeedersTold; ++k) {
      const RackGroup& r = swarm.groups[(first + k) % n];
      if (&r == &own || !r.tree || r.seeders == 0 || shared_levels(own, r) < scope) continue;
      for (std::size_t j = 0; j < r.peers.size() && told < kTreeSeedersTold; ++j) {
        const Peer& p = r.peers[(first + j) % r.peers.size()];
        if (&p != parent && p.seeder() && !p.origin() && live(p)) {
          tell(r, p);
          ++told;
        }
      }
    }
  }
  // A host hung off a host of its own rack, in a rack fed at its download's
  // pace (its entry has it all, or was hung off a host that had it all), is
  // also told of the other hosts its parent feeds there: a leaf's upload sits
  // idle in a tree, and two that trade take about a whole upload each instead
  // of half (64 racks of 3 hosts starting over 60 s: 92.2 s, now 83.2 s over
  // 3 seeds; a hung host with 15 s announces: 88.3 s, now 74.6 s). Not in a
  // rack fed by a host that downloads: its hosts may yet be given other
  // racks' entries, and their upload would go to the one they were told of
  // (160 hosts starting at once: 60.6 s against 50.3 s, every rack's
  // siblings told of each other). The trunk (below) is left out.
  //
  // A host first placed kTreeMeshAfter or more after its rack's first host
  // came is also told of every host of its rack that passes nothing on to other
  // racks: it pulls what the rack already has from all of them at its
  // download's pace, not from one parent at half a host's upload (160 hosts
  // starting over 60 s: 96.8 s, now 66.7 s). The rack still takes its
  // payload in through its entry alone, so one copy. The hosts that feed
  // other racks keep their upload for them (with them in the mesh, 203 s at
  // 10,000 hosts); hosts that came with the rack's first stay in the tree,
  // but for the rule above (meshed too, 160 hosts starting at once took 72.0 s
  // against 50.3 s: the hosts that were to feed other racks had not yet been
  // given them).
  const TreeLink& link = own.link_of(self);
  if (link.depth == 0) return;
  const Peer* entry = fed_entry(own);
  const bool fed_in_full =
      entry != nullptr && (entry->seeder() || own.link_of(*entry).parent_had_all);
  const bool siblings = !link.came_late && fed_in_full && parent != nullptr && pg == &own;
  if (!link.came_late && !siblings) return;
  Trunk trunk;
  if (!rack_trunk(swarm, own, trunk) || trunk.has(&self)) return;
  if (siblings) {
    for_each_child(swarm, own, *parent, [&](const RackGroup& g, const Peer& c, const TreeLink&) {
      if (&g == &own && live(c) && !trunk.has(&c)) tell(g, c);
    });
    return;
  }
  for (const Peer& p : own.peers) {
    if (out.size() - base >= limit) break;
    if (!p.origin() && own.link_of(p).depth > 0 && live(p) && !trunk.has(&p)) tell(own, p);
  }
}

}  // namespace p2p::swarm::policy

// The rack policy: which peers an announcing peer is told about.
//
// This is the reason p2ptracker exists. Each rack's uplink is the scarce link,
// so per transfer only the first max_repr_rack peers of a rack (its
// representatives) may learn of peers outside it; everyone else in the rack
// learns only of rack-mates and so pulls the payload from the representatives
// over the rack switch. The rules, from the original p2ptracker:
//   - a representative sees the other peers of its rack, the representatives
//     of other racks, and (while it downloads) the origin seeders;
//   - any other peer sees only peers of its own rack, representatives first;
//   - a seeder is never told about seeders (they have nothing to trade);
//   - nobody is told about itself.
// With PolicyMode::kStandby, "representative" above means "gateway": only one
// representative per rack at a time (is_gateway), the others
// waiting to take over if it stops or stalls, so a rack pulls the payload
// across its uplink about once instead of once per representative; with
// PolicyMode::kProgress the others join it once they hold grant_percent of the
// payload, so each pulls at most the rest; with PolicyMode::kRelay the
// downloading gateway meets its rack only through the other representatives.
// With levels above racks (a row, a datacenter), in every mode a downloading
// gateway that represents its row meets its rack as kRelay's gateway does.
// "Origin seeders" are peers that arrived complete (the build server). A peer
// that finished downloading inside a rack is not one: telling other racks
// about it would let them pull across its rack's uplink through a host that is
// not a representative.
#include "swarm/policy/rack_policy.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "swarm/policy/chain_policy.h"
#include "swarm/policy/tree_policy.h"

namespace p2p::swarm::policy {
namespace {

// What a reply tells of a peer of `g`: its endpoint, and its peer_id only
// when the reply shows it (peer ids live apart: another cache miss).
struct ContactOf {
  bool with_peer_ids;
  core::PeerContact operator()(const RackGroup& g, const Peer& p) const {
    core::PeerContact c{p.endpoint, {}};
    if (with_peer_ids) c.peer_id = g.peer_id_of(p);
    return c;
  }
};

// Reservoir sampling (Algorithm R): appends a uniform random choice of at most
// k of the peers `for_each` visits, in one pass and without a scratch array.
template <class ForEach>
void sample(std::uint32_t k, ForEach&& for_each, ContactOf contact, core::Rng& rng,
            std::vector<core::PeerContact>& out) {
  if (k == 0) return;
  const std::size_t base = out.size();
  std::uint64_t seen = 0;
  for_each([&](const RackGroup& g, const Peer& p) {
    if (seen < k) {
      out.push_back(contact(g, p));
    } else if (auto j = rng.below(seen + 1); j < k) {
      out[base + j] = contact(g, p);
    }
    ++seen;
  });
}

// Appends at most k of `g`'s peers that pass `take`, visited from a random start
// with a random stride coprime to their number: a random order in two draws
// from the generator instead of one per peer (reservoir sampling above drew
// one per peer past the k-th and was a fifth of the announce path's CPU in a
// rack of 100). Every peer is equally likely to be taken; which ones come
// together depends on the stride. Stops after k, so a large rack costs O(k)
// when most of its peers are wanted.
template <class Take>
void sample_peers(const RackGroup& g, std::uint32_t k, Take&& take, ContactOf contact,
                  core::Rng& rng, std::vector<core::PeerContact>& out) {
  const std::vector<Peer>& peers = g.peers;
  const std::size_t n = peers.size();
  if (k == 0 || n == 0) return;
  std::size_t at = 0, stride = 1;
  if (n > k) {  // otherwise every wanted peer fits: no order needed
    at = rng.below(n);
    stride = 1 + rng.below(n - 1);
    while (std::gcd(stride, n) != 1) --stride;  // reaches 1 at worst
  }
  // On a busy tracker the records are cache misses (a thousand swarms do not
  // fit in cache), and a stride defeats the hardware prefetcher: fetch a few
  // steps ahead so the misses overlap instead of queueing. (Far enough
  // ahead to cover a miss to memory: fewer left the loop waiting on each.)
  constexpr std::size_t kAhead = 16;
  std::size_t ahead = at;
  for (std::size_t i = 0; i < kAhead && i < n; ++i) {
    __builtin_prefetch(&peers[ahead]);
    ahead = (ahead + stride) % n;
  }
  std::uint32_t taken = 0;
  for (std::size_t visited = 0; visited < n && taken < k; ++visited) {
    __builtin_prefetch(&peers[ahead]);
    ahead += stride;
    if (ahead >= n) ahead -= n;
    if (take(peers[at])) {
      out.push_back(contact(g, peers[at]));
      ++taken;
    }
    at += stride;
    if (at >= n) at -= n;
  }
}

// Since when `r`, a representative, has had something to fetch without
// receiving it; nullopt while it has nothing to fetch. `above` is the group
// it fetches from: for a rack's representative its row, for a row's its
// datacenter, for a datacenter's the whole swarm; null for a rack with no
// level above it, judged by its own progress. With a group above, `r` is not
// stalled while no peer of that group has got further than it, and the time
// counts from no earlier than the group's first bytes. In a deep tree the
// first pieces reach a row only once they have come down through every level
// above it. Judged by its own clock, a gateway waiting for them would count
// as stalled, and its standby would take a turn as gateway, pull the same
// pieces from the row and keep its connections there (up to 1.5 copies into
// a rack in the simulator's 100,000-host fleets under kRelay).
std::optional<core::TimePoint> stall_clock(const UpperGroup* above, const Peer& r) {
  const core::TimePoint since = r.last_progress.time();
  if (above == nullptr) return since;
  if (above->best_left >= r.left.bytes()) return std::nullopt;
  return std::max(since, above->first_progress);
}

// The group a representative of `g` fetches from: its row, or null.
const UpperGroup* row_of(const SwarmView& swarm, const RackGroup& g) {
  return g.levels_up > 0 ? swarm.upper(g.parent()) : nullptr;
}

// stall_clock for `r` as the representative `m` of `u`: against the group
// above `u`, from no earlier than it took the place.
std::optional<core::TimePoint> member_clock(const SwarmView& swarm, const UpperGroup& u,
                                            const UpperGroup::Member& m, const Peer& r) {
  const UpperGroup* above = u.parent == core::RackId{} ? swarm.whole : swarm.upper(u.parent);
  std::optional<core::TimePoint> since = stall_clock(above, r);
  if (since) since = std::max(*since, m.since);
  return since;
}

// The outermost group above `g` that `r`, one of its representatives,
// represents, and its place there; {null, null} if none.
std::pair<const UpperGroup*, const UpperGroup::Member*> place_of(const SwarmView& swarm,
                                                                 const RackGroup& g,
                                                                 const Peer& r) {
  for (std::size_t i = 0; i < g.levels_up; ++i) {  // outermost first
    const UpperGroup* u = swarm.upper(g.up[i]);
    if (u == nullptr) continue;
    for (const UpperGroup::Member& m : u->representatives) {
      if (m.endpoint == r.endpoint) return {u, &m};
    }
  }
  return {nullptr, nullptr};
}

// stall_clock for `r`, a representative of `g`, in the furthest-reaching
// place it holds: a row's or datacenter's representative fetches from the
// level above that group, not from its row, and one that has just taken its
// place there has had no time to.
std::optional<core::TimePoint> role_clock(const SwarmView& swarm, const RackGroup& g,
                                          const Peer& r) {
  const auto [u, m] = place_of(swarm, g, r);
  return u != nullptr ? member_clock(swarm, *u, *m, r) : stall_clock(row_of(swarm, g), r);
}

// Whether `r`, a representative of `g` stalled (if at all) since `since`,
// has been silent while another representative of `g` went on announcing
// and it and the whole rack got nothing, each for that one's stall time: a
// gateway that died after its first announce has not shown its schedule, and
// is judged by its own progress only after two of a libtorrent client's 300 s
// gaps, while its standby, fed by it, starves with the rack. The rack has a
// few representatives: this reads no more than them.
bool silent_while_starved(const RackGroup& g, const Peer& r, core::TimePoint since,
                          const PolicyOptions& policy, core::TimePoint now) {
  // stall_of is never shorter than stall_after: most gateways stop here.
  if (now - r.last_seen.time() < policy.stall_after) return false;
  for (const auto& e : g.representatives) {
    const Peer* w = g.find(e);
    if (w == nullptr || w == &r || !policy.starved_while_silent(*w, r, now)) continue;
    const core::Seconds stall = policy.stall_of(*w);
    if (now - since >= stall && now - g.last_progress >= stall) return true;
  }
  return false;
}

}  // namespace

bool stalled_above(const SwarmView& swarm, const UpperGroup& u, const UpperGroup::Member& m,
                   const Peer& r, const PolicyOptions& policy, core::TimePoint now,
                   const RackGroup* witness_rack, const Peer* witness) {
  if (r.seeder()) return false;
  const std::optional<core::TimePoint> since = member_clock(swarm, u, m, r);
  if (!since) return false;
  if (now - *since >= policy.stall_of(r)) return true;
  if (witness == nullptr || witness_rack == nullptr) return false;
  const core::Seconds stall = policy.stall_of(*witness);
  return policy.starved_while_silent(*witness, r, now) && now - *since >= stall &&
         now - witness_rack->last_progress >= stall;
}

bool is_gateway(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                const PolicyOptions& policy, core::TimePoint now) {
  const std::uint64_t payload = swarm.payload;
  if (!p.representative()) return false;
  if (policy.mode == PolicyMode::kOriginal) return true;
  // kProgress: a standby that already holds most of the payload can pull at
  // most the rest from outside, so letting it out bounds the extra copy its
  // rack's uplink carries, while other racks gain a source that has plenty to
  // give (and, once it finished, one that only gives).
  if (policy.mode == PolicyMode::kProgress &&
      (p.seeder() ||
       (p.left.bytes() <= payload && static_cast<double>(payload - p.left.bytes()) * 100 >=
                                         static_cast<double>(payload) * policy.grant_percent))) {
    return true;
  }
  // kStandby (and kProgress's first gateway): the first representative still
  // making progress (or done) is the one gateway; `representatives` is in
  // promotion order. One that represents its row (or more) and is not
  // stalled there comes first: its place above is only of use to the groups
  // beside it while it is a gateway, and one that took the place of a row's
  // hung representative may share that one's rack.
  auto fresh = [&](const Peer& r, const std::optional<core::TimePoint>& since) {
    if (r.seeder() || !since) return true;
    if (now - *since >= policy.stall_of(r)) return false;
    return !silent_while_starved(g, r, *since, policy, now);
  };
  if (g.levels_up > 0) {
    for (const auto& e : g.representatives) {
      const Peer* r = g.find(e);
      if (r == nullptr) continue;
      const auto [u, m] = place_of(swarm, g, *r);
      if (u != nullptr && fresh(*r, member_clock(swarm, *u, *m, *r))) return r == &p;
    }
  }
  core::TimePoint stalled_since{};
  std::size_t stalled_reps = 0;
  for (const auto& e : g.representatives) {
    const Peer* r = g.find(e);
    if (r == nullptr) continue;
    const std::optional<core::TimePoint> since = role_clock(swarm, g, *r);
    if (fresh(*r, since)) return r == &p;
    stalled_since = std::max(stalled_since, *since);
    ++stalled_reps;
  }
  if (stalled_reps == 0) return false;
  // All stalled. A standby fed only by its gateway stalls with it, so waiting
  // for one of them to make progress would strand the rack (the simulator's
  // --fail-at showed it). Instead each takes the role in turn for stall_after,
  // the second in promotion order first; one that makes progress with it is no
  // longer stalled and keeps it.
  const std::int64_t turn = std::max<std::int64_t>(1, policy.stall_after.count());
  const std::int64_t since = std::chrono::duration_cast<core::Seconds>(now - stalled_since).count();
  std::size_t k = static_cast<std::size_t>(since / turn) % stalled_reps;
  for (const auto& e : g.representatives) {
    const Peer* r = g.find(e);
    if (r != nullptr && k-- == 0) return r == &p;
  }
  return false;
}

void select_peers(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                  std::uint32_t limit, bool with_peer_ids, core::TimePoint now,
                  core::TimePoint stale_before, const PolicyOptions& policy, core::Rng& rng,
                  std::vector<core::PeerContact>& out) {
  if (policy.mode == PolicyMode::kChain) {
    return select_chain(swarm, own, self, limit, with_peer_ids, now, stale_before, policy, out);
  }
  if (policy.mode == PolicyMode::kTree) {
    return select_tree(swarm, own, self, limit, with_peer_ids, stale_before, policy, out);
  }
  const ContactOf contact{with_peer_ids};
  const bool self_seeds = self.seeder();
  auto wanted = [&](const Peer& p) {
    return p.endpoint != self.endpoint && !(self_seeds && p.seeder()) &&
           p.last_seen.time() + policy.extra_life(p) >= stale_before;
  };
  const bool self_gateway = is_gateway(swarm, own, self, policy, now);
  // A downloading gateway whose upload the groups beside its rack need meets
  // its rack only through the other representatives, so each piece it brings
  // in costs its upload about one transfer into the rack and more of it
  // serves those groups (and its connections are not all taken by rack-mates:
  // the simulator stranded rows whose gateways' were). That is kRelay's
  // gateway, and with levels above racks in any mode a gateway that also
  // represents its row. Only while another representative is making progress:
  // a rack whose relays stall or leave falls back to the plain rule rather
  // than hide its gateway from everyone who could pass its pieces on.
  const UpperGroup* row = row_of(swarm, own);
  auto feeds_outside = [&](const Peer& r) {
    return is_gateway(swarm, own, r, policy, now) &&
           (policy.mode == PolicyMode::kRelay || (row != nullptr && row->has(r.endpoint)));
  };
  bool relayed = false;
  if (policy.mode == PolicyMode::kRelay || row != nullptr) {
    for (const auto& e : own.representatives) {
      const Peer* r = own.find(e);
      if (r != nullptr && (r->seeder() || now - r->last_progress.time() < policy.stall_of(*r)) &&
          !feeds_outside(*r)) {
        relayed = true;
      }
    }
  }
  auto relaying = [&](const Peer& p) {
    return relayed && p.representative() && !p.seeder() && feeds_outside(p);
  };
  // Representatives still see it: they are the ones it feeds.
  const bool self_relaying = relaying(self);
  const bool hide_relays = relayed && !self.representative();
  auto rack_mate_wanted = [&](const Peer& p) {
    return wanted(p) && !(self_relaying && !p.representative()) && !(hide_relays && relaying(p));
  };
  auto for_each_rack_mate = [&](auto&& fn) {
    for (const Peer& p : own.peers) {
      if (rack_mate_wanted(p)) fn(p);
    }
  };

  if (!self_gateway) {
    // The rack's representatives bring the payload in: list them first so a
    // small numwant still reaches them, then a random share of the rest.
    const std::size_t base = out.size();
    for (const auto& e : own.representatives) {
      const Peer* p = own.find(e);
      if (p != nullptr && wanted(*p) && !(hide_relays && relaying(*p)) &&
          out.size() - base < limit) {
        out.push_back(contact(own, *p));
      }
    }
    const auto taken = static_cast<std::uint32_t>(out.size() - base);
    sample_peers(
        own, limit - taken,
        [&](const Peer& p) { return !p.representative() && rack_mate_wanted(p); }, contact, rng,
        out);
    return;
  }

  // A gateway: the gateways of the groups beside its own, level by level,
  // and at the top the origin seeders. With racks the only level, that is
  // every other rack's gateways and origin seeders.
  auto for_each_outsider = [&](auto&& fn) {
    auto gateways_of = [&](const RackGroup& g) {
      for (const auto& e : g.representatives) {
        const Peer* p = g.find(e);
        if (p != nullptr && wanted(*p) && is_gateway(swarm, g, *p, policy, now)) fn(g, *p);
      }
    };
    auto representatives_of = [&](const UpperGroup& u) {
      for (const auto& m : u.representatives) {
        const RackGroup* g = swarm.group(m.rack);
        const Peer* p = g != nullptr ? g->find(m.endpoint) : nullptr;
        if (p != nullptr && wanted(*p) && is_gateway(swarm, *g, *p, policy, now)) fn(*g, *p);
      }
    };
    // The top level, for a representative of `own_top` (a datacenter, or a
    // rack with no level above it): the other top groups' representatives,
    // and every rack's origin seeders but its own rack's (its rack-mates).
    auto top = [&](core::RackId own_top) {
      for (const RackGroup& g : swarm.groups) {
        if (&g == &own) continue;
        if (g.levels_up == 0) gateways_of(g);
        for (const auto& e : g.origins) {
          const Peer* p = g.find(e);
          if (p != nullptr && !p->representative() && p->seeder() && wanted(*p)) fn(g, *p);
        }
      }
      for (const UpperGroup& u : swarm.uppers) {
        if (u.parent == core::RackId{} && u.id != own_top) representatives_of(u);
      }
    };
    if (own.levels_up == 0) return top(own.rack);
    // The racks of its row...
    const core::RackId row = own.parent();
    for (const RackGroup& g : swarm.groups) {
      if (&g != &own && g.levels_up > 0 && g.parent() == row) gateways_of(g);
    }
    // ...and, for each group above it that it represents, that group's
    // siblings (the rows of its datacenter), up to the top.
    for (std::size_t i = own.levels_up; i-- > 0;) {
      const UpperGroup* u = swarm.upper(own.up[i]);
      if (u == nullptr || !u->has(self.endpoint)) return;
      if (i == 0) return top(u->id);
      for (const UpperGroup& v : swarm.uppers) {
        if (v.height == u->height && v.parent == u->parent && v.id != u->id) representatives_of(v);
      }
    }
  };
  // ...and its rack-mates. When both do not fit, at least half the reply goes
  // to outsiders (the representative's job is to reach them; its rack-mates
  // will find it through their own announces) and the rest to rack-mates.
  std::uint32_t outsiders = 0, mates = 0;
  for_each_outsider([&](const RackGroup&, const Peer&) { ++outsiders; });
  for_each_rack_mate([&](const Peer&) { ++mates; });
  const std::uint32_t out_quota =
      std::min(outsiders, std::max(limit - std::min(mates, limit), (limit + 1) / 2));
  const std::uint32_t mate_quota = std::min(mates, limit - out_quota);
  sample(out_quota, for_each_outsider, contact, rng, out);
  sample_peers(own, mate_quota, rack_mate_wanted, contact, rng, out);
}

}  // namespace p2p::swarm::policy

// The chain policy: the hosts of a transfer in a line (a tree, where racks
// come in any order), each told only of the host before it and the hosts
// after it.
//
// A BitTorrent client pulls whatever it lacks from any peer it is connected
// to, whichever side opened the connection, so a rack whose hosts meet hosts
// of other racks takes in as many copies as it has such hosts, less whatever
// they happen to pull from each other first (about 1.8 with the original's two
// representatives). The line avoids that without a host that pulls and serves
// the whole rack alone (kRelay's gateway, whose upload is then the bound):
//   - each rack has a head (the host that joined it first, other than its
//     exit; when it goes, the host that joined after it) and a feeder: the
//     rack that feeds it, chosen once, when the rack appears
//     (Torrent::place_on_line): the newest rack of its row, else of its
//     datacenter, else of the transfer, else the origin seeders;
//   - each rack that feeds others has an exit, the host that feeds their
//     heads: the host of the rack that joined last when the first of them
//     needed it (Torrent::bind_exit), kept while it is here;
//   - in a rack the head comes first, the exit last, the others between in
//     the order they joined, each told of the host before it and the host
//     after it, except that a host that joined after the exit was fixed is
//     not told of the exit;
//   - a head is fed by its feeder's exit, and an exit is told of the heads
//     its rack feeds.
// The only link into a rack is then its head's link to its feeder's exit,
// which had first everything the rack can get: nothing outside the rack ever
// has a piece to give it that it did not pass out itself, so the uplink
// carries each piece in once. A rack feeds at most one new rack of its row,
// one new row and one new datacenter, so it sends at most a copy per level out
// and each row and datacenter takes in one. Racks are appended, never inserted
// between two already linked, and an exit stays last in its rack and is not
// replaced while it is here, because a client keeps its connections: a head
// given a second host to pull from would pass pieces back to it.
//
// Each host uploads to one other, so a piece moves down the line at a host's
// upload, not a share of it: a head that also fed the next rack would split
// its upload between its rack and that rack, and halve the rate of every host
// after it (measured: 26.7 s against 19.2 s for 32 hosts, docs/policy.md). A
// rack whose only host is its head when the next rack comes has its head as
// its exit: waiting for a second host that may never come (a canary, one host
// per rack) was nearly 4 times slower in the simulator.
//
// Hosts of a rack join over several seconds, mostly after its exit was fixed.
// Placed by address, each went between two hosts already linked, which keep
// their link, so the one before it fed two; placed at the end, before the
// exit, each was also told of the exit and, being behind it, pulled from it
// the upload that the racks it feeds were waiting for. In the order they
// joined, and not told of the exit, a late host takes a share of one
// rack-mate's upload only (the simulator's 160 hosts starting within 10 s:
// 73.6 s; by address 129.9 s, told of the exit 84.7 s; docs/policy.md).
//
// A neighbour that is stale (no announce within its life) or stuck (no
// progress for stall_of while the host before it is well ahead) is passed
// over, so a hung client does not cut the line after it.
#include "swarm/policy/chain_policy.h"

namespace p2p::swarm::policy {
namespace {

// At most this many stuck hosts in a row are passed over, to bound the work
// of one announce; a longer run heals as its hosts expire.
constexpr int kMaxSkips = 4;

// Whether `g` is on the line: it has a host that is not an origin seeder.
bool on_line(const RackGroup& g) { return g.peers.size() > g.origins.size(); }

class Line {
 public:
  Line(const SwarmView& swarm, const PolicyOptions& policy, core::TimePoint now,
       core::TimePoint stale_before)
      : swarm_(swarm), policy_(policy), now_(now), stale_before_(stale_before) {}

  // Announced within its life (peer_timeout and its extra_life).
  bool fresh(const Peer& p) const {
    return p.last_seen.time() + policy_.extra_life(p) >= stale_before_;
  }
  // A host on the line: fresh, not an origin seeder.
  bool live(const Peer& p) const { return on_chain(p, stale_before_, policy_); }

  // Calls fn(group, origin) for each fresh origin seeder of the transfer.
  template <class Fn>
  void for_each_origin(Fn&& fn) const {
    for (const RackGroup& g : swarm_.groups) {
      for (const auto& e : g.origins) {
        const Peer* p = g.find(e);
        if (p != nullptr && p->seeder() && fresh(*p)) fn(g, *p);
      }
    }
  }

  // Stuck: downloading, no progress for stall_of, while the host before it
  // (on the line as drawn without passing anyone over) has it all (a seeder,
  // the origin) or is an eighth of the payload or more ahead: the line after
  // it waits on it, not on the origin.
  // A host keeps within a few pieces of the one before it; one far down a
  // long line gets its first piece late, and is not stuck for that (passing
  // it over would give the host after it a second host to pull from).
  //
  // A host gone silent while the hosts after it announced without progress
  // for their stall time is judged as if it had shown no progress itself, over
  // their stall time: one that died before it showed its schedule would
  // otherwise be waited on until it expires.
  bool stuck(const RackGroup& g, const Peer& p) const {
    if (p.seeder()) return false;
    core::Seconds stall = policy_.stall_of(p);
    if (now_ - p.last_progress.time() < stall) {
      stall = starved_after(g, p);
      if (stall == core::Seconds(0)) return false;
    }
    const std::uint64_t margin = swarm_.payload / 8;
    const Spot before = step_back(g, p, /*plain=*/true);
    // A head is judged from when it took the role, or was given the host it
    // pulls from now (RackGroup::head_since): before, it waited on a former
    // one, which then went stale.
    const bool is_head = before.peer == nullptr || before.group != &g;
    if (is_head && (g.head_joined != g.joined_of(p) || !(g.feed == fed_at(before)) ||
                    now_ - g.head_since < stall)) {
      return false;
    }
    // One that has it all (the origin, a seeder) gives without pause: any
    // bytes left without progress is a hang, however few.
    if (before.peer == nullptr) return origin_present();
    const core::TimePoint data_since = before.group->progress_since;
    return data_since != core::TimePoint{} && now_ - data_since >= stall &&
           (before.peer->seeder() || before.peer->left.bytes() + margin < p.left.bytes());
  }

  // The head of `g` (chain_head). Unless `plain`, a stuck head hands the
  // role to the host that joined after it (the one after it on the line,
  // which has the most of what the rack already took in, so the least is
  // pulled in again), which then feeds from the rack's feeder whatever its
  // own progress (it was waiting on the stuck one); the stuck one is passed
  // over as any stuck host is.
  const Peer* head(const RackGroup& g, bool plain = false) const {
    const Peer* first = chain_head(g, stale_before_, policy_);
    if (plain || first == nullptr || !stuck(g, *first)) return first;
    const Peer* next = chain_head(g, stale_before_, policy_, first);
    return next != nullptr ? next : first;
  }

  // A host and its rack group; peer null for "none" (before the first host:
  // the origin seeders).
  struct Spot {
    const RackGroup* group = nullptr;
    const Peer* peer = nullptr;
  };

  // The host of `g` that feeds the heads of the racks `g` feeds: its exit
  // (RackGroup::exit) while live and, unless `plain`, not stuck; else its
  // head.
  const Peer* exit_of(const RackGroup& g, bool plain = false) const {
    if (g.has_exit) {
      const Peer* x = g.find(g.exit);
      if (x != nullptr && live(*x) && (plain || !stuck(g, *x))) return x;
    }
    return head(g, plain);
  }

  // The live host before `p` (of `g`) on the line, passing over stuck ones
  // when `skip_stuck`.
  Spot before_of(const RackGroup& g, const Peer& p, bool skip_stuck) const {
    Spot s{&g, &p};
    for (int hop = 0; hop <= kMaxSkips; ++hop) {
      s = step_back(*s.group, *s.peer, /*plain=*/false);
      if (s.peer == nullptr || !skip_stuck || !stuck(*s.group, *s.peer)) return s;
    }
    return s;
  }

  // The live host after `p` in its rack that is not stuck (none after the
  // rack's last), passing over at most kMaxSkips stuck ones. `h`: the rack's
  // head.
  const Peer* next_in_rack(const RackGroup& g, const Peer& p, const Peer* h) const {
    const Peer* t = tail(g, h);
    if (&p == t) return nullptr;
    const Peer* q = &p;
    for (int hop = 0; hop <= kMaxSkips; ++hop) {
      q = next_joined(g, q == h ? nullptr : q, /*forward=*/true, h, t, stale_before_, policy_);
      if (q == nullptr) break;
      if (!stuck(g, *q)) return q;
    }
    if (q != nullptr) return q;
    if (t != nullptr && &p != h && g.joined_of(p) > g.joined_of(*t)) return nullptr;
    return t != nullptr && !stuck(g, *t) ? t : nullptr;
  }

  // The group whose exit feeds `g`'s head (passing over groups with no live
  // head), or null for the origin seeders.
  const RackGroup* feeder_of(const RackGroup& g) const {
    core::RackId id = g.feeder;
    for (int hop = 0; hop <= kMaxSkips && id != core::RackId{}; ++hop) {
      const RackGroup* f = swarm_.group(id);
      if (f == nullptr) return nullptr;
      if (head(*f, /*plain=*/true) != nullptr) return f;
      id = f->feeder;
    }
    return nullptr;
  }

  // Calls fn(group, head) for each group `g` feeds (null: the origin seeders
  // feed them) that has a live head.
  template <class Fn>
  void for_each_fed(const RackGroup* g, Fn&& fn) const {
    const core::RackId id = g != nullptr ? g->rack : core::RackId{};
    for (const RackGroup& x : swarm_.groups) {
      if (&x == g || x.feeder != id || !on_line(x)) continue;
      if (const Peer* h = head(x)) fn(x, *h);
    }
  }

  // Who `s` names as the host to pull from: its endpoint, or none for the
  // origin seeders (RackGroup::feed's spelling).
  static core::Endpoint fed_at(const Spot& s) {
    return s.peer != nullptr ? s.peer->endpoint : core::Endpoint{};
  }

  bool origin_present() const {
    bool any = false;
    for_each_origin([&](const RackGroup&, const Peer&) { any = true; });
    return any;
  }

 private:
  // When `p` (of `g`) has been silent while each host after it on the line as
  // drawn (one at least) announced without progress for its stall time: the
  // longest of those times, else zero. Hosts silent themselves show nothing.
  core::Seconds starved_after(const RackGroup& g, const Peer& p) const {
    // stall_of is never shorter than stall_after: most hosts stop here.
    if (now_ - p.last_seen.time() < policy_.stall_after) return core::Seconds(0);
    core::Seconds longest(0);
    bool fed = false;
    auto judge = [&](const Peer& q) {
      if (q.seeder()) return;
      fed = fed || !policy_.starved_while_silent(q, p, now_);
      longest = std::max(longest, policy_.stall_of(q));
    };
    const Peer* h = head(g, /*plain=*/true);
    const Peer* t = tail(g, h);
    if (&p != t) {  // the host after it in its rack (step_back's inverse)
      const Peer* q =
          next_joined(g, &p == h ? nullptr : &p, /*forward=*/true, h, t, stale_before_, policy_);
      if (q != nullptr || (q = t) != nullptr) judge(*q);
    }
    if (&p == exit_of(g, /*plain=*/true)) {  // the heads of the racks it feeds
      for (const RackGroup& x : swarm_.groups) {
        if (&x == &g || x.feeder != g.rack || !on_line(x)) continue;
        if (const Peer* xh = head(x, /*plain=*/true)) judge(*xh);
      }
    }
    return fed ? core::Seconds(0) : longest;
  }

  // The rack's exit when it is a live host other than its head `h`: last in
  // the rack's line, whenever it joined, because it has fed another rack
  // and must never fall behind a host of its own rack it could pass pieces
  // back to. Null otherwise.
  const Peer* tail(const RackGroup& g, const Peer* h) const {
    if (!g.has_exit) return nullptr;
    const Peer* x = g.find(g.exit);
    return x != nullptr && x != h && live(*x) ? x : nullptr;
  }

  // A rack's members are its live hosts other than its head and its tail,
  // in the order they joined it (next_joined, passing over both).
  //
  // The host before `p` (of `g`): the member before it, else the head; for
  // the tail, the last member; for the head, its feeder's exit (none: the
  // origin seeders). `plain`: with heads as drawn, no stuck one handing over
  // (what `stuck` judges against).
  Spot step_back(const RackGroup& g, const Peer& p, bool plain) const {
    const Peer* h = head(g, plain);
    if (&p != h && h != nullptr) {
      const Peer* t = tail(g, h);
      const Peer* q =
          next_joined(g, &p == t ? nullptr : &p, /*forward=*/false, h, t, stale_before_, policy_);
      return {&g, q != nullptr ? q : h};
    }
    const RackGroup* f = feeder_of(g);
    if (f == nullptr) return {&g, nullptr};
    return {f, exit_of(*f, plain)};
  }

  const SwarmView& swarm_;
  const PolicyOptions& policy_;
  core::TimePoint now_;
  core::TimePoint stale_before_;
};

}  // namespace

const Peer* next_joined(const RackGroup& g, const Peer* from, bool forward, const Peer* skip_a,
                        const Peer* skip_b, core::TimePoint stale_before,
                        const PolicyOptions& policy) {
  auto sooner = [&](const Peer& a, const Peer& b) {
    return forward ? g.joined_of(a) < g.joined_of(b) : g.joined_of(a) > g.joined_of(b);
  };
  const Peer* best = nullptr;
  for (const Peer& q : g.peers) {
    if (&q == skip_a || &q == skip_b || &q == from || !on_chain(q, stale_before, policy)) continue;
    if (from != nullptr && sooner(q, *from)) continue;
    if (best == nullptr || sooner(q, *best)) best = &q;
  }
  return best;
}

const Peer* chain_head(const RackGroup& g, core::TimePoint stale_before,
                       const PolicyOptions& policy, const Peer* after) {
  const Peer* exit = g.has_exit ? g.find(g.exit) : nullptr;
  if (exit != nullptr && !on_chain(*exit, stale_before, policy)) exit = nullptr;
  if (exit != nullptr && g.exit_is_head && exit != after) return exit;
  const Peer* first = next_joined(g, after, /*forward=*/true, exit, nullptr, stale_before, policy);
  return first != nullptr ? first : exit != after ? exit : nullptr;
}

const Peer* chain_feed(const SwarmView& swarm, const RackGroup& g, core::TimePoint now,
                       core::TimePoint stale_before, const PolicyOptions& policy) {
  const Line line(swarm, policy, now, stale_before);
  const RackGroup* f = line.feeder_of(g);
  return f != nullptr ? line.exit_of(*f, /*plain=*/true) : nullptr;
}

void select_chain(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                  std::uint32_t limit, bool with_peer_ids, core::TimePoint now,
                  core::TimePoint stale_before, const PolicyOptions& policy,
                  std::vector<core::PeerContact>& out) {
  const Line line(swarm, policy, now, stale_before);
  const bool self_seeds = self.seeder();
  const std::size_t base = out.size();
  // A seeder is never told about seeders (they have nothing to trade).
  auto tell = [&](const RackGroup& g, const Peer& p) {
    if (&p == &self || (self_seeds && p.seeder()) || out.size() - base >= limit) return;
    for (std::size_t i = base; i < out.size(); ++i) {
      if (out[i].endpoint == p.endpoint) return;
    }
    out.push_back({p.endpoint, with_peer_ids ? g.peer_id_of(p) : core::PeerId{}});
  };

  if (self.origin()) {  // an origin seeder feeds the heads fed by no rack
    line.for_each_fed(nullptr, tell);
    return;
  }
  const Line::Spot before = line.before_of(own, self, /*skip_stuck=*/true);
  if (before.peer != nullptr) {
    tell(*before.group, *before.peer);
  } else {  // the first host: the origin seeders
    line.for_each_origin(tell);
  }
  const Peer* h = line.head(own);
  if (const Peer* next = line.next_in_rack(own, self, h)) tell(own, *next);
  if (&self == line.exit_of(own)) line.for_each_fed(&own, tell);
}

}  // namespace p2p::swarm::policy

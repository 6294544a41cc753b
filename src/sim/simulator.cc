// The deploy simulator: fixed time steps, whole-piece transfers, max-min fair
// link sharing, peers from the tracker's real policy (swarm::Torrent) or from
// the random-peers baseline (sim::RandomPeers). See simulator.h for the model
// and docs/simulator.md for its assumptions and limits.
#include "sim/simulator.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <queue>
#include <span>

#include "core/clock.h"
#include "core/rng.h"
#include "sim/random_peers.h"

namespace p2p::sim {
namespace {

constexpr std::uint32_t kNoRack = std::numeric_limits<std::uint32_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Max-min fairness by repeated redistribution: each round gives the capacity
// that flows bottlenecked elsewhere leave unused to the others. Three rounds
// get within a few percent of the exact allocation on these topologies
// (host cap -> rack uplink -> host NIC); a final scaling pass keeps every link
// within its capacity whatever the rounds left.
constexpr int kFairShareRounds = 3;
// Peak uplink rates are measured over windows of this many seconds (or one
// step when steps are longer), like a switch's per-second counters.
constexpr double kPeakWindow = 1.0;
// Simulated addresses: host h is 10.0.0.0 + h + 1, the origin 11.0.0.1; every
// client listens on the same port. Racks are named RackIds (the tracker's
// static-map topology), the origin in a rack of its own; with levels, rows
// and datacenters are named RackIds after them (FleetLevels).
constexpr std::uint32_t kHostBase = 0x0A000001u;
constexpr std::uint32_t kOriginAddress = 0x0B000001u;
constexpr std::uint16_t kPort = 6881;
const core::TimePoint kEpoch{core::Seconds(1'700'000'000)};
// How often the tracker's sweep passes over a transfer (src/server/server.cc:
// a tenth of the shards each second).
constexpr double kSweepEvery = 10;

double cap_or_inf(double v) { return v > 0 ? v : kInf; }

struct Flow {
  std::uint32_t src = 0, dst = 0, piece = 0;
  double remaining = 0;
  double rate = 0;
  std::uint8_t nres = 0;
  // Upload cap, NIC in, and out of and into a group at each of up to three levels.
  std::uint32_t res[8] = {};
};

// One level of the switch tree (rack, row, datacenter): which group each rack
// is in, the groups' uplinks as links, and what crossed them.
struct Level {
  const char* name = "";
  std::vector<std::uint32_t> of_rack;
  std::uint32_t origin_group = kNoRack;  // kNoRack: the origin is in none of them
  std::uint32_t groups = 0;
  std::uint32_t out0 = 0, in0 = 0;  // link indices of group 0's uplink out and in
  double uplink = 0;
  std::vector<double> in, out, win_in, win_out, peak_in, peak_out;
};

// What the tracker is told of the fleet's levels: each rack's row and
// datacenter, as a map file of "dc/row/rack" paths would tell it.
class FleetLevels final : public swarm::RackMap {
 public:
  // uppers[r]: rack r's groups above it, outermost first.
  explicit FleetLevels(std::vector<std::vector<core::RackId>> uppers)
      : uppers_(std::move(uppers)) {}
  core::RackId rack_of(const core::Address&) const noexcept override { return {}; }
  std::size_t ancestors(core::RackId rack, std::span<core::RackId> out) const override {
    if (rack.tag != core::RackId::Tag::kNamed || rack.lo >= uppers_.size()) return 0;  // origin
    const auto& up = uppers_[rack.lo];
    const std::size_t n = std::min(up.size(), out.size());
    std::copy(up.end() - static_cast<std::ptrdiff_t>(n), up.end(), out.begin());
    return n;
  }
  std::uint64_t generation() const noexcept override { return 1; }

 private:
  std::vector<std::vector<core::RackId>> uppers_;
};

class Simulation {
 public:
  explicit Simulation(const Options& o);
  Result run();

 private:
  // --- layout -------------------------------------------------------------
  std::uint32_t rack_of(std::uint32_t node) const {
    return node == origin_ ? kNoRack : node / o_.fleet.hosts_per_rack;
  }
  std::uint32_t group_of(const Level& l, std::uint32_t node) const {
    return node == origin_ ? l.origin_group : l.of_rack[rack_of(node)];
  }
  void lay_out_levels();
  std::uint64_t piece_len(std::uint32_t p) const {
    return p + 1 == pieces_ ? o_.client.payload_bytes - std::uint64_t(p) * o_.client.piece_bytes
                            : o_.client.piece_bytes;
  }
  std::uint64_t* have(std::uint32_t n) { return &have_[std::size_t(n) * words_]; }
  std::uint64_t* inflight(std::uint32_t n) { return &inflight_[std::size_t(n) * words_]; }
  std::uint16_t* avail(std::uint32_t n) { return &avail_[std::size_t(n) * pieces_]; }
  bool complete(std::uint32_t n) const { return have_count_[n] == pieces_; }
  bool connected(std::uint32_t a, std::uint32_t b) const {
    const auto& v = nbr_[a];
    return std::find(v.begin(), v.end(), b) != v.end();
  }

  // --- tracker --------------------------------------------------------------
  // The gap `node` is asked to wait before its next announce.
  double interval(std::uint32_t node) const {
    if (o_.tracker.source == PeerSource::kRandomPeers) {
      return o_.tracker.baseline_interval > 0 ? o_.tracker.baseline_interval
                                              : o_.tracker.active_interval;
    }
    return node != origin_ && !complete(node) ? downloading_interval_ : o_.tracker.active_interval;
  }
  void announce(std::uint32_t node, double t, core::AnnounceEvent event);
  core::Endpoint endpoint(std::uint32_t node) const;
  std::uint32_t node_of(const core::Endpoint& e) const;

  // --- peers and pieces ---------------------------------------------------
  void connect(std::uint32_t a, std::uint32_t b);
  void disconnect(std::uint32_t a, std::uint32_t b);
  void add_availability(std::uint32_t to, std::uint32_t from);
  void mark_dirty(std::uint32_t n);
  // Starts transfers for `n`; returns true when a peer had a wanted piece but
  // no free upload slot (try again next step).
  bool pick(std::uint32_t n);
  std::uint32_t choose_piece(std::uint32_t n, std::uint32_t src);
  void start_flow(std::uint32_t src, std::uint32_t dst, std::uint32_t piece);
  void finish_flow(const Flow& f, double t);
  // FaultModel: fails the gateway of each of the first fault.racks racks.
  void fail_gateways();

  // --- links --------------------------------------------------------------
  void allocate(double dt);
  void advance(double t, double dt);

  Options o_;
  std::uint32_t hosts_ = 0, racks_ = 0, origin_ = 0, nodes_ = 0;
  std::uint32_t pieces_ = 0, words_ = 0;
  std::vector<Level> levels_;  // rack, then row and datacenter when the fleet has them

  core::Rng rng_;
  core::ManualClock clock_{kEpoch};
  std::unique_ptr<FleetLevels> fleet_levels_;  // the tracker's view of rows and datacenters
  swarm::Torrent torrent_;
  RandomPeers random_;
  std::vector<core::PeerContact> contacts_;
  std::vector<std::uint32_t> peers_;

  std::vector<std::uint64_t> have_, inflight_;
  std::vector<std::uint16_t> avail_;  // hosts only: copies among each host's peers
  std::vector<std::uint32_t> have_count_;
  std::vector<std::uint64_t> have_bytes_, uploaded_;
  std::vector<std::vector<std::uint32_t>> nbr_;
  std::vector<std::vector<std::uint32_t>> sources_;  // peers each node downloads from now
  std::vector<std::uint32_t> up_used_;
  std::vector<std::uint8_t> announced_, dirty_, failed_;
  std::vector<double> outside_in_;  // bytes each host received from outside its rack
  std::uint32_t failed_count_ = 0;
  std::vector<std::uint32_t> dirty_list_;
  std::vector<double> start_, done_at_, next_announce_;
  using Due = std::pair<double, std::uint32_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  std::vector<std::uint32_t> just_completed_;

  std::vector<Flow> flows_;
  // Links: [0, nodes) node out (upload cap, NIC), [nodes, 2 nodes) node in
  // (NIC), then each level's group uplinks out and in (Level::out0, in0).
  std::vector<double> cap_, share_, load_, constrained_;
  std::vector<std::uint32_t> count_, unconstrained_, touched_;

  std::uint32_t downloading_interval_ = 45;
  double origin_sent_ = 0;
  double max_util_ = 0;
  std::uint64_t announces_ = 0;
};

Simulation::Simulation(const Options& o) : o_(o), rng_(o.seed), random_(0) {
  // The tracker's one peer_timeout, as SwarmTable keeps it.
  o_.tracker.policy.peer_timeout = core::Seconds(o_.tracker.peer_timeout);
  downloading_interval_ = swarm::downloading_interval(
      o_.tracker.policy.mode, o_.tracker.active_interval, o_.tracker.downloading_interval);
  o_.tracker.policy.announce_interval = core::Seconds(downloading_interval_);
  assert(o_.fleet.racks > 0 && o_.fleet.hosts_per_rack > 0);
  assert(o_.client.piece_bytes > 0 && o_.client.payload_bytes > 0);
  racks_ = o_.fleet.racks;
  hosts_ = racks_ * o_.fleet.hosts_per_rack;
  origin_ = hosts_;
  nodes_ = hosts_ + 1;
  pieces_ = static_cast<std::uint32_t>((o_.client.payload_bytes + o_.client.piece_bytes - 1) /
                                       o_.client.piece_bytes);
  words_ = (pieces_ + 63) / 64;
  lay_out_levels();
  random_ = RandomPeers(nodes_);
  contacts_.reserve(std::max(o_.client.numwant, o_.tracker.policy.maxpeers));

  have_.assign(std::size_t(nodes_) * words_, 0);
  inflight_.assign(std::size_t(nodes_) * words_, 0);
  avail_.assign(std::size_t(hosts_) * pieces_, 0);
  have_count_.assign(nodes_, 0);
  have_bytes_.assign(nodes_, 0);
  uploaded_.assign(nodes_, 0);
  nbr_.resize(nodes_);
  sources_.resize(nodes_);
  up_used_.assign(nodes_, 0);
  announced_.assign(nodes_, 0);
  dirty_.assign(nodes_, 0);
  failed_.assign(nodes_, 0);
  outside_in_.assign(nodes_, 0);
  start_.assign(nodes_, 0);
  done_at_.assign(nodes_, -1);
  next_announce_.assign(nodes_, kInf);

  // The origin holds everything from the start.
  for (std::uint32_t p = 0; p < pieces_; ++p) have(origin_)[p / 64] |= 1ull << (p % 64);
  have_count_[origin_] = pieces_;
  have_bytes_[origin_] = o_.client.payload_bytes;

  std::uint32_t links = 2 * nodes_;
  for (Level& l : levels_) {
    l.out0 = links;
    l.in0 = links + l.groups;
    links += 2 * l.groups;
  }
  cap_.assign(links, kInf);
  for (std::uint32_t h = 0; h < hosts_; ++h) {
    cap_[h] = std::min(cap_or_inf(o_.fleet.host_upload_cap), cap_or_inf(o_.fleet.host_nic));
    cap_[nodes_ + h] = cap_or_inf(o_.fleet.host_nic);
  }
  cap_[origin_] =
      std::min(cap_or_inf(o_.fleet.origin_upload_cap), cap_or_inf(o_.fleet.origin_uplink));
  cap_[nodes_ + origin_] = cap_or_inf(o_.fleet.origin_uplink);
  for (Level& l : levels_) {
    std::fill_n(cap_.begin() + l.out0, 2 * l.groups, cap_or_inf(l.uplink));
    for (auto* v : {&l.in, &l.out, &l.win_in, &l.win_out, &l.peak_in, &l.peak_out}) {
      v->assign(l.groups, 0);
    }
  }
  share_.assign(cap_.size(), 0);
  load_.assign(cap_.size(), 0);
  constrained_.assign(cap_.size(), 0);
  count_.assign(cap_.size(), 0);
  unconstrained_.assign(cap_.size(), 0);
}

void Simulation::lay_out_levels() {
  const std::uint32_t dcs = std::max<std::uint32_t>(1, std::min(o_.fleet.datacenters, racks_));
  Level rack;
  rack.name = "rack";
  rack.groups = racks_;
  rack.uplink = o_.fleet.rack_uplink;
  for (std::uint32_t r = 0; r < racks_; ++r) rack.of_rack.push_back(r);
  levels_.push_back(std::move(rack));

  // Racks to datacenters in contiguous blocks; within each, to its rows.
  Level dc;
  dc.name = "datacenter";
  dc.groups = dcs;
  dc.uplink = o_.fleet.datacenter_uplink;
  dc.origin_group = 0;  // the origin is in datacenter 0's core
  for (std::uint32_t r = 0; r < racks_; ++r) {
    dc.of_rack.push_back(static_cast<std::uint32_t>(std::uint64_t(r) * dcs / racks_));
  }
  if (o_.fleet.rows_per_datacenter > 0) {
    Level row;
    row.name = "row";
    row.uplink = o_.fleet.row_uplink;
    for (std::uint32_t d = 0, first = 0; d < dcs; ++d) {
      std::uint32_t n = 0;
      while (first + n < racks_ && dc.of_rack[first + n] == d) ++n;
      const std::uint32_t rows = std::min(o_.fleet.rows_per_datacenter, n);
      for (std::uint32_t i = 0; i < n; ++i) {
        row.of_rack.push_back(row.groups + static_cast<std::uint32_t>(std::uint64_t(i) * rows / n));
      }
      row.groups += rows;
      first += n;
    }
    levels_.push_back(std::move(row));
  }
  levels_.push_back(std::move(dc));

  if (!o_.tracker.levels || o_.tracker.source != PeerSource::kTracker) return;
  // The tracker's view: a group id per row and datacenter after the racks'
  // (and the origin's), the datacenter only when there is more than one.
  std::vector<std::vector<core::RackId>> uppers(racks_);
  std::uint32_t next = racks_ + 1;
  for (auto it = levels_.rbegin(); it != levels_.rend() - 1; ++it) {
    if (it->groups < 2 && it->origin_group != kNoRack) continue;  // one datacenter: no level
    for (std::uint32_t r = 0; r < racks_; ++r) {
      uppers[r].push_back(core::RackId::named(next + it->of_rack[r]));
    }
    next += it->groups;
  }
  fleet_levels_ = std::make_unique<FleetLevels>(std::move(uppers));
  torrent_.set_rack_map(fleet_levels_.get());
}

core::Endpoint Simulation::endpoint(std::uint32_t node) const {
  return {core::Address::v4(node == origin_ ? kOriginAddress : kHostBase + node), kPort};
}

std::uint32_t Simulation::node_of(const core::Endpoint& e) const {
  const std::uint32_t a = e.address.v4_value();
  return a == kOriginAddress ? origin_ : a - kHostBase;
}

void Simulation::announce(std::uint32_t node, double t, core::AnnounceEvent event) {
  ++announces_;
  announced_[node] = 1;
  const bool seeder = complete(node);
  peers_.clear();
  if (o_.tracker.source == PeerSource::kTracker) {
    // The tracker's own code path: Torrent::announce with the simulated clock.
    clock_.set(kEpoch + core::Seconds(static_cast<std::int64_t>(std::floor(t))));
    const core::TimePoint now = clock_.now();
    swarm::PeerAnnounce a;
    a.endpoint = endpoint(node);
    for (int i = 0; i < 4; ++i) a.peer_id.bytes[i] = static_cast<std::uint8_t>(node >> (8 * i));
    a.rack = core::RackId::named(node == origin_ ? racks_ : rack_of(node));
    a.uploaded = uploaded_[node];
    a.downloaded = have_bytes_[node];
    a.left = o_.client.payload_bytes - have_bytes_[node];
    a.event = event;
    a.numwant = o_.client.numwant;
    contacts_.clear();
    torrent_.announce(a, now, now - core::Seconds(o_.tracker.peer_timeout), o_.tracker.policy, rng_,
                      contacts_);
    for (const auto& c : contacts_) peers_.push_back(node_of(c.endpoint));
  } else {
    random_.announce(node, seeder, std::min(o_.client.numwant, o_.tracker.policy.maxpeers), rng_,
                     peers_);
  }
  for (std::uint32_t p : peers_) connect(node, p);
}

void Simulation::add_availability(std::uint32_t to, std::uint32_t from) {
  if (to == origin_) return;
  std::uint16_t* av = avail(to);
  const std::uint64_t* h = have(from);
  for (std::uint32_t w = 0; w < words_; ++w) {
    for (std::uint64_t bits = h[w]; bits != 0; bits &= bits - 1) {
      ++av[w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits))];
    }
  }
}

void Simulation::connect(std::uint32_t a, std::uint32_t b) {
  const std::uint32_t limit = o_.client.max_connections;
  if (a == b || connected(a, b) || nbr_[a].size() >= limit || nbr_[b].size() >= limit) return;
  if (complete(a) && complete(b)) return;  // seeds do not keep seed connections
  nbr_[a].push_back(b);
  nbr_[b].push_back(a);
  add_availability(a, b);
  add_availability(b, a);
  mark_dirty(a);
  mark_dirty(b);
}

void Simulation::disconnect(std::uint32_t a, std::uint32_t b) {
  // Only ever called between two seeders: no availability to take back that
  // anyone still reads, and no transfer between them.
  auto drop = [](std::vector<std::uint32_t>& v, std::uint32_t x) {
    auto it = std::find(v.begin(), v.end(), x);
    if (it != v.end()) {
      *it = v.back();
      v.pop_back();
    }
  };
  drop(nbr_[a], b);
  drop(nbr_[b], a);
}

void Simulation::mark_dirty(std::uint32_t n) {
  if (n == origin_ || complete(n) || dirty_[n] || failed_[n]) return;
  dirty_[n] = 1;
  dirty_list_.push_back(n);
}

std::uint32_t Simulation::choose_piece(std::uint32_t n, std::uint32_t src) {
  const std::uint64_t* mine = have(n);
  const std::uint64_t* busy = inflight(n);
  const std::uint64_t* theirs = have(src);
  const std::uint16_t* av = avail(n);
  const bool rarest = o_.client.piece_order == PieceOrder::kRarestFirst;
  std::uint32_t best = pieces_;
  std::uint32_t best_avail = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t ties = 0;
  for (std::uint32_t w = 0; w < words_; ++w) {
    for (std::uint64_t bits = theirs[w] & ~mine[w] & ~busy[w]; bits != 0; bits &= bits - 1) {
      const std::uint32_t p = w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits));
      const std::uint32_t a = rarest ? av[p] : 0;
      if (a < best_avail) {
        best_avail = a;
        best = p;
        ties = 1;
      } else if (a == best_avail && rng_.below(++ties) == 0) {
        best = p;  // uniform among the equally rare
      }
    }
  }
  return best;
}

bool Simulation::pick(std::uint32_t n) {
  if (complete(n) || failed_[n]) return false;
  auto& srcs = sources_[n];
  const auto& nb = nbr_[n];
  if (nb.empty() || srcs.size() >= o_.client.download_slots) return false;
  bool blocked = false;
  const std::size_t start = rng_.below(nb.size());
  for (std::size_t k = 0; k < nb.size() && srcs.size() < o_.client.download_slots; ++k) {
    const std::uint32_t y = nb[(start + k) % nb.size()];
    if (failed_[y] || std::find(srcs.begin(), srcs.end(), y) != srcs.end()) continue;
    bool useful = false;
    for (std::uint32_t w = 0; w < words_ && !useful; ++w) {
      useful = (have(y)[w] & ~have(n)[w] & ~inflight(n)[w]) != 0;
    }
    if (!useful) continue;
    if (up_used_[y] >= o_.client.upload_slots) {
      blocked = true;
      continue;
    }
    start_flow(y, n, choose_piece(n, y));
  }
  return blocked;
}

void Simulation::start_flow(std::uint32_t src, std::uint32_t dst, std::uint32_t piece) {
  assert(piece < pieces_);
  Flow f;
  f.src = src;
  f.dst = dst;
  f.piece = piece;
  f.remaining = static_cast<double>(piece_len(piece));
  auto add = [&](std::uint32_t r) {
    if (cap_[r] != kInf) f.res[f.nres++] = r;
  };
  add(src);
  add(nodes_ + dst);
  for (const Level& l : levels_) {
    const std::uint32_t gs = group_of(l, src), gd = group_of(l, dst);
    if (gs == gd) continue;
    if (gs != kNoRack) add(l.out0 + gs);
    add(l.in0 + gd);  // a receiver is always a host, in some group
  }
  inflight(dst)[piece / 64] |= 1ull << (piece % 64);
  ++up_used_[src];
  sources_[dst].push_back(src);
  flows_.push_back(f);
}

void Simulation::finish_flow(const Flow& f, double t) {
  const std::uint32_t n = f.dst, p = f.piece;
  inflight(n)[p / 64] &= ~(1ull << (p % 64));
  --up_used_[f.src];
  auto& srcs = sources_[n];
  srcs.erase(std::find(srcs.begin(), srcs.end(), f.src));
  have(n)[p / 64] |= 1ull << (p % 64);
  ++have_count_[n];
  have_bytes_[n] += piece_len(p);
  // A "have" message to every peer: one more copy among their peers.
  for (std::uint32_t z : nbr_[n]) {
    if (z != origin_) ++avail(z)[p];
    mark_dirty(z);
  }
  if (complete(n)) {
    done_at_[n] = t;
    just_completed_.push_back(n);
  } else {
    mark_dirty(n);
  }
}

void Simulation::fail_gateways() {
  const std::uint32_t racks = std::min(o_.fault.racks, racks_);
  for (std::uint32_t r = 0; r < racks; ++r) {
    const std::uint32_t first = r * o_.fleet.hosts_per_rack;
    std::uint32_t gw = first;
    for (std::uint32_t h = first; h < first + o_.fleet.hosts_per_rack; ++h) {
      if (outside_in_[h] > outside_in_[gw]) gw = h;
    }
    // A host that already finished would not be missed: failing it shows nothing.
    if (complete(gw)) continue;
    failed_[gw] = 1;
    ++failed_count_;
  }
  // Its transfers break off; the receivers ask someone else for those pieces.
  std::size_t i = 0;
  while (i < flows_.size()) {
    const Flow f = flows_[i];
    if (!failed_[f.src] && !failed_[f.dst]) {
      ++i;
      continue;
    }
    inflight(f.dst)[f.piece / 64] &= ~(1ull << (f.piece % 64));
    --up_used_[f.src];
    auto& srcs = sources_[f.dst];
    srcs.erase(std::find(srcs.begin(), srcs.end(), f.src));
    mark_dirty(f.dst);
    mark_dirty(f.src);
    flows_[i] = flows_.back();
    flows_.pop_back();
  }
}

void Simulation::allocate(double dt) {
  for (std::uint32_t r : touched_) {
    count_[r] = 0;
    load_[r] = 0;
  }
  touched_.clear();
  for (const Flow& f : flows_) {
    for (int i = 0; i < f.nres; ++i) {
      if (count_[f.res[i]]++ == 0) touched_.push_back(f.res[i]);
    }
  }
  for (std::uint32_t r : touched_) share_[r] = cap_[r] / count_[r];
  auto rate_of = [&](Flow& f) {
    double rate = kInf;
    for (int i = 0; i < f.nres; ++i) rate = std::min(rate, share_[f.res[i]]);
    // No capped link on the way: the piece arrives within the step.
    f.rate = rate == kInf ? f.remaining / dt : rate;
  };
  for (Flow& f : flows_) rate_of(f);
  for (int round = 1; round < kFairShareRounds; ++round) {
    for (std::uint32_t r : touched_) {
      constrained_[r] = 0;
      unconstrained_[r] = 0;
    }
    for (const Flow& f : flows_) {
      for (int i = 0; i < f.nres; ++i) {
        const std::uint32_t r = f.res[i];
        if (f.rate < share_[r] * (1 - 1e-9)) {
          constrained_[r] += f.rate;  // held back by another link
        } else {
          ++unconstrained_[r];
        }
      }
    }
    for (std::uint32_t r : touched_) {
      if (unconstrained_[r] > 0) {
        share_[r] = std::max(0.0, cap_[r] - constrained_[r]) / unconstrained_[r];
      }
    }
    for (Flow& f : flows_) rate_of(f);
  }
  // Feasibility: scale flows down on any link the rounds overfilled.
  for (const Flow& f : flows_) {
    for (int i = 0; i < f.nres; ++i) load_[f.res[i]] += f.rate;
  }
  for (std::uint32_t r : touched_) share_[r] = load_[r] > cap_[r] ? cap_[r] / load_[r] : 1.0;
  for (Flow& f : flows_) {
    double scale = 1.0;
    for (int i = 0; i < f.nres; ++i) scale = std::min(scale, share_[f.res[i]]);
    f.rate *= scale;
  }
  for (std::uint32_t r : touched_) load_[r] = 0;
  for (const Flow& f : flows_) {
    for (int i = 0; i < f.nres; ++i) load_[f.res[i]] += f.rate;
  }
  for (std::uint32_t r : touched_) max_util_ = std::max(max_util_, load_[r] / cap_[r]);
}

void Simulation::advance(double t, double dt) {
  std::size_t i = 0;
  while (i < flows_.size()) {
    Flow& f = flows_[i];
    const double bytes = std::min(f.remaining, f.rate * dt);
    if (rack_of(f.src) != rack_of(f.dst)) outside_in_[f.dst] += bytes;
    for (Level& l : levels_) {
      const std::uint32_t gs = group_of(l, f.src), gd = group_of(l, f.dst);
      if (gs == gd) continue;
      l.in[gd] += bytes;
      l.win_in[gd] += bytes;
      if (gs != kNoRack) {
        l.out[gs] += bytes;
        l.win_out[gs] += bytes;
      }
    }
    if (f.src == origin_) origin_sent_ += bytes;
    uploaded_[f.src] += static_cast<std::uint64_t>(bytes);
    if (f.remaining - bytes <= 1e-6) {
      const Flow done = f;
      const double finish = t + (f.rate > 0 ? f.remaining / f.rate : dt);
      f = flows_.back();
      flows_.pop_back();
      finish_flow(done, std::min(finish, t + dt));
    } else {
      f.remaining -= bytes;
      ++i;
    }
  }
}

Result Simulation::run() {
  const auto wall0 = std::chrono::steady_clock::now();
  double dt = o_.step;
  if (dt <= 0) {
    const double cap =
        std::min(cap_or_inf(o_.fleet.host_upload_cap), cap_or_inf(o_.fleet.host_nic));
    dt = cap == kInf ? 1.0 : static_cast<double>(o_.client.piece_bytes) / cap / 4;
    dt = std::clamp(dt, 0.001, 1.0);
  }
  const auto window_steps = static_cast<std::uint64_t>(std::max(1.0, std::round(kPeakWindow / dt)));

  // The origin seeds before anyone starts; hosts start within start_spread.
  announce(origin_, 0, core::AnnounceEvent::kStarted);
  next_announce_[origin_] = interval(origin_);
  due_.push({next_announce_[origin_], origin_});
  double first_start = kInf;
  for (std::uint32_t h = 0; h < hosts_; ++h) {
    start_[h] = o_.client.start_spread > 0
                    ? o_.client.start_spread * static_cast<double>(rng_.below(1u << 30)) /
                          static_cast<double>(1u << 30)
                    : 0;
    first_start = std::min(first_start, start_[h]);
    next_announce_[h] = start_[h];
    due_.push({start_[h], h});
  }

  Result res;
  std::uint32_t completed = 0;
  double t = 0;
  std::uint64_t steps = 0;
  std::vector<std::uint32_t> work;
  bool fault_pending = o_.fault.at >= 0;
  double next_sweep = kSweepEvery;
  while (completed + failed_count_ < hosts_ && t < o_.time_limit) {
    if (fault_pending && t >= first_start + o_.fault.at) {
      fault_pending = false;
      fail_gateways();
    }
    while (!due_.empty() && due_.top().first <= t) {
      const auto [when, n] = due_.top();
      due_.pop();
      if (when != next_announce_[n]) continue;                       // rescheduled since
      if (failed_[n] && o_.fault.kind == FaultKind::kDie) continue;  // silent from now on
      announce(n, t, announced_[n] ? core::AnnounceEvent::kNone : core::AnnounceEvent::kStarted);
      next_announce_[n] = when + interval(n);
      due_.push({next_announce_[n], n});
    }
    // The server's sweep: peers silent for peer_timeout leave the swarm, and
    // with them any representative slot they held (a host that died).
    if (o_.tracker.source == PeerSource::kTracker && t >= next_sweep) {
      next_sweep += kSweepEvery;
      const core::TimePoint now = kEpoch + core::Seconds(static_cast<std::int64_t>(std::floor(t)));
      torrent_.expire(now - core::Seconds(o_.tracker.peer_timeout), o_.tracker.policy);
    }
    // Requests, in a random order so no host always gets the free slots first.
    work.swap(dirty_list_);
    dirty_list_.clear();
    for (std::size_t i = work.size(); i > 1; --i) std::swap(work[i - 1], work[rng_.below(i)]);
    for (std::uint32_t n : work) dirty_[n] = 0;
    for (std::uint32_t n : work) {
      if (pick(n)) mark_dirty(n);
    }
    allocate(dt);
    advance(t, dt);
    // A client announces event=completed at once; seeds drop seed peers.
    for (std::uint32_t n : just_completed_) {
      ++completed;
      std::vector<std::uint32_t> seeds;
      for (std::uint32_t z : nbr_[n]) {
        if (complete(z)) seeds.push_back(z);
      }
      for (std::uint32_t z : seeds) disconnect(n, z);
      announce(n, done_at_[n], core::AnnounceEvent::kCompleted);
      next_announce_[n] = done_at_[n] + interval(n);
      due_.push({next_announce_[n], n});
    }
    just_completed_.clear();
    ++steps;
    t += dt;
    if (steps % window_steps == 0 || completed == hosts_) {
      const double len =
          dt * static_cast<double>(steps % window_steps == 0 ? window_steps : steps % window_steps);
      for (Level& l : levels_) {
        for (std::uint32_t g = 0; g < l.groups; ++g) {
          l.peak_in[g] = std::max(l.peak_in[g], l.win_in[g] / len);
          l.peak_out[g] = std::max(l.peak_out[g], l.win_out[g] / len);
          l.win_in[g] = l.win_out[g] = 0;
        }
      }
    }
  }

  const double payload = static_cast<double>(o_.client.payload_bytes);
  res.complete = completed + failed_count_ == hosts_;
  res.failed_hosts = failed_count_;
  res.hosts = hosts_;
  res.racks = racks_;
  res.pieces = pieces_;
  res.payload_bytes = o_.client.payload_bytes;
  res.steps = steps;
  res.step = dt;
  res.announces = announces_;
  std::vector<double> done;
  double last = first_start;
  for (std::uint32_t h = 0; h < hosts_; ++h) {
    if (failed_[h]) continue;
    const double d = done_at_[h] >= 0 ? done_at_[h] : t;
    done.push_back(d - first_start);
    last = std::max(last, d);
  }
  res.deploy_seconds = last - first_start;
  std::sort(done.begin(), done.end());
  if (!done.empty()) {  // empty only if every host failed
    res.completion_p50 = done[done.size() / 2];
    res.completion_p90 = done[std::min(done.size() - 1, done.size() * 9 / 10)];
  }
  const Level& racks = levels_.front();
  for (std::uint32_t r = 0; r < racks_; ++r) {
    RackReport rr;
    rr.bytes_in = static_cast<std::uint64_t>(std::llround(racks.in[r]));
    rr.bytes_out = static_cast<std::uint64_t>(std::llround(racks.out[r]));
    rr.peak_in = racks.peak_in[r];
    rr.peak_out = racks.peak_out[r];
    res.per_rack.push_back(rr);
  }
  auto summarize = [](std::vector<double> v) {
    Summary s;
    std::sort(v.begin(), v.end());
    s.max = v.back();
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    return s;
  };
  for (const Level& l : levels_) {
    if (l.groups < 2 && l.origin_group != kNoRack) continue;  // one datacenter: never crossed
    std::vector<double> amp, egr, util;
    for (std::uint32_t g = 0; g < l.groups; ++g) {
      amp.push_back(l.in[g] / payload);
      egr.push_back(l.out[g] / payload);
      util.push_back(l.uplink > 0 ? l.peak_in[g] / l.uplink : 0);
    }
    res.levels.push_back(
        {l.name, l.groups, l.uplink, summarize(amp), summarize(egr), summarize(util)});
  }
  res.amplification = res.levels.front().amplification;
  res.egress = res.levels.front().egress;
  res.peak_uplink_in = res.levels.front().peak_uplink_in;
  for (double b : levels_.back().in) res.datacenter_amplification.push_back(b / payload);
  res.lower_bound_seconds = lower_bound_seconds(o_);
  res.origin_copies = origin_sent_ / payload;
  res.max_link_utilisation = max_util_;
  res.host_bytes.assign(have_bytes_.begin(), have_bytes_.begin() + hosts_);
  res.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return res;
}

}  // namespace

Result simulate(const Options& options) { return Simulation(options).run(); }

double lower_bound_seconds(const Options& o) {
  const Fleet& f = o.fleet;
  const std::uint32_t dcs = std::max<std::uint32_t>(1, std::min(f.datacenters, f.racks));
  // Every byte leaves the origin once and enters every host once, and with
  // each uplink carrying it once, crosses each level's uplinks once.
  double narrowest = std::min(
      {cap_or_inf(f.origin_upload_cap), cap_or_inf(f.origin_uplink), cap_or_inf(f.host_nic)});
  // The origin is outside every rack and row, inside datacenter 0.
  double hops = 2;  // into a rack (its representative), then to a host of it
  narrowest = std::min(narrowest, cap_or_inf(f.rack_uplink));
  if (f.rows_per_datacenter > 0) {
    narrowest = std::min(narrowest, cap_or_inf(f.row_uplink));
    ++hops;
  }
  if (dcs > 1) {
    narrowest = std::min(narrowest, cap_or_inf(f.datacenter_uplink));
    ++hops;
  }
  const double piece_rate = std::min(cap_or_inf(f.host_upload_cap), cap_or_inf(f.host_nic));
  const auto payload = static_cast<double>(o.client.payload_bytes);
  const auto piece = static_cast<double>(std::min(o.client.piece_bytes, o.client.payload_bytes));
  return (narrowest == kInf ? 0 : payload / narrowest) +
         (piece_rate == kInf ? 0 : hops * piece / piece_rate);
}

std::string label(const TrackerModel& tracker) {
  if (tracker.source == PeerSource::kRandomPeers) return "random";
  return std::string(swarm::policy_mode_name(tracker.policy.mode)) + "/" +
         std::to_string(tracker.policy.max_repr_rack) + (tracker.levels ? "+levels" : "");
}

}  // namespace p2p::sim

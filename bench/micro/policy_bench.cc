// policy_bench: Google Benchmark micro-benchmarks of the announce path's pure
// parts, for catching regressions: one Torrent::announce (peer update plus the
// rack policy's selection) in swarms of 100 and 10,000 peers spread over 5 and
// 200 racks (10,000 also with rows and datacenters above the racks), a
// deploy's first minute under `tree` over 200, 1,000 and 10,000 racks, parsing
// an announce query, encoding a compact reply with 35 peers, and decoding that
// reply.
//
// Run by `make bench` (short --benchmark_min_time); the numbers land in
// docs/performance.md. Single-threaded; every fixture is built before timing.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rack.h"
#include "core/rng.h"
#include "swarm/rack_map.h"
#include "swarm/torrent.h"
#include "wire/announce.h"
#include "wire/bencode.h"

namespace {

using p2p::core::Address;
using p2p::core::Endpoint;
using p2p::core::PeerContact;
using p2p::core::PeerId;
using p2p::core::RackId;
using p2p::core::TimePoint;

constexpr std::uint32_t kMaxPeers = 35;  // the default maxpeers: a reply's size

const TimePoint kNow{p2p::core::Seconds(1'700'000'000)};
const TimePoint kStaleBefore = kNow - p2p::core::Seconds(150);  // default peer_timeout

PeerId peer_id_for(std::uint32_t i) {
  char text[21];  // 20 characters and snprintf's terminator
  std::snprintf(text, sizeof text, "-BN0001-%012u", i);
  PeerId id;
  std::memcpy(id.bytes.data(), text, PeerId::kSize);
  return id;
}

// Peer i of a swarm: rack i % racks is the /24 10.R.R.0, the host its index in
// the rack. Every tenth peer a seeder, as in the load benchmarks.
p2p::swarm::PeerAnnounce peer_announce(std::uint32_t i, std::uint32_t racks) {
  std::uint32_t rack = i % racks, host = i / racks;
  std::uint32_t net = (10u << 24) | (rack << 8);  // 10.0.R.0/24, R < 256
  p2p::swarm::PeerAnnounce a;
  // Hosts beyond 254 in a rack move to the next port, so endpoints stay unique.
  a.endpoint =
      Endpoint{Address::v4(net | (1 + host % 254)), static_cast<std::uint16_t>(6881 + host / 254)};
  a.peer_id = peer_id_for(i);
  a.rack = RackId::v4_prefix(net, 24);
  a.left = i % 10 == 0 ? 0 : 1'000'000;
  a.downloaded = a.left == 0 ? 1'000'000 : 0;
  a.numwant = kMaxPeers;
  return a;
}

// Torrent::announce of an existing peer (the steady state of a deploy: every
// peer re-announces each interval), selection included, in a swarm of `peers`
// over `racks` (and the levels above them `levels` gives, if any).
void steady_announces(benchmark::State& state, std::uint32_t peers, std::uint32_t racks,
                      const p2p::swarm::RackMap* levels, const p2p::swarm::PolicyOptions& policy) {
  p2p::swarm::Torrent torrent;
  torrent.set_rack_map(levels);
  p2p::core::Rng rng(42);
  std::vector<PeerContact> out;
  out.reserve(kMaxPeers);
  std::vector<p2p::swarm::PeerAnnounce> announces;
  for (std::uint32_t i = 0; i < peers; ++i) {
    announces.push_back(peer_announce(i, racks));
    out.clear();
    torrent.announce(announces.back(), kNow, kStaleBefore, policy, rng, out);
  }
  std::uint64_t handed_out = 0;
  for (auto _ : state) {
    out.clear();
    const auto& a = announces[rng.below(peers)];
    auto outcome = torrent.announce(a, kNow, kStaleBefore, policy, rng, out);
    benchmark::DoNotOptimize(outcome);
    handed_out += out.size();
  }
  state.counters["peers_per_reply"] =
      benchmark::Counter(static_cast<double>(handed_out), benchmark::Counter::kAvgIterations);
}

void BM_TorrentAnnounce(benchmark::State& state) {
  steady_announces(state, static_cast<std::uint32_t>(state.range(0)),
                   static_cast<std::uint32_t>(state.range(1)), nullptr, {});
}
BENCHMARK(BM_TorrentAnnounce)
    ->ArgNames({"peers", "racks"})
    ->Args({100, 5})
    ->Args({100, 200})
    ->Args({10'000, 5})
    ->Args({10'000, 200});

// Racks (10.0.R.0/24) in rows of 16 (/20) in datacenters of 64 (/18): the
// levels above racks that a map file of paths or subnet_levels_v4 give.
class BenchLevels final : public p2p::swarm::RackMap {
 public:
  RackId rack_of(const Address& a) const noexcept override {
    return RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
  }
  std::size_t ancestors(RackId rack, std::span<RackId> out) const override {
    if (out.size() < 2) return 0;
    const auto net = static_cast<std::uint32_t>(rack.lo);
    out[0] = RackId::v4_prefix(net & 0xFFFFC000u, 18);
    out[1] = RackId::v4_prefix(net & 0xFFFFF000u, 20);
    return 2;
  }
  std::uint64_t generation() const noexcept override { return 1; }
};

// BM_TorrentAnnounce with levels above racks (0: racks only, 1: rows and
// datacenters, two representatives each) under `original` (0) or `relay`
// (1), whose gateway choice looks up each representative's places above.
void BM_TorrentAnnounceLevels(benchmark::State& state) {
  const BenchLevels levels;
  p2p::swarm::PolicyOptions policy;
  if (state.range(3) != 0) policy.mode = p2p::swarm::PolicyMode::kRelay;
  steady_announces(state, static_cast<std::uint32_t>(state.range(0)),
                   static_cast<std::uint32_t>(state.range(1)),
                   state.range(2) != 0 ? &levels : nullptr, policy);
}
BENCHMARK(BM_TorrentAnnounceLevels)
    ->ArgNames({"peers", "racks", "levels", "relay"})
    ->Args({10'000, 200, 0, 0})
    ->Args({10'000, 200, 1, 0})
    ->Args({10'000, 200, 0, 1})
    ->Args({10'000, 200, 1, 1});

// A deploy's first minute under `tree` with rows and datacenters: `peers`
// hosts over `racks` racks start in a random order spread over 60 s, and each
// announces again 45 s after its start; the time is per announce, over as many
// such minutes as it takes. While racks wait for a place, an announce looks
// for a place for a few of them (Torrent::tree_adopt), and each look reads
// every rack of the transfer.
void BM_TreeRamp(benchmark::State& state) {
  const auto peers = static_cast<std::uint32_t>(state.range(0));
  const auto racks = static_cast<std::uint32_t>(state.range(1));
  const BenchLevels levels;
  p2p::swarm::PolicyOptions policy;
  policy.mode = p2p::swarm::PolicyMode::kTree;
  p2p::core::Rng rng(42);
  std::vector<PeerContact> out;
  out.reserve(kMaxPeers);
  std::vector<std::uint32_t> order(peers);
  for (std::uint32_t i = 0; i < peers; ++i) order[i] = i;
  for (std::uint32_t i = peers; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  struct Due {
    std::int64_t ms;  // after the first start
    p2p::swarm::PeerAnnounce announce;
  };
  std::vector<Due> schedule;
  for (std::uint32_t k = 0; k < peers; ++k) {
    const std::int64_t at = std::int64_t{k} * 60'000 / peers;
    auto a = peer_announce(order[k], racks);
    a.left = 1'000'000;  // every host downloads: the tree places them all
    a.downloaded = 0;
    schedule.push_back({at, a});
    schedule.push_back({at + 45'000, a});
  }
  std::stable_sort(schedule.begin(), schedule.end(),
                   [](const Due& x, const Due& y) { return x.ms < y.ms; });
  auto torrent = std::make_unique<p2p::swarm::Torrent>();
  torrent->set_rack_map(&levels);
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == schedule.size()) {  // a new deploy: not timed
      state.PauseTiming();
      torrent = std::make_unique<p2p::swarm::Torrent>();
      torrent->set_rack_map(&levels);
      next = 0;
      state.ResumeTiming();
    }
    const Due& d = schedule[next++];
    const TimePoint now = kNow + p2p::core::Seconds(d.ms / 1000);
    out.clear();
    auto outcome =
        torrent->announce(d.announce, now, now - p2p::core::Seconds(150), policy, rng, out);
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_TreeRamp)
    ->ArgNames({"peers", "racks"})
    ->Args({10'000, 200})
    ->Args({10'000, 1'000})
    ->Args({100'000, 10'000});

// A first announce into a swarm (insert, representative slot, selection) and
// the stop that removes it again, so the swarm keeps its size. `started`: 1,
// a client's first announce (BEP 3's event=started); 0, a peer the swarm does
// not have announcing without it (back after a tracker restart or an expiry),
// which is looked for in every rack's group first (Torrent::group_holding).
void BM_TorrentJoinLeave(benchmark::State& state) {
  const auto peers = static_cast<std::uint32_t>(state.range(0));
  const auto racks = static_cast<std::uint32_t>(state.range(1));
  const auto join_event =
      state.range(2) != 0 ? p2p::core::AnnounceEvent::kStarted : p2p::core::AnnounceEvent::kNone;
  p2p::swarm::Torrent torrent;
  p2p::swarm::PolicyOptions policy;
  p2p::core::Rng rng(42);
  std::vector<PeerContact> out;
  out.reserve(kMaxPeers);
  for (std::uint32_t i = 0; i < peers; ++i) {
    out.clear();
    torrent.announce(peer_announce(i, racks), kNow, kStaleBefore, policy, rng, out);
  }
  std::uint32_t next = peers;
  for (auto _ : state) {
    auto a = peer_announce(next++ % (2 * peers) + peers, racks);
    a.event = join_event;
    out.clear();
    torrent.announce(a, kNow, kStaleBefore, policy, rng, out);
    a.event = p2p::core::AnnounceEvent::kStopped;
    out.clear();
    torrent.announce(a, kNow, kStaleBefore, policy, rng, out);
  }
}
BENCHMARK(BM_TorrentJoinLeave)
    ->ArgNames({"peers", "racks", "started"})
    ->Args({100, 5, 1})
    ->Args({10'000, 200, 1})
    ->Args({100, 5, 0})
    ->Args({10'000, 200, 0});

// The query string rtorrent/libtorrent send, binary hashes percent-encoded.
std::string announce_query() {
  static const char kHex[] = "0123456789ABCDEF";
  std::string q = "info_hash=";
  for (int i = 0; i < 20; ++i) {
    auto b = static_cast<std::uint8_t>(i * 37 + 11);
    q += '%';
    q += kHex[b >> 4];
    q += kHex[b & 15];
  }
  q += "&peer_id=-BN0001-000000004711&port=20047&uploaded=0&downloaded=0&left=1000000"
       "&corrupt=0&key=5C2B1A7E&event=started&numwant=35&compact=1&no_peer_id=1";
  return q;
}

void BM_ParseAnnounce(benchmark::State& state) {
  const std::string query = announce_query();
  for (auto _ : state) {
    auto r = p2p::wire::parse_announce(query);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseAnnounce);

std::vector<PeerContact> some_peers(std::uint32_t n) {
  std::vector<PeerContact> peers;
  for (std::uint32_t i = 0; i < n; ++i) {
    peers.push_back(PeerContact{Endpoint{Address::v4((10u << 24) | i), 6881}, peer_id_for(i)});
  }
  return peers;
}

void BM_EncodeAnnounceCompact35(benchmark::State& state) {
  const auto peers = some_peers(kMaxPeers);
  p2p::wire::AnnounceReply reply;
  reply.interval = 45;
  reply.min_interval = 15;
  reply.complete = 10;
  reply.incomplete = 90;
  reply.peers = peers;
  reply.external_ip = Address::v4(0x7F000001);
  std::string out;
  out.reserve(1024);  // the worker's reusable buffer, already grown
  for (auto _ : state) {
    out.clear();
    p2p::wire::encode_announce(reply, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeAnnounceCompact35);

void BM_BdecodeAnnounceReply(benchmark::State& state) {
  const auto peers = some_peers(kMaxPeers);
  p2p::wire::AnnounceReply reply;
  reply.interval = 45;
  reply.min_interval = 15;
  reply.peers = peers;
  std::string body;
  p2p::wire::encode_announce(reply, body);
  for (auto _ : state) {
    auto v = p2p::wire::bdecode(body);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_BdecodeAnnounceReply);

}  // namespace

BENCHMARK_MAIN();

// Fleet-scale deploy simulator: how many times each rack's uplink carries a
// payload when thousands of hosts download it through BitTorrent, under the
// tracker's real rack policy (swarm::Torrent::announce) or under random peers
// (what a general-purpose tracker such as opentracker hands out).
//
// The model (docs/simulator.md has the full list of assumptions):
//   - hosts in racks, racks optionally in rows and datacenters; every host
//     has a NIC rate and a client upload cap; every rack one uplink (a
//     capacity in each direction), every row and datacenter optionally one;
//     the origin seeder sits outside every rack and row (in datacenter 0's
//     core) behind its own uplink;
//   - time advances in fixed steps; in each step every transfer (one piece
//     from one peer to another) gets a max-min fair share of each link it
//     crosses: the sender's upload cap, the receiver's NIC, the racks',
//     rows' and datacenters' uplinks when it leaves them;
//   - clients announce when they start, every active_interval, and when they
//     complete; they connect to the peers the tracker names (up to
//     max_connections each) and request rarest-first pieces they lack from
//     connected peers with a free upload slot.
//
// Deterministic: the same Options (seed included) give the same Result.
// Single-threaded; simulate() owns everything it touches, so separate calls
// may run on separate threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "swarm/torrent.h"

namespace p2p::sim {

// Where clients get their peers from.
enum class PeerSource : std::uint8_t {
  // BASELINE, not p2ptracker: a uniform random sample of the swarm (self
  // excluded, seeders get no seeders), what opentracker answers.
  kRandomPeers,
  // p2ptracker: swarm::Torrent::announce with Options::policy.
  kTracker,
};

enum class PieceOrder : std::uint8_t { kRarestFirst, kRandom };

// Rates are bytes per second; 0 means unlimited.
struct Fleet {
  std::uint32_t racks = 50;
  std::uint32_t hosts_per_rack = 40;
  std::uint32_t datacenters = 1;  // racks are dealt out in contiguous blocks
  // Rows between racks and datacenters: each datacenter's racks are dealt
  // out to this many rows in contiguous blocks. 0: no row level.
  std::uint32_t rows_per_datacenter = 0;
  double host_nic = 125e6;          // 1 Gbit/s, each direction
  double host_upload_cap = 12.5e6;  // the client's cap: 100 Mbit/s, as the original's
  double rack_uplink = 125e6;       // 1 Gbit/s each direction (racks of 40 x 1 Gbit/s)
  double row_uplink = 0;            // 0: not a bottleneck
  double datacenter_uplink = 0;     // 0: not a bottleneck
  double origin_uplink = 125e6;     // the build server's NIC
  double origin_upload_cap = 12.5e6;
};

struct ClientModel {
  std::uint64_t payload_bytes = 1ull << 30;
  std::uint64_t piece_bytes = 4ull << 20;
  std::uint32_t max_connections = 50;  // peer connections per host (both directions)
  std::uint32_t upload_slots = 4;      // concurrent uploads (unchoked peers) per host
  std::uint32_t download_slots = 4;    // pieces in flight per downloader, one per peer
  std::uint32_t numwant = 50;
  double start_spread = 10;  // hosts start uniformly within this many seconds
  PieceOrder piece_order = PieceOrder::kRarestFirst;
};

struct TrackerModel {
  PeerSource source = PeerSource::kTracker;
  swarm::PolicyOptions policy;  // max_repr_rack, max_repr_up, maxpeers, mode, ...
  // The tracker knows the fleet's rows and datacenters as levels above racks
  // (as with subnet_levels_v4 or a map file of paths) and shapes the swarm at
  // each (policy.max_repr_up). false: racks are its only level, as the
  // original's.
  bool levels = false;
  std::uint32_t active_interval = 45;  // seconds between announces
  // Asked of a host still downloading under tree, as the server
  // asks it (swarm::downloading_interval); 0: active_interval.
  std::uint32_t downloading_interval = 0;
  // kRandomPeers: seconds between announces when not the same as
  // active_interval (0). opentracker's is compiled in: 30 minutes, so in a
  // short deploy its clients announce only when they start and complete.
  std::uint32_t baseline_interval = 0;
  std::uint32_t peer_timeout = 150;
};

// Failure injection: at `at` seconds after the first start, the gateway of
// each of the first `racks` racks fails (the host that has received the most
// bytes from outside its rack by then, whatever the peer source). A stalled
// host keeps announcing without progress (a hung client, a full disk): the
// tracker sees its `left` stop going down. A dead one also stops announcing
// (a crash: no event=stopped). Either way it moves no more bytes, its pieces
// in flight are lost, and the deploy is over when every other host is done.
enum class FaultKind : std::uint8_t { kStall, kDie };
struct FaultModel {
  double at = -1;  // < 0: nobody fails
  std::uint32_t racks = 1;
  FaultKind kind = FaultKind::kStall;
};

struct Options {
  Fleet fleet;
  ClientModel client;
  TrackerModel tracker;
  FaultModel fault;
  double step = 0;  // seconds per time step; 0: a quarter of one piece at the upload cap, <= 1
  double time_limit = 36000;  // simulated seconds before giving up
  std::uint64_t seed = 1;
};

struct RackReport {
  std::uint64_t bytes_in = 0;   // from outside the rack (the origin included)
  std::uint64_t bytes_out = 0;  // to outside the rack
  double peak_in = 0;           // highest rate in, bytes/s, over 1 s windows
  double peak_out = 0;
};

struct Summary {  // of a per-group quantity
  double max = 0, mean = 0, median = 0;
};

// One level of the fleet's switch tree (rack, row, datacenter): what crossed
// its groups' uplinks.
struct LevelReport {
  std::string name;  // "rack", "row", "datacenter"
  std::uint32_t groups = 0;
  double uplink = 0;       // each group's uplink capacity, bytes/s (0: unlimited)
  Summary amplification;   // bytes into a group from outside it / payload
  Summary egress;          // bytes out of a group / payload
  Summary peak_uplink_in;  // a group's highest 1 s rate in / uplink (0 when unlimited)
};

struct Result {
  bool complete = false;           // every host that did not fail has the whole payload
  double deploy_seconds = 0;       // first start to last completion (or to time_limit)
  std::uint32_t failed_hosts = 0;  // FaultModel's; left out of the completion times
  double completion_p50 = 0, completion_p90 = 0;  // per-host seconds from the first start
  std::uint32_t hosts = 0, racks = 0, pieces = 0;
  std::uint64_t payload_bytes = 0;
  std::vector<RackReport> per_rack;
  Summary amplification;   // bytes_in / payload, over racks
  Summary egress;          // bytes_out / payload
  Summary peak_uplink_in;  // peak_in / rack_uplink (0 when the uplink is unlimited)
  std::vector<double> datacenter_amplification;  // bytes into each DC / payload
  // Every level of the fleet, racks first; rows and datacenters when the
  // fleet has them (more than one datacenter).
  std::vector<LevelReport> levels;
  double lower_bound_seconds = 0;  // lower_bound_seconds(options)
  double origin_copies = 0;        // bytes the origin sent / payload
  // Highest load / capacity seen on any capped link in any step (rack and
  // datacenter uplinks, host NICs, upload caps): <= 1 by construction.
  double max_link_utilisation = 0;
  std::vector<std::uint64_t> host_bytes;  // payload bytes each host holds at the end
  std::uint64_t announces = 0;
  std::uint64_t steps = 0;
  double step = 0;
  double wall_seconds = 0;
};

// Runs one deploy. Never throws for a valid Options; asserts on nonsense
// (zero racks, zero piece size).
Result simulate(const Options& options);

// The shortest time any deploy over this fleet can take while every uplink
// carries the payload once (docs/simulator.md derives it):
//   S / C  +  h * p / c
// S the payload, C the narrowest link every byte must cross once on its way
// to the last host (the origin's upload cap and uplink, the host NIC, a rack
// uplink, a row uplink when there are rows, a datacenter uplink when there is
// more than one datacenter), p the piece size, c the hosts' upload rate, and
// h the hops a piece makes from the origin to the last host: one into each
// level's group (a datacenter's, a row's, a rack's representative) and one
// to the host.
double lower_bound_seconds(const Options& options);

// A short label for the peer source and policy: "random", "original/2",
// "standby/2", and "+levels" when the tracker knows rows and datacenters.
std::string label(const TrackerModel& tracker);

}  // namespace p2p::sim

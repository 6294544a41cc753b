// p2ptracker simulate: the fleet-scale deploy simulator (src/sim/,
// docs/simulator.md) behind flags. Runs each requested peer source/policy over
// the modelled fleet (or each fleet size of --fleet-sizes) and prints a table
// or JSON. Needs no running tracker: it links the tracker's policy code.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace p2p::cli {
namespace {

constexpr std::string_view kCommand = "simulate";

int fail(std::string_view message) {
  std::cerr << "p2ptracker " << kCommand << ": " << message << "\n";
  return 1;
}

// "100Mbit" (bits per second: kbit, Mbit, Gbit), "512KiB" or "12.5MB" (bytes
// per second), a plain number of bytes per second, or 0 / "unlimited".
std::optional<double> parse_rate(std::string text) {
  if (text == "unlimited" || text == "0") return 0.0;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && unit.back() == 's' && unit.size() > 2 && unit[unit.size() - 2] == '/') {
    unit.resize(unit.size() - 2);  // "100Mbit/s" == "100Mbit"
  }
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},           {"B", 1},           {"kbit", 1e3 / 8},    {"Mbit", 1e6 / 8},
      {"Gbit", 1e9 / 8}, {"KB", 1e3},        {"MB", 1e6},          {"GB", 1e9},
      {"KiB", 1024.0},   {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name && v >= 0) return v * mult;
  }
  return std::nullopt;
}

// "4MiB", "1GiB", "64KiB", "32MB" or bytes.
std::optional<std::uint64_t> parse_size(const std::string& text) {
  auto r = parse_rate(text);
  if (!r || *r < 1) return std::nullopt;
  return static_cast<std::uint64_t>(*r);
}

// "random", "original/2", "standby/1", "progress/2": a peer source and policy;
// "+levels" after a policy: the tracker knows rows and datacenters.
std::optional<sim::TrackerModel> parse_policy(std::string text, const sim::TrackerModel& base) {
  sim::TrackerModel t = base;
  constexpr std::string_view kLevels = "+levels";
  if (text.size() > kLevels.size() && text.ends_with(kLevels) && text != "random+levels") {
    text.resize(text.size() - kLevels.size());
    t.levels = true;
  }
  if (text == "random") {
    t.source = sim::PeerSource::kRandomPeers;
    return t;
  }
  const auto slash = text.find('/');
  const std::string mode = text.substr(0, slash);
  if (!swarm::parse_policy_mode(mode, t.policy.mode)) return std::nullopt;
  t.source = sim::PeerSource::kTracker;
  if (slash != std::string::npos) {
    const std::string n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), ::isdigit)) {
      return std::nullopt;
    }
    t.policy.max_repr_rack = static_cast<std::uint32_t>(std::stoul(n));
    if (t.policy.max_repr_rack == 0) return std::nullopt;
  }
  return t;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Flags {
  std::string preset;
  std::uint32_t racks = 50, hosts_per_rack = 40, datacenters = 1, rows_per_datacenter = 0,
                racks_per_row = 0;
  std::string row_uplink = "0", max_repr_levels = "2,2";
  std::string fleet_sizes;
  std::string nic = "1Gbit", upload_cap = "100Mbit", rack_uplink = "1Gbit", dc_uplink = "0",
              origin_uplink = "1Gbit", origin_cap;
  std::string payload = "1GiB", piece = "4MiB";
  std::uint32_t max_connections = 50, upload_slots = 4, download_slots = 4, numwant = 50;
  double start_spread = 10;
  std::string piece_order = "rarest";
  std::string policies = "random,original/1,original/2,original/3,standby/2,progress/2";
  std::uint32_t baseline_interval = 0;
  std::uint32_t active_interval = 45, peer_timeout = 150, maxpeers = 35, stall_intervals = 3;
  std::uint32_t downloading_interval = 10;
  std::uint32_t grant_percent = 50;
  double step = 0, time_limit = 36000;
  double fail_at = -1;
  std::uint32_t fail_racks = 1;
  std::string fail_mode = "stall";
  std::uint64_t seed = 1;
  std::uint32_t seeds = 1;
  bool json = false, per_rack = false;
};

// The real-client setups the simulator is validated against (docs/simulator.md).
void apply_preset(CLI::App* cmd, Flags& f) {
  auto unset = [&](const char* name) { return cmd->count(name) == 0; };
  auto small = [&](std::uint32_t racks, std::uint32_t hosts, const char* payload, const char* piece,
                   const char* cap) {
    if (unset("--racks")) f.racks = racks;
    if (unset("--hosts-per-rack")) f.hosts_per_rack = hosts;
    if (unset("--payload")) f.payload = payload;
    if (unset("--piece-size")) f.piece = piece;
    if (unset("--upload-cap")) f.upload_cap = cap;
    // opentracker's compiled-in interval (30 min): one announce at start.
    if (unset("--baseline-interval")) f.baseline_interval = 1800;
    if (unset("--nic")) f.nic = "0";  // loopback
    if (unset("--rack-uplink")) f.rack_uplink = "0";
    if (unset("--origin-uplink")) f.origin_uplink = "0";
    // libtorrent 2.0 defaults: 8 unchoke slots, 200 connections, numwant 200.
    if (unset("--upload-slots")) f.upload_slots = 8;
    if (unset("--download-slots")) f.download_slots = 8;
    if (unset("--max-connections")) f.max_connections = 200;
    if (unset("--numwant")) f.numwant = 200;
    if (unset("--start-spread")) f.start_spread = 0.5;
    if (unset("--active-interval")) f.active_interval = 2;
    if (unset("--peer-timeout")) f.peer_timeout = 30;
    if (unset("--policies")) f.policies = "random,original/2,standby/2,progress/2";
    if (unset("--seeds")) f.seeds = 9;
  };
  // tests/integration/test_real_clients.py
  if (f.preset == "real-3x3") small(3, 3, "4MiB", "64KiB", "512KiB");
  // bench/deploy/run.py defaults (issue 5), and its 8 x 4 variant
  if (f.preset == "deploy-4x5") small(4, 5, "32MiB", "256KiB", "2048KiB");
  if (f.preset == "deploy-8x4") small(8, 4, "32MiB", "256KiB", "2048KiB");
}

// The median run (by max amplification) of runs that differ only in seed,
// with every summary number replaced by its median over the runs.
sim::Run median_of(std::vector<sim::Run> runs) {
  auto med = [&](auto get) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(get(r.result));
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  sim::Run m = runs[runs.size() / 2];
  auto& x = m.result;
  x.amplification.max = med([](const sim::Result& r) { return r.amplification.max; });
  x.amplification.mean = med([](const sim::Result& r) { return r.amplification.mean; });
  x.amplification.median = med([](const sim::Result& r) { return r.amplification.median; });
  x.egress.max = med([](const sim::Result& r) { return r.egress.max; });
  x.egress.mean = med([](const sim::Result& r) { return r.egress.mean; });
  x.peak_uplink_in.max = med([](const sim::Result& r) { return r.peak_uplink_in.max; });
  x.peak_uplink_in.mean = med([](const sim::Result& r) { return r.peak_uplink_in.mean; });
  x.origin_copies = med([](const sim::Result& r) { return r.origin_copies; });
  x.deploy_seconds = med([](const sim::Result& r) { return r.deploy_seconds; });
  x.completion_p50 = med([](const sim::Result& r) { return r.completion_p50; });
  x.completion_p90 = med([](const sim::Result& r) { return r.completion_p90; });
  x.wall_seconds = med([](const sim::Result& r) { return r.wall_seconds; });
  for (std::size_t l = 0; l < x.levels.size(); ++l) {
    auto& lv = x.levels[l];
    lv.amplification.max = med([l](const sim::Result& r) { return r.levels[l].amplification.max; });
    lv.amplification.mean =
        med([l](const sim::Result& r) { return r.levels[l].amplification.mean; });
    lv.amplification.median =
        med([l](const sim::Result& r) { return r.levels[l].amplification.median; });
    lv.egress.max = med([l](const sim::Result& r) { return r.levels[l].egress.max; });
    lv.peak_uplink_in.max =
        med([l](const sim::Result& r) { return r.levels[l].peak_uplink_in.max; });
    lv.peak_uplink_in.mean =
        med([l](const sim::Result& r) { return r.levels[l].peak_uplink_in.mean; });
  }
  for (const auto& r : runs) x.complete = x.complete && r.result.complete;
  x.failed_hosts = static_cast<std::uint32_t>(
      med([](const sim::Result& r) { return static_cast<double>(r.failed_hosts); }));
  return m;
}

int run(CLI::App* cmd, Flags& f) {
  apply_preset(cmd, f);
  sim::Options base;
  auto rate = [&](const std::string& text, const char* flag, double& out) {
    auto r = parse_rate(text);
    if (!r) {
      fail(fmt::format("{} {}: not a rate (e.g. 100Mbit, 1Gbit, 512KiB, 0 for unlimited)", flag,
                       text));
      return false;
    }
    out = *r;
    return true;
  };
  if (!rate(f.nic, "--nic", base.fleet.host_nic) ||
      !rate(f.upload_cap, "--upload-cap", base.fleet.host_upload_cap) ||
      !rate(f.rack_uplink, "--rack-uplink", base.fleet.rack_uplink) ||
      !rate(f.dc_uplink, "--dc-uplink", base.fleet.datacenter_uplink) ||
      !rate(f.row_uplink, "--row-uplink", base.fleet.row_uplink) ||
      !rate(f.origin_uplink, "--origin-uplink", base.fleet.origin_uplink) ||
      !rate(f.origin_cap.empty() ? f.upload_cap : f.origin_cap, "--origin-cap",
            base.fleet.origin_upload_cap)) {
    return 1;
  }
  auto payload = parse_size(f.payload);
  auto piece = parse_size(f.piece);
  if (!payload) return fail("--payload " + f.payload + ": not a size (e.g. 1GiB, 32MiB)");
  if (!piece) return fail("--piece-size " + f.piece + ": not a size (e.g. 4MiB, 64KiB)");
  if (f.racks == 0 || f.hosts_per_rack == 0)
    return fail("--racks and --hosts-per-rack must be > 0");
  base.fleet.racks = f.racks;
  base.fleet.hosts_per_rack = f.hosts_per_rack;
  base.fleet.datacenters = std::max<std::uint32_t>(1, f.datacenters);
  base.fleet.rows_per_datacenter = f.rows_per_datacenter;
  {
    // As the config key: outermost first; a level beyond the list takes its first entry.
    const auto reps = split(f.max_repr_levels);
    if (reps.empty() || reps.size() > core::kMaxUpperLevels) {
      return fail(fmt::format("--max-repr-levels {}: 1 to {} numbers, outermost first",
                              f.max_repr_levels, core::kMaxUpperLevels));
    }
    std::vector<std::uint32_t> k;
    for (const auto& r : reps) {
      if (r.size() > 4 || !std::all_of(r.begin(), r.end(), ::isdigit) || std::stoul(r) == 0) {
        return fail("--max-repr-levels " + f.max_repr_levels + ": each a number from 1");
      }
      k.push_back(static_cast<std::uint32_t>(std::stoul(r)));
    }
    // max_repr_up is by height: 0 the row (the list's last), 1 the datacenter...
    for (std::size_t h = 0; h < core::kMaxUpperLevels; ++h) {
      base.tracker.policy.max_repr_up[h] = h < k.size() ? k[k.size() - 1 - h] : k.front();
    }
  }
  base.client.payload_bytes = *payload;
  base.client.piece_bytes = *piece;
  base.client.max_connections = f.max_connections;
  base.client.upload_slots = std::max<std::uint32_t>(1, f.upload_slots);
  base.client.download_slots = std::max<std::uint32_t>(1, f.download_slots);
  base.client.numwant = f.numwant;
  base.client.start_spread = f.start_spread;
  if (f.piece_order == "rarest") {
    base.client.piece_order = sim::PieceOrder::kRarestFirst;
  } else if (f.piece_order == "random") {
    base.client.piece_order = sim::PieceOrder::kRandom;
  } else {
    return fail("--piece-order " + f.piece_order + ": rarest or random");
  }
  base.tracker.active_interval = std::max<std::uint32_t>(1, f.active_interval);
  base.tracker.baseline_interval = f.baseline_interval;
  base.tracker.downloading_interval = f.downloading_interval;
  base.tracker.peer_timeout = f.peer_timeout;
  base.tracker.policy.maxpeers = f.maxpeers;
  base.tracker.policy.grant_percent = f.grant_percent;
  base.step = f.step;
  base.time_limit = f.time_limit;
  base.fault.at = f.fail_at;
  base.fault.racks = f.fail_racks;
  if (f.fail_mode == "stall") {
    base.fault.kind = sim::FaultKind::kStall;
  } else if (f.fail_mode == "die") {
    base.fault.kind = sim::FaultKind::kDie;
  } else {
    return fail("--fail-mode " + f.fail_mode + ": stall or die");
  }

  std::vector<sim::TrackerModel> trackers;
  for (const auto& p : split(f.policies)) {
    auto t = parse_policy(p, base.tracker);
    if (!t) {
      return fail("--policies: " + p +
                  ": expected random or MODE/N[+levels]: MODE original, standby, progress or "
                  "relay, N = max_repr_rack, +levels: the tracker knows rows and datacenters");
    }
    // As the server derives it: stall_intervals of what the policy asks of a
    // downloading host (server.cc).
    t->policy.stall_after = core::Seconds(
        f.stall_intervals *
        swarm::downloading_interval(t->policy.mode, t->active_interval, t->downloading_interval));
    trackers.push_back(*t);
  }
  if (trackers.empty()) return fail("--policies: give at least one");
  std::vector<std::uint32_t> sizes;
  for (const auto& s : split(f.fleet_sizes)) {
    auto n = parse_size(s);
    if (!n) return fail("--fleet-sizes: " + s + ": not a number of hosts");
    sizes.push_back(static_cast<std::uint32_t>(*n));
  }
  if (sizes.empty()) sizes.push_back(f.racks * f.hosts_per_rack);

  std::vector<sim::Run> runs;
  for (std::uint32_t hosts : sizes) {
    for (const auto& t : trackers) {
      sim::Options o = base;
      o.tracker = t;
      o.fleet.racks = std::max<std::uint32_t>(1, (hosts + f.hosts_per_rack - 1) / f.hosts_per_rack);
      if (f.racks_per_row > 0) {  // rows of a fixed size, however large the fleet
        const std::uint32_t per_dc =
            (o.fleet.racks + o.fleet.datacenters - 1) / o.fleet.datacenters;
        o.fleet.rows_per_datacenter = (per_dc + f.racks_per_row - 1) / f.racks_per_row;
      }
      std::vector<sim::Run> seeds;
      for (std::uint32_t s = 0; s < std::max<std::uint32_t>(1, f.seeds); ++s) {
        o.seed = f.seed + s;
        if (!f.json) {
          std::cerr << fmt::format("simulating {} on {} hosts ({} racks), seed {}...\n",
                                   sim::label(t), o.fleet.racks * o.fleet.hosts_per_rack,
                                   o.fleet.racks, o.seed);
        }
        seeds.push_back({o, sim::simulate(o)});
      }
      runs.push_back(seeds.size() == 1 ? seeds.front() : median_of(std::move(seeds)));
    }
  }
  if (f.json) {
    std::cout << sim::json(runs, f.per_rack);
  } else {
    if (f.seeds > 1) std::cout << fmt::format("medians over {} seeds\n", f.seeds);
    std::cout << sim::table(runs);
  }
  return 0;
}

}  // namespace

Command add_simulate(CLI::App& parent) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = parent.add_subcommand(
      "simulate",
      "Simulate a deploy over a modelled datacenter with the tracker's real rack policy and a\n"
      "random-peers baseline; report rack uplink amplification, peak uplink use and deploy "
      "time.");
  cmd->add_option("--preset", f->preset,
                  "A validated small setup: real-3x3 (tests/integration/test_real_clients.py), "
                  "deploy-4x5, deploy-8x4 (bench/deploy); explicit flags still win")
      ->check(CLI::IsMember({"real-3x3", "deploy-4x5", "deploy-8x4"}));
  cmd->add_option("--racks", f->racks, "Racks")->capture_default_str();
  cmd->add_option("--hosts-per-rack", f->hosts_per_rack, "Hosts in each rack")
      ->capture_default_str();
  cmd->add_option("--fleet-sizes", f->fleet_sizes,
                  "Comma-separated host counts to sweep (racks = hosts / --hosts-per-rack), e.g. "
                  "500,2000,10000; overrides --racks");
  cmd->add_option("--datacenters", f->datacenters,
                  "Datacenters the racks are split into (contiguous blocks)")
      ->capture_default_str();
  cmd->add_option("--rows-per-datacenter", f->rows_per_datacenter,
                  "Rows each datacenter's racks are split into (contiguous blocks); 0: no row "
                  "level")
      ->capture_default_str();
  cmd->add_option("--racks-per-row", f->racks_per_row,
                  "Instead of --rows-per-datacenter: rows of this many racks, at every fleet "
                  "size of --fleet-sizes")
      ->excludes(cmd->get_option("--rows-per-datacenter"));
  cmd->add_option("--nic", f->nic, "Host NIC rate, each direction (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--upload-cap", f->upload_cap, "Client upload cap on every host")
      ->capture_default_str();
  cmd->add_option("--rack-uplink", f->rack_uplink, "Rack uplink capacity, each direction")
      ->capture_default_str();
  cmd->add_option("--row-uplink", f->row_uplink, "Row uplink capacity (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--dc-uplink", f->dc_uplink, "Datacenter uplink capacity (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--max-repr-levels", f->max_repr_levels,
                  "+levels policies: representatives of each group above a rack, outermost "
                  "first (datacenter,row), as the config key max_repr_levels")
      ->capture_default_str();
  cmd->add_option("--origin-uplink", f->origin_uplink, "The origin seeder's uplink")
      ->capture_default_str();
  cmd->add_option("--origin-cap", f->origin_cap,
                  "The origin's client upload cap (default: --upload-cap)");
  cmd->add_option("--payload", f->payload, "Payload size")->capture_default_str();
  cmd->add_option("--piece-size", f->piece, "Piece size: the unit of transfer")
      ->capture_default_str();
  cmd->add_option("--max-connections", f->max_connections, "Peer connections per host")
      ->capture_default_str();
  cmd->add_option("--upload-slots", f->upload_slots, "Concurrent uploads per host (unchoke slots)")
      ->capture_default_str();
  cmd->add_option("--download-slots", f->download_slots,
                  "Pieces in flight per downloading host, each from another peer")
      ->capture_default_str();
  cmd->add_option("--numwant", f->numwant, "Peers a client asks the tracker for")
      ->capture_default_str();
  cmd->add_option("--start-spread", f->start_spread,
                  "Hosts start uniformly within this many seconds")
      ->capture_default_str();
  cmd->add_option("--piece-order", f->piece_order, "rarest (rarest-first) or random")
      ->capture_default_str();
  cmd->add_option(
         "--policies", f->policies,
         "Comma-separated: random (BASELINE: uniform random peers, like opentracker), "
         "original/N, standby/N, progress/N, relay/N, chain/N, tree/N (the tracker's policy "
         "modes, N = max_repr_rack); add +levels (standby/1+levels) for a tracker that also "
         "knows the fleet's rows and datacenters (--max-repr-levels each)")
      ->capture_default_str();
  cmd->add_option("--active-interval", f->active_interval, "Seconds between announces")
      ->capture_default_str();
  cmd->add_option("--downloading-interval", f->downloading_interval,
                  "tree: seconds between announces of a host still downloading (at most "
                  "--active-interval; 0: --active-interval), as the tracker's "
                  "downloading_interval")
      ->capture_default_str();
  cmd->add_option("--baseline-interval", f->baseline_interval,
                  "random: seconds between announces (0: --active-interval; opentracker's is "
                  "1800)")
      ->capture_default_str();
  cmd->add_option("--peer-timeout", f->peer_timeout, "Tracker peer_timeout, seconds")
      ->capture_default_str();
  cmd->add_option("--maxpeers", f->maxpeers, "Tracker maxpeers: most peers per reply")
      ->capture_default_str();
  cmd->add_option("--stall-intervals", f->stall_intervals,
                  "standby, progress: a gateway without progress this many intervals is stalled")
      ->capture_default_str();
  cmd->add_option("--grant-percent", f->grant_percent,
                  "progress: share of the payload a standby must hold to see outside")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--fail-at", f->fail_at,
                  "Seconds after the first start at which the gateway (the host with the most "
                  "bytes from outside its rack) of each of the first --fail-racks racks fails; "
                  "negative: nobody fails")
      ->capture_default_str();
  cmd->add_option("--fail-racks", f->fail_racks, "Racks whose gateway fails at --fail-at")
      ->capture_default_str();
  cmd->add_option("--fail-mode", f->fail_mode,
                  "stall: keeps announcing without progress; die: also stops announcing")
      ->capture_default_str();
  cmd->add_option("--step", f->step,
                  "Simulated seconds per step (0: a quarter of a piece at the upload cap, <= 1)")
      ->capture_default_str();
  cmd->add_option("--time-limit", f->time_limit, "Simulated seconds before giving up")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Random seed (same seed, same result)")->capture_default_str();
  cmd->add_option("--seeds", f->seeds,
                  "Runs per policy with seeds seed, seed+1, ...; the report shows medians")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "Print JSON (docs/simulator.md lists the fields)");
  cmd->add_flag("--per-rack", f->per_rack, "With --json: every rack's bytes and peak rates");
  cmd->footer(
      "Amplification: bytes into a rack from outside it / payload size (ideal 1.0).\n"
      "PEAK: highest 1 s rate into a rack's uplink / its capacity. ORIGIN: copies the origin\n"
      "sent. Rates: 100Mbit, 1Gbit, 512KiB (per second), 0 = unlimited. See docs/simulator.md.");
  return {cmd, [cmd, f] { return run(cmd, *f); }};
}

}  // namespace p2p::cli

#include "sim/report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace p2p::sim {
namespace {

std::string rate_text(double bytes_per_s) {
  if (bytes_per_s <= 0) return "unlimited";
  if (std::fmod(bytes_per_s, 1024) == 0 && bytes_per_s < 1e8) {
    return fmt::format("{:g} KiB/s", bytes_per_s / 1024);
  }
  const double bits = bytes_per_s * 8;
  if (bits >= 1e9) return fmt::format("{:g} Gbit/s", bits / 1e9);
  if (bits >= 1e6) return fmt::format("{:g} Mbit/s", bits / 1e6);
  return fmt::format("{:g} KiB/s", bytes_per_s / 1024);
}

std::string size_text(std::uint64_t b) {
  if (b >= (1ull << 30) && b % (1ull << 30) == 0) return fmt::format("{} GiB", b >> 30);
  if (b >= (1ull << 20) && b % (1ull << 20) == 0) return fmt::format("{} MiB", b >> 20);
  if (b >= (1ull << 10) && b % (1ull << 10) == 0) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} B", b);
}

}  // namespace

std::string table(const std::vector<Run>& runs) {
  std::string out;
  if (runs.empty()) return out;
  const auto& f = runs.front().options.fleet;
  const auto& c = runs.front().options.client;
  out += fmt::format(
      "payload {} in {} B pieces; host NIC {}, upload cap {}; rack uplink {}; origin uplink {}, "
      "cap {}\n",
      size_text(c.payload_bytes), c.piece_bytes, rate_text(f.host_nic),
      rate_text(f.host_upload_cap), rate_text(f.rack_uplink), rate_text(f.origin_uplink),
      rate_text(f.origin_upload_cap));
  if (f.rows_per_datacenter > 0 || f.datacenters > 1) {
    out +=
        fmt::format("{} datacenter(s) (uplink {}), {} row(s) each (uplink {})\n", f.datacenters,
                    rate_text(f.datacenter_uplink), f.rows_per_datacenter, rate_text(f.row_uplink));
  }
  out += fmt::format(
      "{:<18} {:>7} {:>6} {:>8} {:>8} {:>8} {:>9} {:>9} {:>7} {:>9} {:>7} {:>8} {:>8} {:>7}\n",
      "POLICY", "HOSTS", "RACKS", "AMP_MAX", "AMP_MEAN", "EGR_MAX", "PEAK_MAX", "PEAK_MEAN",
      "ORIGIN", "DEPLOY_S", "VS_LB", "P50_S", "P90_S", "WALL_S");
  for (const auto& r : runs) {
    const auto& x = r.result;
    auto pct = [&](double v) {
      return r.options.fleet.rack_uplink > 0 ? fmt::format("{:.0f}%", v * 100) : std::string("-");
    };
    const std::string vs_lb = x.lower_bound_seconds > 0
                                  ? fmt::format("{:.2f}x", x.deploy_seconds / x.lower_bound_seconds)
                                  : std::string("-");
    out += fmt::format(
        "{:<18} {:>7} {:>6} {:>8.2f} {:>8.2f} {:>8.2f} {:>9} {:>9} {:>7.2f} {:>9.1f} {:>7} "
        "{:>8.1f} "
        "{:>8.1f} {:>7.2f}{}{}\n",
        label(r.options.tracker), x.hosts, x.racks, x.amplification.max, x.amplification.mean,
        x.egress.max, pct(x.peak_uplink_in.max), pct(x.peak_uplink_in.mean), x.origin_copies,
        x.deploy_seconds, vs_lb, x.completion_p50, x.completion_p90, x.wall_seconds,
        x.complete ? "" : "  INCOMPLETE (time limit)",
        x.failed_hosts > 0 ? fmt::format("  ({} failed host(s) left out)", x.failed_hosts) : "");
    // The levels above racks: copies into each row and datacenter, and their uplinks' peaks.
    for (std::size_t i = 1; i < x.levels.size(); ++i) {
      const auto& l = x.levels[i];
      out += fmt::format("{:>18} {:>7} {:>6} {:>8.2f} {:>8.2f} {:>8.2f} {:>9} {:>9}\n",
                         fmt::format("{}s:", l.name), "", l.groups, l.amplification.max,
                         l.amplification.mean, l.egress.max,
                         l.uplink > 0 ? fmt::format("{:.0f}%", l.peak_uplink_in.max * 100) : "-",
                         l.uplink > 0 ? fmt::format("{:.0f}%", l.peak_uplink_in.mean * 100) : "-");
    }
  }
  return out;
}

std::string json(const std::vector<Run>& runs, bool per_rack) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& r : runs) {
    const auto& o = r.options;
    const auto& x = r.result;
    auto summary = [](const Summary& s) {
      return nlohmann::json{{"max", s.max}, {"mean", s.mean}, {"median", s.median}};
    };
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& l : x.levels) {
      levels.push_back({{"level", l.name},
                        {"groups", l.groups},
                        {"uplink", l.uplink},
                        {"amplification", summary(l.amplification)},
                        {"egress", summary(l.egress)},
                        {"peak_uplink_in", summary(l.peak_uplink_in)}});
    }
    nlohmann::json j = {
        {"policy", label(o.tracker)},
        {"peer_source", o.tracker.source == PeerSource::kRandomPeers ? "random" : "tracker"},
        {"mode", swarm::policy_mode_name(o.tracker.policy.mode)},
        {"max_repr_rack", o.tracker.policy.max_repr_rack},
        {"max_repr_up", o.tracker.policy.max_repr_up},
        {"hosts", x.hosts},
        {"racks", x.racks},
        {"hosts_per_rack", o.fleet.hosts_per_rack},
        {"datacenters", o.fleet.datacenters},
        {"rows_per_datacenter", o.fleet.rows_per_datacenter},
        {"row_uplink", o.fleet.row_uplink},
        {"datacenter_uplink", o.fleet.datacenter_uplink},
        {"tracker_levels", o.tracker.levels},
        {"payload_bytes", x.payload_bytes},
        {"piece_bytes", o.client.piece_bytes},
        {"pieces", x.pieces},
        {"host_nic", o.fleet.host_nic},
        {"host_upload_cap", o.fleet.host_upload_cap},
        {"rack_uplink", o.fleet.rack_uplink},
        {"origin_uplink", o.fleet.origin_uplink},
        {"origin_upload_cap", o.fleet.origin_upload_cap},
        {"seed", o.seed},
        {"complete", x.complete},
        {"failed_hosts", x.failed_hosts},
        {"fault_at", o.fault.at},
        {"fault_racks", o.fault.racks},
        {"fault_mode", o.fault.kind == FaultKind::kDie ? "die" : "stall"},
        {"deploy_seconds", x.deploy_seconds},
        {"lower_bound_seconds", x.lower_bound_seconds},
        {"completion_p50", x.completion_p50},
        {"completion_p90", x.completion_p90},
        {"amplification", summary(x.amplification)},
        {"egress", summary(x.egress)},
        {"peak_uplink_in", summary(x.peak_uplink_in)},
        {"datacenter_amplification", x.datacenter_amplification},
        {"levels", levels},
        {"origin_copies", x.origin_copies},
        {"max_link_utilisation", x.max_link_utilisation},
        {"announces", x.announces},
        {"steps", x.steps},
        {"step_seconds", x.step},
        {"wall_seconds", x.wall_seconds},
    };
    if (per_rack) {
      nlohmann::json racks = nlohmann::json::array();
      for (const auto& rr : x.per_rack) {
        racks.push_back({{"bytes_in", rr.bytes_in},
                         {"bytes_out", rr.bytes_out},
                         {"peak_in", rr.peak_in},
                         {"peak_out", rr.peak_out}});
      }
      j["per_rack"] = std::move(racks);
    }
    all.push_back(std::move(j));
  }
  return nlohmann::json{{"runs", std::move(all)}}.dump(2) + "\n";
}

}  // namespace p2p::sim

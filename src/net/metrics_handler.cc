#include "net/metrics_handler.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace p2p::net {
namespace {

// The media type Prometheus asks for and expects back for the text format.
constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct TransferRow {
  core::InfoHash info_hash;
  double progress = 0;
  std::size_t peers = 0;
};

struct RackRow {
  std::uint64_t hosts = 0;
  std::uint64_t completed = 0;
};

double progress_of(std::uint64_t length, const swarm::Torrent& t) {
  if (t.empty()) return 0;
  if (length == 0) return static_cast<double>(t.seeders()) / static_cast<double>(t.size());
  double sum = 0;
  for (const swarm::RackGroup& g : t.racks()) {
    for (const swarm::Peer& p : g.peers) {
      sum +=
          1.0 - static_cast<double>(std::min(p.left.bytes(), length)) / static_cast<double>(length);
    }
  }
  return sum / static_cast<double>(t.size());
}

}  // namespace

SwarmMetrics collect_swarm_metrics(const swarm::SwarmTable& swarms,
                                   const std::function<std::string(core::RackId)>& rack_name) {
  SwarmMetrics m;
  m.totals = swarms.totals();

  // Under each shard lock only counting: names and labels are built after.
  std::vector<TransferRow> transfers;
  std::unordered_map<core::RackId, RackRow> racks;
  swarms.for_each_torrent(
      [&](const core::InfoHash& h, std::uint64_t length, const swarm::Torrent& t) {
        transfers.push_back({h, progress_of(length, t), t.size()});
        for (const swarm::RackGroup& g : t.racks()) {
          RackRow& r = racks[g.rack];
          r.hosts += g.peers.size();
          for (const swarm::Peer& p : g.peers) r.completed += p.seeder() && !p.origin();
        }
      });

  std::vector<metrics::Ranked> ranked;
  ranked.reserve(transfers.size());
  for (const TransferRow& t : transfers) {
    ranked.push_back({t.info_hash.hex(), t.progress, static_cast<double>(t.peers)});
  }
  metrics::append_bounded("info_hash", ranked, metrics::kMaxTransferSeries, {}, m.progress);

  // Two RackIds may print the same (a map reload renamed one): one series.
  std::map<std::string, RackRow> by_name;
  for (const auto& [rack, row] : racks) {
    RackRow& r = by_name[rack_name ? rack_name(rack) : std::string("unknown")];
    r.hosts += row.hosts;
    r.completed += row.completed;
  }
  ranked.clear();
  for (const auto& [name, row] : by_name) {
    ranked.push_back({name, static_cast<double>(row.completed), static_cast<double>(row.hosts)});
  }
  metrics::append_bounded("rack", ranked, metrics::kMaxRackSeries, metrics::kOtherRack,
                          m.rack_completed);
  return m;
}

void register_metric_sources(metrics::Registry& registry, const MetricsSources& sources) {
  using metrics::Family;
  if (const swarm::SwarmTable* swarms = sources.swarms) {
    // One walk per scrape, read by every swarm family below. Renders are
    // serialized by the registry, so the snapshot needs no lock of its own.
    auto snap = std::make_shared<SwarmMetrics>();
    registry.add_collector([snap, swarms, rack_name = sources.rack_name] {
      *snap = collect_swarm_metrics(*swarms, rack_name);
    });
    auto total = [&registry, snap](Family f, std::uint64_t swarm::SwarmTable::Totals::*field) {
      registry.set_value(f, [snap, field] { return static_cast<double>(snap->totals.*field); });
    };
    total(Family::kTransfersActive, &swarm::SwarmTable::Totals::transfers);
    total(Family::kPeers, &swarm::SwarmTable::Totals::peers);
    total(Family::kSeeders, &swarm::SwarmTable::Totals::seeders);
    total(Family::kLeechers, &swarm::SwarmTable::Totals::leechers);
    total(Family::kRepresentatives, &swarm::SwarmTable::Totals::representatives);
    registry.set_samples(Family::kTransferProgress, [snap](std::vector<metrics::Sample>& out) {
      out.insert(out.end(), snap->progress.begin(), snap->progress.end());
    });
    registry.set_samples(Family::kRackCompletedHosts, [snap](std::vector<metrics::Sample>& out) {
      out.insert(out.end(), snap->rack_completed.begin(), snap->rack_completed.end());
    });
  }
  if (const storage::Store* store = sources.store) {
    auto stats = std::make_shared<storage::StoreStats>();
    registry.add_collector([stats, store] { *stats = store->stats(); });
    registry.set_value(Family::kStoreWrites,
                       [stats] { return static_cast<double>(stats->written); });
    registry.set_value(Family::kStoreDropped,
                       [stats] { return static_cast<double>(stats->dropped); });
    registry.set_value(Family::kStoreErrors,
                       [stats] { return static_cast<double>(stats->errors); });
    registry.set_value(Family::kStoreConnected, [stats] { return stats->connected ? 1.0 : 0.0; });
    registry.set_value(Family::kStoreResyncs,
                       [stats] { return static_cast<double>(stats->resyncs); });
    registry.set_value(Family::kStoreSeenSkipped,
                       [stats] { return static_cast<double>(stats->seen_skipped); });
  }
}

MetricsHandler::MetricsHandler(metrics::Registry& registry, const MetricsSources& sources)
    : registry_(registry) {
  register_metric_sources(registry, sources);
}

void MetricsHandler::handle(const HttpRequest& request, HttpResponse& response, WorkerContext&) {
  if (request.method != Method::kGet && request.method != Method::kHead) {
    response.status = 405;
    response.extra_headers = "Allow: GET, HEAD\r\n";
    response.body = "/metrics answers GET only\n";
    return;
  }
  response.content_type = kContentType;
  registry_.render(response.body);
}

}  // namespace p2p::net

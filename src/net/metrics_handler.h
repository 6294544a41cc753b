// MetricsHandler: GET /metrics, the Prometheus text exposition (format 0.0.4)
// of a metrics::Registry, and the scrape-time sources that feed the registry
// from the swarm table and the store (docs/metrics.md lists every metric).
//
// A scrape walks every shard of the swarm table once (each shard lock held
// while its transfers are counted) and allocates, so the handler runs on the
// blocking pool, never on a worker's loop. The workers' own counters are
// summed by the registry.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rack.h"
#include "metrics/registry.h"
#include "net/http_types.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"

namespace p2p::net {

struct MetricsSources {
  const swarm::SwarmTable* swarms = nullptr;           // null: no swarm gauges
  const storage::Store* store = nullptr;               // null: no store metrics
  std::function<std::string(core::RackId)> rack_name;  // the rack="..." label
};

// One scrape's view of the swarm table: totals (SwarmTable::totals), the
// bounded per-transfer progress samples (label info_hash, the
// metrics::kMaxTransferSeries transfers with the most peers) and per-rack
// completion samples (label rack, the metrics::kMaxRackSeries racks with the
// most peers, the rest summed as rack="other").
struct SwarmMetrics {
  swarm::SwarmTable::Totals totals;
  std::vector<metrics::Sample> progress;
  std::vector<metrics::Sample> rack_completed;
};

// A transfer's progress: the mean of 1 - left/length over its peers (0 to 1;
// 0 with no peers). With no registered length (open tracker), the share of
// its peers that seed.
// A rack's completed hosts: peers that finished downloading (seeders that were
// not origin seeders when they joined), summed over active transfers.
SwarmMetrics collect_swarm_metrics(const swarm::SwarmTable& swarms,
                                   const std::function<std::string(core::RackId)>& rack_name);

// Registers `sources`' scrape-time values with `registry`. The sources must
// outlive every later render.
void register_metric_sources(metrics::Registry& registry, const MetricsSources& sources);

class MetricsHandler final : public HttpHandler {
 public:
  // Registers `sources` with `registry` (register_metric_sources) and serves
  // it.
  MetricsHandler(metrics::Registry& registry, const MetricsSources& sources);

  Placement placement(const HttpRequest&) const override { return Placement::kBlocking; }
  void handle(const HttpRequest& request, HttpResponse& response, WorkerContext& context) override;

 private:
  const metrics::Registry& registry_;
};

}  // namespace p2p::net

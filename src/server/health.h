// HealthHandler: GET /health, whether this tracker can serve announces and the
// state of each of its parts, for load balancers, supervisors and operators.
//
// 200 while announces are served, even with the Redis mirror or a topology
// lookup source down (announces never wait for either: status "degraded"); 503 once shutdown has begun (status
// "stopping"), so a load balancer stops sending before the sockets close. The
// body is JSON (docs/api.md). Reads atomics and the store's stats (one short
// lock), never blocks: it runs inline on the worker. Thread-safe.
#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "core/clock.h"
#include "net/http_types.h"
#include "storage/store.h"
#include "topology/chain_locator.h"

namespace p2p::server {

struct HealthSources {
  const storage::Store* store = nullptr;
  std::string store_kind;                       // "memory" or "redis"
  std::string store_target;                     // "host:port" of Redis; empty for memory
  bool udp = false;                             // a UDP tracker is running
  const std::atomic<bool>* stopping = nullptr;  // set once shutdown begins
  core::TimePoint started;  // the state of a part that never changed is "since" this
  const topology::ChainLocator* topology = nullptr;  // null: no lookup sources
};

class HealthHandler final : public net::HttpHandler {
 public:
  explicit HealthHandler(HealthSources sources) : sources_(std::move(sources)) {}

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kInline;
  }
  // Load balancers and probes ask without a token, whatever admin_read says;
  // the answer names no transfer or host.
  net::Access access(const net::HttpRequest&) const override { return net::Access::kPublic; }
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  HealthSources sources_;
};

}  // namespace p2p::server

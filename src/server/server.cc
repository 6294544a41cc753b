#include "server/server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>
#include <cstring>
#include <filesystem>
#include <thread>

#include "admin/dashboard_api.h"
#include "admin/data_dir_lock.h"
#include "admin/history.h"
#include "admin/registry.h"
#include "admin/torrents_api.h"
#include "admin/transfers.h"
#include "admin/transfers_api.h"
#include "core/clock.h"
#include "core/token_file.h"
#include "metrics/registry.h"
#include "net/admin_access.h"
#include "net/http_server.h"
#include "net/listen_addresses.h"
#include "net/metrics_handler.h"
#include "net/tracker.h"
#include "net/tracker_handler.h"
#include "net/udp_server.h"
#include "server/fd_limit.h"
#include "server/health.h"
#include "server/test_clock.h"
#include "storage/store.h"
#include "swarm/swarm_table.h"
#include "topology/chain_locator.h"
#include "topology/dns_source.h"
#include "topology/exec_source.h"
#include "topology/levels.h"
#include "topology/locator.h"
#include "topology/smdb_source.h"

namespace p2p::server {
namespace {

namespace asio = boost::asio;

// What tells that a file changed, without reading it: its modification time,
// size and inode (an editor's or a deploy tool's rename gives a new inode).
struct MapFileStamp {
  std::int64_t mtime_ns = 0;
  std::int64_t size = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const MapFileStamp&, const MapFileStamp&) = default;
};

std::optional<MapFileStamp> map_file_stamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return MapFileStamp{std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                      static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino)};
}

// How often the sweep looks at topology_file for a change, in sweep ticks.
constexpr std::size_t kMapCheckTicks = 2;
// How often the deploys' progress is written to data_dir when it changed, in
// sweep ticks: what a crash can lose of it (a clean stop writes it last).
constexpr std::size_t kProgressTicks = 5;

// The swarm asks its one question of topology through this adapter (swarm/
// may not depend on topology/).
class LocatorRackMap final : public swarm::RackMap {
 public:
  // `chain`: `locator` when it has lookup sources, else null.
  LocatorRackMap(const topology::Locator& locator, const topology::ChainLocator* chain,
                 topology::SubnetLevels levels)
      : locator_(locator), chain_(chain), levels_(std::move(levels)) {}
  core::RackId rack_of(const core::Address& a) const noexcept override {
    return locator_.locate(a);
  }
  std::size_t ancestors(core::RackId rack, std::span<core::RackId> out) const override {
    return topology::rack_ancestors(rack, levels_, topology::RackNames::global(), out);
  }
  std::uint64_t generation() const noexcept override { return locator_.generation(); }
  bool unsettled(const core::Address& address) const noexcept override {
    return chain_ != nullptr && chain_->unsettled(address);
  }
  bool await_answer(const core::Address& address, std::chrono::milliseconds wait,
                    std::function<void()>& resume) const override {
    return chain_ != nullptr && chain_->await_answer(address, wait, resume);
  }
  void prefetch(const core::Address& address) const noexcept override {
    if (chain_ != nullptr) chain_->prefetch(address);
  }

 private:
  const topology::Locator& locator_;
  const topology::ChainLocator* chain_;
  const topology::SubnetLevels levels_;
};

// Expiry runs this often, each time over 1/kSweepSlices of the shards, so a
// full pass takes kSweepSlices ticks and no tick holds many locks.
constexpr auto kSweepTick = std::chrono::seconds(1);
constexpr std::size_t kSweepSlices = 10;

// The admin API's access rules from the config, the token read from its file.
core::Result<std::unique_ptr<net::AdminAccess>> make_admin_access(const config::Config& c) {
  net::AdminAccessOptions o;
  if (!c.admin_token_file.empty()) {
    auto file = core::read_token_file(c.admin_token_file);
    if (!file) return core::invalid_argument("admin_token_file: " + file.error().message);
    if (file->world_readable) {
      spdlog::warn("admin_token_file {} is readable by every user of this host; chmod o-r it",
                   c.admin_token_file);
    }
    o.token = std::move(file->token);
    o.token_file = c.admin_token_file;
  }
  o.read_needs_token = c.admin_read == "token";
  if (o.read_needs_token && c.full_scrape) {
    // An info-hash is all an announce needs to be told the fleet's hosts.
    spdlog::warn(
        "admin_read = \"token\" hides the transfers from the admin API, but full_scrape = true "
        "lists every active transfer's info-hash at /scrape to anyone, and an announce with one "
        "is told its hosts; set full_scrape = false");
  }
  o.trust = trust_options(c);
  return std::make_unique<net::AdminAccess>(std::move(o));
}

// data_dir as the start-up line shows it: a relative one (the default, ./data)
// depends on where the tracker was started, so its absolute path follows.
std::string data_dir_shown(const std::string& data_dir) {
  const std::filesystem::path p(data_dir);
  if (p.is_absolute()) return data_dir;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(p, ec);
  return ec ? data_dir : fmt::format("{} ({})", data_dir, absolute.lexically_normal().string());
}

}  // namespace

net::TrustOptions trust_options(const config::Config& c) {
  net::TrustOptions t;
  t.trusted_networks = c.trusted_networks;
  t.proxypass = c.proxypass;
  t.trusted_proxies = c.trusted_proxies;
  // The key table admits only the two header names.
  t.proxy_header =
      net::parse_proxy_header(c.proxy_header).value_or(net::ProxyHeader::kXForwardedFor);
  return t;
}

// Most connections the admin port holds (admin_server).
constexpr std::size_t kAdminMaxConnections = 1024;

// The admin API's own server (admin_listen = "address:port"): one worker,
// the announce port's limits but on connections (kAdminMaxConnections, and
// a sixteenth of them from one address).
core::Result<std::unique_ptr<net::HttpServer>> admin_server(const config::Config& c,
                                                            net::Router& router,
                                                            metrics::Registry& metrics) {
  std::string_view spec = c.admin_listen;
  const auto colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == spec.size()) {
    return core::invalid_argument(fmt::format(
        "'{}' is not address:port (as in \"10.0.0.5:6970\" or \"[::1]:6970\")", spec));
  }
  std::string_view host = spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  for (char ch : spec.substr(colon + 1)) {
    if (ch < '0' || ch > '9' || (port = port * 10 + static_cast<unsigned>(ch - '0')) > 65535) {
      return core::invalid_argument(fmt::format("'{}': bad port", spec));
    }
  }
  if (!core::Address::parse(host)) {
    return core::invalid_argument(
        fmt::format("'{}': '{}' is not an IP address of this host", spec, host));
  }
  net::HttpServerOptions ho;
  ho.host = std::string(host);
  ho.port = static_cast<std::uint16_t>(port);
  ho.workers = 1;
  ho.max_request_bytes = static_cast<std::size_t>(c.max_request_bytes);
  ho.request_timeout = std::chrono::seconds(c.request_timeout);
  ho.keepalive_timeout = std::chrono::seconds(c.keepalive_timeout);
  ho.max_connections = kAdminMaxConnections;
  ho.max_uploads_in_flight = static_cast<std::size_t>(c.max_uploads_in_flight);
  ho.max_reply_bytes_in_flight = static_cast<std::size_t>(c.max_reply_bytes_in_flight);
  // A handful of hosts use the admin port (operators, CI, Prometheus): one
  // of them may hold no more than a sixteenth of it, so it takes sixteen
  // addresses, not two, to hold every connection.
  ho.max_connections_per_source = static_cast<std::size_t>(c.max_connections_per_source);
  if (ho.max_connections_per_source == 0 ||
      ho.max_connections_per_source > kAdminMaxConnections / 16) {
    ho.max_connections_per_source = kAdminMaxConnections / 16;
  }
  ho.metrics = &metrics;
  return net::HttpServer::create(ho, router);
}

// The topology key as written in a TOML file: ["smdb", "subnet"].
std::string topology_list(const config::Config& c) {
  std::string out = "[";
  for (const std::string& name : c.topology) {
    if (out.size() > 1) out += ", ";
    out += fmt::format("\"{}\"", name);
  }
  return out + "]";
}

// The topology chain: the lookup sources it lists, in order, then the map
// file or the subnet rule (which answer at once) as their fallback. An error
// names the setting behind it, and where that was set.
core::Result<std::unique_ptr<topology::Locator>> make_topology(const config::Loaded& loaded,
                                                               const core::Clock& clock) {
  const config::Config& c = loaded.config;
  const auto blamed = [&loaded](std::string_view key, const core::Error& e) {
    return core::invalid_argument(loaded.blame(key, e.message));
  };
  topology::Options topo;
  topo.kind = c.uses_topology("file") ? "static" : "subnet";
  topo.subnet_prefix_v4 = c.subnet_prefix_v4;
  topo.subnet_prefix_v6 = c.subnet_prefix_v6;
  topo.map_file = c.topology_file;
  topo.depth = c.location_depth();
  auto fallback = topology::make_locator(topo);
  if (!fallback)
    return c.uses_topology("file") ? blamed("topology_file", fallback.error()) : fallback.error();
  if (!c.uses_topology("smdb") && !c.uses_topology("dns") && !c.uses_topology("exec")) {
    return std::move(*fallback);
  }
  topology::ChainOptions co;
  co.ttl = core::Seconds(c.topology_cache_ttl);
  co.negative_ttl = core::Seconds(c.topology_negative_ttl);
  co.cache_size = static_cast<std::size_t>(c.topology_cache_size);
  co.max_in_flight = static_cast<std::size_t>(c.topology_max_in_flight);
  auto chain = std::make_unique<topology::ChainLocator>(std::move(*fallback), co, clock);
  const std::chrono::milliseconds timeout(c.topology_timeout_ms);
  for (const std::string& name : c.topology) {
    if (name == "smdb") {
      topology::SmdbOptions so;
      so.url = c.smdb_url;
      so.fields = c.smdb_fields;
      so.bulk_url = c.smdb_bulk_url;
      so.bulk_interval = std::chrono::seconds(c.smdb_bulk_interval);
      so.timeout = timeout;
      auto source = topology::SmdbSource::create(so, chain->io());
      if (!source) return blamed("smdb_url", source.error());
      chain->add_source(std::move(*source));
    } else if (name == "dns") {
      topology::DnsOptions dns_options;
      dns_options.name_template = c.dns_name;
      dns_options.server = c.dns_server;
      dns_options.levels = c.levels;
      dns_options.timeout = timeout;
      auto source = topology::DnsSource::create(std::move(dns_options), chain->io());
      if (!source) {
        const bool server = source.error().message.starts_with("dns_server");
        return blamed(server ? "dns_server" : "dns_name", source.error());
      }
      chain->add_source(std::move(*source));
    } else if (name == "exec") {
      topology::ExecOptions eo;
      eo.command = c.exec_command;
      eo.levels = c.levels;
      eo.timeout = timeout;
      auto source = topology::ExecSource::create(std::move(eo), chain->io());
      if (!source) return blamed("exec_command", source.error());
      chain->add_source(std::move(*source), static_cast<std::size_t>(c.exec_max_running));
    }
  }
  return std::unique_ptr<topology::Locator>(std::move(chain));
}

core::Status check_topology(const config::Loaded& loaded) {
  const core::SystemClock clock;
  auto locator = make_topology(loaded, clock);
  if (!locator) return locator.error();
  return {};
}

// p2ptracker_topology_source_*: read from the chain at each scrape.
void register_topology_metrics(metrics::Registry& registry, const topology::ChainLocator& chain) {
  using metrics::Family;
  using metrics::label;
  registry.set_samples(Family::kTopologySourceLookups, [&chain](std::vector<metrics::Sample>& out) {
    for (const topology::SourceStats& s : chain.source_stats()) {
      const std::pair<const char*, std::uint64_t> outcomes[] = {
          {"found", s.found},         {"unknown", s.unknown},       {"error", s.errors},
          {"ambiguous", s.ambiguous}, {"skipped", s.skipped},       {"cache_hit", s.cache_hits},
          {"cache_miss", s.cache_misses}};
      for (const auto& [outcome, n] : outcomes) {
        out.push_back({label("source", s.name) + "," + label("outcome", outcome),
                       static_cast<double>(n)});
      }
    }
  });
  registry.set_samples(Family::kTopologySourceUp, [&chain](std::vector<metrics::Sample>& out) {
    for (const topology::SourceStats& s : chain.source_stats()) {
      out.push_back({label("source", s.name), s.up ? 1.0 : 0.0});
    }
  });
  registry.set_samples(Family::kTopologySourceSeconds, [&chain](std::vector<metrics::Sample>& out) {
    for (const topology::SourceStats& s : chain.source_stats()) {
      const std::string source = label("source", s.name);
      for (std::size_t b = 0; b < topology::kLookupSecondsBuckets.size(); ++b) {
        out.push_back({source + "," + label("le", fmt::format("{}", topology::kLookupSecondsBuckets[b])),
                       static_cast<double>(s.latency_buckets[b]), "_bucket"});
      }
      out.push_back({source + "," + label("le", "+Inf"), static_cast<double>(s.latency_count),
                     "_bucket"});
      out.push_back({source, s.latency_sum, "_sum"});
      out.push_back({source, static_cast<double>(s.latency_count), "_count"});
    }
  });
}

struct Server::Parts {
  config::Config config;
  // First in, last out: held until everything that writes data_dir is gone.
  std::unique_ptr<admin::DataDirLock> data_dir_lock;
  core::AdvanceableClock clock;  // moved only through test_clock
  metrics::Registry metrics;  // before everything that counts into it
  std::unique_ptr<topology::Locator> locator;
  topology::ChainLocator* chain = nullptr;  // `locator` when lookup sources are configured
  std::unique_ptr<LocatorRackMap> rack_map;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<swarm::SwarmTable> swarms;
  std::unique_ptr<admin::Registry> registry;
  std::unique_ptr<admin::History> history;
  std::unique_ptr<admin::Transfers> transfers;
  std::unique_ptr<net::Tracker> tracker;
  std::unique_ptr<net::TrackerHandler> tracker_http;
  // Each admin endpoint in the original's shapes and in /api/v1/'s.
  std::unique_ptr<admin::TorrentsApi> torrents, torrents_v1;
  std::unique_ptr<admin::TransfersApi> transfers_api, transfers_v1;
  std::unique_ptr<net::MetricsHandler> metrics_http;
  std::unique_ptr<HealthHandler> health;
  std::unique_ptr<TestClockHandler> test_clock;  // with P2PTRACKER_TEST_CLOCK=1 only
  std::atomic<bool> stopping{false};  // shutdown has begun: /health answers 503
  admin::DashboardApi dashboard;
  std::unique_ptr<net::AdminAccess> admin_access;
  net::Router router;        // everything, or with admin_listen the admin API
  net::Router public_router;  // with admin_listen: what `port` serves (announce, scrape, /health)
  net::ListenAddresses listen;                         // config.host, resolved
  std::vector<std::unique_ptr<net::HttpServer>> http;  // one per listen address
  std::unique_ptr<net::HttpServer> admin_http;         // admin_listen's; null without
  std::vector<std::unique_ptr<net::UdpServer>> udp;    // the same; none when udp_port = 0

  // The topology chain's thread moves peers in the swarm table, which is
  // destroyed before the locator: stop it first.
  ~Parts() {
    if (chain != nullptr) chain->stop();
  }

  void stop_listening() {
    for (auto& h : http) h->stop();
    if (admin_http) admin_http->stop();
    for (auto& u : udp) u->stop();
  }
  asio::io_context control{1};
  std::unique_ptr<asio::steady_timer> sweep_timer;
  // topology_file as last seen (mtime, size, inode): a change reloads the map
  // as SIGHUP does.
  std::optional<MapFileStamp> map_stamp;
  std::unique_ptr<asio::signal_set> signals;
  storage::StoreStats last_store_stats;
  std::uint64_t ticks = 0;  // sweep ticks so far
  std::filesystem::path progress_file;  // <data_dir>/progress.json (Transfers::save_progress)
  std::string progress_error;           // the last save's error, said once
  void save_progress() {
    auto st = transfers->save_progress(progress_file);
    std::string error = st ? std::string() : st.error().message;
    if (!error.empty() && error != progress_error) {
      spdlog::error(
          "the deploys' progress could not be written ({}); a restart would lose "
          "what they reached since the last write",
          error);
    } else if (error.empty() && !progress_error.empty()) {
      spdlog::info("the deploys' progress is written again to {}", progress_file.string());
    }
    progress_error = std::move(error);
  }
  std::vector<swarm::SwarmTable::ExpiredPeer> expired;  // the sweep's, reused
  std::vector<swarm::SwarmTable::UnrepresentedRack> unrepresented;  // the same
  std::vector<swarm::SwarmTable::SlowAnnouncers> slow;              // the same
};

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { parts_->stop_listening(); }

std::uint16_t Server::port() const { return parts_->http.front()->port(); }

core::Result<std::unique_ptr<Server>> Server::create(const config::Loaded& loaded) {
  const config::Config& c = loaded.config;
  auto p = std::make_unique<Parts>();
  p->config = c;

  // First, so a HOST that names no address of this host fails before anything
  // else is opened. Start-up only: DNS never runs on the announce path.
  auto listen = net::resolve_listen_host(c.host);
  if (!listen) return core::invalid_argument(loaded.blame("host", listen.error().message));
  p->listen = std::move(*listen);
  for (const std::string& skipped : p->listen.skipped) {
    spdlog::warn("host '{}': not listening on {}: not an address of this host", c.host, skipped);
  }

  auto locator = make_topology(loaded, p->clock);
  if (!locator) return locator.error();
  p->locator = std::move(*locator);
  p->chain = dynamic_cast<topology::ChainLocator*>(p->locator.get());
  p->rack_map = std::make_unique<LocatorRackMap>(
      *p->locator, p->chain, topology::SubnetLevels{c.subnet_levels_v4, c.subnet_levels_v6});

  storage::Options so;
  so.kind = c.store;
  so.redis_host = c.redishost;
  so.redis_port = c.redisport;
  so.key_prefix = c.redis_prefix;
  so.max_seen_transfers = static_cast<std::size_t>(c.max_seen_transfers);
  so.max_departed_peers = static_cast<std::size_t>(c.max_peers_per_transfer);
  so.archive_expiry = std::chrono::days(c.history_days);
  const topology::Locator* loc = p->locator.get();
  auto store = storage::make_store(
      so, [loc](core::RackId r) { return loc->rack_name(r); }, p->clock);
  if (!store) return store.error();
  p->store = std::move(*store);
  // Announces never wait for the store, so a Redis that is down does not stop
  // the tracker; say so once here, then on every change (run()'s tick).
  p->last_store_stats = p->store->stats();
  if (!p->last_store_stats.connected) {
    spdlog::error(
        "store: cannot reach Redis at {}:{} ({}); serving announces without the Redis mirror, "
        "which catches up when Redis answers",
        c.redishost, c.redisport, p->last_store_stats.error);
  }

  swarm::SwarmOptions sw;
  sw.policy.max_repr_rack = static_cast<std::uint32_t>(c.max_repr_rack);
  // max_repr_levels runs outermost first; max_repr_up by height (a row first).
  for (std::size_t h = 0; h < core::kMaxUpperLevels; ++h) {
    const auto& k = c.max_repr_levels;
    sw.policy.max_repr_up[h] = static_cast<std::uint32_t>(
        k.empty() ? c.max_repr_rack : h < k.size() ? k[k.size() - 1 - h] : k.front());
  }
  sw.policy.maxpeers = static_cast<std::uint32_t>(c.maxpeers);
  sw.peer_timeout = core::Seconds(c.peer_timeout);
  sw.policy.peer_timeout_max = core::Seconds(c.peer_timeout_max);
  sw.policy.assumed_gap = core::Seconds(c.assumed_announce_gap);
  // The config table admits only the modes' names.
  const bool known_mode = swarm::parse_policy_mode(c.policy, sw.policy.mode);
  assert(known_mode);
  (void)known_mode;
  sw.policy.grant_percent = static_cast<std::uint32_t>(c.grant_percent);
  // What the policy asks of a host still downloading: its announce gap, and
  // the unit of its stall time (the stats API's "stuck" and the tracker's
  // replies below take both from here).
  const std::uint32_t asked =
      swarm::downloading_interval(sw.policy.mode, static_cast<std::uint32_t>(c.active_interval),
                                  static_cast<std::uint32_t>(c.downloading_interval));
  sw.policy.stall_after = core::Seconds(std::int64_t{c.stall_intervals} * asked);
  sw.policy.announce_interval = core::Seconds(asked);
  sw.open = c.open;
  sw.shared_rack_budget = c.repr_budget == "per_rack";
  sw.max_open_transfers = static_cast<std::size_t>(c.max_open_transfers);
  sw.max_open_peers = static_cast<std::size_t>(c.max_open_peers);
  sw.policy.max_peers_per_address = static_cast<std::uint32_t>(c.max_peers_per_address);
  sw.policy.max_peers_per_transfer = static_cast<std::uint32_t>(c.max_peers_per_transfer);
  p->swarms = std::make_unique<swarm::SwarmTable>(sw, *p->rack_map, p->clock);

  if (!c.smdb_url.empty() && !c.uses_topology("smdb")) {
    // Said at every start so an operator does not believe the inventory's
    // cabinets are in use.
    spdlog::warn(
        "smdb_url is set ({}), but topology = {} does not list \"smdb\": the inventory service "
        "is not asked; add \"smdb\" to topology to group hosts by its cabinets "
        "(docs/topology.md)",
        c.smdb_url, topology_list(c));
  }
  if (p->chain != nullptr) {
    swarm::SwarmTable* swarms = p->swarms.get();
    const topology::ChainLocator* chain = p->chain;
    p->chain->on_relocate([swarms, chain](const core::Address& address, core::RackId from,
                                          core::RackId to, bool moved) {
      const std::size_t peers = swarms->relocate(address, from, to);
      if (moved) {
        // The inventory moved a host it had placed: the operator should
        // know (a host re-cabled, or an inventory that flaps).
        spdlog::info(
            "topology: {} moved from {} to {}, as a lookup source now says: {} peer(s) "
            "moved",
            address.to_string(), chain->rack_name(from), chain->rack_name(to), peers);
        return;
      }
      // Until a lookup source answers, the rest of the chain placed the host.
      spdlog::debug(
          "topology: {} is in {} (placed in {} until the lookup answered): {} peer(s) "
          "moved",
          address.to_string(), chain->rack_name(to), chain->rack_name(from), peers);
    });
    p->chain->start();
    // One test lookup per source, so a wrong smdb_url is said at start-up,
    // not discovered in a deploy.
    const auto failures = p->chain->check(*core::Address::parse("127.0.0.1"));
    for (const std::string& failure : failures) {
      if (c.topology_strict) {
        p->chain->stop();
        return core::unavailable(fmt::format(
            "topology source {} (topology_strict = true: not starting without it)", failure));
      }
      spdlog::warn(
          "topology source {}; starting anyway: hosts are placed by the rest of the chain ({}) "
          "until it answers (topology_strict = true refuses to start instead)",
          failure, topology_list(c));
    }
  }
  auto lock = admin::DataDirLock::acquire(c.data_dir);
  if (!lock) return lock.error();
  p->data_dir_lock = std::move(*lock);
  auto registry = admin::Registry::open(c.data_dir, p->clock, c.max_torrent_files);
  if (!registry) return registry.error();
  p->registry = std::move(*registry);
  for (const auto& w : p->registry->load_warnings()) spdlog::warn("registry: {}", w);
  // However it was registered (a file dropped into torrents/ too), a torrent
  // without the private flag lets clients route around the racks.
  for (const admin::RegisteredTorrent& t : p->registry->list()) {
    if (!t.meta.is_private) {
      spdlog::warn(
          "registered torrent {} is not private: its clients also find peers by DHT and peer "
          "exchange, behind the tracker and across racks (make it with the private flag)",
          t.file);
    }
  }
  // A read-only data_dir (a read-only mount of the registered torrents) is
  // served as it is; say now that changes will fail, not at the first one.
  if (::access((std::filesystem::path(c.data_dir) / "torrents").c_str(), W_OK) != 0) {
    spdlog::warn(
        "data_dir {} is read-only ({}): serving its {} registered torrent(s); registering, "
        "replacing and deleting torrents will fail until it is writable",
        data_dir_shown(c.data_dir), std::strerror(errno), p->registry->list().size());
  }
  auto history = admin::History::open(c.data_dir, p->clock,
                                      core::Seconds(std::int64_t{c.history_days} * 86400));
  if (!history) return history.error();
  for (const auto& w : (*history)->load_warnings()) spdlog::warn("history: {}", w);
  p->history = std::move(*history);
  admin::StatsOptions stats;
  stats.stall_after = p->swarms->options().policy.stall_after;
  stats.level_names = c.levels;
  stats.peer_timeout = core::Seconds(c.peer_timeout);
  stats.assumed_gap = core::Seconds(c.assumed_announce_gap);
  stats.announce_interval = p->swarms->options().policy.announce_interval;
  p->transfers = std::make_unique<admin::Transfers>(
      *p->registry, *p->history, *p->swarms, *p->store, p->clock,
      [loc](core::RackId r) { return loc->rack_name(r); }, stats);
  p->transfers->activate_registered();
  p->progress_file = std::filesystem::path(c.data_dir) / "progress.json";
  for (const auto& w : p->transfers->restore_progress(p->progress_file)) {
    spdlog::warn("progress: {}", w);
  }

  net::TrackerOptions to;
  to.active_interval = static_cast<std::uint32_t>(c.active_interval);
  to.passive_interval = static_cast<std::uint32_t>(c.passive_interval);
  to.min_interval = static_cast<std::uint32_t>(c.min_interval);
  to.downloading_interval =
      static_cast<std::uint32_t>(p->swarms->options().policy.announce_interval.count());
  to.maxpeers = static_cast<std::uint32_t>(c.maxpeers);
  to.full_scrape = c.full_scrape;
  to.trust = trust_options(c);
  to.rates.announces_per_second = static_cast<std::uint32_t>(c.rate_limit_announces);
  to.rates.announce_burst = static_cast<std::uint32_t>(c.rate_limit_announce_burst);
  to.rates.scrapes_per_second = static_cast<std::uint32_t>(c.rate_limit_scrapes);
  to.rates.scrape_burst = static_cast<std::uint32_t>(c.rate_limit_scrape_burst);
  to.static_topology = c.topology != std::vector<std::string>{"subnet"};
  to.topology_wait = std::chrono::milliseconds(c.topology_wait_ms);
  p->tracker = std::make_unique<net::Tracker>(to, *p->swarms, *p->store, p->clock);
  p->tracker_http = std::make_unique<net::TrackerHandler>(*p->tracker);
  const auto max_torrent_bytes = static_cast<std::size_t>(c.max_torrent_bytes);
  p->torrents = std::make_unique<admin::TorrentsApi>(*p->transfers, max_torrent_bytes,
                                                     admin::ApiVersion::kOriginal);
  p->torrents_v1 = std::make_unique<admin::TorrentsApi>(*p->transfers, max_torrent_bytes,
                                                        admin::ApiVersion::kV1);
  p->transfers_api =
      std::make_unique<admin::TransfersApi>(*p->transfers, admin::ApiVersion::kOriginal);
  p->transfers_v1 = std::make_unique<admin::TransfersApi>(*p->transfers, admin::ApiVersion::kV1);
  p->metrics_http = std::make_unique<net::MetricsHandler>(
      p->metrics, net::MetricsSources{p->swarms.get(), p->store.get(),
                                      [loc](core::RackId r) { return loc->rack_name(r); }});

  if (p->chain != nullptr) register_topology_metrics(p->metrics, *p->chain);
  p->metrics.set_value(metrics::Family::kTransfersNotPrivate, [registry = p->registry.get()] {
    const auto list = registry->list();
    return static_cast<double>(std::count_if(list.begin(), list.end(), [](const auto& t) {
      return !t.meta.is_private;
    }));
  });

  HealthSources hs;
  hs.topology = p->chain;
  hs.store = p->store.get();
  hs.store_kind = c.store;
  if (c.store == "redis") hs.store_target = fmt::format("{}:{}", c.redishost, c.redisport);
  hs.udp = c.udp_port != 0;
  hs.stopping = &p->stopping;
  hs.started = p->clock.now();
  p->health = std::make_unique<HealthHandler>(std::move(hs));

  const bool admin_apart = !c.admin_listen.empty();
  for (net::Router* r : {&p->router, &p->public_router}) {
    r->add_exact("/announce", p->tracker_http.get());
    r->add_exact("/announce/", p->tracker_http.get());
    r->add_exact("/scrape", p->tracker_http.get());
    r->add_exact("/scrape/", p->tracker_http.get());
    r->add_exact("/health", p->health.get());
  }
  p->public_router.set_not_found(fmt::format(
      R"json({{"error":"this port serves announce, scrape and /health; the admin API is on {} (admin_listen)"}})json",
      c.admin_listen));
  p->router.add_exact("/torrents", p->torrents.get());
  p->router.add_prefix("/torrents/", p->torrents.get());
  p->router.add_exact("/transfers", p->transfers_api.get());
  p->router.add_prefix("/transfers/", p->transfers_api.get());
  p->router.add_exact("/api/v1/torrents", p->torrents_v1.get());
  p->router.add_prefix("/api/v1/torrents/", p->torrents_v1.get());
  p->router.add_exact("/api/v1/transfers", p->transfers_v1.get());
  p->router.add_prefix("/api/v1/transfers/", p->transfers_v1.get());
  p->router.add_exact("/api/v1/history", p->transfers_v1.get());
  p->router.add_exact("/api/v1/history/", p->transfers_v1.get());
  p->router.add_exact("/history", p->transfers_v1.get());
  p->router.add_exact("/history/", p->transfers_v1.get());
  p->router.add_exact("/metrics", p->metrics_http.get());
  if (test_clock_enabled()) {
    p->test_clock = std::make_unique<TestClockHandler>(p->clock);
    p->router.add_exact("/api/v1/test/clock", p->test_clock.get());
    spdlog::warn(
        "P2PTRACKER_TEST_CLOCK=1: POST /api/v1/test/clock moves this tracker's clock forward "
        "(peers expire, caches go stale); for tests only, never in production");
  }
  p->router.add_exact("/", &p->dashboard);
  p->router.add_prefix("/dashboard/", &p->dashboard);
  auto admin_access = make_admin_access(c);
  if (!admin_access) return admin_access.error();
  p->admin_access = std::move(*admin_access);
  p->router.set_access(p->admin_access.get());
  spdlog::info("{}", p->admin_access->mode());

  // Every listen address gets its own servers; the workers are shared out so a
  // host name with two addresses does not double the threads.
  const int total_workers =
      c.workers > 0 ? c.workers : static_cast<int>(std::thread::hardware_concurrency());
  const int per_address = std::max(1, total_workers / static_cast<int>(p->listen.addresses.size()));
  // Each connection is a descriptor: max_connections above what the process
  // may open would fail accept() with EMFILE instead of refusing politely.
  std::size_t max_connections = static_cast<std::size_t>(c.max_connections);
  if (auto fds = raise_fd_limit(); !fds) {
    spdlog::warn("file descriptor limit unknown ({}); max_connections stays {}",
                 fds.error().message, max_connections);
  } else {
    if (fds->soft > fds->was) {
      spdlog::info("file descriptor limit raised from {} to {}", fds->was, fds->soft);
    }
    // Every loop: the HTTP and UDP workers, the blocking and upload threads.
    const int loops = (2 * per_address + 2) * static_cast<int>(p->listen.addresses.size());
    // Each listen address has its own server and its own max_connections.
    const std::size_t budget =
        std::max<std::size_t>(1, connection_budget(fds->soft, loops) / p->listen.addresses.size());
    if (max_connections > budget) {
      // A warning when the operator asked for more; the default being lowered
      // on a host with a smaller limit is only news.
      const auto level =
          loaded.origins.contains("max_connections") ? spdlog::level::warn : spdlog::level::info;
      spdlog::log(level,
                  "max_connections {}: {} file descriptors (the limit) must also hold the "
                  "tracker's own files, sockets and event loops, which leaves room for {} "
                  "connections; using {} (raise the hard limit, e.g. LimitNOFILE= in the systemd "
                  "unit, to allow more)",
                  max_connections, fds->soft, budget, budget);
      max_connections = budget;
    }
  }
  std::uint16_t port = c.port;
  for (const std::string& address : p->listen.addresses) {
    net::HttpServerOptions ho;
    ho.host = address;
    ho.port = port;
    ho.workers = per_address;
    ho.max_request_bytes = static_cast<std::size_t>(c.max_request_bytes);
    ho.request_timeout = std::chrono::seconds(c.request_timeout);
    ho.keepalive_timeout = std::chrono::seconds(c.keepalive_timeout);
    ho.max_connections = max_connections;
    ho.max_uploads_in_flight = static_cast<std::size_t>(c.max_uploads_in_flight);
    ho.max_reply_bytes_in_flight = static_cast<std::size_t>(c.max_reply_bytes_in_flight);
    ho.max_connections_per_source = static_cast<std::size_t>(c.max_connections_per_source);
    if (c.proxypass) ho.uncapped_sources = c.trusted_proxies;
    ho.metrics = &p->metrics;
    net::Router& routes = admin_apart ? p->public_router : p->router;
    auto http = net::HttpServer::create(ho, routes);
    if (!http && address == "::" && p->listen.addresses.size() == 1) {
      // Dual stack is the default, but a host may have IPv6 disabled.
      spdlog::warn("cannot listen on [::] ({}); falling back to IPv4 only (0.0.0.0)",
                   http.error().message);
      ho.host = "0.0.0.0";
      p->listen.addresses.front() = ho.host;
      p->config.host = ho.host;
      http = net::HttpServer::create(ho, routes);
    }
    if (!http) return http.error();
    // Port 0: the first address gets a free port, the others the same one.
    port = (*http)->port();
    p->http.push_back(std::move(*http));

    if (c.udp_port != 0) {
      net::UdpServerOptions uo;
      uo.host = ho.host;
      // -1 follows the HTTP port, including the one the system picked for port 0.
      uo.port = c.udp_port < 0 ? port : static_cast<std::uint16_t>(c.udp_port);
      uo.workers = per_address;
      uo.metrics = ho.metrics;
      auto udp = net::UdpServer::create(uo, *p->tracker, p->clock);
      if (!udp) return udp.error();
      p->udp.push_back(std::move(*udp));
    }
  }
  if (admin_apart) {
    auto admin = admin_server(c, p->router, p->metrics);
    if (!admin) return core::invalid_argument(loaded.blame("admin_listen", admin.error().message));
    p->admin_http = std::move(*admin);
  }
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

int Server::run() {
  Parts& p = *parts_;
  // On SIGHUP and when topology_file changes.
  auto reload_topology = [&p](std::string_view why) {
    if (auto st = p.locator->reload(); st) {
      const bool file = p.config.uses_topology("file") || p.config.uses_topology("static");
      if (!file && p.chain == nullptr) {
        spdlog::info("topology: nothing to reload ({}): racks come from the subnet rule", why);
        return;
      }
      spdlog::info("topology reloaded ({}): {}{}{}", why,
                   file ? fmt::format("{} read again (generation {})", p.config.topology_file,
                                      p.locator->generation())
                        : std::string(),
                   file && p.chain != nullptr ? "; " : "",
                   p.chain != nullptr
                       ? "the lookup sources are asked again about each host at its next announce"
                       : "");
    } else {
      spdlog::error("topology reload failed ({}), keeping the previous map: {}", why,
                    st.error().message);
    }
  };
  if (p.config.uses_topology("file") || p.config.uses_topology("static")) {
    p.map_stamp = map_file_stamp(p.config.topology_file);
  }
  // Signals first: once "listening" is logged a supervisor (or a test) may send
  // SIGTERM at once, and it must mean a clean stop, not the default death.
  // Signals that arrive before control.run() wait in the set.
  p.signals = std::make_unique<asio::signal_set>(p.control, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&p, &on_signal, &reload_topology](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          reload_topology("SIGHUP");
          p.signals->async_wait(on_signal);
          return;
        }
        spdlog::info("signal {}: shutting down", sig);
        p.stopping = true;
        p.control.stop();
      };
  p.signals->async_wait(on_signal);

  int workers = 0;
  for (auto& h : p.http) {
    h->start();
    workers += h->workers();
  }
  for (auto& u : p.udp) u->start();
  if (p.admin_http) {
    p.admin_http->start();
    // Before the "listening" line: whoever waits for that one finds this too.
    spdlog::info("admin API served on {} (port {}); port {} serves announce, scrape and /health",
                 p.config.admin_listen, p.admin_http->port(), p.http.front()->port());
  }
  std::string where;
  for (const std::string& a : p.listen.addresses) {
    if (!where.empty()) where += ", ";
    // "[::1]:6969" for IPv6, as Endpoint prints it.
    const bool v6 = a.find(':') != std::string::npos;
    where += v6 ? fmt::format("[{}]:{}", a, p.http.front()->port())
                : fmt::format("{}:{}", a, p.http.front()->port());
  }
  spdlog::info(
      "p2ptracker listening on {} ({} workers; UDP {}){}; store={}, topology={}, data_dir={}, {} "
      "registered transfer(s)",
      where, workers, p.udp.empty() ? std::string("off") : std::to_string(p.udp.front()->port()),
      p.listen.resolved ? fmt::format(" (host {})", p.config.host) : std::string(), p.config.store,
      topology_list(p.config), data_dir_shown(p.config.data_dir), p.registry->list().size());

  // auto_archive_s: archives every registered transfer whose deploy completed
  // (a host completed, none is downloading) at least that long ago.
  auto auto_archive = [&p] {
    const core::TimePoint now = p.clock.now();
    for (const admin::RegisteredTorrent& t : p.registry->list()) {
      const core::InfoHash hash = t.meta.primary();
      auto snap = p.swarms->snapshot(hash);
      if (!snap || snap->torrent.leechers() > 0 || snap->torrent.completed() == 0) continue;
      const auto done = std::chrono::floor<core::Seconds>(snap->torrent.last_completed);
      if (now - done < core::Seconds(p.config.auto_archive_s)) continue;
      if (auto r = p.transfers->deactivate(hash); r) {
        spdlog::info("transfer {} ({}) archived: complete for {} s (auto_archive_s = {})", hash.hex(),
                     t.file, (now - done).count(), p.config.auto_archive_s);
      } else {
        spdlog::warn("transfer {} ({}): archiving failed: {}", hash.hex(), t.file,
                     r.error().message);
      }
    }
  };
  p.sweep_timer = std::make_unique<asio::steady_timer>(p.control);
  std::function<void()> tick = [&p, &tick, &auto_archive, &reload_topology] {
    p.sweep_timer->expires_after(kSweepTick);
    p.sweep_timer->async_wait([&p, &tick, &auto_archive,
                               &reload_topology](const boost::system::error_code& ec) {
      if (ec) return;
      // A changed map file reloads, as SIGHUP does. (A file being written in
      // place may be read half done: that reload fails and keeps the previous
      // map, and the finished file changes the stamp again.)
      ++p.ticks;
      if (p.map_stamp && p.ticks % kMapCheckTicks == 0) {
        if (auto now = map_file_stamp(p.config.topology_file); now && *now != *p.map_stamp) {
          p.map_stamp = now;
          reload_topology(p.config.topology_file + " changed");
        }
      }
      // Expired peers leave the store's current sets too.
      p.expired.clear();
      p.unrepresented.clear();
      p.slow.clear();
      const swarm::PolicyOptions& policy = p.swarms->options().policy;
      // Only a rule that feeds each host from one place waits on announces to
      // route round a failed host.
      std::size_t dropped =
          p.swarms->sweep(swarm::SwarmTable::kShards / kSweepSlices + 1, &p.expired,
                          &p.unrepresented, swarm::one_source(policy.mode) ? &p.slow : nullptr);
      for (const auto& s : p.slow) {
        spdlog::warn(
            "transfer {}: {} downloading host(s) announce as far apart as {} s, though policy "
            "\"{}\" asks every {} s; it learns that a host stopped feeding the hosts below it "
            "only from their announces, so a failed host would hold them for minutes: lower the "
            "clients' min_announce_interval (libtorrent's default is 300 s) or use policy "
            "\"original\" (docs/clients.md)",
            s.info_hash.hex(), s.slow.peers, s.slow.widest.count(),
            swarm::policy_mode_name(policy.mode), policy.announce_interval.count());
      }
      for (const auto& r : p.unrepresented) {
        spdlog::info(
            "transfer {}: rack {} has had no representative for {} s ({} host(s)); it gets one "
            "when a host of the rack announces",
            r.info_hash.hex(), p.locator->rack_name(r.rack), (p.clock.now() - r.since).count(),
            r.peers);
      }
      storage::PeerUpdate u;
      u.expired = true;
      u.at = p.clock.now();
      for (const auto& e : p.expired) {
        u.info_hash = e.info_hash;
        u.endpoint = e.endpoint;
        u.rack = e.rack;
        p.store->peer_announced(u);
      }
      if (dropped > 0) spdlog::debug("expired {} peer(s)", dropped);
      // Report store trouble once per change, not once per failed write.
      storage::StoreStats s = p.store->stats();
      if (s.connected != p.last_store_stats.connected) {
        if (s.connected) {
          const auto down = s.since - p.last_store_stats.since;
          spdlog::info(
              "store: connection restored to {}:{}{}; registered transfers re-sent, peers "
              "catch up as they announce",
              p.config.redishost, p.config.redisport,
              p.last_store_stats.since == core::TimePoint{}
                  ? std::string()
                  : fmt::format(" after {} s", down.count()));
        } else {
          spdlog::error(
              "store: lost connection to {}:{} ({}); announces are still served, store writes "
              "are failing until it returns",
              p.config.redishost, p.config.redisport, s.error);
        }
      }
      if (s.dropped > p.last_store_stats.dropped) {
        spdlog::warn("store: {} write(s) dropped (queue full)",
                     s.dropped - p.last_store_stats.dropped);
      }
      p.last_store_stats = s;
      if (p.config.auto_archive_s > 0 && p.ticks % 5 == 0) auto_archive();
      if (p.ticks % kProgressTicks == 0) p.save_progress();
      tick();
    });
  };
  tick();

  p.control.run();
  p.stop_listening();
  p.save_progress();
  if (auto st = p.store->flush(std::chrono::seconds(3)); !st) {
    spdlog::warn("store: not everything was written before exit: {}", st.error().message);
  }
  spdlog::info("stopped");
  return 0;
}

void Server::stop() {
  parts_->stopping = true;
  parts_->control.stop();
}

}  // namespace p2p::server

#include "admin/transfers.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

namespace p2p::admin {
namespace {

double round1(double v) { return std::round(v * 10.0) / 10.0; }

// The info-hashes a torrent is announced under (v1, and v2 for hybrids).
std::vector<core::InfoHash> hashes_of(const RegisteredTorrent& t) {
  std::vector<core::InfoHash> out;
  if (t.meta.v1) out.push_back(*t.meta.v1);
  if (t.meta.v2_truncated) out.push_back(*t.meta.v2_truncated);
  return out;
}

}  // namespace

Transfers::Transfers(Registry& registry, History& history, swarm::SwarmTable& swarms,
                     storage::Store& store, const core::Clock& clock, RackNamer rack_name,
                     StatsOptions options)
    : registry_(registry),
      history_(history),
      swarms_(swarms),
      store_(store),
      clock_(clock),
      rack_name_(std::move(rack_name)),
      options_(options) {}

void Transfers::activate(const RegisteredTorrent& t) {
  for (const auto& h : hashes_of(t)) {
    swarms_.activate(h, t.meta.length);
    store_.transfer_registered({h, t.meta.name, t.meta.length, t.registered});
  }
}

void Transfers::activate_registered() {
  for (const auto& t : registry_.list()) activate(t);
}

core::Result<RegisteredTorrent> Transfers::add(std::string_view file, std::string_view bytes) {
  auto t = registry_.add(file, bytes);
  if (!t) return t.error();
  activate(*t);
  return t;
}

core::Result<DeployRecord> Transfers::deactivate(const core::InfoHash& info_hash) {
  auto t = registry_.find(info_hash);
  if (!t) {
    return core::not_found(fmt::format("no registered transfer has info_hash {}", info_hash.hex()));
  }
  return deactivate(t->file);
}

core::Result<DeployRecord> Transfers::deactivate(std::string_view file) {
  auto t = registry_.find(file);
  if (!t)
    return core::not_found(fmt::format("{} is not registered (GET /torrents/ lists them)", file));
  // Snapshot before the swarm is dropped: the record keeps its final state.
  DeployRecord r;
  r.info_hash = t->meta.primary();
  r.file = t->file;
  r.name = t->meta.name;
  r.size = t->meta.length;
  r.registered = t->registered;
  r.deregistered = clock_.now();
  if (auto snap = swarms_.snapshot(r.info_hash)) {
    const swarm::Torrent& s = snap->torrent;
    r.first_start = s.first_started;
    r.last_start = s.last_started;
    r.first_complete = s.first_completed;
    r.last_complete = s.last_completed;
    r.peers = static_cast<std::uint32_t>(s.size());
    r.seeders = s.seeders();
    r.completed = s.completed();
    r.racks = static_cast<std::uint32_t>(s.racks().size());
  }
  auto removed = registry_.remove(file);
  if (!removed) return removed.error();
  for (const auto& h : hashes_of(*removed)) {
    swarms_.deactivate(h);
    store_.transfer_deregistered(h, r.deregistered);
  }
  if (auto st = history_.add(r); !st) {
    // The transfer is gone either way; say that its record could not be kept.
    return core::unavailable(
        fmt::format("{} was deactivated but its history record could not "
                    "be written: {}",
                    file, st.error().message));
  }
  return r;
}

std::optional<nlohmann::json> Transfers::stats(const core::InfoHash& info_hash, bool racks,
                                               bool members) const {
  auto reg = registry_.find(info_hash);
  if (!reg) return std::nullopt;
  auto snap = swarms_.snapshot(info_hash);
  swarm::Torrent empty;
  const swarm::Torrent& t = snap ? snap->torrent : empty;
  const std::uint64_t size = reg->meta.length;
  const core::TimePoint now = clock_.now();

  auto progress_of = [&](const swarm::Peer& p) {
    if (size == 0) return 100.0;
    return 100.0 *
           (1.0 - static_cast<double>(std::min(p.left.bytes(), size)) / static_cast<double>(size));
  };
  auto stuck = [&](const swarm::Peer& p) {
    return !p.seeder() && now - p.last_progress.time() >= options_.stall_after;
  };

  double total_progress = 0;
  std::uint32_t representatives = 0, stuck_count = 0;
  nlohmann::json rack_json = nlohmann::json::object();
  for (const swarm::RackGroup& g : t.racks()) {
    double rack_progress = 0;
    std::uint32_t rack_stuck = 0;
    nlohmann::json list = nlohmann::json::array();
    for (const swarm::Peer& p : g.peers) {
      double pr = progress_of(p);
      rack_progress += pr;
      bool s = stuck(p);
      rack_stuck += s;
      if (members) {
        list.push_back({{"peer", p.endpoint.to_string()},
                        {"left", p.left.bytes()},
                        {"progress", round1(pr)},
                        {"representative", p.representative()},
                        {"seeder", p.seeder()},
                        {"stuck", s},
                        {"last_seen", core::iso8601(p.last_seen.time())}});
      }
    }
    total_progress += rack_progress;
    representatives += static_cast<std::uint32_t>(g.representatives.size());
    stuck_count += rack_stuck;
    if (racks) {
      const auto n = static_cast<std::uint32_t>(g.peers.size());
      nlohmann::json rj = {{"N", n},
                           {"R", g.representatives.size()},
                           {"S", g.seeders},
                           {"progress", round1(n ? rack_progress / n : 0.0)},
                           {"stuck", rack_stuck},
                           {"complete", n > 0 && g.seeders == n}};
      if (members) rj["members"] = std::move(list);
      rack_json[rack_name_(g.rack)] = std::move(rj);
    }
  }
  const auto peers = static_cast<std::uint32_t>(t.size());
  nlohmann::json global = {
      {"info_hash", info_hash.hex()},
      {"file", reg->file},
      {"name", reg->meta.name},
      {"active", true},
      {"peers", peers},
      {"seeders", t.seeders()},
      {"leechers", t.leechers()},
      {"representatives", representatives},
      {"stuck", stuck_count},
      {"racks", t.racks().size()},
      {"completed", t.completed()},
      {"started", core::iso8601(reg->registered)},
      {"first_start", time_or_null(t.first_started)},
      {"last_start", time_or_null(t.last_started)},
      {"first_complete", time_or_null(t.first_completed)},
      {"last_complete", time_or_null(t.last_completed)},
      {"complete", peers > 0 && t.seeders() == peers && t.completed() > 0},
      {"size", size},
      {"progress", round1(peers ? total_progress / peers : 0.0)},
  };
  nlohmann::json completions = nlohmann::json::array();
  for (core::TimePoint c : t.completions()) completions.push_back(core::iso8601(c));
  global["completions"] = std::move(completions);
  nlohmann::json out = {{"global", std::move(global)}};
  if (racks) out["racks"] = std::move(rack_json);
  return out;
}

std::optional<nlohmann::json> Transfers::members(const core::InfoHash& info_hash,
                                                 std::string_view kind) const {
  if (!registry_.find(info_hash)) return std::nullopt;
  auto snap = swarms_.snapshot(info_hash);
  swarm::Torrent empty;
  const swarm::Torrent& t = snap ? snap->torrent : empty;
  if (kind == "racks") {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& g : t.racks()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : g.peers) list.push_back(p.endpoint.to_string());
      out[rack_name_(g.rack)] = std::move(list);
    }
    return out;
  }
  std::function<bool(const swarm::Peer&)> keep;
  if (kind == "peers") {
    keep = [](const swarm::Peer&) { return true; };
  } else if (kind == "seeders") {
    keep = [](const swarm::Peer& p) { return p.seeder(); };
  } else if (kind == "leechers") {
    keep = [](const swarm::Peer& p) { return !p.seeder(); };
  } else if (kind == "representants") {
    keep = [](const swarm::Peer& p) { return p.representative(); };
  } else {
    return std::nullopt;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : t.racks()) {
    for (const auto& p : g.peers) {
      if (keep(p)) out.push_back(p.endpoint.to_string());
    }
  }
  return out;
}

}  // namespace p2p::admin

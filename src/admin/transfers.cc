#include "admin/transfers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "admin/data_files.h"
#include "admin/durable_file.h"

namespace p2p::admin {
namespace {

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
    store_.transfer_registered({h, t.meta.name, t.meta.length, t.registered,
                                h == t.meta.primary() ? t.file : std::string()});
  }
}

void Transfers::activate_registered() {
  for (const auto& t : registry_.list()) activate(t);
}

std::vector<std::string> Transfers::restore_progress(const std::filesystem::path& file) {
  std::vector<std::string> warnings;
  auto text = read_file_if_present(file);
  if (!text) return {text.error().message};
  if (!*text) return {};
  auto parsed = parse_progress(**text);
  if (!parsed) {
    return {fmt::format(
        "{}: {}; the deploys' progress so far starts again from the announces "
        "({})",
        file.string(), parsed.error().message, keep_damaged_copy(file, **text, clock_.now()))};
  }
  if (parsed->skipped > 0) {
    warnings.push_back(fmt::format("{}: {} entr{} that are not a transfer's progress left out ({})",
                                   file.string(), parsed->skipped,
                                   parsed->skipped == 1 ? "y" : "ies",
                                   keep_damaged_copy(file, **text, clock_.now())));
  }
  std::size_t restored = 0;
  for (auto& [hash, progress] : parsed->transfers) {
    // A transfer deactivated since has no swarm: its progress is dropped.
    restored += swarms_.restore(hash, std::move(progress)) ? 1 : 0;
  }
  if (restored > 0)
    spdlog::info("{}: the progress of {} transfer(s) restored", file.string(), restored);
  std::lock_guard lock(progress_mu_);
  progress_written_ = std::move(**text);
  return warnings;
}

core::Status Transfers::save_progress(const std::filesystem::path& file) {
  // A fleet's swarms hold 100,000s of peers: unchanged (the usual case between
  // deploys), a pass over them decides, without building the text.
  std::uint64_t digest = 0;
  for (const auto& t : registry_.list()) {
    for (const auto& h : hashes_of(t)) {
      digest = digest * 0x100000001b3ULL + swarms_.progress_digest(h).value_or(0);
    }
  }
  {
    std::lock_guard lock(progress_mu_);
    if (progress_digest_ == digest) return {};
  }
  ProgressFile out;
  for (const auto& t : registry_.list()) {
    for (const auto& h : hashes_of(t)) {
      if (auto p = swarms_.progress(h)) out.transfers.emplace_back(h, std::move(*p));
    }
  }
  std::string text = progress_text(out);
  std::lock_guard lock(progress_mu_);
  if (text != progress_written_) {
    if (auto st = write_file_atomically(file, text); !st) return st;
    progress_written_ = std::move(text);
  }
  progress_digest_ = digest;
  return {};
}

std::optional<MemberKind> member_kind(std::string_view word) {
  if (word == "peers") return MemberKind::kPeers;
  if (word == "seeders") return MemberKind::kSeeders;
  if (word == "leechers") return MemberKind::kLeechers;
  if (word == "representants") return MemberKind::kRepresentatives;
  return std::nullopt;
}

core::Result<Registered> Transfers::add(std::string_view file, std::string_view bytes) {
  if (!registry_.find(file)) {
    auto t = registry_.add(file, bytes);
    if (!t) return t.error();
    activate(*t);
    spdlog::info("registered {} ({}, {} bytes{}): {}", t->file, t->meta.name, t->meta.length,
                 t->meta.is_private ? "" : ", NOT private: DHT and peer exchange bypass the racks",
                 t->meta.primary().hex());
    return Registered{std::move(*t), Registration::kAdded, std::nullopt};
  }
  auto r = registry_.replace(file, bytes);
  if (!r) return r.error();
  if (r->previous.meta.primary() == r->current.meta.primary()) {
    return Registered{std::move(r->current), Registration::kUnchanged, std::nullopt};
  }
  DeployRecord record = record_of(r->previous);
  activate(r->current);
  if (auto st = retire(r->previous, record); !st) return st.error();
  spdlog::info("replaced {}: {} is active, {} ({} peers, {} completed) moved to the history",
               r->current.file, r->current.meta.primary().hex(), record.info_hash.hex(),
               record.peers, record.completed);
  return Registered{std::move(r->current), Registration::kReplaced, std::move(record)};
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
  DeployRecord r = record_of(*t);
  auto removed = registry_.remove(file);
  if (!removed) return removed.error();
  if (auto st = retire(*removed, r); !st) return st.error();
  spdlog::info("deactivated {} ({}): {} peers, {} seeders, {} completed", r.file,
               r.info_hash.hex(), r.peers, r.seeders, r.completed);
  return r;
}

std::vector<DeployRecord> Transfers::deactivate_all(std::optional<core::Error>* error) {
  std::vector<DeployRecord> records;
  for (const auto& t : registry_.list()) {
    auto r = deactivate(t.file);
    if (r) {
      records.push_back(std::move(*r));
    } else if (error != nullptr && !*error && r.error().code != core::ErrorCode::kNotFound) {
      *error = r.error();  // not_found: deactivated meanwhile by another request
    }
  }
  return records;
}

DeployRecord Transfers::record_of(const RegisteredTorrent& t) const {
  DeployRecord r;
  r.info_hash = t.meta.primary();
  r.file = t.file;
  r.name = t.meta.name;
  r.size = t.meta.length;
  r.registered = t.registered;
  r.deregistered = clock_.now();
  if (auto snap = swarms_.snapshot(r.info_hash)) {
    const swarm::Torrent& s = snap->torrent;
    auto seconds = [](core::PreciseTime p) { return std::chrono::floor<core::Seconds>(p); };
    r.first_start = seconds(s.first_started);
    r.last_start = seconds(s.last_started);
    r.first_complete = seconds(s.first_completed);
    r.last_complete = seconds(s.last_completed);
    r.peers = static_cast<std::uint32_t>(s.size());
    r.seeders = s.seeders();
    r.completed = s.completed();
    r.racks = static_cast<std::uint32_t>(s.racks().size());
  }
  return r;
}

core::Status Transfers::retire(const RegisteredTorrent& t, const DeployRecord& r) {
  for (const auto& h : hashes_of(t)) {
    swarms_.deactivate(h);
    store_.transfer_deregistered(h, r.deregistered);
  }
  if (auto st = history_.add(r); !st) {
    // The transfer is gone either way; say that its record could not be kept.
    return core::unavailable(
        fmt::format("{} was deactivated but its history record could not be written: {}", t.file,
                    st.error().message));
  }
  return {};
}

std::optional<TransferStats> Transfers::stats(const core::InfoHash& info_hash, bool racks,
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
    // As the policy judges it: a client on a slower schedule shows progress
    // less often.
    return !p.seeder() && now - p.last_progress.time() >=
                              swarm::stall_time(p, options_.stall_after, options_.peer_timeout,
                                                options_.assumed_gap);
  };

  TransferStats out;
  out.info_hash = info_hash;
  out.file = reg->file;
  out.name = reg->meta.name;
  out.is_private = reg->meta.is_private;
  out.size = size;
  out.registered = reg->registered;
  out.peers = static_cast<std::uint32_t>(t.size());
  out.seeders = t.seeders();
  out.leechers = t.leechers();
  out.slow_announcers =
      static_cast<std::uint32_t>(t.slow_announcers(options_.announce_interval).peers);
  out.completed = t.completed();
  out.peers_seen = t.joined();
  out.finished = t.completed() + t.origins_joined();
  out.first_start = t.first_started;
  out.last_start = t.last_started;
  out.first_complete = t.first_completed;
  out.last_complete = t.last_completed;
  out.completions = t.completions();
  out.rack_count = static_cast<std::uint32_t>(t.racks().size());
  double total_progress = 0;
  for (const swarm::RackGroup& g : t.racks()) {
    RackStats rack;
    double rack_progress = 0;
    for (const swarm::Peer& p : g.peers) {
      const double pr = progress_of(p);
      const bool s = stuck(p);
      rack_progress += pr;
      rack.stuck += s;
      if (members) {
        rack.members.push_back({p.endpoint.to_string(), p.left.bytes(), pr, p.representative(),
                                p.seeder(), s, p.last_seen.time()});
      }
    }
    rack.peers = static_cast<std::uint32_t>(g.peers.size());
    rack.representatives = static_cast<std::uint32_t>(g.representatives.size());
    rack.seeders = g.seeders;
    rack.progress = rack.peers ? rack_progress / rack.peers : 0.0;
    total_progress += rack_progress;
    out.representatives += rack.representatives;
    out.stuck += rack.stuck;
    if (racks) {
      rack.name = rack_name_(g.rack);
      if (g.levels_up > 0) rack.parent = rack_name_(g.parent());
      out.racks.push_back(std::move(rack));
    }
  }
  if (racks) {
    const auto& names = options_.level_names;
    for (const swarm::UpperGroup& u : t.uppers()) {
      TransferStats::GroupStats group;
      group.name = rack_name_(u.id);
      group.level = u.height < names.size() ? names[names.size() - 1 - u.height]
                                            : fmt::format("level {}", u.height);
      if (u.parent != core::RackId{}) group.parent = rack_name_(u.parent);
      for (const auto& m : u.representatives) group.representatives.push_back(m.endpoint.to_string());
      out.groups.push_back(std::move(group));
    }
  }
  out.progress = out.peers ? total_progress / out.peers : 0.0;
  return out;
}

std::optional<std::vector<std::string>> Transfers::members(const core::InfoHash& info_hash,
                                                           MemberKind kind) const {
  if (!registry_.find(info_hash)) return std::nullopt;
  std::vector<std::string> out;
  auto snap = swarms_.snapshot(info_hash);
  if (!snap) return out;
  for (const auto& g : snap->torrent.racks()) {
    for (const auto& p : g.peers) {
      bool keep = false;
      switch (kind) {
        case MemberKind::kPeers:
          keep = true;
          break;
        case MemberKind::kSeeders:
          keep = p.seeder();
          break;
        case MemberKind::kLeechers:
          keep = !p.seeder();
          break;
        case MemberKind::kRepresentatives:
          keep = p.representative();
          break;
      }
      if (keep) out.push_back(p.endpoint.to_string());
    }
  }
  return out;
}

}  // namespace p2p::admin

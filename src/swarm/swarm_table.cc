#include "swarm/swarm_table.h"

namespace p2p::swarm {

SwarmTable::SwarmTable(SwarmOptions options, const RackMap& racks, const core::Clock& clock)
    : options_(options), racks_(racks), clock_(clock) {
  // One peer_timeout: the policy's cadence rule extends this one.
  options_.policy.peer_timeout = options_.peer_timeout;
  if (options_.shared_rack_budget) budget_ = std::make_unique<RepBudget>(options_.policy.max_repr_rack);
}

void SwarmTable::activate(const core::InfoHash& info_hash, std::uint64_t length) {
  Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto [it, inserted] = s.torrents.try_emplace(info_hash);
  Entry& e = it->second;
  // An open-mode swarm the registration adopts stops counting as open.
  if (!inserted && !e.registered) {
    open_transfers_.fetch_sub(1, std::memory_order_relaxed);
    open_peers_.fetch_sub(e.torrent.size(), std::memory_order_relaxed);
  }
  e.registered = true;
  e.length = length;
  e.torrent.set_rack_map(&racks_);
  e.torrent.set_rep_budget(budget_.get());
  e.torrent.set_payload(length);
}

bool SwarmTable::deactivate(const core::InfoHash& info_hash) {
  Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end() || !it->second.registered) return false;
  it->second.torrent.release_representatives();
  s.torrents.erase(it);
  return true;
}

bool SwarmTable::is_active(const core::InfoHash& info_hash) const {
  const Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  return s.torrents.contains(info_hash);
}

AnnounceResult SwarmTable::announce(const core::InfoHash& info_hash, PeerAnnounce a, core::Rng& rng,
                                    std::vector<core::PeerContact>& out) {
  // Locate outside the lock: the RackMap never blocks, but the shard lock
  // should cover only the swarm update.
  const std::uint64_t relocations = relocations_.load(std::memory_order_acquire);
  a.rack = racks_.rack_of(a.endpoint.address);
  const std::uint64_t generation = racks_.generation();
  const core::TimePoint now = clock_.now();
  const core::TimePoint stale_before = now - options_.peer_timeout;
  if (a.event == AnnounceEvent::kStarted || a.event == AnnounceEvent::kCompleted) {
    a.event_time = clock_.now_precise();
  }

  AnnounceResult result;
  result.rack = a.rack;
  result.now = now;
  Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  const bool open_full = options_.open && options_.max_open_peers > 0 &&
                         open_peers_.load(std::memory_order_relaxed) >= options_.max_open_peers;
  if (it == s.torrents.end()) {
    if (!options_.open || a.event == AnnounceEvent::kStopped) return result;
    if (open_transfers_.load(std::memory_order_relaxed) >= options_.max_open_transfers) {
      result.refused = true;
      return result;
    }
    if (open_full) {
      result.active = true;
      result.outcome.refused = JoinRefusal::kOpen;
      return result;
    }
    it = s.torrents.emplace(info_hash, Entry{}).first;
    it->second.torrent.topology_generation = generation;
    it->second.torrent.set_rack_map(&racks_);
    it->second.torrent.set_rep_budget(budget_.get());
    open_transfers_.fetch_add(1, std::memory_order_relaxed);
  }
  // A relocate() that began after we located may already have moved this
  // peer: ask again, now that its move and ours are ordered by the lock.
  if (relocations_.load(std::memory_order_acquire) != relocations) {
    a.rack = racks_.rack_of(a.endpoint.address);
    result.rack = a.rack;
  }
  Torrent& t = it->second.torrent;
  if (t.topology_generation != generation) {
    t.regroup([this](const core::Address& addr) { return racks_.rack_of(addr); }, options_.policy);
    t.topology_generation = generation;
  }
  result.active = true;
  result.registered = it->second.registered;
  if (result.registered) {
    result.outcome = t.announce(a, now, stale_before, options_.policy, rng, out);
    result.rack = result.outcome.rack;
    return result;
  }
  if (open_full && a.event != AnnounceEvent::kStopped && !t.contains(a.endpoint, a.rack)) {
    result.outcome.refused = JoinRefusal::kOpen;
    result.outcome.seeders = t.seeders();
    result.outcome.leechers = t.leechers();
    return result;
  }
  const std::size_t before = t.size();
  result.outcome = t.announce(a, now, stale_before, options_.policy, rng, out);
  result.rack = result.outcome.rack;
  open_peers_.fetch_add(t.size() - before, std::memory_order_relaxed);  // wraps as it should
  if (t.empty()) {
    s.torrents.erase(it);
    open_transfers_.fetch_sub(1, std::memory_order_relaxed);
  }
  return result;
}

std::size_t SwarmTable::relocate(const core::Address& address, core::RackId from,
                                core::RackId to) {
  relocations_.fetch_add(1, std::memory_order_acq_rel);
  std::size_t moved = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto& [hash, e] : s.torrents) moved += e.torrent.relocate(address, from, to, options_.policy);
  }
  return moved;
}

ScrapeCounts SwarmTable::scrape(const core::InfoHash& info_hash) const {
  const Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end()) return {};
  const Torrent& t = it->second.torrent;
  return {t.seeders(), t.completed(), t.leechers()};
}

void SwarmTable::for_each_active(
    const std::function<void(const core::InfoHash&, const ScrapeCounts&)>& fn) const {
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [hash, e] : s.torrents) {
      fn(hash, {e.torrent.seeders(), e.torrent.completed(), e.torrent.leechers()});
    }
  }
}

std::optional<TransferSnapshot> SwarmTable::snapshot(const core::InfoHash& info_hash) const {
  const Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end()) return std::nullopt;
  return TransferSnapshot{info_hash, it->second.registered, it->second.length, it->second.torrent};
}

std::optional<DeployProgress> SwarmTable::progress(const core::InfoHash& info_hash) const {
  const Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end()) return std::nullopt;
  return it->second.torrent.progress();
}

std::optional<std::uint64_t> SwarmTable::progress_digest(const core::InfoHash& info_hash) const {
  const Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end()) return std::nullopt;
  return it->second.torrent.progress_digest();
}

bool SwarmTable::restore(const core::InfoHash& info_hash, DeployProgress progress) {
  const core::Seconds longest = std::max(options_.peer_timeout, options_.policy.peer_timeout_max);
  Shard& s = shard_of(info_hash);
  std::lock_guard lock(s.mu);
  auto it = s.torrents.find(info_hash);
  if (it == s.torrents.end()) return false;
  const core::TimePoint now = clock_.now();
  it->second.torrent.restore(std::move(progress), now, now + longest, options_.policy);
  return true;
}

std::size_t SwarmTable::sweep(std::size_t shard_count, std::vector<ExpiredPeer>* expired,
                              std::vector<UnrepresentedRack>* unrepresented,
                              std::vector<SlowAnnouncers>* slow) {
  const core::TimePoint now = clock_.now();
  const core::TimePoint cutoff = now - options_.peer_timeout;
  std::size_t dropped = 0;
  const core::InfoHash* hash = nullptr;
  const std::function<void(const Peer&, core::RackId)> record = [&](const Peer& p,
                                                                    core::RackId rack) {
    expired->push_back({*hash, p.endpoint, rack});
  };
  for (std::size_t i = 0; i < shard_count && i < kShards; ++i) {
    Shard& s = shards_[sweep_cursor_.fetch_add(1, std::memory_order_relaxed) % kShards];
    std::lock_guard lock(s.mu);
    for (auto it = s.torrents.begin(); it != s.torrents.end();) {
      hash = &it->first;
      const std::size_t expired_here = it->second.torrent.expire(
          cutoff, options_.policy, expired != nullptr ? &record : nullptr);
      dropped += expired_here;
      if (!it->second.registered) open_peers_.fetch_sub(expired_here, std::memory_order_relaxed);
      if (unrepresented != nullptr && it->second.registered) {
        it->second.torrent.report_unrepresented(
            now, cutoff, [&](core::RackId rack, std::size_t peers, core::TimePoint since) {
              unrepresented->push_back({it->first, rack, peers, since});
            });
      }
      if (slow != nullptr && it->second.registered) {
        if (auto s = it->second.torrent.report_slow_announcers(options_.policy.announce_interval)) {
          slow->push_back({it->first, *s});
        }
      }
      if (it->second.torrent.empty() && !it->second.registered) {
        it = s.torrents.erase(it);
        open_transfers_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

SwarmTable::Totals SwarmTable::totals() const {
  Totals t;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    t.transfers += s.torrents.size();
    for (const auto& [hash, e] : s.torrents) {
      t.peers += e.torrent.size();
      t.seeders += e.torrent.seeders();
      t.leechers += e.torrent.leechers();
      for (const RackGroup& g : e.torrent.racks()) t.representatives += g.representatives.size();
      if (!e.registered) ++t.open_transfers;
    }
  }
  return t;
}

void SwarmTable::for_each_torrent(
    const std::function<void(const core::InfoHash&, std::uint64_t, const Torrent&)>& fn) const {
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [hash, e] : s.torrents) fn(hash, e.length, e.torrent);
  }
}

}  // namespace p2p::swarm

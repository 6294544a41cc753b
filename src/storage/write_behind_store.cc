#include "storage/write_behind_store.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

namespace p2p::storage {

WriteBehindStore::WriteBehindStore(const Options& options, RackNamer rack_namer,
                                   const core::Clock& clock)
    : queue_(options.queue_capacity),
      model_(options.key_prefix, options.max_departed_peers),
      rack_namer_(std::move(rack_namer)),
      clock_(clock),
      max_seen_transfers_(options.max_seen_transfers) {}

void WriteBehindStore::peer_announced(const PeerUpdate& update) noexcept {
  if (update.at == core::TimePoint{}) {
    PeerUpdate stamped = update;
    stamped.at = clock_.now();
    queue_.push_peer(stamped);
    return;
  }
  queue_.push_peer(update);
}

void WriteBehindStore::transfer_seen(const core::InfoHash& info_hash) noexcept {
  queue_.push_seen(info_hash);
}

void WriteBehindStore::transfer_registered(const TransferRecord& record) {
  TransferRecord stamped = record;
  if (stamped.registered == core::TimePoint{}) stamped.registered = clock_.now();
  {
    std::lock_guard lock(registered_mu_);
    registered_[stamped.info_hash] = stamped;
  }
  queue_.push_registered(stamped);
}

void WriteBehindStore::transfer_deregistered(const core::InfoHash& info_hash, core::TimePoint at) {
  {
    std::lock_guard lock(registered_mu_);
    registered_.erase(info_hash);
  }
  queue_.push_deregistered(info_hash, at == core::TimePoint{} ? clock_.now() : at);
}

std::vector<TransferRecord> WriteBehindStore::registered_transfers() const {
  std::lock_guard lock(registered_mu_);
  std::vector<TransferRecord> out;
  out.reserve(registered_.size());
  for (const auto& [hash, record] : registered_) out.push_back(record);
  return out;
}

void WriteBehindStore::set_connected(bool up, std::string_view error) {
  std::lock_guard lock(state_mu_);
  if (connected_.load(std::memory_order_relaxed) != up) since_ = clock_.now();
  error_ = up ? std::string() : std::string(error);
  connected_.store(up, std::memory_order_relaxed);
}

core::Status WriteBehindStore::flush(std::chrono::milliseconds timeout) {
  core::Status done = queue_.wait_done(timeout);
  if (!done.ok()) return done;
  // Every write before the call was handled, but while disconnected "handled"
  // means failed (counted before this call, perhaps): say so.
  if (!connected_.load(std::memory_order_relaxed)) {
    return core::unavailable("store is disconnected; writes are failing (see store errors)");
  }
  return done;
}

void WriteBehindStore::plan(const QueuedRecord& record, const TransferRecord* transfer,
                            CommandBatch& batch) {
  switch (record.kind) {
    case QueuedRecord::Kind::kPeer:
      model_.plan_peer(record.peer, rack_namer_(record.peer.rack), batch);
      break;
    case QueuedRecord::Kind::kSeen:
      // Each hash once per run, and no more than the bound: clients polling
      // finished deploys repeat the same few, an attacker sends new ones.
      if (seen_.contains(record.peer.info_hash)) break;
      if (seen_.size() >= max_seen_transfers_) {
        seen_skipped_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      seen_.insert(record.peer.info_hash);
      model_.plan_seen(record.peer.info_hash, batch);
      break;
    case QueuedRecord::Kind::kRegistered:
      model_.plan_registered(*transfer, batch);
      break;
    case QueuedRecord::Kind::kDeregistered:
      model_.plan_deregistered(record.peer.info_hash, record.peer.at, batch);
      break;
  }
}

void WriteBehindStore::finish(std::size_t count, std::size_t failed) {
  written_.fetch_add(count - failed, std::memory_order_relaxed);
  errors_.fetch_add(failed, std::memory_order_relaxed);
  queue_.done(count, failed);
}

StoreStats WriteBehindStore::stats() const {
  StoreStats s;
  s.written = written_.load(std::memory_order_relaxed);
  s.dropped = queue_.dropped();
  s.errors = errors_.load(std::memory_order_relaxed);
  s.resyncs = resyncs_.load(std::memory_order_relaxed);
  s.seen_skipped = seen_skipped_.load(std::memory_order_relaxed);
  std::lock_guard lock(state_mu_);
  s.connected = connected_.load(std::memory_order_relaxed);
  s.since = since_;
  s.error = error_;
  return s;
}

namespace {

core::Result<std::vector<std::string>> sorted(core::Result<std::vector<std::string>> r) {
  if (r.ok()) std::sort(r->begin(), r->end());
  return r;
}

}  // namespace

core::Result<std::vector<core::InfoHash>> WriteBehindStore::seen_transfers() {
  auto members = set_members(model_.key("transfers"));
  if (!members.ok()) return members.error();
  std::vector<core::InfoHash> out;
  for (const std::string& hex : *members) {
    // Entries that are not 40 hex digits were written by someone else; skip.
    if (auto h = core::InfoHash::from_hex(hex)) out.push_back(*h);
  }
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<std::vector<TransferRecord>> WriteBehindStore::active_transfers() {
  auto members = set_members(model_.key("active_transfers"));
  if (!members.ok()) return members.error();
  std::vector<TransferRecord> out;
  std::vector<std::string> keys;
  for (const std::string& hex : *members) {
    auto h = core::InfoHash::from_hex(hex);
    if (!h) continue;
    TransferRecord r;
    r.info_hash = *h;
    out.push_back(std::move(r));
    keys.push_back(model_.key(hex, ":name"));
    keys.push_back(model_.key(hex, ":length"));
    keys.push_back(model_.key(hex, ":registered"));
  }
  auto vals = values(keys);
  if (!vals.ok()) return vals.error();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& name = (*vals)[3 * i];
    const auto& length = (*vals)[3 * i + 1];
    const auto& registered = (*vals)[3 * i + 2];
    if (name) out[i].name = *name;
    if (length) {
      std::from_chars(length->data(), length->data() + length->size(), out[i].length);
    }
    if (registered) out[i].registered = parse_iso8601(*registered).value_or(core::TimePoint{});
  }
  std::sort(out.begin(), out.end(), [](const TransferRecord& a, const TransferRecord& b) {
    return a.info_hash < b.info_hash;
  });
  return out;
}

core::Result<std::vector<std::string>> WriteBehindStore::racks() {
  return sorted(set_members(model_.key("racks")));
}

core::Result<std::vector<std::string>> WriteBehindStore::rack_hosts(const std::string& rack) {
  return sorted(set_members(model_.key("rack:", rack)));
}

core::Result<std::vector<std::string>> WriteBehindStore::transfer_peers(
    const core::InfoHash& info_hash, char kind) {
  if (kind != 'N' && kind != 'R' && kind != 'S' && kind != 'L') {
    return core::invalid_argument(std::string("peer set kind must be N, R, S or L, not '") + kind +
                                  "'");
  }
  const char suffix[] = {':', 'p', 'e', 'e', 'r', 's', ':', kind, '\0'};
  return sorted(set_members(model_.key(info_hash.hex(), suffix)));
}

core::Result<std::vector<std::string>> WriteBehindStore::rack_peers(const core::InfoHash& info_hash,
                                                                    const std::string& rack,
                                                                    char kind) {
  if (kind != 'N' && kind != 'R' && kind != 'S') {
    return core::invalid_argument(std::string("rack set kind must be N, R or S, not '") + kind +
                                  "'");
  }
  const char suffix[] = {':', kind, '\0'};
  return sorted(set_members(model_.key(info_hash.hex(), ":rack:", rack, suffix)));
}

core::Result<std::map<std::string, std::string>> WriteBehindStore::read_fields(
    const std::string& prefix, const std::string_view* fields, std::size_t count) {
  std::vector<std::string> keys;
  keys.reserve(count);
  for (std::size_t i = 0; i < count; ++i) keys.push_back(prefix + std::string(fields[i]));
  auto vals = values(keys);
  if (!vals.ok()) return vals.error();
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    if ((*vals)[i]) out.emplace(fields[i], std::move(*(*vals)[i]));
  }
  return out;
}

core::Result<std::map<std::string, std::string>> WriteBehindStore::peer_fields(
    const core::InfoHash& info_hash, const core::Endpoint& peer) {
  return read_fields(model_.key(info_hash.hex(), ":peer:", peer.to_string(), ":"), kPeerFields,
                     std::size(kPeerFields));
}

core::Result<std::map<std::string, std::string>> WriteBehindStore::transfer_fields(
    const core::InfoHash& info_hash) {
  return read_fields(model_.key(info_hash.hex(), ":"), kTransferFields, std::size(kTransferFields));
}

}  // namespace p2p::storage

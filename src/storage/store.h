// Store: where the tracker writes down what it saw, in the original
// p2ptracker's data model (see docs/storage.md), and reads it back.
//
// Writes come from every worker on the announce path, so they are
// fire-and-forget: they copy a fixed-size record into a bounded queue and return
// at once, never blocking and never allocating; a background thread applies
// them (RedisStore: pipelined to Redis). When the queue is
// full the record is dropped and counted. Reads block and are for start-up, the
// admin API and tests, never the announce path. All methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rack.h"
#include "core/result.h"

namespace p2p::storage {

using core::AnnounceEvent;

// One announce, as the store keeps it. Trivially copyable on purpose.
struct PeerUpdate {
  core::InfoHash info_hash;
  core::PeerId peer_id;
  core::Endpoint endpoint;
  core::RackId rack;
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  std::uint32_t key = 0;
  AnnounceEvent event = AnnounceEvent::kNone;
  bool representative = false;
  bool compact = true;
  // The swarm moved the peer to another rack (a topology reload) since its
  // last announce: it leaves the previous rack's sets.
  bool rack_changed = false;
  // The peer was not in the swarm before this announce (new, back after it
  // left, or after a restart): it may be in the departed set.
  bool joined = false;
  // Not an announce: the swarm dropped the peer after peer_timeout without
  // one. It leaves the current sets; its fields stay as they were.
  bool expired = false;
  core::TimePoint at;
};

// A registered (active) transfer.
struct TransferRecord {
  core::InfoHash info_hash;
  std::string name;          // torrent name from the info dictionary
  std::uint64_t length = 0;  // payload bytes
  core::TimePoint registered;
  // The registration's file name ("app.torrent"), for the original's
  // `torrents` set and `<file>` -> hash key; empty: none written (a hybrid
  // torrent's second info-hash).
  std::string file;
};

struct StoreStats {
  std::uint64_t written = 0;  // records applied
  std::uint64_t dropped = 0;  // records lost to a full queue
  std::uint64_t errors = 0;   // failed writes (Redis down, ...)
  bool connected = true;      // RedisStore: last command reached Redis
  // When `connected` last changed; zero: it has not changed since start-up.
  core::TimePoint since{};
  // While not connected, why ("Connection refused"); empty while connected.
  std::string error;
  // RedisStore: catch-ups done after Redis came back (see resync in
  // redis_store.h).
  std::uint64_t resyncs = 0;
  // Unregistered info-hashes not mirrored: max_seen_transfers were (Options).
  std::uint64_t seen_skipped = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Writes: non-blocking, no allocation, may drop under overload ---------
  virtual void peer_announced(const PeerUpdate& update) noexcept = 0;
  // An announce for an info-hash (registered or not): `transfers` set.
  virtual void transfer_seen(const core::InfoHash& info_hash) noexcept = 0;
  // Registration and deregistration are rare; they may allocate.
  virtual void transfer_registered(const TransferRecord& record) = 0;
  // Removes it from the active set and archives its keys under
  // "<iso-time>:<HASH>..." as the original renamed them.
  virtual void transfer_deregistered(const core::InfoHash& info_hash, core::TimePoint at) = 0;

  // Waits until every write issued before the call is applied (or failed).
  virtual core::Status flush(std::chrono::milliseconds timeout) = 0;

  // --- Reads: blocking; start-up, admin API and tests only ------------------
  virtual core::Result<std::vector<core::InfoHash>> seen_transfers() = 0;
  virtual core::Result<std::vector<TransferRecord>> active_transfers() = 0;
  virtual core::Result<std::vector<std::string>> racks() = 0;
  // Host addresses ever seen in `rack`.
  virtual core::Result<std::vector<std::string>> rack_hosts(const std::string& rack) = 0;
  // Members of one of the original's per-transfer sets: kind is 'N' (all
  // peers), 'R' (representatives), 'S' (seeders) or 'L' (leechers); entries
  // are "ip:port".
  virtual core::Result<std::vector<std::string>> transfer_peers(const core::InfoHash& info_hash,
                                                                char kind) = 0;
  // Members of a per-rack set "HASH:rack:RACK:<kind>": kind 'N' (peers in the
  // rack), 'R' (its representatives) or 'S' (its seeders); entries "ip:port".
  virtual core::Result<std::vector<std::string>> rack_peers(const core::InfoHash& info_hash,
                                                            const std::string& rack, char kind) = 0;
  // The original's per-peer fields (port, peer_id, key, last_event, seeder,
  // downloaded, left, uploaded, rack, ...), all strings.
  virtual core::Result<std::map<std::string, std::string>> peer_fields(
      const core::InfoHash& info_hash, const core::Endpoint& peer) = 0;
  // The original's per-transfer strings that are set: name, length,
  // registered, deregistered, first_started, last_started, first_completed,
  // last_completed (keyed by those words). Empty once deregistration archived
  // them.
  virtual core::Result<std::map<std::string, std::string>> transfer_fields(
      const core::InfoHash& info_hash) = 0;

  // Counters and the link to the backend, for /metrics, /health and the log.
  // May take a short lock and allocate: not for the announce path.
  virtual StoreStats stats() const = 0;
};

// Turns a RackId into its printable name; the store runs it on its own thread.
using RackNamer = std::function<std::string(core::RackId)>;

struct Options {
  std::string kind = "memory";  // "memory" (no mirror) or "redis"
  std::string redis_host = "127.0.0.1";
  std::uint16_t redis_port = 6379;
  std::string key_prefix;              // prepended to every Redis key
  std::size_t queue_capacity = 65536;  // records waiting to be written
  // Distinct unregistered info-hashes added to the `transfers` set per run:
  // announces for random hashes must not grow Redis without bound.
  std::size_t max_seen_transfers = 100000;
  // Per registered transfer, departed peers whose fields stay as history;
  // the earliest to leave are forgotten first. 0: every one, forever (what
  // strangers can grow without end, so the server sets a bound).
  std::size_t max_departed_peers = 0;
  // How long a deregistered transfer's archived keys ("TIME:HASH...") stay;
  // zero: for ever, as the original kept them.
  std::chrono::seconds archive_expiry{0};
};

// Builds the store `options.kind` names. RedisStore tries Redis once here, but
// an unreachable Redis is not an error: the store starts disconnected (see
// stats()) and keeps trying, so the tracker serves without its mirror.
core::Result<std::unique_ptr<Store>> make_store(const Options& options, RackNamer rack_namer,
                                                const core::Clock& clock);

}  // namespace p2p::storage

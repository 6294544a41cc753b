// SwarmTable: every transfer's swarm, sharded by info-hash so workers
// announcing different torrents do not contend on one lock.
//
// Thread-safe: each shard's torrents are guarded by that shard's mutex, held
// only while one announce updates and reads its torrent. A transfer is "active"
// when it is registered (activate()) or, with `open`, once anyone announces it;
// inactive transfers have no swarm at all. Peers expire incrementally: sweep()
// handles a few shards per call so no pass stalls announces.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rng.h"
#include "swarm/rack_map.h"
#include "swarm/rep_budget.h"
#include "swarm/torrent.h"

namespace p2p::swarm {

struct SwarmOptions {
  PolicyOptions policy;
  core::Seconds peer_timeout{150};  // no announce for this long: peer dropped
  bool open = false;                // track unregistered info-hashes too
  // With open: most unregistered transfers tracked at once. Announces for
  // another new info-hash are answered as for an unknown one, so random
  // hashes from anyone cannot grow the table without bound.
  std::size_t max_open_transfers = 50000;
  // With open: most peers in unregistered transfers, all together (0: no
  // bound); a new one beyond is refused (JoinRefusal::kOpen). Without it
  // the bounds multiply: max_open_transfers x max_peers_per_transfer.
  std::size_t max_open_peers = 1000000;
  // repr_budget = "per_rack": at most policy.max_repr_rack distinct hosts
  // represent a rack across every active transfer (rep_budget.h).
  bool shared_rack_budget = false;
};

struct ScrapeCounts {
  std::uint32_t complete = 0;
  std::uint32_t downloaded = 0;
  std::uint32_t incomplete = 0;
};

struct AnnounceResult {
  bool active = false;      // false: unknown or inactive transfer, no peers given
  bool registered = false;  // active because registered, not because open
  bool refused = false;     // open, but max_open_transfers were tracked
  AnnounceOutcome outcome;
  core::RackId rack;    // where the peer was located
  core::TimePoint now;  // the clock reading the announce was applied at
};

// A copy of one transfer's swarm for the admin API (allocates; not hot path).
struct TransferSnapshot {
  core::InfoHash info_hash;
  bool registered = false;
  std::uint64_t length = 0;
  Torrent torrent;
};

class SwarmTable {
 public:
  // Power of two, and well above the worker count so two workers rarely meet
  // on one shard lock.
  static constexpr std::size_t kShards = 256;

  SwarmTable(SwarmOptions options, const RackMap& racks, const core::Clock& clock);

  // Registers a transfer (its swarm starts empty, or keeps peers an open
  // tracker already had). `length` is the payload size, for progress.
  void activate(const core::InfoHash& info_hash, std::uint64_t length);
  // Unregisters it and drops its swarm. False if it was not registered.
  bool deactivate(const core::InfoHash& info_hash);
  bool is_active(const core::InfoHash& info_hash) const;

  // Applies an announce. `a.rack` is ignored: the table locates the peer with
  // the RackMap itself. Appends the selected peers to `out` (capacity must
  // hold maxpeers more). No allocation unless a torrent, rack or peer is new.
  AnnounceResult announce(const core::InfoHash& info_hash, PeerAnnounce a, core::Rng& rng,
                          std::vector<core::PeerContact>& out);

  // Moves the peers at `address` from rack `from` to rack `to` in every
  // swarm (Torrent::relocate): the locator learned where the address really
  // is after it was placed. The RackMap must already answer `to` for it, so
  // an announce racing with the move finds the peer where it went. Takes
  // every shard lock in turn; returns how many peers moved.
  std::size_t relocate(const core::Address& address, core::RackId from, core::RackId to);

  // Counts of one transfer; zeros for an inactive one.
  ScrapeCounts scrape(const core::InfoHash& info_hash) const;
  // Calls fn(info_hash, counts) for every active transfer, shard by shard.
  void for_each_active(
      const std::function<void(const core::InfoHash&, const ScrapeCounts&)>& fn) const;

  std::optional<TransferSnapshot> snapshot(const core::InfoHash& info_hash) const;

  // What an active transfer's deploy has reached (Torrent::progress), for a
  // restart to give back; nullopt for an inactive one.
  std::optional<DeployProgress> progress(const core::InfoHash& info_hash) const;
  // Torrent::progress_digest; nullopt for an inactive transfer.
  std::optional<std::uint64_t> progress_digest(const core::InfoHash& info_hash) const;
  // Gives an active transfer's swarm the progress a previous run wrote
  // (Torrent::restore), its members expected back for as long as a peer
  // lives without an announce. False for an inactive transfer.
  bool restore(const core::InfoHash& info_hash, DeployProgress progress);

  // A peer sweep() dropped, for the store.
  struct ExpiredPeer {
    core::InfoHash info_hash;
    core::Endpoint endpoint;
    core::RackId rack;
  };
  // A rack of a registered transfer with peers but no representative for
  // longer than peer_timeout (the sweep reports each once).
  struct UnrepresentedRack {
    core::InfoHash info_hash;
    core::RackId rack;
    std::size_t peers = 0;
    core::TimePoint since;
  };
  // A registered transfer whose downloading peers announce further apart
  // than twice the gap asked of them (Torrent::report_slow_announcers).
  struct SlowAnnouncers {
    core::InfoHash info_hash;
    Torrent::SlowAnnouncers slow;
  };
  // Expires stale peers in the next `shard_count` shards (round robin) and
  // drops empty unregistered swarms. Returns peers dropped; appends them to
  // `expired` when given, and registered transfers' racks left without a
  // representative to `unrepresented`, and registered transfers with slow
  // announcers to `slow` (the sweep runs off the announce path: it may
  // allocate).
  std::size_t sweep(std::size_t shard_count, std::vector<ExpiredPeer>* expired = nullptr,
                    std::vector<UnrepresentedRack>* unrepresented = nullptr,
                    std::vector<SlowAnnouncers>* slow = nullptr);

  struct Totals {
    std::uint64_t transfers = 0;
    std::uint64_t peers = 0;
    std::uint64_t seeders = 0;
    std::uint64_t leechers = 0;
    std::uint64_t representatives = 0;
    std::uint64_t open_transfers = 0;  // unregistered ones (open mode)
  };
  Totals totals() const;

  // Calls fn(info_hash, length, torrent) for every active transfer, holding
  // that transfer's shard lock: announces to the shard wait while fn runs, so
  // fn only reads and counts (/metrics: progress, completions per rack).
  // `length` is the registered payload size, 0 when unknown (open tracker).
  void for_each_torrent(const std::function<void(const core::InfoHash&, std::uint64_t length,
                                                 const Torrent&)>& fn) const;

  const SwarmOptions& options() const { return options_; }
  // Distinct hosts representing `rack` over every transfer (shared budget
  // only; 0 without one).
  std::size_t rack_budget_hosts(core::RackId rack) const {
    return budget_ ? budget_->hosts(rack) : 0;
  }
  const RackMap& rack_map() const { return racks_; }

 private:
  struct Entry {
    Torrent torrent;
    bool registered = false;
    std::uint64_t length = 0;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<core::InfoHash, Entry> torrents;  // guarded by mu
  };

  Shard& shard_of(const core::InfoHash& h) { return shards_[h.prefix64() % kShards]; }
  const Shard& shard_of(const core::InfoHash& h) const { return shards_[h.prefix64() % kShards]; }

  SwarmOptions options_;
  const RackMap& racks_;
  std::unique_ptr<RepBudget> budget_;  // with shared_rack_budget
  const core::Clock& clock_;
  std::array<Shard, kShards> shards_;
  // Unregistered entries in every shard; changed only under a shard lock, so
  // it may overshoot max_open_transfers by at most one per shard in a race.
  std::atomic<std::size_t> open_transfers_{0};
  // Peers of those entries, kept like open_transfers_ (may overshoot
  // max_open_peers by one per shard in a race).
  std::atomic<std::size_t> open_peers_{0};
  std::atomic<std::size_t> sweep_cursor_{0};
  // relocate() calls begun: an announce that located its peer before one
  // began locates it again under the shard lock (see announce()).
  std::atomic<std::uint64_t> relocations_{0};
};

}  // namespace p2p::swarm

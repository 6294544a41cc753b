// The rack policy: who an announcing peer is told about, decided from a
// read-only view of its swarm (SwarmView). The state it reads (membership,
// representative slots, expiry) is Torrent's; nothing here changes it, so the
// same rules can run over another store of the same state.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/peer.h"
#include "core/rng.h"
#include "swarm/peer.h"
#include "swarm/policy/options.h"
#include "swarm/rack_group.h"

namespace p2p::swarm::policy {

// Whether `p`, one of `g`'s peers in `swarm`, may exchange data with other
// racks under `policy` at `now`: a representative in kOriginal mode; in
// kStandby mode only the first representative (in promotion order) that is
// not stalled (no progress for stall_of; with levels, only while a peer of
// its row has got further, and counted from the row's first bytes; for a
// row's or datacenter's representative, as stalled_above judges it), or when
// all are, each in turn for stall_after (the second first); in kProgress mode
// that one and every representative whose bytes left are at most
// (100 - grant_percent)% of swarm.payload (the transfer's size as Torrent
// estimates it; a seeder always qualifies).
// (Origin seeders are visible to other racks' gateways in every mode, but are
// told only about their own rack unless they represent it.)
bool is_gateway(const SwarmView& swarm, const RackGroup& g, const Peer& p,
                const PolicyOptions& policy, core::TimePoint now);

// Whether `r`, the representative `m` of the row or datacenter `u`, is
// stalled in that role: no progress for stall_of while the group above `u`
// (at the top, the origin) has had something it lacks, counted as is_gateway
// counts and from no earlier than it took the place. The place then goes to
// the next gateway of the level below to announce (Torrent::climb), in every
// mode: with one representative per row, a hung client holding the place
// would cut the row off until it expired, and a client that hangs may go on
// announcing.
//
// `witness`, a gateway of `witness_rack` below `u` that would take the place,
// also shows a representative that has gone silent stalled: once the witness
// and every host of its rack went the witness's stall time without progress,
// and the representative as long without an announce. One that died after
// its first announce has not shown its schedule: it is kept for a libtorrent
// client's 300 s gap and judged by its own progress only after two, so the
// groups below it, starved with it, waited for its expiry.
bool stalled_above(const SwarmView& swarm, const UpperGroup& u, const UpperGroup::Member& m,
                   const Peer& r, const PolicyOptions& policy, core::TimePoint now,
                   const RackGroup* witness_rack = nullptr, const Peer* witness = nullptr);

// Appends to `out` at most `limit` of the peers `self` (one of `own`'s, in
// `swarm`) should be told about; `out` must already have room for them, so
// nothing allocates. Peers last seen before `stale_before` (and their
// extra_life) are never chosen. Peer ids are filled in only when
// `with_peer_ids`.
void select_peers(const SwarmView& swarm, const RackGroup& own, const Peer& self,
                  std::uint32_t limit, bool with_peer_ids, core::TimePoint now,
                  core::TimePoint stale_before, const PolicyOptions& policy, core::Rng& rng,
                  std::vector<core::PeerContact>& out);

}  // namespace p2p::swarm::policy

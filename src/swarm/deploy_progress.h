// What a deploy has reached, as a restart must find it again: the
// milestones and counts of swarm::Torrent, and the peers that were in the
// swarm. The tracker writes it to data_dir (admin/data_files.h,
// progress.json) and gives it back to the swarm at start (Torrent::restore),
// so `watch`, `status` and the deploy's history record go on where they were.
#pragma once

#include <cstdint>
#include <vector>

#include "core/address.h"
#include "core/clock.h"

namespace p2p::swarm {

struct DeployProgress {
  // Zero when it has not happened.
  core::PreciseTime first_started{}, last_started{}, first_completed{}, last_completed{};
  std::uint32_t completed = 0;               // peers counted completed, each once
  std::uint32_t joined = 0;                  // Torrent::joined()
  std::uint32_t origins_joined = 0;          // Torrent::origins_joined()
  std::vector<core::TimePoint> completions;  // Torrent::completions(), oldest first
  // A peer in the swarm when the progress was taken, and how it counted.
  struct Member {
    core::Endpoint endpoint;
    bool completed = false;  // counted in `completed`
    bool origin = false;     // counted in `origins_joined`
    // A representative's place, which a restart keeps for it alone until it
    // is back (or would have expired): its clients keep the outside
    // connections they were given, so a host elected in its stead would be
    // a third way into its rack. 1 + its place in its rack's promotion order
    // (0: not a representative); how many groups above its rack it
    // represented, from its row outwards; Peer::cadence8, its announce gap,
    // which says how long it may take to come back.
    std::uint8_t rank = 0;
    std::uint8_t above = 0;
    std::uint8_t cadence8 = 0;
    friend bool operator==(const Member&, const Member&) = default;
  };
  std::vector<Member> members;  // sorted by endpoint

  friend bool operator==(const DeployProgress&, const DeployProgress&) = default;
};

}  // namespace p2p::swarm

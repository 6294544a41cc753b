// PeerContact: what a peer learns about another peer from the tracker.
// Plain value; shared by swarm (which selects) and wire (which encodes).
#pragma once

#include <cstdint>

#include "core/address.h"
#include "core/digest.h"

namespace p2p::core {

// An announce's `event` (BEP 3): one vocabulary for the wire formats that
// parse it, the swarm that acts on it and the store that records it.
enum class AnnounceEvent : std::uint8_t { kNone, kStarted, kCompleted, kStopped };

struct PeerContact {
  Endpoint endpoint;
  PeerId peer_id;
  friend bool operator==(const PeerContact&, const PeerContact&) = default;
};

}  // namespace p2p::core

// PeerContact: what a peer learns about another peer from the tracker.
// Plain value; shared by swarm (which selects) and wire (which encodes).
#pragma once

#include "core/address.h"
#include "core/digest.h"

namespace p2p::core {

struct PeerContact {
  Endpoint endpoint;
  PeerId peer_id;
  friend bool operator==(const PeerContact&, const PeerContact&) = default;
};

}  // namespace p2p::core

// HTTP announce (BEP 3, BEP 23 compact, BEP 7 peers6, BEP 24 external ip):
// parsing the request query and encoding the reply.
//
// parse_announce() validates everything a client controls and turns any
// mistake into an Error whose message is the bencoded "failure reason" the
// client will read. encode_announce() writes into a buffer the worker reuses.
// Pure, no I/O, no allocation on success. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/result.h"

namespace p2p::wire {

using core::AnnounceEvent;

struct AnnounceRequest {
  core::InfoHash info_hash;
  core::PeerId peer_id;
  std::uint16_t port = 0;
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  AnnounceEvent event = AnnounceEvent::kNone;
  bool compact = false;  // true only for compact=1 (BEP 23), as the original
  bool no_peer_id = false;
  std::optional<std::uint32_t> numwant;
  std::optional<std::uint32_t> key;  // hex or decimal, as clients send it
  std::optional<core::Address> ip;   // the `ip` parameter, if a literal address
};

// Parses the query string of GET /announce. Required: info_hash and peer_id
// (20 bytes each once decoded), port (1-65535), uploaded, downloaded, left
// (decimal, unsigned 64-bit). Unknown parameters are ignored; repeated ones
// take the last value. A hostname in `ip` is ignored (we never resolve it).
core::Result<AnnounceRequest> parse_announce(std::string_view query);

// One peer in a reply: the swarm's selection, encoded as is.
using PeerEntry = core::PeerContact;

struct AnnounceReply {
  std::uint32_t interval = 0;
  std::uint32_t min_interval = 0;
  std::uint32_t complete = 0;    // seeders
  std::uint32_t incomplete = 0;  // leechers
  std::span<const PeerEntry> peers;
  bool compact = true;                       // IPv4 peers as a 6-byte-per-peer string
  bool no_peer_id = false;                   // non-compact dicts without "peer id"
  std::optional<core::Address> external_ip;  // BEP 24: the requester's address
  std::string_view warning;                  // "warning message" when not empty
};

// Appends the bencoded reply to `out`. Compact: IPv4 peers in "peers" (6 bytes
// each), IPv6 peers in "peers6" (18 bytes each). Non-compact: one "peers" list
// of dicts with "ip", "port" and (unless no_peer_id) "peer id".
void encode_announce(const AnnounceReply& reply, std::string& out);

// Appends d14:failure reason<len>:<reason>e.
void encode_failure(std::string_view reason, std::string& out);

}  // namespace p2p::wire

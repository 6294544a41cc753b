// Helpers for swarm tests: a /24 RackMap and a terse announce.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "swarm/rack_map.h"
#include "swarm/swarm_table.h"
#include "swarm/torrent.h"

namespace p2p::swarm::testing {

// Rack = the IPv4 /24, like the default subnet rule; generation settable.
class Slash24 final : public RackMap {
 public:
  core::RackId rack_of(const core::Address& a) const noexcept override {
    return core::RackId::v4_prefix(a.v4_value() & 0xFFFFFF00u, 24);
  }
  std::uint64_t generation() const noexcept override { return generation_; }
  std::uint64_t generation_ = 1;
};

inline core::Endpoint ep(const std::string& ip, std::uint16_t port = 6881) {
  return {*core::Address::parse(ip), port};
}

inline core::PeerId pid(const std::string& ip, std::uint16_t port = 6881) {
  std::string s = "-TS0001-" + ip + ":" + std::to_string(port);
  s.resize(20, '.');
  return *core::PeerId::from_bytes(s);
}

// Adds (or refreshes) ip:port in `table`'s swarm for `h` without asking for
// peers: setting up a scenario.
inline void join(SwarmTable& table, const core::InfoHash& h, const std::string& ip,
                 std::uint64_t left, std::uint16_t port = 6881) {
  PeerAnnounce a;
  a.endpoint = ep(ip, port);
  a.peer_id = pid(ip, port);
  a.left = left;
  a.numwant = 0;
  std::vector<core::PeerContact> none;
  core::Rng rng;
  table.announce(h, a, rng, none);
}

// One announce from ip:6881 asking for up to 50 peers; `out` is cleared and
// gets the peers given.
inline AnnounceResult announce_from(SwarmTable& table, const core::InfoHash& h,
                                    const std::string& ip, std::uint64_t left,
                                    AnnounceEvent event, core::Rng& rng,
                                    std::vector<core::PeerContact>& out) {
  PeerAnnounce a;
  a.endpoint = ep(ip);
  a.peer_id = pid(ip);
  a.left = left;
  a.event = event;
  a.numwant = 50;
  out.clear();
  out.reserve(50);
  return table.announce(h, a, rng, out);
}

inline std::set<std::string> names(const std::vector<core::PeerContact>& peers) {
  std::set<std::string> out;
  for (const auto& p : peers) out.insert(p.endpoint.address.to_string());
  return out;
}

}  // namespace p2p::swarm::testing

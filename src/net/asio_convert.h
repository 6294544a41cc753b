// Conversions between Asio's address types and core's, done once at the edge.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/address.h"

namespace p2p::net {

inline core::Address from_asio(const boost::asio::ip::address& a) {
  if (a.is_v4()) return core::Address::v4(a.to_v4().to_uint());
  // IPv4-mapped IPv6 (dual-stack sockets) folds to IPv4 by construction.
  auto bytes = a.to_v6().to_bytes();
  return core::Address::v6_bytes(bytes.data());
}

template <class Protocol>
core::Endpoint from_asio(const boost::asio::ip::basic_endpoint<Protocol>& e) {
  return {from_asio(e.address()), e.port()};
}

}  // namespace p2p::net

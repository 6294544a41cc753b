// Is a port already served by another process? Every worker socket sets
// SO_REUSEPORT so the kernel can spread clients over the workers; a second
// tracker started on the same port would then join silently, and the kernel
// would split clients and admin calls between two separate swarms. Before its
// workers bind, each server binds once without SO_REUSEPORT: that fails while
// any socket holds the port, whatever options it set.
//
// Start-up only (blocking system calls); any thread.
#pragma once

#include <cstdint>

#include "core/address.h"
#include "core/result.h"

namespace p2p::net {

enum class Transport { kTcp, kUdp };

// ok when nothing listens on `address`:`port`; an error naming the port
// (already_exists when it is taken) otherwise. Port 0 is never taken.
core::Status check_port_free(const core::Address& address, std::uint16_t port, Transport transport);

}  // namespace p2p::net

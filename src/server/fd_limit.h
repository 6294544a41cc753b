// The process's file-descriptor limit: raised to what it may be at start-up,
// and the share of it HTTP connections may take.
//
// A connection is one descriptor; running out of them fails accept() and
// every file, socket and pipe the tracker opens afterwards. Start-up only
// (one thread); pure apart from raise_fd_limit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace p2p::server {

struct FdLimit {
  std::uint64_t soft = 0;  // in force now (after raising)
  std::uint64_t hard = 0;
  std::uint64_t was = 0;  // the soft limit before raising
};

// Raises the soft RLIMIT_NOFILE to the hard limit (capped by what the kernel
// takes, nr_open), as nginx's worker_rlimit_nofile would have to be told to.
// Errors: getrlimit failed (unavailable); a refused raise keeps the old limit
// and is not an error.
core::Result<FdLimit> raise_fd_limit();

// Descriptors kept out of the connection budget: log and data files, the
// registry's temporary files, Redis connections, /proc reads, plus per event
// loop its epoll and eventfd, acceptor and UDP socket.
inline constexpr std::uint64_t kFdReserveFixed = 32;
inline constexpr std::uint64_t kFdReservePerThread = 4;

// The most connections `soft` descriptors leave room for with `threads`
// event loops: at least 1.
std::size_t connection_budget(std::uint64_t soft, int threads);

}  // namespace p2p::server

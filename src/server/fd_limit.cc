#include "server/fd_limit.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace p2p::server {

core::Result<FdLimit> raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) {
    return core::unavailable(fmt::format("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno)));
  }
  FdLimit out{r.rlim_cur, r.rlim_max, r.rlim_cur};
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max;
    // An unlimited hard limit is refused (EPERM/EINVAL) above nr_open; fall
    // back to the kernel's usual nr_open (1 << 20).
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0 && r.rlim_max == RLIM_INFINITY) {
      raised.rlim_cur = 1 << 20;
      (void)setrlimit(RLIMIT_NOFILE, &raised);
    }
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) out.soft = r.rlim_cur;
  }
  return out;
}

std::size_t connection_budget(std::uint64_t soft, int threads) {
  const std::uint64_t reserve =
      kFdReserveFixed + kFdReservePerThread * static_cast<std::uint64_t>(std::max(threads, 0));
  if (soft <= reserve) return 1;
  return static_cast<std::size_t>(soft - reserve);
}

}  // namespace p2p::server

#include "admin/data_dir_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace p2p::admin {

core::Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(
    const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return core::unavailable(
        fmt::format("cannot create data_dir {}: {}", data_dir.string(), ec.message()));
  }
  const auto path = data_dir / "p2ptracker.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return core::unavailable(
        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return core::already_exists(fmt::format(
          "data_dir {} is in use by another p2ptracker{}: two trackers must not share one "
          "data_dir (stop it, or give this one its own data_dir)",
          data_dir.string(), holder.empty() ? "" : " (pid " + holder + ")"));
    }
    return core::unavailable(fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only the next one's message is poorer.
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace p2p::admin

#include "admin/data_dir_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
  // The lock is on the directory itself, so a read-only data_dir (a
  // read-only mount holding the registered torrents) is locked too; the pid
  // goes into p2ptracker.lock when it can be written, for the next one's
  // message.
  const int fd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return core::unavailable(
        fmt::format("cannot open data_dir {}: {}", data_dir.string(), std::strerror(errno)));
  }
  const auto pid_path = data_dir / "p2ptracker.lock";
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder;
      if (std::FILE* f = std::fopen(pid_path.c_str(), "r")) {
        char buf[32] = {};
        holder.assign(buf, std::fread(buf, 1, sizeof buf - 1, f));
        std::fclose(f);
      }
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return core::already_exists(fmt::format(
          "data_dir {} is in use by another p2ptracker{}: two trackers must not share one "
          "data_dir (stop it, or give this one its own data_dir)",
          data_dir.string(), holder.empty() ? "" : " (pid " + holder + ")"));
    }
    return core::unavailable(
        fmt::format("cannot lock data_dir {}: {}", data_dir.string(), std::strerror(err)));
  }
  if (std::FILE* f = std::fopen(pid_path.c_str(), "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
    std::fclose(f);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace p2p::admin

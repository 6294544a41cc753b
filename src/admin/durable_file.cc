#include "admin/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace p2p::admin {
namespace {

core::Error io_error(std::string_view what, const std::filesystem::path& path) {
  return core::unavailable(std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

core::Status sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("cannot sync directory", dir);
  return {};
}

}  // namespace

core::Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  // A dot-name in the same directory: rename() is atomic only within one file
  // system, and loaders skip dot-files, so a leftover is never mistaken for
  // data.
  std::filesystem::path tmp = path.parent_path() / ("." + path.filename().string() + "." +
                                                    std::to_string(::getpid()) + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = io_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = io_error("cannot sync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = io_error("cannot rename into place", path);
    ::unlink(tmp.c_str());
    return err;
  }
  return sync_directory(path.parent_path());
}

core::Result<std::optional<std::string>> read_file_if_present(const std::filesystem::path& path) {
  // Non-blocking, so that a FIFO in its place cannot hold the start; only a
  // regular file is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return io_error("cannot read", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto err = io_error("cannot read", path);
    ::close(fd);
    return err;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return core::unavailable("cannot read " + path.string() + ": not a regular file");
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() + 4096);  // it grew meanwhile
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = io_error("cannot read", path);
      ::close(fd);
      return err;
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return std::optional<std::string>(std::move(out));
}

core::Result<std::string> read_file(const std::filesystem::path& path) {
  auto r = read_file_if_present(path);
  if (!r) return r.error();
  if (!*r) return core::not_found("cannot read " + path.string() + ": no such file");
  return std::move(**r);
}

core::Status remove_file_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path);
  return sync_directory(path.parent_path());
}

}  // namespace p2p::admin

#include "admin/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/regular_file.h"

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

core::Result<std::string> read_file(const std::filesystem::path& path) {
  auto bytes = core::read_regular_file(path.string());
  if (!bytes) return core::Error{bytes.error().code, path.string() + ": " + bytes.error().message};
  return bytes;
}

core::Result<std::optional<std::string>> read_file_if_present(const std::filesystem::path& path) {
  auto bytes = read_file(path);
  if (bytes) return std::optional<std::string>(std::move(*bytes));
  if (bytes.error().code == core::ErrorCode::kNotFound) return std::optional<std::string>{};
  return bytes.error();
}

std::string keep_damaged_copy(const std::filesystem::path& path, std::string_view text,
                              core::TimePoint now) {
  std::string stamp = core::iso8601(now);  // 2026-12-07T03:33:04Z
  std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
  const std::string copy = path.string() + ".damaged-" + stamp;
  if (auto st = write_file_atomically(copy, text); !st) {
    return "the file as it was could not be kept (" + st.error().message + ")";
  }
  return "the file as it was is kept as " + copy;
}

core::Status remove_file_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path);
  return sync_directory(path.parent_path());
}

}  // namespace p2p::admin

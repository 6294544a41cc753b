#include "core/regular_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace p2p::core {
namespace {

// Closes the descriptor on every way out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Error system_error(std::string_view step, int err) {
  auto message = fmt::format("{}: {}", step, std::strerror(err));
  if (err == ENOENT) return not_found(std::move(message));
  return unavailable(std::move(message));
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return system_error("cannot open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return system_error("cannot read", errno);
  if (!S_ISREG(st.st_mode)) return unavailable("not a regular file");
  auto too_large = [&] { return core::too_large(fmt::format("larger than {} bytes", max_bytes)); };
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_bytes) return too_large();
  // The size is where reading starts, not a promise: the file may grow or
  // shrink while it is read.
  std::string out(size, '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes) return too_large();
      out.resize(out.size() + 4096);
    }
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("cannot read", errno);
    }
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) return too_large();
  out.resize(got);
  return out;
}

}  // namespace p2p::core

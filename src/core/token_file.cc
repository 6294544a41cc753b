#include "core/token_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace p2p::core {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A token far larger than any sensible one is a wrong path (a log, a key
// store), not a token; reading stops here instead of loading it whole.
constexpr std::size_t kMaxTokenBytes = 4096;

}  // namespace

Result<TokenFile> read_token_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int err = errno;
    auto message = fmt::format("{}: cannot open token file: {}", path, std::strerror(err));
    if (err == ENOENT) return not_found(message);
    return invalid_argument(message);
  }
  TokenFile out;
  struct stat st {};
  if (::fstat(::fileno(file), &st) == 0) out.world_readable = (st.st_mode & S_IROTH) != 0;
  char buf[kMaxTokenBytes + 1];
  std::size_t n = std::fread(buf, 1, sizeof buf, file);
  bool failed = std::ferror(file) != 0;
  int err = errno;
  std::fclose(file);
  if (failed) {
    return invalid_argument(
        fmt::format("{}: cannot read token file: {}", path, std::strerror(err)));
  }
  if (n > kMaxTokenBytes) {
    return invalid_argument(fmt::format(
        "{}: token file is larger than {} bytes; is this the right file?", path, kMaxTokenBytes));
  }
  std::string_view text(buf, n);
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) {
    return invalid_argument(
        fmt::format("{}: token file is empty; put a random token in it, e.g. "
                    "`umask 077; head -c 32 /dev/urandom | base64 > {}`",
                    path, path));
  }
  for (char c : text) {
    if (is_space(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return invalid_argument(
          fmt::format("{}: the token must be one word without spaces or control characters", path));
    }
  }
  out.token = std::string(text);
  return out;
}

}  // namespace p2p::core

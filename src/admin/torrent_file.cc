#include "admin/torrent_file.h"

#include <fmt/format.h>

#include <libtorrent/hasher.hpp>
#include <limits>

namespace p2p::admin {
namespace {

// Nesting a well-formed torrent needs: top dict, info, file tree directories
// (one level per path element), the leaf. Deeper input is refused, so a
// hostile file cannot exhaust the stack.
constexpr int kMaxDepth = 64;

// A position in the bencoded input. Every method consumes one element or
// fails with the reason; nothing is copied.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}

  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= in_.size(); }
  char peek() const { return at_end() ? '\0' : in_[pos_]; }
  std::string_view slice(std::size_t from, std::size_t to) const {
    return in_.substr(from, to - from);
  }

  // Consumes `c` if it is next.
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  core::Result<std::int64_t> integer() {
    if (!eat('i')) return error("expected an integer");
    const bool negative = eat('-');
    std::uint64_t v = 0;
    std::size_t digits = 0;
    while (!at_end() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      if (v > (std::uint64_t{std::numeric_limits<std::int64_t>::max()} - 9) / 10) {
        return error("integer out of range");
      }
      v = v * 10 + static_cast<std::uint64_t>(in_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0 || !eat('e')) return error("malformed integer");
    const auto s = static_cast<std::int64_t>(v);
    return negative ? -s : s;
  }

  core::Result<std::string_view> string() {
    std::size_t n = 0;
    std::size_t digits = 0;
    while (!at_end() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      if (n > in_.size()) return error("string length out of range");
      n = n * 10 + static_cast<std::size_t>(in_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0 || !eat(':')) return error("expected a string");
    if (n > in_.size() - pos_) return error("string runs past the end");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  // Consumes any one value.
  core::Status skip(int depth) {
    if (depth > kMaxDepth) return error("nested too deeply");
    const char c = peek();
    if (c == 'i') {
      if (auto v = integer(); !v) return v.error();
      return {};
    }
    if (c == 'l' || c == 'd') {
      ++pos_;
      while (!eat('e')) {
        if (at_end()) return error("unterminated list or dictionary");
        if (c == 'd') {
          if (auto k = string(); !k) return k.error();
        }
        if (auto st = skip(depth + 1); !st) return st;
      }
      return {};
    }
    if (auto s = string(); !s) return s.error();
    return {};
  }

  core::Error error(std::string_view what) const {
    return core::invalid_argument(
        fmt::format("not a valid .torrent file: {} at byte {}", what, pos_));
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

// What the info dictionary says, before the checks that need all of it.
struct Info {
  std::optional<std::string_view> name;
  std::optional<std::int64_t> piece_length;
  std::optional<std::string_view> pieces;
  std::optional<std::int64_t> length;  // single-file v1
  std::optional<std::int64_t> meta_version;
  bool has_files = false;       // v1 "files"
  bool has_file_tree = false;   // v2 "file tree"
  std::int64_t v1_entries = 0;  // "files" entries, padding included
  std::int64_t v1_files = 0;    // ... without BEP 47 padding files
  std::uint64_t v1_length = 0;
  std::int64_t v2_files = 0;
  std::uint64_t v2_length = 0;
  bool is_private = false;
};

// Adds a file's length, refusing negative lengths and a total past 2^63.
core::Status add_length(const Cursor& in, std::uint64_t& total, std::int64_t length) {
  if (length < 0) return in.error("negative file length");
  if (static_cast<std::uint64_t>(length) >
      std::uint64_t{std::numeric_limits<std::int64_t>::max()} - total) {
    return in.error("total length out of range");
  }
  total += static_cast<std::uint64_t>(length);
  return {};
}

core::Status count_file(std::int64_t& files, int max_files) {
  if (++files > max_files) {
    return core::invalid_argument(fmt::format(
        "not a valid .torrent file: more than {} files (max_torrent_files)", max_files));
  }
  return {};
}

// v1 "files": a list of {length, path: [elements]}.
core::Status parse_files(Cursor& in, Info& info, int max_files) {
  if (!in.eat('l')) return in.error("\"files\" is not a list");
  while (!in.eat('e')) {
    if (in.at_end()) return in.error("unterminated \"files\"");
    if (!in.eat('d')) return in.error("a \"files\" entry is not a dictionary");
    std::optional<std::int64_t> length;
    bool has_path = false;
    bool pad = false;
    while (!in.eat('e')) {
      if (in.at_end()) return in.error("unterminated \"files\" entry");
      auto key = in.string();
      if (!key) return key.error();
      if (*key == "length") {
        auto v = in.integer();
        if (!v) return v.error();
        length = *v;
      } else if (*key == "path") {
        if (!in.eat('l')) return in.error("\"path\" is not a list");
        int elements = 0;
        while (!in.eat('e')) {
          if (in.at_end()) return in.error("unterminated \"path\"");
          if (auto s = in.string(); !s) return s.error();
          ++elements;
        }
        if (elements == 0) return in.error("empty \"path\"");
        has_path = true;
      } else if (*key == "attr") {
        auto v = in.string();
        if (!v) return v.error();
        pad = v->find('p') != std::string_view::npos;
      } else if (auto st = in.skip(3); !st) {
        return st;
      }
    }
    if (!length || !has_path) return in.error("a \"files\" entry lacks length or path");
    // Counted against the cap like any entry, but BEP 47 padding is not payload.
    if (auto st = count_file(info.v1_entries, max_files); !st) return st;
    if (pad) continue;
    if (auto st = add_length(in, info.v1_length, *length); !st) return st;
    ++info.v1_files;
  }
  return {};
}

// v2 "file tree": directories are dictionaries keyed by path element; a file
// is the entry under the empty key, {length, pieces root}.
core::Status parse_file_tree(Cursor& in, Info& info, int max_files, int depth) {
  if (depth > kMaxDepth) return in.error("\"file tree\" nested too deeply");
  if (!in.eat('d')) return in.error("a \"file tree\" node is not a dictionary");
  while (!in.eat('e')) {
    if (in.at_end()) return in.error("unterminated \"file tree\"");
    auto key = in.string();
    if (!key) return key.error();
    if (!key->empty()) {
      if (auto st = parse_file_tree(in, info, max_files, depth + 1); !st) return st;
      continue;
    }
    if (!in.eat('d')) return in.error("a \"file tree\" file is not a dictionary");
    std::optional<std::int64_t> length;
    while (!in.eat('e')) {
      if (in.at_end()) return in.error("unterminated \"file tree\" file");
      auto k = in.string();
      if (!k) return k.error();
      if (*k == "length") {
        auto v = in.integer();
        if (!v) return v.error();
        length = *v;
      } else if (auto st = in.skip(depth + 2); !st) {
        return st;
      }
    }
    if (!length) return in.error("a \"file tree\" file has no length");
    if (auto st = add_length(in, info.v2_length, *length); !st) return st;
    if (auto st = count_file(info.v2_files, max_files); !st) return st;
  }
  return {};
}

core::Status parse_info(Cursor& in, Info& info, int max_files) {
  if (!in.eat('d')) return in.error("\"info\" is not a dictionary");
  while (!in.eat('e')) {
    if (in.at_end()) return in.error("unterminated \"info\"");
    auto key = in.string();
    if (!key) return key.error();
    core::Status st;
    auto get_int = [&](std::optional<std::int64_t>& out) -> core::Status {
      auto v = in.integer();
      if (!v) return v.error();
      out = *v;
      return {};
    };
    auto get_string = [&](std::optional<std::string_view>& out) -> core::Status {
      auto v = in.string();
      if (!v) return v.error();
      out = *v;
      return {};
    };
    if (*key == "name") {
      st = get_string(info.name);
    } else if (*key == "piece length") {
      st = get_int(info.piece_length);
    } else if (*key == "pieces") {
      st = get_string(info.pieces);
    } else if (*key == "length") {
      st = get_int(info.length);
    } else if (*key == "meta version") {
      st = get_int(info.meta_version);
    } else if (*key == "private") {
      std::optional<std::int64_t> v;
      st = get_int(v);
      info.is_private = v == 1;
    } else if (*key == "files") {
      info.has_files = true;
      st = parse_files(in, info, max_files);
    } else if (*key == "file tree") {
      info.has_file_tree = true;
      st = parse_file_tree(in, info, max_files, 2);
    } else {
      st = in.skip(2);
    }
    if (!st) return st;
  }
  return {};
}

core::Error invalid(std::string_view why) {
  return core::invalid_argument(fmt::format("not a valid .torrent file: {}", why));
}

}  // namespace

core::Result<TorrentMeta> parse_torrent(std::string_view bytes, int max_files) {
  if (bytes.empty()) return core::invalid_argument("empty upload: expected a .torrent file");
  Cursor in(bytes);
  if (!in.eat('d')) return invalid("not a bencoded dictionary");
  Info info;
  std::optional<std::string_view> info_bytes;
  while (!in.eat('e')) {
    if (in.at_end()) return in.error("unterminated dictionary");
    auto key = in.string();
    if (!key) return key.error();
    if (*key == "info" && !info_bytes) {
      const std::size_t begin = in.pos();
      if (auto st = parse_info(in, info, max_files); !st) return st.error();
      info_bytes = in.slice(begin, in.pos());
    } else if (auto st = in.skip(1); !st) {
      return st.error();
    }
  }
  if (!in.at_end()) return in.error("trailing bytes");
  if (!info_bytes) return invalid("no info dictionary");
  if (!info.name || info.name->empty()) return invalid("the info dictionary has no name");
  if (!info.piece_length || *info.piece_length <= 0) return invalid("no valid piece length");

  const bool v2 = info.meta_version.has_value();
  if (v2) {
    if (*info.meta_version != 2) return invalid("unsupported meta version");
    if (!info.has_file_tree) return invalid("a v2 torrent without a file tree");
    // BEP 52: a power of two, at least 16 KiB.
    const std::int64_t pl = *info.piece_length;
    if (pl < 16384 || (pl & (pl - 1)) != 0) return invalid("v2 piece length not a power of two");
    if (info.v2_files == 0) return invalid("an empty file tree");
  }
  const bool v1 = info.pieces.has_value();
  if (v1) {
    if (info.pieces->empty() || info.pieces->size() % 20 != 0) {
      return invalid("\"pieces\" is not a list of SHA-1 hashes");
    }
    if (info.length.has_value() == info.has_files) {
      return invalid("a v1 torrent needs either \"length\" or \"files\"");
    }
    if (info.length) {
      if (*info.length < 0) return invalid("negative length");
      info.v1_length = static_cast<std::uint64_t>(*info.length);
      info.v1_files = 1;
    } else if (info.v1_files == 0) {
      return invalid("an empty \"files\" list");
    }
  }
  if (!v1 && !v2) return invalid("neither v1 pieces nor a v2 file tree");

  TorrentMeta m;
  if (v1) {
    lt::sha1_hash h = lt::hasher(info_bytes->data(), static_cast<int>(info_bytes->size())).final();
    m.v1 = core::InfoHash::from_bytes({h.data(), 20});
  }
  if (v2) {
    lt::sha256_hash h =
        lt::hasher256(info_bytes->data(), static_cast<int>(info_bytes->size())).final();
    m.v2_hex = core::to_hex({h.data(), h.size()});
    m.v2_truncated = core::InfoHash::from_bytes({h.data(), 20});
  }
  m.name = std::string(*info.name);
  // A hybrid lists its files twice, v1 (padding left out above) and v2: the
  // same payload, taken from the v2 list.
  m.length = v2 ? info.v2_length : info.v1_length;
  m.files = static_cast<int>(v2 ? info.v2_files : info.v1_files);
  m.is_private = info.is_private;
  return m;
}

}  // namespace p2p::admin

#include "cli/torrent_maker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/torrent_info.hpp>
#include <set>

#include "core/digest.h"

namespace p2p::cli {
namespace fs = std::filesystem;

namespace {

// libtorrent's limits for a piece: a power of two of at least one 16 KiB
// block (create_torrent.hpp). The top is ours: bigger pieces only slow the
// first exchange of a deploy, and mktorrent stops at the same size.
constexpr int kMinPieceSize = 16 * 1024;
constexpr int kMaxPieceSize = 64 * 1024 * 1024;

int payload_files(const lt::file_storage& files) {
  int n = 0;
  for (auto i : files.file_range()) n += files.pad_file_at(i) ? 0 : 1;
  return n;
}

core::Status valid_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    return core::invalid_argument(
        fmt::format("--name '{}' is not a valid file name (no '/', not '.' or '..')", name));
  }
  return {};
}

fs::path absolute_payload(const fs::path& payload) {
  std::error_code ec;
  fs::path abs = fs::absolute(payload, ec).lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();  // "dir/" -> "dir"
  return abs;
}

// Whether `path` is `dir` or below it, both canonical.
bool within(const fs::path& path, const fs::path& dir) {
  return std::mismatch(dir.begin(), dir.end(), path.begin(), path.end()).first == dir.end();
}

}  // namespace

std::string payload_name(const fs::path& payload) {
  fs::path abs = absolute_payload(payload);
  if (abs == abs.root_path()) return {};
  return abs.filename().string();
}

struct TorrentMaker::Impl {
  lt::file_storage files;
  // Holds a reference to `files`: declared after it, destroyed before it.
  std::unique_ptr<lt::create_torrent> creator;
  fs::path payload;   // as the operator gave it, for messages
  fs::path source;    // what libtorrent reads: the payload, or the link naming it
  fs::path link_dir;  // a temporary directory holding that link, if any
  std::string name;
  std::vector<std::string> warnings;  // what plan() left out, and why

  ~Impl() {
    // Only our own link and directory: remove() never follows the link.
    if (!link_dir.empty()) {
      std::error_code ec;
      fs::remove(source, ec);
      fs::remove(link_dir, ec);
    }
  }
};

TorrentMaker::TorrentMaker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorrentMaker::TorrentMaker(TorrentMaker&&) noexcept = default;
TorrentMaker& TorrentMaker::operator=(TorrentMaker&&) noexcept = default;
TorrentMaker::~TorrentMaker() = default;

int TorrentMaker::files() const { return payload_files(impl_->files); }
std::uint64_t TorrentMaker::length() const {
  std::uint64_t n = 0;
  for (auto i : impl_->files.file_range()) {
    if (!impl_->files.pad_file_at(i)) n += static_cast<std::uint64_t>(impl_->files.file_size(i));
  }
  return n;
}
int TorrentMaker::piece_size() const { return impl_->creator->piece_length(); }
int TorrentMaker::pieces() const { return impl_->creator->num_pieces(); }
const std::string& TorrentMaker::name() const { return impl_->name; }
const std::vector<std::string>& TorrentMaker::warnings() const { return impl_->warnings; }

core::Result<TorrentMaker> TorrentMaker::plan(const MakeTorrentOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->payload = options.payload;
  std::error_code ec;
  const fs::file_status st = fs::status(options.payload, ec);
  if (!fs::exists(st)) {
    return core::not_found(fmt::format("{}: no such file or directory", options.payload.string()));
  }
  if (!fs::is_regular_file(st) && !fs::is_directory(st)) {
    return core::invalid_argument(
        fmt::format("{}: neither a regular file nor a directory", options.payload.string()));
  }
  const fs::path abs = absolute_payload(options.payload);
  if (abs.filename().empty() || abs == abs.root_path()) {
    return core::invalid_argument("refusing to share the root directory");
  }
  impl->name = options.name.empty() ? abs.filename().string() : options.name;
  if (auto valid = valid_name(impl->name); !valid) return valid.error();
  impl->source = abs;

  // A torrent's name is its file's (or top directory's) name, and libtorrent
  // reads the payload at <parent>/<name>. To name it otherwise, hash through a
  // symlink of that name in a private temporary directory.
  if (impl->name != abs.filename().string()) {
    std::string tmpl = (fs::temp_directory_path(ec) / "p2ptracker-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return core::unavailable(fmt::format("cannot create a temporary directory in {}: {}",
                                           fs::temp_directory_path(ec).string(),
                                           std::strerror(errno)));
    }
    impl->link_dir = tmpl;
    impl->source = impl->link_dir / impl->name;
    fs::create_symlink(abs, impl->source, ec);
    if (ec) {
      return core::unavailable(
          fmt::format("cannot link {} as {}: {}", abs.string(), impl->name, ec.message()));
    }
  }

  std::set<fs::path> excluded;
  for (const auto& p : options.exclude) excluded.insert(fs::weakly_canonical(p, ec));
  // libtorrent follows symbolic links, and skips in silence what it cannot
  // stat. A link to a directory the link is inside of would be followed
  // until the path is too long (a `current -> ..` repeated the payload 40
  // levels deep), and a link that leads nowhere would leave its file out of
  // every host's copy: both are skipped, and said. A link to something else
  // inside the payload is followed, as mktorrent does (a host has no link,
  // only the files, under both names), and said: its bytes are hashed and
  // sent twice.
  Impl& made = *impl;
  const fs::path real_source = fs::canonical(impl->source, ec);
  auto keep = [&excluded, &made, &real_source](std::string path) {
    std::error_code e;
    if (!excluded.empty() && excluded.count(fs::weakly_canonical(path, e)) != 0) return false;
    const fs::path p(path);
    if (p == made.source || !fs::is_symlink(p, e)) return true;
    const fs::path shown = made.payload / p.lexically_relative(made.source);
    const fs::path target = fs::canonical(p, e);
    if (e) {
      made.warnings.push_back(fmt::format(
          "skipped {}: a symbolic link that leads nowhere here ({})", shown.string(), e.message()));
      return false;
    }
    // A loop may pass through other links (a -> /elsewhere, whose b -> the
    // payload): the target is checked against each directory on the way.
    auto inside = [&target](const fs::path& dir) {
      std::error_code c;
      const fs::path real = fs::canonical(dir, c);
      return !c && within(real, target);
    };
    bool loops = false;
    if (fs::is_directory(target, e)) {
      for (fs::path q = p.parent_path(); !loops; q = q.parent_path()) {
        loops = inside(q);
        if (q == made.source || !q.has_relative_path()) break;
      }
    }
    if (loops) {
      made.warnings.push_back(fmt::format(
          "skipped {}: a symbolic link to {}, a directory it is inside of (followed, it would "
          "repeat the payload inside itself)",
          shown.string(), target.string()));
      return false;
    }
    if (!real_source.empty() && target != real_source && within(target, real_source)) {
      made.warnings.push_back(fmt::format(
          "{} is a symbolic link to {}, inside the payload: shared twice, under both names "
          "(every host downloads it twice and gets two copies, no link)",
          shown.string(), (made.payload / target.lexically_relative(real_source)).string()));
    }
    return true;
  };

  lt::create_flags_t flags{};
  if (options.format == TorrentFormat::kV1) flags = lt::create_torrent::v1_only;
  if (options.format == TorrentFormat::kV2) flags = lt::create_torrent::v2_only;

  try {
    lt::add_files(impl->files, impl->source.string(), keep, flags);
    if (impl->files.num_files() == 0) {
      return core::invalid_argument(
          fmt::format("{}: no files to share (an empty directory?)", options.payload.string()));
    }
    if (impl->files.total_size() == 0) {
      return core::invalid_argument(fmt::format(
          "{}: only empty files; a torrent needs at least one byte", options.payload.string()));
    }
    impl->creator = std::make_unique<lt::create_torrent>(impl->files, options.piece_size, flags);
    if (!options.udp_announce_url.empty()) impl->creator->add_tracker(options.udp_announce_url, 0);
    impl->creator->add_tracker(options.announce_url, options.udp_announce_url.empty() ? 0 : 1);
    impl->creator->set_priv(options.is_private);
    impl->creator->set_creator("p2ptracker " P2P_VERSION);
    if (!options.comment.empty()) impl->creator->set_comment(options.comment.c_str());
  } catch (const std::exception& e) {
    return core::invalid_argument(
        fmt::format("cannot make a torrent of {}: {}", options.payload.string(), e.what()));
  }
  return TorrentMaker(std::move(impl));
}

core::Result<std::string> TorrentMaker::hash(const std::function<void(int)>& progress) {
  int done = 0;
  lt::error_code ec;
  // libtorrent reads on its disk threads and calls back here, on this thread.
  lt::set_piece_hashes(
      *impl_->creator, impl_->source.parent_path().string(),
      [&](lt::piece_index_t) { progress(++done); }, ec);
  if (ec) {
    return core::unavailable(fmt::format("reading {} failed: {} (did a file change or vanish?)",
                                         impl_->payload.string(), ec.message()));
  }
  try {
    std::string out;
    lt::bencode(std::back_inserter(out), impl_->creator->generate());
    return out;
  } catch (const std::exception& e) {
    return core::internal(fmt::format("cannot encode the torrent: {}", e.what()));
  }
}

core::Result<TorrentSummary> read_torrent(std::string_view bytes) {
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())),
                      ec, lt::from_span);
  if (ec) return core::invalid_argument("not a valid .torrent file: " + ec.message());
  TorrentSummary s;
  const lt::info_hash_t& ih = ti.info_hashes();
  if (ih.has_v2()) s.info_hash_v2 = core::to_hex({ih.v2.data(), ih.v2.size()});
  // BEP 52: v2 clients announce the SHA-256 truncated to 20 bytes.
  s.info_hash = core::to_hex(ih.has_v1() ? std::string_view(ih.v1.data(), ih.v1.size())
                                         : std::string_view(ih.v2.data(), 20));
  s.name = ti.name();
  s.files = payload_files(ti.files());
  s.length = 0;
  for (auto i : ti.files().file_range()) {
    if (!ti.files().pad_file_at(i)) s.length += static_cast<std::uint64_t>(ti.files().file_size(i));
  }
  s.piece_size = ti.piece_length();
  s.pieces = ti.num_pieces();
  s.is_private = ti.priv();
  for (const auto& t : ti.trackers()) s.trackers.push_back(t.url);
  return s;
}

core::Result<int> parse_piece_size(std::string_view text) {
  const auto bad = [&] {
    return core::invalid_argument(fmt::format(
        "--piece-size '{}': expected a power of two from 16K to 64M (e.g. 256K, 1M, 4MiB), "
        "or 'auto'",
        text));
  };
  if (text == "auto" || text == "0") return 0;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return bad();
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit == "k" || unit == "kb" || unit == "kib") {
    value <<= 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    value <<= 20;
  } else if (!unit.empty() && unit != "b") {
    return bad();
  }
  if (value < kMinPieceSize || value > kMaxPieceSize || (value & (value - 1)) != 0) return bad();
  return static_cast<int>(value);
}

}  // namespace p2p::cli

// Making and reading .torrent files for the operator commands, with
// libtorrent-rasterbar (the original p2ptracker needed the external mktorrent).
// The only file of src/cli that includes libtorrent.
//
// A TorrentMaker is used from one thread; the functions are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace p2p::cli {

// Which BitTorrent metadata versions a new torrent carries. v1 is the default:
// a hybrid torrent has two info-hashes and its clients announce both, which
// the tracker sees as two swarms of the one payload.
enum class TorrentFormat { kV1, kHybrid, kV2 };

struct TorrentSummary {
  std::string info_hash;  // what clients announce first (v1, else truncated v2): 40 hex
  std::optional<std::string> info_hash_v2;  // 64 hex, for v2 and hybrid
  std::string name;
  int files = 0;  // payload files (pad files not counted)
  std::uint64_t length = 0;
  int piece_size = 0;
  int pieces = 0;
  bool is_private = false;
  std::vector<std::string> trackers;
};

struct MakeTorrentOptions {
  std::filesystem::path payload;  // a file or a directory
  std::string announce_url;
  // When set, the torrent announces here first (BEP 12 tier 0) and to
  // announce_url only if it fails, or if the client has no UDP tracker support.
  std::string udp_announce_url;
  int piece_size = 0;  // 0: libtorrent picks one from the payload size
  bool is_private = true;
  TorrentFormat format = TorrentFormat::kV1;
  std::string name;  // empty: the payload's file or directory name
  std::string comment;
  // Files never included (the .torrent being written, if it lands inside the
  // payload directory). Compared after resolving symlinks.
  std::vector<std::filesystem::path> exclude;
};

class TorrentMaker {
 public:
  // Lists the payload's files and settles the piece size; reads no data.
  // Errors: core::invalid_argument / core::not_found naming the path.
  static core::Result<TorrentMaker> plan(const MakeTorrentOptions& options);

  TorrentMaker(TorrentMaker&&) noexcept;
  TorrentMaker& operator=(TorrentMaker&&) noexcept;
  ~TorrentMaker();

  int files() const;
  std::uint64_t length() const;
  int piece_size() const;
  int pieces() const;
  const std::string& name() const;
  // One sentence each naming the path: the files plan() left out (symbolic
  // links that lead nowhere, or to a directory they are inside of), and the
  // links to elsewhere in the payload it kept, whose files are shared twice.
  const std::vector<std::string>& warnings() const;

  // Reads and hashes the payload, calling `progress(pieces_done)` after each
  // piece; returns the bencoded .torrent. Errors: core::unavailable with the
  // read error (a file vanished, changed size or is unreadable).
  core::Result<std::string> hash(const std::function<void(int)>& progress);

 private:
  struct Impl;
  explicit TorrentMaker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The name a torrent of `payload` gets by default: its file or directory name
// ("." and "dir/" resolved). Empty for the root directory.
std::string payload_name(const std::filesystem::path& payload);

// What a .torrent holds. Errors: core::invalid_argument with libtorrent's reason.
core::Result<TorrentSummary> read_torrent(std::string_view bytes);

// "256K", "4M", "1MiB", "16384" -> bytes; a power of two from 16 KiB to
// 64 MiB, or 0 for "auto". Errors: core::invalid_argument saying what is valid.
core::Result<int> parse_piece_size(std::string_view text);

}  // namespace p2p::cli

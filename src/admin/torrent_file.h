// Reading .torrent files: what the tracker needs to know of a registered
// transfer (info-hashes, name, size, file count, private flag) for v1, v2 and
// hybrid torrents (BEP 3, BEP 52).
//
// Uploads are untrusted, so parsing is one linear pass over the bytes with no
// tree built: time and memory grow with the file's size only, and the file
// count is capped. libtorrent's torrent_info is not used for this: it renames
// colliding file paths by trying "name.1", "name.2", ... from 1 for every
// collision, which is quadratic (20,000 files sharing one path: 29 s), and
// the tracker never needs the renamed list. libtorrent only supplies SHA-1 and
// SHA-256. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/result.h"

namespace p2p::admin {

struct TorrentMeta {
  std::optional<core::InfoHash> v1;            // SHA-1 of the info dictionary
  std::optional<std::string> v2_hex;           // SHA-256 (64 hex digits), v2 and hybrid
  std::optional<core::InfoHash> v2_truncated;  // what v2 clients announce (BEP 52)
  std::string name;                            // the info dictionary's name
  std::uint64_t length = 0;                    // payload bytes, all files
  int files = 0;
  bool is_private = false;

  // The info-hash clients announce first: v1 when there is one.
  core::InfoHash primary() const { return v1 ? *v1 : *v2_truncated; }
};

// Most files a .torrent may list unless configured (max_torrent_files): far
// above a deploy payload, and it bounds what one upload costs to parse.
inline constexpr int kDefaultMaxTorrentFiles = 100000;

// Errors: core::invalid_argument, "not a valid .torrent file: <why>" (also
// for more than `max_files` files: a v1 "files" entry or a v2 "file tree"
// leaf each count as one; a hybrid's two lists are counted apart).
core::Result<TorrentMeta> parse_torrent(std::string_view bytes,
                                        int max_files = kDefaultMaxTorrentFiles);

}  // namespace p2p::admin

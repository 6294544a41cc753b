// Reading .torrent files: what the tracker needs to know of a registered
// transfer. Parsing is libtorrent-rasterbar's (v1, v2 and hybrid torrents).
// Pure; thread-safe.
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

// Errors: core::invalid_argument with libtorrent's reason ("not a valid
// .torrent file: ...").
core::Result<TorrentMeta> parse_torrent(std::string_view bytes);

}  // namespace p2p::admin

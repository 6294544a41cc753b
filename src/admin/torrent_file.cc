#include "admin/torrent_file.h"

#include <libtorrent/error_code.hpp>
#include <libtorrent/torrent_info.hpp>

namespace p2p::admin {

core::Result<TorrentMeta> parse_torrent(std::string_view bytes) {
  if (bytes.empty()) return core::invalid_argument("empty upload: expected a .torrent file");
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())),
                      ec, lt::from_span);
  if (ec) return core::invalid_argument("not a valid .torrent file: " + ec.message());
  TorrentMeta m;
  const lt::info_hash_t& ih = ti.info_hashes();
  if (ih.has_v1()) m.v1 = core::InfoHash::from_bytes({ih.v1.data(), 20});
  if (ih.has_v2()) {
    m.v2_hex = core::to_hex({ih.v2.data(), static_cast<std::size_t>(ih.v2.size())});
    m.v2_truncated = core::InfoHash::from_bytes({ih.v2.data(), 20});
  }
  m.name = ti.name();
  m.length = static_cast<std::uint64_t>(ti.total_size());
  m.files = ti.num_files();
  m.is_private = ti.priv();
  return m;
}

}  // namespace p2p::admin

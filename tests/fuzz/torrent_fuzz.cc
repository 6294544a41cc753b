// Fuzz target for .torrent parsing (admin::parse_torrent, libtorrent's
// torrent_info underneath): the bytes of an upload to POST /api/v1/torrents,
// or a file the registry reads back at start. Whatever the bytes, a parse
// either fails with a reason or returns a transfer with an info-hash to
// announce; never a crash, a leak or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admin/torrent_file.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = p2p::admin::parse_torrent(in);
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(r->v1 || r->v2_truncated);
  FUZZ_CHECK(r->v2_hex.has_value() == r->v2_truncated.has_value());
  if (r->v2_hex) FUZZ_CHECK(r->v2_hex->size() == 64);
  FUZZ_CHECK(r->files >= 0);
  (void)r->primary();
  return 0;
}

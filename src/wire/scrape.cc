#include "wire/scrape.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "wire/bencode.h"
#include "wire/query.h"

namespace p2p::wire {

core::Status parse_scrape(std::string_view query, std::vector<core::InfoHash>& out) {
  QueryIterator it(query);
  std::string_view k, v;
  std::size_t seen = 0;
  while (it.next(k, v)) {
    if (k != "info_hash") continue;  // names as sent, like parse_announce
    ++seen;
    if (seen > kMaxScrapeHashes) {
      return core::invalid_argument(fmt::format(
          "too many info_hash parameters: a scrape may ask for at most {}", kMaxScrapeHashes));
    }
    // Decoded on the stack, then copied into the caller's reserved vector.
    core::InfoHash h;
    auto n = percent_decode(v, reinterpret_cast<char*>(h.bytes.data()), h.bytes.size());
    if (n && *n == h.bytes.size()) {
      out.push_back(h);
      continue;
    }
    // Numbered so a client asking for many hashes knows which one is wrong.
    auto size = percent_decoded_size(v);
    if (!size) {
      return core::invalid_argument(fmt::format(
          "info_hash #{} has a bad percent-escape (each byte is %XX, two hex digits)", seen));
    }
    return core::invalid_argument(
        fmt::format("info_hash #{} must be {} bytes, got {}", seen, h.bytes.size(), *size));
  }
  return {};
}

void encode_scrape(std::span<const ScrapeEntry> entries, std::string& out) {
  assert(std::is_sorted(
      entries.begin(), entries.end(),
      [](const ScrapeEntry& a, const ScrapeEntry& b) { return a.info_hash < b.info_hash; }));
  BencodeWriter w(out);
  w.begin_dict();
  w.string("files");
  w.begin_dict();
  const ScrapeEntry* prev = nullptr;
  for (const ScrapeEntry& e : entries) {
    // A client may name one hash twice; a dictionary key may appear once.
    if (prev != nullptr && prev->info_hash == e.info_hash) continue;
    prev = &e;
    w.string(e.info_hash.view());
    w.begin_dict();
    w.key_int("complete", e.complete);
    w.key_int("downloaded", e.downloaded);
    w.key_int("incomplete", e.incomplete);
    w.end();
  }
  w.end();
  w.end();
}

}  // namespace p2p::wire

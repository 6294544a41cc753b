// HTTP scrape (BEP 48): parsing the requested info-hashes, encoding "files".
// Pure, no I/O. Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/result.h"

namespace p2p::wire {

// Most info-hashes one scrape may ask for; more is an error, not a silent cut,
// so a client knows its answer is incomplete.
inline constexpr std::size_t kMaxScrapeHashes = 128;

// Appends each `info_hash` parameter of the query to `out` (which the caller
// clears and reuses). Errors on a hash that is not 20 bytes once decoded, or on
// more than kMaxScrapeHashes.
core::Status parse_scrape(std::string_view query, std::vector<core::InfoHash>& out);

struct ScrapeEntry {
  core::InfoHash info_hash;
  std::uint32_t complete = 0;    // seeders now
  std::uint32_t downloaded = 0;  // completed events ever
  std::uint32_t incomplete = 0;  // leechers now
};

// Appends d5:filesd<20-byte hash>d8:completei..e10:downloadedi..e10:incompletei..eee...ee
// Entries must be sorted by info_hash (bencode dictionary order); asserted.
void encode_scrape(std::span<const ScrapeEntry> entries, std::string& out);

}  // namespace p2p::wire

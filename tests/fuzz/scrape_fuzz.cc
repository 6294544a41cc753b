// Fuzz target for parse_scrape() and encode_scrape(): every accepted hash is
// answered exactly once in a reply that decodes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "wire/bencode.h"
#include "wire/scrape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<core::InfoHash> hashes;
  auto st = wire::parse_scrape(in, hashes);
  if (!st) {
    FUZZ_CHECK(st.error().code == core::ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!st.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(hashes.size() <= wire::kMaxScrapeHashes);
  std::vector<wire::ScrapeEntry> entries;
  for (const auto& h : hashes) entries.push_back({h, 1, 2, 3});
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.info_hash < b.info_hash; });
  std::string out;
  wire::encode_scrape(entries, out);
  auto d = wire::bdecode(out);
  FUZZ_CHECK(d && d->find("files"));
  std::sort(hashes.begin(), hashes.end());
  std::size_t unique =
      static_cast<std::size_t>(std::unique(hashes.begin(), hashes.end()) - hashes.begin());
  FUZZ_CHECK(d->find("files")->as_dict().size() == unique);
  return 0;
}

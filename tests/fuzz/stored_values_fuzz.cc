// Fuzz target for the values the tracker reads back from Redis when it
// restores the transfers it mirrored there (storage::WriteBehindStore::
// active_transfers): a registration time (storage::parse_iso8601) and an
// info-hash (core::InfoHash::from_hex). Any bytes give a value or nothing,
// never a crash: a time read formats (core::iso8601) and reads back as itself,
// a hash as the same hex digits.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/digest.h"
#include "fuzz_check.h"
#include "storage/key_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (const auto t = storage::parse_iso8601(in)) {
    const std::string text = core::iso8601(*t);
    const auto again = storage::parse_iso8601(text);
    FUZZ_CHECK(again && *again == *t);
  }
  if (const auto h = core::InfoHash::from_hex(in)) {
    std::string lower(in);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    FUZZ_CHECK(h->hex() == lower);
  }
  return 0;
}

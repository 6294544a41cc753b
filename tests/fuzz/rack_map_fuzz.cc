// Fuzz target for the topology map file (topology::parse_rack_map, the lines
// of StaticMapLocator's file). A parse either fails naming a line, or gives
// entries with valid rack names in line order; a map that parses is then
// loaded by StaticMapLocator (from a scratch file) and each entry's network
// address must locate to the rack of the longest prefix covering it, as a
// brute-force search over the entries says.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "topology/rack_names.h"
#include "topology/static_map_locator.h"

namespace {

using namespace p2p;

// Entries checked against the locator per input (the brute force is quadratic).
constexpr std::size_t kMaxChecked = 64;

const std::string& scratch_path() {
  static const std::string path = [] {
    char name[] = "/tmp/rack_map_fuzz.XXXXXX";
    int fd = mkstemp(name);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    return std::string(name);
  }();
  // libFuzzer leaves through exit(): the scratch file goes with the process.
  static const bool removed_at_exit = [] {
    return std::atexit([] { unlink(path.c_str()); }) == 0;
  }();
  (void)removed_at_exit;
  return path;
}

void write_scratch(std::string_view text) {
  std::FILE* f = std::fopen(scratch_path().c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  FUZZ_CHECK(std::fclose(f) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = topology::parse_rack_map(in, "fuzz.map");
  if (!r) {
    FUZZ_CHECK(r.error().message.starts_with("fuzz.map:"));
    return 0;
  }
  int last_line = 0;
  for (const auto& e : *r) {
    FUZZ_CHECK(e.line > last_line);
    last_line = e.line;
    FUZZ_CHECK(!e.rack.empty() && e.rack.size() <= topology::kMaxRackNameLength);
    FUZZ_CHECK(e.prefix.contains(e.prefix.network()));
  }
  if (r->empty()) return 0;

  write_scratch(in);
  topology::RackNames names;
  auto locator = topology::StaticMapLocator::open(scratch_path(), 24, 64, names);
  FUZZ_CHECK(locator);
  FUZZ_CHECK((*locator)->entry_count() == r->size());
  for (std::size_t i = 0; i < r->size() && i < kMaxChecked; ++i) {
    const core::Address& a = (*r)[i].prefix.network();
    const topology::RackMapEntry* best = nullptr;
    for (const auto& e : *r) {
      if (e.prefix.contains(a) && (!best || e.prefix.prefix_len() > best->prefix.prefix_len())) {
        best = &e;
      }
    }
    FUZZ_CHECK(best != nullptr);
    FUZZ_CHECK((*locator)->rack_name((*locator)->locate(a)) == best->rack);
  }
  return 0;
}

// Fuzz target for the location text dns TXT records and exec plugin programs
// answer with (topology::parse_location_text, parse_txt_records). Any text
// gives found with a valid rack name, unknown for blank text, or an error
// saying why; never a crash, a throw or a hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "topology/dns_source.h"
#include "topology/location_text.h"
#include "topology/static_map_locator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  static const std::vector<std::string> kLevels = {"dc", "row", "rack"};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const topology::Answer a = topology::parse_location_text(in, kLevels);
  switch (a.kind) {
    case topology::Answer::Kind::kFound:
      FUZZ_CHECK(topology::check_rack_name(a.rack, "fuzz"));
      FUZZ_CHECK(!a.rack.empty());
      break;
    case topology::Answer::Kind::kUnknown:
      FUZZ_CHECK(in.find_first_not_of(" \t\r\n") == std::string_view::npos);
      break;
    case topology::Answer::Kind::kError:
      FUZZ_CHECK(!a.detail.empty());
      break;
  }
  // The same text split into TXT records at NUL bytes: the last one decides.
  std::vector<std::string> records(1);
  for (char c : in) {
    if (c == '\0') {
      records.emplace_back();
    } else {
      records.back().push_back(c);
    }
  }
  const topology::Answer t = topology::parse_txt_records(records, kLevels);
  FUZZ_CHECK(t.kind == topology::parse_location_text(records.back(), kLevels).kind);
  return 0;
}

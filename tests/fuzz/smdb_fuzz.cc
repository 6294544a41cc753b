// Fuzz target for the inventory service's answers (topology::parse_smdb_answer,
// the body of GET <smdb_url>/servers/ipaddresses/<ip>). Any body gives an
// answer, never a crash or a throw: found with a valid rack name taken from the
// last server, unknown, or an error saying why. The first byte picks the rack
// field, so nested pointers are reached too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "topology/smdb_source.h"
#include "topology/static_map_locator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  static const char* const kFields[] = {"/cabinet", "/rack/name", "/0", "/a~1b", "/"};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view field = kFields[0];
  if (!in.empty()) {
    field = kFields[static_cast<unsigned char>(in.front()) % std::size(kFields)];
    in.remove_prefix(1);
  }
  const topology::Answer a = topology::parse_smdb_answer(in, field);
  switch (a.kind) {
    case topology::Answer::Kind::kFound:
      FUZZ_CHECK(!a.rack.empty());
      FUZZ_CHECK(topology::check_rack_name(a.rack, "fuzz"));
      break;
    case topology::Answer::Kind::kUnknown:
      FUZZ_CHECK(a.rack.empty());
      break;
    case topology::Answer::Kind::kError:
      FUZZ_CHECK(!a.detail.empty());
      break;
  }
  return 0;
}

// Fuzz target for the inventory service's answers (topology::parse_smdb_answer,
// the body of GET <smdb_url>/servers/ipaddresses/<ip>). Any body gives an
// answer, never a crash or a throw: found with a valid rack name taken from the
// last server, unknown, or an error saying why. The first byte picks the rack
// fields, so nested pointers are reached too; the bytes are read as a bulk
// inventory as well.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "topology/smdb_source.h"
#include "topology/static_map_locator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  static const std::vector<std::string> kFields[] = {
      {"/cabinet"}, {"/rack/name"}, {"/site", "/0", "/cabinet"}, {"/a~1b"}, {"/"}};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string>* fields = &kFields[0];
  if (!in.empty()) {
    fields = &kFields[static_cast<unsigned char>(in.front()) % std::size(kFields)];
    in.remove_prefix(1);
  }
  const topology::Answer a = topology::parse_smdb_answer(in, *fields);
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
  // The same bytes as a bulk inventory: every entry is an answer of its own.
  std::vector<std::pair<core::Address, topology::Answer>> bulk;
  std::size_t skipped = 0;
  if (topology::parse_smdb_bulk(in, *fields, bulk, skipped)) {
    for (const auto& [address, answer] : bulk) {
      FUZZ_CHECK(answer.kind != topology::Answer::Kind::kFound ||
                 topology::check_rack_name(answer.rack, "fuzz"));
    }
  }
  return 0;
}

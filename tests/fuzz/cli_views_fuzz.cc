// Fuzz target for what the operator commands make of a reply (status, watch:
// cli/status_view.h over cli/json_fields.h). The input is the reply's body,
// from whatever answers at --tracker. Any JSON renders without a throw, and
// nothing of it reaches the terminal as a control character.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../support/control_characters.h"
#include "cli/json_fields.h"
#include "cli/status_view.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p::cli;
  using p2p::test::has_control_character;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto stats = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (stats.is_discarded()) return 0;  // the commands say "not JSON" and stop
  for (const std::string& shown :
       {transfer_summary(stats), racks_table(stats), levels_table(stats),
        transfers_table({stats, object_field(stats, "global")}), history_table(stats)}) {
    FUZZ_CHECK(!has_control_character(shown));
  }
  for (const RackRow& r : rack_rows(stats)) {
    FUZZ_CHECK(!has_control_character(r.rack));
    FUZZ_CHECK(r.progress == r.progress);  // not NaN: JSON has none
  }
  for (const LevelRow& r : level_rows(stats)) {
    FUZZ_CHECK(!has_control_character(r.group) && !has_control_character(r.level) &&
               !has_control_character(r.parent) && !has_control_character(r.representatives));
  }
  return 0;
}

// Fuzz target for the JSON files of data_dir read back at start
// (admin::parse_history, admin::parse_registry_index, admin::parse_progress).
// The first byte picks the file: bit 0 the registry, else bit 1 the progress,
// else the history. Any text gives the entries it holds or an error, never a
// throw: every history record and transfer's progress read writes back and
// reads again as itself, and every time read is one ISO 8601 can say.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admin/data_files.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p2p;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const unsigned first = in.empty() ? 0 : static_cast<unsigned char>(in.front());
  const bool registry = first & 1;
  if (!in.empty()) in.remove_prefix(1);
  if (registry) {
    auto index = admin::parse_registry_index(in);
    if (!index) {
      FUZZ_CHECK(!index.error().message.empty());
      return 0;
    }
    for (const auto& [file, at] : index->registered_at) {
      FUZZ_CHECK(at >= 0);
      FUZZ_CHECK(core::iso8601(core::TimePoint(core::Seconds(at))).size() == 20);
    }
    return 0;
  }
  if (first & 2) {
    auto progress = admin::parse_progress(in);
    if (!progress) {
      FUZZ_CHECK(!progress.error().message.empty());
      return 0;
    }
    for (const auto& [hash, p] : progress->transfers) {
      FUZZ_CHECK(core::iso8601(p.last_completed).size() == 20);
      FUZZ_CHECK(p.completions.empty() || core::iso8601(p.completions.back()).size() == 20);
    }
    auto again =
        admin::parse_progress(admin::progress_text(admin::ProgressFile{progress->transfers, 0}));
    FUZZ_CHECK(again && again->skipped == 0 && again->transfers == progress->transfers);
    return 0;
  }
  auto history = admin::parse_history(in);
  if (!history) {
    FUZZ_CHECK(!history.error().message.empty());
    return 0;
  }
  nlohmann::json deploys = nlohmann::json::array();
  for (const auto& r : history->records) {
    const nlohmann::json j = r.to_json();  // formats every time
    FUZZ_CHECK(j["registered"].get<std::string>().size() == 20);
    deploys.push_back(j);
  }
  auto again = admin::parse_history(nlohmann::json{{"deploys", deploys}}.dump());
  FUZZ_CHECK(again && again->skipped == 0 && again->records == history->records);
  return 0;
}

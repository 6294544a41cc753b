// Fuzz target for the loader of the original p2ptracker's Python-style config
// files (config::parse_legacy, src/config/legacy.cc): the text, no file I/O.
// A parse either fails with a message or gives a Config that --print-config
// (to_toml) writes out and parse_toml reads back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace config = p2p::config;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  config::Loaded loaded;
  auto s = config::parse_legacy_onto(loaded, in, "fuzz.cfg");
  if (!s) {
    FUZZ_CHECK(!s.error().message.empty());
    return 0;
  }
  for (const auto& line : config::describe_settings(loaded)) FUZZ_CHECK(!line.empty());
  (void)config::validate(loaded);
  std::string printed = config::to_toml(loaded.config);
  auto back = config::parse_toml(printed, "printed.toml");
  if (!back) std::fprintf(stderr, "%s\n%s\n", back.error().message.c_str(), printed.c_str());
  FUZZ_CHECK(back && *back == loaded.config);
  return 0;
}

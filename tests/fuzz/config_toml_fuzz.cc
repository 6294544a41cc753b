// Fuzz target for the TOML config loader (config::parse_toml, toml++
// underneath): the text of a config file, no file I/O. A parse either fails
// with a message naming the place, or gives a Config that --print-config
// (to_toml) writes out and parse_toml reads back unchanged. Config loading is
// allowed to throw at start-up (STYLE.md), but not from parse_toml: it
// returns the error, so any exception escaping is a finding.
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
  auto r = config::parse_toml(in, "fuzz.toml");
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  (void)config::validate(*r);
  std::string printed = config::to_toml(*r);
  auto back = config::parse_toml(printed, "printed.toml");
  if (!back) std::fprintf(stderr, "%s\n%s\n", back.error().message.c_str(), printed.c_str());
  FUZZ_CHECK(back && *back == *r);
  return 0;
}

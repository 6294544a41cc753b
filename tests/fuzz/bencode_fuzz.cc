// Fuzz target for bdecode(): whatever it accepts must be canonical, so
// re-encoding gives back the input byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wire/bencode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = p2p::wire::bdecode(in);
  if (!r) {
    FUZZ_CHECK(r.error().message.starts_with("bencode: "));
    return 0;
  }
  FUZZ_CHECK(p2p::wire::bencode(*r) == in);
  return 0;
}

// Fuzz target for parse_form_file(). Input: the Content-Type header, a
// newline, then the body. What it returns must point into the body, and the
// data must end where a delimiter line begins.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "wire/multipart.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = in.substr(nl + 1);
  auto r = p2p::wire::parse_form_file(content_type, body);
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(inside(r->field_name, body) && inside(r->filename, body) && inside(r->data, body));
  // `data` may be empty with a null pointer only if it came from nowhere; a
  // part's data is always a real (possibly empty) slice of the body.
  FUZZ_CHECK(r->data.data() != nullptr);
  std::size_t end = static_cast<std::size_t>(r->data.data() - body.data()) + r->data.size();
  FUZZ_CHECK(body.substr(end, 4) == "\r\n--");
  return 0;
}

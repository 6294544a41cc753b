// multipart/form-data (RFC 7578): finding the uploaded file in a form post, the
// way the original p2ptracker's clients uploaded .torrent files (curl -F).
// Pure, no I/O; returns views into the body. Thread-compatible.
#pragma once

#include <string_view>

#include "core/result.h"

namespace p2p::wire {

struct FormFile {
  std::string_view field_name;  // name="..." of the part
  std::string_view filename;    // filename="..." (may be empty)
  std::string_view data;        // the part's content, exactly
};

// Returns the first part that carries a filename, else the first part. (A
// browser sends filename="" for a file field left empty; such a part is chosen
// only when no part has a real filename, and before a part with none.)
// `content_type` is the request's Content-Type header, from which the boundary
// is taken. Errors: not multipart/form-data, no boundary, no closing
// delimiter, a part without headers.
core::Result<FormFile> parse_form_file(std::string_view content_type, std::string_view body);

}  // namespace p2p::wire

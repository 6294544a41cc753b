#include "wire/multipart.h"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace p2p::wire {
namespace {

// RFC 2046 5.1.1: a boundary is 1 to 70 characters.
constexpr std::size_t kMaxBoundary = 70;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value "item; a=b; c=\"d\"", quotes
// removed (backslash escapes are skipped over, not undone: the result is a view).
// nullopt when absent or when a quoted string never closes.
std::optional<std::string_view> find_param(std::string_view header, std::string_view name) {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos && pos < header.size()) {
    ++pos;  // past ';'
    std::size_t eq = header.find_first_of("=;", pos);
    std::string_view pname = trim(header.substr(pos, eq - pos));
    if (eq == std::string_view::npos) return std::nullopt;
    if (header[eq] == ';') {  // a parameter without a value
      pos = eq;
      continue;
    }
    std::size_t v = eq + 1;
    while (v < header.size() && (header[v] == ' ' || header[v] == '\t')) ++v;
    std::string_view value;
    if (v < header.size() && header[v] == '"') {
      std::size_t i = v + 1;
      while (i < header.size() && header[i] != '"') i += header[i] == '\\' ? 2 : 1;
      if (i >= header.size()) return std::nullopt;
      value = header.substr(v + 1, i - v - 1);
      pos = header.find(';', i + 1);
    } else {
      pos = header.find(';', v);
      value = trim(header.substr(v, pos == std::string_view::npos ? pos : pos - v));
    }
    if (iequals(pname, name)) return value;
  }
  return std::nullopt;
}

// A delimiter line "--boundary" found in the body.
struct Delimiter {
  std::size_t content_end;  // where the preceding part ends (its CRLF belongs to us)
  std::size_t next;         // first byte after the line (valid unless `close`)
  bool close;               // "--boundary--": the last one
};

// Finds the first delimiter line whose leading CRLF starts at or after `from`
// (or, when `from` is 0, one at the very start of the body). A boundary string
// followed by anything other than "--" or optional whitespace and CRLF is not
// a delimiter (RFC 2046 5.1.1) and the search goes on.
std::optional<Delimiter> find_delimiter(std::string_view body, std::string_view boundary,
                                        std::size_t from) {
  std::size_t search = from;
  while (true) {
    std::size_t p = body.find(boundary, search);
    if (p == std::string_view::npos) return std::nullopt;
    search = p + 1;
    if (p < 2 || body[p - 1] != '-' || body[p - 2] != '-') continue;
    std::size_t dashes = p - 2;
    std::size_t content_end;
    if (dashes == 0 && from == 0) {
      content_end = 0;
    } else if (dashes >= 2 && body[dashes - 1] == '\n' && body[dashes - 2] == '\r' &&
               dashes - 2 >= from) {
      content_end = dashes - 2;
    } else {
      continue;
    }
    std::size_t q = p + boundary.size();
    if (body.substr(q, 2) == "--") return Delimiter{content_end, body.size(), true};
    while (q < body.size() && (body[q] == ' ' || body[q] == '\t')) ++q;
    if (body.substr(q, 2) == "\r\n") return Delimiter{content_end, q + 2, false};
  }
}

struct Part {
  FormFile file;
  bool has_filename;  // a filename parameter, even an empty one: a file field
};

// Reads one part's headers. `index` numbers parts from 1 for error messages.
core::Result<Part> parse_part(std::string_view part, int index) {
  if (part.substr(0, 2) == "\r\n") {
    return core::invalid_argument(fmt::format("form part {} has no headers", index));
  }
  std::size_t end = part.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return core::invalid_argument(
        fmt::format("form part {} has no blank line after its headers", index));
  }
  std::string_view headers = part.substr(0, end);
  std::optional<std::string_view> disposition;
  while (!headers.empty()) {
    std::size_t eol = headers.find("\r\n");
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (iequals(trim(line.substr(0, colon)), "Content-Disposition")) {
      disposition = trim(line.substr(colon + 1));
    }
  }
  // RFC 7578 4.2: every part of a form names its field this way.
  if (!disposition) {
    return core::invalid_argument(
        fmt::format("form part {} has no Content-Disposition header", index));
  }
  auto filename = find_param(*disposition, "filename");
  Part p;
  p.file.field_name = find_param(*disposition, "name").value_or(std::string_view());
  p.file.filename = filename.value_or(std::string_view());
  p.file.data = part.substr(end + 4);
  p.has_filename = filename.has_value();
  return p;
}

}  // namespace

core::Result<FormFile> parse_form_file(std::string_view content_type, std::string_view body) {
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(media, "multipart/form-data")) {
    return core::invalid_argument(
        fmt::format("Content-Type must be multipart/form-data, got '{}'", media.substr(0, 64)));
  }
  auto boundary = find_param(content_type, "boundary");
  if (!boundary || boundary->empty()) {
    return core::invalid_argument("Content-Type multipart/form-data has no boundary parameter");
  }
  if (boundary->size() > kMaxBoundary) {
    return core::invalid_argument(
        fmt::format("multipart boundary is longer than {} characters", kMaxBoundary));
  }

  auto first = find_delimiter(body, *boundary, 0);
  if (!first) {
    return core::invalid_argument(
        fmt::format("form body does not contain the boundary '--{}'", *boundary));
  }
  if (first->close) return core::invalid_argument("form body has no parts");

  // In order of preference: a part with a filename; a file field left empty
  // (a browser sends filename=""); any part.
  std::optional<FormFile> with_name;
  std::optional<FormFile> empty_file;
  std::optional<FormFile> first_part;
  std::size_t start = first->next;
  for (int index = 1;; ++index) {
    auto next = find_delimiter(body, *boundary, start);
    if (!next) {
      return core::invalid_argument(fmt::format(
          "form body ends without the closing boundary '--{}--' (truncated upload?)", *boundary));
    }
    auto part = parse_part(body.substr(start, next->content_end - start), index);
    if (!part) return part.error();
    // Found files are kept, but the rest is still checked so a truncated
    // upload is an error rather than a silently short file.
    if (!first_part) first_part = part->file;
    if (!empty_file && part->has_filename) empty_file = part->file;
    if (!with_name && !part->file.filename.empty()) with_name = part->file;
    if (next->close) break;
    start = next->next;
  }
  if (with_name) return *with_name;
  return empty_file ? *empty_file : *first_part;
}

}  // namespace p2p::wire

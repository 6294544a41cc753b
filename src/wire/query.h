// URL query strings: splitting into key/value pairs and percent-decoding.
//
// BitTorrent puts raw binary (info_hash, peer_id) in the query, percent-encoded
// byte by byte, so decoding yields bytes, not text: "%00" is a NUL byte and '+'
// is a literal plus only outside form encoding (we decode '+' as space, as
// every HTTP server does for query strings; clients percent-encode '+').
// Pure functions on views, no allocation. Thread-compatible.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace p2p::wire {

// Iterates "a=1&b=2" pairs in order; keys and values are still encoded.
class QueryIterator {
 public:
  explicit QueryIterator(std::string_view query) : rest_(query) {}
  // Next pair; false at the end. Empty segments ("a=1&&b=2") are skipped; a
  // key without '=' yields an empty value.
  bool next(std::string_view& key, std::string_view& value);

 private:
  std::string_view rest_;
};

// The value of the last pair named `name` in `query`, still encoded; nullopt
// when there is none.
std::optional<std::string_view> query_value(std::string_view query, std::string_view name);

// Percent-decodes `in` into `out` (capacity `out_size`), returning the decoded
// length, or nullopt if `in` has a bad escape ("%G1", a trailing "%") or the
// result would not fit.
std::optional<std::size_t> percent_decode(std::string_view in, char* out, std::size_t out_size);

// The length `in` decodes to, or nullopt if it has a bad escape. Lets a caller
// that decodes into a fixed buffer say how long a wrong-sized value was.
std::optional<std::size_t> percent_decoded_size(std::string_view in);

// Splits a request target "/path?query" into its path and query (no '?').
struct Target {
  std::string_view path;
  std::string_view query;
};
Target split_target(std::string_view target);

}  // namespace p2p::wire

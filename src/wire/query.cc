#include "wire/query.h"

namespace p2p::wire {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool QueryIterator::next(std::string_view& key, std::string_view& value) {
  while (!rest_.empty()) {
    std::size_t amp = rest_.find('&');
    std::string_view pair = rest_.substr(0, amp);
    rest_ = amp == std::string_view::npos ? std::string_view() : rest_.substr(amp + 1);
    // "a=1&&b=2" and a trailing '&' are common in hand-built URLs; skip the hole.
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      key = pair;
      value = {};
    } else {
      key = pair.substr(0, eq);
      value = pair.substr(eq + 1);
    }
    return true;
  }
  return false;
}

std::optional<std::size_t> percent_decode(std::string_view in, char* out, std::size_t out_size) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (n == out_size) return std::nullopt;
    char c = in[i];
    if (c == '%') {
      // Both hex digits must be there: "%4" at the end is as broken as "%G1".
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out[n++] = static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+') {
      out[n++] = ' ';
    } else {
      out[n++] = c;
    }
  }
  return n;
}

std::optional<std::size_t> percent_decoded_size(std::string_view in) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < in.size(); ++i, ++n) {
    if (in[i] != '%') continue;
    if (i + 2 >= in.size() || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0) {
      return std::nullopt;
    }
    i += 2;
  }
  return n;
}

std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  QueryIterator it(query);
  std::string_view k, v;
  std::optional<std::string_view> found;
  while (it.next(k, v)) {
    if (k == name) found = v;
  }
  return found;
}

Target split_target(std::string_view target) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

}  // namespace p2p::wire

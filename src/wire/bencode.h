// Bencode (BEP 3): an encoder that appends to a caller-owned buffer, and a
// decoder for tests, tools and anything that reads a tracker reply.
//
// The encoder is on the announce path: it writes into a std::string the worker
// reuses, so once that buffer has grown to its working size encoding allocates
// nothing. The caller writes dictionary keys in sorted order (BEP 3 requires
// it); the encoder does not sort. Pure functions, no I/O, thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace p2p::wire {

class BencodeWriter {
 public:
  explicit BencodeWriter(std::string& out) : out_(out) {}

  void integer(std::int64_t v);
  void string(std::string_view s);
  void begin_dict() { out_.push_back('d'); }
  void begin_list() { out_.push_back('l'); }
  void end() { out_.push_back('e'); }

  // Shorthands for dictionary entries.
  void key_int(std::string_view key, std::int64_t v) {
    string(key);
    integer(v);
  }
  void key_string(std::string_view key, std::string_view v) {
    string(key);
    string(v);
  }

 private:
  std::string& out_;
};

// A decoded bencode value. Dictionaries keep keys sorted (std::map), which
// is also how BEP 3 requires them on the wire.
struct BValue {
  using List = std::vector<BValue>;
  using Dict = std::map<std::string, BValue, std::less<>>;
  std::variant<std::int64_t, std::string, List, Dict> v;

  bool is_int() const { return v.index() == 0; }
  bool is_string() const { return v.index() == 1; }
  bool is_list() const { return v.index() == 2; }
  bool is_dict() const { return v.index() == 3; }
  std::int64_t as_int() const { return std::get<0>(v); }
  const std::string& as_string() const { return std::get<1>(v); }
  const List& as_list() const { return std::get<2>(v); }
  const Dict& as_dict() const { return std::get<3>(v); }
  // Dictionary lookup; nullptr if not a dict or no such key.
  const BValue* find(std::string_view key) const;
};

// Decodes exactly one value spanning all of `in`. Rejects trailing bytes,
// leading zeros, "-0", unsorted or duplicate keys, and nesting deeper than
// kMaxDepth (so hostile input cannot exhaust the stack).
inline constexpr int kMaxBencodeDepth = 64;
core::Result<BValue> bdecode(std::string_view in);

// Encodes a decoded value (round-trip tests).
std::string bencode(const BValue& value);

}  // namespace p2p::wire

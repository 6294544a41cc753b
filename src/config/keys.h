// The key table and the value model shared by the two file loaders.
//
// Private to src/config/: config.cc owns the table (every key declared once) and
// the TOML loader; legacy.cc reads the original's Python-style files into the same
// Values and stores them through the same assign(), so both formats check types
// and ranges with identical words. Used only while loading, on the main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace p2p::config::internal {

// Where a key's value lives in Config; the alternative is the key's type.
using Member = std::variant<std::string Config::*, std::uint16_t Config::*, int Config::*,
                            bool Config::*, std::vector<core::Cidr> Config::*,
                            std::vector<std::string> Config::*, std::vector<int> Config::*>;

struct Key {
  std::string_view name;  // lower case, as in a TOML file
  int group = 0;          // heading in --print-config (index into config.cc's kGroups)
  Member member;
  std::int64_t min = 0;  // integer (list) keys: the valid range, inclusive
  std::int64_t max = 0;
  std::vector<std::string_view> choices;  // string (list) keys: allowed values; empty: any
  bool non_empty = false;                 // string keys: "" is invalid
  bool json_pointers = false;             // string list keys: each item a JSON pointer
  std::string_view doc;                   // one paragraph: meaning and reason
};

// Every key, in --print-config order.
const std::vector<Key>& keys();
// The key called `name` (lower case), or nullptr.
const Key* find_key(std::string_view name);

// Which spelling messages use: TOML (true, ["10.0.0.0/8"]) or Python (True, [...]).
enum class Dialect { kToml, kLegacy };

// A value as written in a file or a --set, before it meets its key.
struct Value {
  enum class Kind { kString, kInteger, kBool, kArray, kNone, kOther };
  Kind kind = Kind::kOther;
  std::string text;  // kString
  std::int64_t integer = 0;
  bool boolean = false;
  std::vector<Value> items;  // kArray
  std::string shown;         // the value as quoted in errors ("got <shown>")
  int line = 0;              // 1-based line it was written on; 0: none (a --set)
};

// ASCII lower and upper case; and `s` without leading and trailing white space.
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string_view trim(std::string_view s);

// "source:line", or just "source" when line is 0.
std::string where(std::string_view source, int line);

// Checks `value` against `key` (type, range, choices, CIDR syntax) and stores it.
// `written` is the key as the user spelled it (PORT in a legacy file). Errors read
// "<source>:<line>: key '<written>': expected <what is valid>, got <value>".
core::Status assign(Config& config, const Key& key, const Value& value, std::string_view source,
                    std::string_view written, Dialect dialect);

// The key `written` is probably a misspelling of (at most two edits, and fewer than
// a third of the word), or nullptr.
const Key* closest_key(std::string_view written);

// "unknown key 'prot'; did you mean 'port'?" or "unknown key 'x' (known keys: ...)",
// key names spelled for `dialect` (upper case for legacy files).
std::string unknown_key_message(std::string_view written, Dialect dialect);

// A key a file set, remembered so a later validate() failure can name its line.
struct Setting {
  std::string_view key;  // the table's name
  std::string written;
  int line = 0;
};

// One file read on top of `base`: the config with the file's keys set, which
// keys it set where, and what it said that p2ptracker ignores ("file:line: ...").
struct Parsed {
  Config config;
  std::vector<Setting> settings;
  std::vector<std::string> warnings;
};

core::Result<Parsed> parse_toml_text(std::string_view text, std::string_view source,
                                     const Config& base);
core::Result<Parsed> parse_legacy_text(std::string_view text, std::string_view source,
                                       const Config& base);

}  // namespace p2p::config::internal

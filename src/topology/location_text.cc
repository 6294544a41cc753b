#include "topology/location_text.h"

#include <fmt/format.h>

#include <algorithm>

#include "topology/static_map_locator.h"

namespace p2p::topology {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A word as it may appear in a message: printable ASCII, at most 64 bytes.
std::string shown(std::string_view word) {
  std::string out;
  for (char c : word.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (word.size() > 64) out += "...";
  return "'" + out + "'";
}

Answer error(std::string detail) {
  return bad_record_answer("malformed answer: " + std::move(detail));
}

}  // namespace

Answer parse_location_text(std::string_view text, const std::vector<std::string>& levels) {
  if (text.size() > kMaxLocationTextBytes) {
    return error(fmt::format("{} bytes (at most {})", text.size(), kMaxLocationTextBytes));
  }
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && is_blank(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  Answer a;
  a.kind = Answer::Kind::kUnknown;
  if (words.empty()) return a;

  std::string rack;
  std::string missing;  // the levels a key=value answer leaves out
  if (words.size() == 1 && words[0].find('=') == std::string_view::npos) {
    rack = std::string(words[0]);  // a path
  } else {
    std::vector<std::string_view> values(levels.size());
    for (std::string_view word : words) {
      const auto eq = word.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return error(fmt::format("{} is not key=value", shown(word)));
      }
      const std::string_view key = word.substr(0, eq);
      const auto level = std::find(levels.begin(), levels.end(), key);
      if (level == levels.end()) continue;
      std::string_view& value = values[static_cast<std::size_t>(level - levels.begin())];
      if (!value.empty()) return error(fmt::format("{}= is given twice", shown(key)));
      value = word.substr(eq + 1);
      if (value.empty()) return error(fmt::format("{}= has no value", shown(key)));
    }
    for (std::size_t i = 0; i < levels.size(); ++i) {
      if (values[i].empty()) {
        missing += (missing.empty() ? "" : ", ") + levels[i] + "=";
        continue;
      }
      if (!rack.empty()) rack.push_back('/');
      rack.append(values[i]);
    }
    if (rack.empty()) {
      std::string keys;
      for (const auto& l : levels) keys += (keys.empty() ? "" : ", ") + l + "=";
      return error(fmt::format("none of {} in {}", keys, shown(text)));
    }
  }
  if (auto ok = check_rack_name(rack, "malformed answer"); !ok) {
    a.kind = Answer::Kind::kError;
    a.detail = ok.error().message;
    return a;
  }
  // A location missing a level would put its outer groups at the wrong
  // level, where its hosts and the others' do not see each other
  // (docs/topology.md).
  if (!missing.empty()) {
    return error(
        fmt::format("no {} in {} (a location names every one of levels)", missing, shown(text)));
  }
  if (const std::size_t n = path_levels(rack); n != levels.size()) {
    return error(fmt::format("{} has {} level{}, levels has {}", shown(rack), n, n == 1 ? "" : "s",
                             levels.size()));
  }
  a.kind = Answer::Kind::kFound;
  a.rack = std::move(rack);
  return a;
}

}  // namespace p2p::topology

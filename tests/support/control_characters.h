// Whether text shown on a terminal could steer it: a C0 control other than
// line feed and tab (ESC, carriage return...), DEL, or a C1 control in UTF-8
// (U+0080-U+009F, CSI among them). The oracle of the tests and the fuzz
// target of cli::printable, written apart from it.
#pragma once

#include <string_view>

namespace p2p::test {

inline bool has_control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

}  // namespace p2p::test

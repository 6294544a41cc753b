// The text form of a location that DNS TXT records and plugin programs
// answer with:
//
//   dc=ams1 row=3 rack=12     key=value words, keys from the `levels` key
//   ams1/row3/rack12          or one path, outermost level first
//
// The rack is the path of the levels' values, outermost first ("ams1/3/12"),
// so two racks called 12 in different rows stay apart. Keys not in `levels`
// are ignored (an answer may carry more than the tracker uses).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "topology/lookup_source.h"

namespace p2p::topology {

// Longest answer text read (a TXT record or a program's output).
inline constexpr std::size_t kMaxLocationTextBytes = 4096;

// Empty (or only white space): kUnknown. key=value words naming none of
// `levels`, a key given twice, a word that is neither key=value nor (alone) a
// path, or a rack name that is not 1-128 of A-Z a-z 0-9 . _ : / -: kError
// saying which. Never throws on any input.
Answer parse_location_text(std::string_view text, const std::vector<std::string>& levels);

}  // namespace p2p::topology

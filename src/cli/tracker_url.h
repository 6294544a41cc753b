// TrackerUrl: where the operator commands find the tracker, from --tracker or
// P2PTRACKER_URL.
//
// Operators paste either the announce URL they put in a .torrent
// (http://host:6969/announce) or the tracker's base URL (http://host:6969);
// both name the same tracker, so both parse to the same value. Pure; a plain
// value, thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace p2p::cli {

struct TrackerUrl {
  std::string host;  // a name or an address; IPv6 without the brackets
  std::uint16_t port = 0;
  std::string base_path;  // "" or "/prefix" (behind a reverse proxy); never ends in '/'

  // "host:port", "[v6]:port": for messages ("cannot reach tracker at ...").
  std::string authority() const;
  // http://host:port<base_path><target>; `target` starts with '/'.
  std::string url(std::string_view target) const;
  // What a .torrent announces to: url("/announce").
  std::string announce_url() const { return url("/announce"); }
};

// Accepts http://HOST[:PORT][/PREFIX][/announce] and HOST[:PORT][...]; the
// port defaults to 80 with "http://" (what the URL means) and to the tracker's
// own default 6969 without a scheme. A query or fragment is refused, as are
// other schemes (the tracker speaks plain HTTP only).
// Errors: core::invalid_argument saying what is wrong and what is expected.
core::Result<TrackerUrl> parse_tracker_url(std::string_view text);

// Percent-encodes one path segment (RFC 3986 unreserved characters kept).
std::string percent_encode_segment(std::string_view segment);

}  // namespace p2p::cli

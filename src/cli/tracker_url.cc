#include "cli/tracker_url.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace p2p::cli {
namespace {

// The port `p2ptracker serve` listens on by default (config key `port`).
constexpr std::uint16_t kDefaultTrackerPort = 6969;
constexpr std::uint16_t kDefaultHttpPort = 80;
constexpr std::string_view kExpected = "expected http://HOST:PORT or http://HOST:PORT/announce";

core::Error bad(std::string_view text, std::string_view why) {
  return core::invalid_argument(fmt::format("bad tracker URL '{}': {}; {}", text, why, kExpected));
}

}  // namespace

std::string TrackerUrl::authority() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string TrackerUrl::url(std::string_view target) const {
  return fmt::format("http://{}{}{}", authority(), base_path, target);
}

core::Result<TrackerUrl> parse_tracker_url(std::string_view text) {
  if (text.empty()) return bad(text, "it is empty");
  std::string_view rest = text;
  std::uint16_t default_port = kDefaultTrackerPort;
  if (auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    std::string scheme(rest.substr(0, scheme_end));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https")
      return bad(text, "https is not supported (the tracker serves plain HTTP)");
    if (scheme != "http") return bad(text, fmt::format("unsupported scheme '{}'", scheme));
    rest.remove_prefix(scheme_end + 3);
    default_port = kDefaultHttpPort;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad(text, "a query or fragment is not allowed");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad(text, "user info is not allowed");

  TrackerUrl u;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad(text, "unclosed '[' in the host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad(text, "junk after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return bad(text, "empty port");
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(':') != colon) {
      return bad(text, "an IPv6 address must be in brackets, as in http://[::1]:6969");
    }
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad(text, "empty port");
    }
  }
  if (u.host.empty()) return bad(text, "no host");
  u.port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return bad(text, fmt::format("port '{}' is not a number from 1 to 65535", port_text));
    }
    u.port = static_cast<std::uint16_t>(value);
  }

  // Drop trailing slashes and a final "announce" segment: what is left is the
  // prefix every endpoint (/announce, /torrents/, /transfers/) lives under.
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  constexpr std::string_view kAnnounce = "/announce";
  if (path.ends_with(kAnnounce)) path.remove_suffix(kAnnounce.size());
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.base_path = std::string(path);
  return u;
}

std::string percent_encode_segment(std::string_view segment) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char ch : segment) {
    auto c = static_cast<unsigned char>(ch);
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xF]);
    }
  }
  return out;
}

}  // namespace p2p::cli

#include "wire/announce.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "wire/bencode.h"
#include "wire/query.h"

namespace p2p::wire {
namespace {

// The encoded value of every parameter we read; nullopt when absent. Filled in
// one pass so a repeated parameter simply overwrites (last wins) and only the
// value that counts is validated.
struct RawParams {
  std::optional<std::string_view> info_hash;
  std::optional<std::string_view> peer_id;
  std::optional<std::string_view> port;
  std::optional<std::string_view> uploaded;
  std::optional<std::string_view> downloaded;
  std::optional<std::string_view> left;
  std::optional<std::string_view> event;
  std::optional<std::string_view> compact;
  std::optional<std::string_view> no_peer_id;
  std::optional<std::string_view> numwant;
  std::optional<std::string_view> key;
  std::optional<std::string_view> ip;
};

// Parameter names are matched as sent: every client writes them literally, and
// not decoding them keeps the scan a plain comparison.
RawParams collect(std::string_view query) {
  RawParams p;
  QueryIterator it(query);
  std::string_view k, v;
  while (it.next(k, v)) {
    if (k == "info_hash") {
      p.info_hash = v;
    } else if (k == "peer_id") {
      p.peer_id = v;
    } else if (k == "port") {
      p.port = v;
    } else if (k == "uploaded") {
      p.uploaded = v;
    } else if (k == "downloaded") {
      p.downloaded = v;
    } else if (k == "left") {
      p.left = v;
    } else if (k == "event") {
      p.event = v;
    } else if (k == "compact") {
      p.compact = v;
    } else if (k == "no_peer_id") {
      p.no_peer_id = v;
    } else if (k == "numwant") {
      p.numwant = v;
    } else if (k == "key") {
      p.key = v;
    } else if (k == "ip") {
      p.ip = v;
    }
  }
  return p;
}

// Decodes a short parameter into a caller's stack buffer; nullopt if it has a
// bad escape or does not fit (no legitimate value of ours comes close).
template <std::size_t N>
std::optional<std::string_view> decode_small(std::string_view encoded, char (&buf)[N]) {
  auto n = percent_decode(encoded, buf, N);
  if (!n) return std::nullopt;
  return std::string_view(buf, *n);
}

// Decodes info_hash or peer_id straight into the request (on the caller's
// stack): exactly Digest20::kSize bytes or an error saying what arrived.
template <class Digest>
core::Status decode_digest(std::string_view name, const std::optional<std::string_view>& encoded,
                           Digest& out) {
  if (!encoded) return core::invalid_argument(fmt::format("missing {}", name));
  auto n = percent_decode(*encoded, reinterpret_cast<char*>(out.bytes.data()), Digest::kSize);
  if (n && *n == Digest::kSize) return {};
  auto size = percent_decoded_size(*encoded);
  if (!size) {
    return core::invalid_argument(
        fmt::format("{} has a bad percent-escape (each byte is %XX, two hex digits)", name));
  }
  return core::invalid_argument(
      fmt::format("{} must be {} bytes, got {}", name, Digest::kSize, *size));
}

// Plain unsigned decimal that fits in 64 bits; no sign, no spaces.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

core::Status decode_u64(std::string_view name, const std::optional<std::string_view>& encoded,
                        std::uint64_t& out) {
  if (!encoded) return core::invalid_argument(fmt::format("missing {}", name));
  char buf[32];
  auto text = decode_small(*encoded, buf);
  auto v = text ? parse_u64(*text) : std::nullopt;
  if (!v) {
    return core::invalid_argument(fmt::format("{} must be a non-negative integer (at most {})",
                                              name, std::numeric_limits<std::uint64_t>::max()));
  }
  out = *v;
  return {};
}

core::Status decode_port(const std::optional<std::string_view>& encoded, std::uint16_t& out) {
  if (!encoded) return core::invalid_argument("missing port");
  char buf[16];
  auto text = decode_small(*encoded, buf);
  auto v = text ? parse_u64(*text) : std::nullopt;
  // Port 0 cannot be connected to; a client sending it has a broken listener.
  if (!v || *v == 0 || *v > 65535) {
    return core::invalid_argument("port must be a number from 1 to 65535");
  }
  out = static_cast<std::uint16_t>(*v);
  return {};
}

// The value as a client user should see it in an error: bounded, printable.
std::string printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 32;
  std::string out;
  for (char c : s.substr(0, kMaxShown)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > kMaxShown) out += "...";
  return out;
}

core::Status decode_event(const std::optional<std::string_view>& encoded, AnnounceEvent& out) {
  out = AnnounceEvent::kNone;
  if (!encoded) return {};
  char buf[16];
  auto text = decode_small(*encoded, buf);
  if (text) {
    // "paused" (BEP 21, partial seeds) carries nothing the swarm acts on: the
    // peer stays where it is, like a regular interval announce.
    if (text->empty() || *text == "paused") return {};
    if (*text == "started") {
      out = AnnounceEvent::kStarted;
      return {};
    }
    if (*text == "completed") {
      out = AnnounceEvent::kCompleted;
      return {};
    }
    if (*text == "stopped") {
      out = AnnounceEvent::kStopped;
      return {};
    }
  }
  return core::invalid_argument(
      fmt::format("unknown event '{}' (expected started, completed, stopped or empty)",
                  printable(text ? *text : *encoded)));
}

// numwant: some clients send -1 for "whatever you like" and others send
// nonsense; neither deserves a failed announce, so both mean "absent". A huge
// number asks for everything, so it saturates instead of failing.
std::optional<std::uint32_t> decode_numwant(std::string_view encoded) {
  char buf[32];
  auto text = decode_small(encoded, buf);
  if (!text || text->empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > std::numeric_limits<std::uint32_t>::max()) {
      v = std::numeric_limits<std::uint32_t>::max();
      // Keep scanning only to reject trailing garbage.
    }
  }
  return static_cast<std::uint32_t>(v);
}

// key: libtorrent, rtorrent, Transmission and uTorrent send 8 hex digits;
// a few older clients send decimal. Exactly 8 hex digits is read as hex (so a
// client that happens to draw only decimal digits is read the same way every
// time); otherwise decimal, then shorter hex. Anything else is dropped: the
// key only helps recognise a peer whose address changed.
std::optional<std::uint32_t> decode_key(std::string_view encoded) {
  char buf[16];
  auto text = decode_small(encoded, buf);
  if (!text || text->empty()) return std::nullopt;
  const char* b = text->data();
  const char* e = b + text->size();
  std::uint32_t v = 0;
  if (text->size() == 8) {
    auto [end, ec] = std::from_chars(b, e, v, 16);
    if (ec == std::errc() && end == e) return v;
  }
  if (auto [end, ec] = std::from_chars(b, e, v, 10); ec == std::errc() && end == e) return v;
  if (auto [end, ec] = std::from_chars(b, e, v, 16); ec == std::errc() && end == e) return v;
  return std::nullopt;
}

// Only a literal address counts; a hostname would need DNS on the announce
// path, and old clients sending one get their source address instead.
std::optional<core::Address> decode_ip(std::string_view encoded) {
  char buf[64];
  auto text = decode_small(encoded, buf);
  if (!text) return std::nullopt;
  return core::Address::parse(*text);
}

// "<n>:" before raw bytes written straight into `out` (peer strings).
void append_length(std::size_t n, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
  out.push_back(':');
}

void append_port(std::uint16_t port, std::string& out) {
  out.push_back(static_cast<char>(port >> 8));  // network order
  out.push_back(static_cast<char>(port & 0xff));
}

std::string_view raw_address(const core::Address& a) {
  if (a.is_v4()) return {reinterpret_cast<const char*>(a.v4_data()), 4};
  return {reinterpret_cast<const char*>(a.bytes().data()), 16};
}

}  // namespace

core::Result<AnnounceRequest> parse_announce(std::string_view query) {
  RawParams p = collect(query);
  AnnounceRequest r;
  if (auto st = decode_digest("info_hash", p.info_hash, r.info_hash); !st) return st.error();
  if (auto st = decode_digest("peer_id", p.peer_id, r.peer_id); !st) return st.error();
  if (auto st = decode_port(p.port, r.port); !st) return st.error();
  if (auto st = decode_u64("uploaded", p.uploaded, r.uploaded); !st) return st.error();
  if (auto st = decode_u64("downloaded", p.downloaded, r.downloaded); !st) return st.error();
  if (auto st = decode_u64("left", p.left, r.left); !st) return st.error();
  if (auto st = decode_event(p.event, r.event); !st) return st.error();
  // Compact (BEP 23) only when asked for with compact=1, as the original
  // tracker and BEP 3 have it; every current client asks. Without it, the
  // list of dictionaries that old scripts and clients read.
  r.compact = p.compact && *p.compact == "1";
  r.no_peer_id = p.no_peer_id && *p.no_peer_id == "1";
  if (p.numwant) r.numwant = decode_numwant(*p.numwant);
  if (p.key) r.key = decode_key(*p.key);
  if (p.ip) r.ip = decode_ip(*p.ip);
  return r;
}

void encode_announce(const AnnounceReply& reply, std::string& out) {
  BencodeWriter w(out);
  // Keys in BEP 3 byte order: complete < external ip < incomplete < interval <
  // min interval < peers < peers6 < warning message.
  w.begin_dict();
  w.key_int("complete", reply.complete);
  if (reply.external_ip) w.key_string("external ip", raw_address(*reply.external_ip));
  w.key_int("incomplete", reply.incomplete);
  w.key_int("interval", reply.interval);
  // Zero would mean "no minimum", which is what leaving the key out says.
  if (reply.min_interval != 0) w.key_int("min interval", reply.min_interval);

  if (reply.compact) {
    // BEP 23 "peers": 4 address bytes + 2 port bytes per IPv4 peer, always
    // present; BEP 7 "peers6": 16 + 2 per IPv6 peer, only when there are some.
    std::size_t v4 = 0;
    for (const PeerEntry& p : reply.peers) v4 += p.endpoint.address.is_v4() ? 1 : 0;
    const std::size_t v6 = reply.peers.size() - v4;
    w.string("peers");
    append_length(v4 * 6, out);
    for (const PeerEntry& p : reply.peers) {
      if (!p.endpoint.address.is_v4()) continue;
      out.append(raw_address(p.endpoint.address));
      append_port(p.endpoint.port, out);
    }
    if (v6 != 0) {
      w.string("peers6");
      append_length(v6 * 18, out);
      for (const PeerEntry& p : reply.peers) {
        if (p.endpoint.address.is_v4()) continue;
        out.append(raw_address(p.endpoint.address));
        append_port(p.endpoint.port, out);
      }
    }
  } else {
    // BEP 3 dictionaries, both families in one list; keys ip < peer id < port.
    w.string("peers");
    w.begin_list();
    for (const PeerEntry& p : reply.peers) {
      // Formatted on the stack: Address::to_string() would allocate.
      char text[INET6_ADDRSTRLEN];
      const core::Address& a = p.endpoint.address;
      if (a.is_v4()) {
        inet_ntop(AF_INET, a.v4_data(), text, sizeof text);
      } else {
        inet_ntop(AF_INET6, a.bytes().data(), text, sizeof text);
      }
      w.begin_dict();
      w.key_string("ip", text);
      if (!reply.no_peer_id) w.key_string("peer id", p.peer_id.view());
      w.key_int("port", p.endpoint.port);
      w.end();
    }
    w.end();
  }

  if (!reply.warning.empty()) w.key_string("warning message", reply.warning);
  w.end();
}

void encode_failure(std::string_view reason, std::string& out) {
  BencodeWriter w(out);
  w.begin_dict();
  w.key_string("failure reason", reason);
  w.end();
}

}  // namespace p2p::wire

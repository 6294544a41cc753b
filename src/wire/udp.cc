#include "wire/udp.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace p2p::wire {
namespace {

std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint8_t* put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) *p++ = static_cast<std::uint8_t>(v >> (8 * i));
  return p;
}
std::uint8_t* put32(std::uint8_t* p, std::uint32_t v) {
  *p++ = static_cast<std::uint8_t>(v >> 24);
  *p++ = static_cast<std::uint8_t>(v >> 16);
  *p++ = static_cast<std::uint8_t>(v >> 8);
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}
std::uint8_t* put16(std::uint8_t* p, std::uint16_t v) {
  *p++ = static_cast<std::uint8_t>(v >> 8);
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

// BEP 41 option types.
constexpr std::uint8_t kEndOfOptions = 0;
constexpr std::uint8_t kNop = 1;
constexpr std::uint8_t kUrlData = 2;

core::Error too_small(std::size_t needed, std::span<const std::uint8_t> out) {
  return core::too_large("UDP reply of " + std::to_string(needed) + " bytes exceeds its " +
                         std::to_string(out.size()) + "-byte buffer");
}

}  // namespace

bool parse_udp_header(std::span<const std::uint8_t> packet, UdpHeader& out) {
  if (packet.size() < 16) return false;
  out.connection_id = get64(packet.data());
  out.action = get32(packet.data() + 8);
  out.transaction_id = get32(packet.data() + 12);
  return true;
}

core::Result<UdpAnnounce> parse_udp_announce(std::span<const std::uint8_t> packet) {
  if (packet.size() < kUdpAnnounceSize) {
    return core::invalid_argument("truncated announce: " + std::to_string(packet.size()) +
                                  " bytes, expected at least 98");
  }
  const std::uint8_t* p = packet.data() + 16;
  UdpAnnounce out;
  AnnounceRequest& r = out.request;
  std::memcpy(r.info_hash.bytes.data(), p, 20);
  std::memcpy(r.peer_id.bytes.data(), p + 20, 20);
  r.downloaded = get64(p + 40);
  r.left = get64(p + 48);
  r.uploaded = get64(p + 56);
  switch (get32(p + 64)) {
    case 0:
      r.event = AnnounceEvent::kNone;
      break;
    case 1:
      r.event = AnnounceEvent::kCompleted;
      break;
    case 2:
      r.event = AnnounceEvent::kStarted;
      break;
    case 3:
      r.event = AnnounceEvent::kStopped;
      break;
    default:
      return core::invalid_argument("unknown event (expected 0-3)");
  }
  if (std::uint32_t ip = get32(p + 68); ip != 0) r.ip = core::Address::v4(ip);
  r.key = get32(p + 72);
  if (auto n = static_cast<std::int32_t>(get32(p + 76)); n >= 0)
    r.numwant = static_cast<std::uint32_t>(n);
  r.port = get16(p + 80);
  if (r.port == 0) return core::invalid_argument("port must be from 1 to 65535");
  r.compact = true;

  // BEP 41: a list of options until EndOfOptions or the end of the packet.
  // Anything malformed just ends the list: the announce itself is valid.
  std::size_t i = kUdpAnnounceSize;
  std::size_t url_start = kUdpAnnounceSize, url_len = 0;
  while (i < packet.size()) {
    std::uint8_t type = packet[i++];
    if (type == kEndOfOptions) break;
    if (type == kNop) continue;
    if (i >= packet.size()) break;
    std::size_t len = packet[i++];
    if (i + len > packet.size()) break;
    // URLData may be split over several options that concatenate; the path
    // and query fit in the first one for every client we know, and nothing
    // we do depends on it, so only that one is kept (as a view, no copy).
    if (type == kUrlData && url_len == 0) {
      url_start = i;
      url_len = len;
    }
    i += len;
  }
  out.url_data =
      std::string_view(reinterpret_cast<const char*>(packet.data() + url_start), url_len);
  return out;
}

core::Status parse_udp_scrape(std::span<const std::uint8_t> packet,
                              std::vector<core::InfoHash>& out) {
  if (packet.size() <= 16) return core::invalid_argument("scrape without info_hash");
  const std::size_t body = packet.size() - 16;
  if (body % 20 != 0) return core::invalid_argument("scrape with a partial info_hash");
  if (body / 20 > kUdpMaxScrapeHashes) {
    return core::invalid_argument("scrape of more than 74 info_hashes");
  }
  for (std::size_t off = 16; off < packet.size(); off += 20) {
    core::InfoHash h;
    std::memcpy(h.bytes.data(), packet.data() + off, 20);
    out.push_back(h);
  }
  return {};
}

core::Result<std::size_t> encode_udp_connect(std::uint32_t transaction_id,
                                             std::uint64_t connection_id,
                                             std::span<std::uint8_t> out) {
  if (out.size() < kUdpConnectReplySize) return too_small(kUdpConnectReplySize, out);
  std::uint8_t* p = out.data();
  p = put32(p, static_cast<std::uint32_t>(UdpAction::kConnect));
  p = put32(p, transaction_id);
  p = put64(p, connection_id);
  return static_cast<std::size_t>(p - out.data());
}

core::Result<std::size_t> encode_udp_announce(std::uint32_t transaction_id,
                                              const AnnounceReply& reply, bool ipv6,
                                              std::span<std::uint8_t> out) {
  const std::size_t header = udp_announce_reply_size(0, ipv6);
  if (out.size() < header) return too_small(header, out);
  std::uint8_t* p = out.data();
  std::uint8_t* const end = out.data() + out.size();
  p = put32(p, static_cast<std::uint32_t>(UdpAction::kAnnounce));
  p = put32(p, transaction_id);
  p = put32(p, reply.interval);
  p = put32(p, reply.incomplete);
  p = put32(p, reply.complete);
  const std::size_t entry = udp_announce_reply_size(1, ipv6) - header;
  for (const PeerEntry& peer : reply.peers) {
    if (peer.endpoint.address.is_v4() == ipv6) continue;
    if (static_cast<std::size_t>(end - p) < entry) break;
    if (ipv6) {
      std::memcpy(p, peer.endpoint.address.bytes().data(), 16);
      p += 16;
    } else {
      std::memcpy(p, peer.endpoint.address.v4_data(), 4);
      p += 4;
    }
    p = put16(p, peer.endpoint.port);
  }
  return static_cast<std::size_t>(p - out.data());
}

core::Result<std::size_t> encode_udp_scrape(std::uint32_t transaction_id,
                                            std::span<const ScrapeEntry> entries,
                                            std::span<std::uint8_t> out) {
  const std::size_t size = udp_scrape_reply_size(entries.size());
  if (out.size() < size) return too_small(size, out);
  std::uint8_t* p = out.data();
  p = put32(p, static_cast<std::uint32_t>(UdpAction::kScrape));
  p = put32(p, transaction_id);
  for (const ScrapeEntry& e : entries) {
    p = put32(p, e.complete);
    p = put32(p, e.downloaded);
    p = put32(p, e.incomplete);
  }
  return size;
}

core::Result<std::size_t> encode_udp_error(std::uint32_t transaction_id, std::string_view message,
                                           std::span<std::uint8_t> out) {
  if (out.size() < kUdpErrorHeaderSize) return too_small(kUdpErrorHeaderSize, out);
  std::uint8_t* p = out.data();
  p = put32(p, static_cast<std::uint32_t>(UdpAction::kError));
  p = put32(p, transaction_id);
  std::size_t n = std::min(message.size(), out.size() - kUdpErrorHeaderSize);
  std::memcpy(p, message.data(), n);
  return kUdpErrorHeaderSize + n;
}

}  // namespace p2p::wire

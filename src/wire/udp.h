// UDP tracker protocol (BEP 15), with BEP 41 option bytes: parsing requests and
// encoding replies on raw packet buffers. Pure, no I/O, no allocation (but for
// the message of an error result). Thread-compatible.
//
// All integers are big-endian. Requests:
//   connect   16 bytes: protocol_id(8) action=0(4) transaction_id(4)
//   announce  98 bytes: connection_id(8) action=1 transaction_id info_hash(20)
//             peer_id(20) downloaded(8) left(8) uploaded(8) event(4) ip(4)
//             key(4) num_want(4) port(2), then BEP 41 options
//   scrape    16 + 20*N bytes: connection_id(8) action=2 transaction_id hashes
// Replies: connect (16), announce (20 + 6 or 18 per peer), scrape (8 + 12 per
// hash), error (8 + message). udp_reply_capacity() sizes a buffer for any of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/digest.h"
#include "core/result.h"
#include "wire/announce.h"
#include "wire/scrape.h"

namespace p2p::wire {

inline constexpr std::uint64_t kUdpProtocolId = 0x41727101980ull;  // BEP 15's magic
inline constexpr std::size_t kUdpAnnounceSize = 98;
// A scrape packet carries at most this many hashes: BEP 15's "up to about 74",
// a request of 16 + 74 * 20 = 1496 bytes, about what one 1500-byte Ethernet
// frame carries. More is an error reply, not a partial answer: BEP 15 pairs
// reply entries with the requested hashes by position.
inline constexpr std::size_t kUdpMaxScrapeHashes = 74;

inline constexpr std::size_t kUdpConnectReplySize = 16;
inline constexpr std::size_t kUdpErrorHeaderSize = 8;  // then the message, unterminated

// Bytes of an announce reply carrying `peers` peers of one family.
constexpr std::size_t udp_announce_reply_size(std::size_t peers, bool ipv6) {
  return 20 + peers * (ipv6 ? 18 : 6);
}
// Bytes of a scrape reply for `hashes` requested hashes.
constexpr std::size_t udp_scrape_reply_size(std::size_t hashes) { return 8 + 12 * hashes; }

// The smallest reply buffer that holds every reply to any request a server
// whose announces return at most `maxpeers` peers can get: an IPv6 announce of
// maxpeers peers or a scrape of kUdpMaxScrapeHashes, whichever is larger (a
// connect is smaller than both; an error message is cut to fit). A small
// maxpeers makes the scrape the larger: an announce of 35 IPv6 peers takes 650
// bytes, a full scrape 896.
constexpr std::size_t udp_reply_capacity(std::uint32_t maxpeers) {
  const std::size_t announce = udp_announce_reply_size(maxpeers, true);
  const std::size_t scrape = udp_scrape_reply_size(kUdpMaxScrapeHashes);
  return announce > scrape ? announce : scrape;
}

enum class UdpAction : std::uint32_t { kConnect = 0, kAnnounce = 1, kScrape = 2, kError = 3 };

// What the first bytes of a packet say, before anything is trusted. A packet
// shorter than 16 bytes has no header at all (drop it).
struct UdpHeader {
  std::uint64_t connection_id = 0;  // protocol_id for a connect
  std::uint32_t action = 0;
  std::uint32_t transaction_id = 0;
};
bool parse_udp_header(std::span<const std::uint8_t> packet, UdpHeader& out);

// Parses an announce (header already checked) into the HTTP announce model, so
// the same Tracker serves both. event: 0 none, 1 completed, 2 started, 3
// stopped; num_want -1 (or any negative) means the default; ip 0 means the
// sender's address. BEP 41 options after the fixed part are parsed and never
// cause a rejection: malformed option bytes end the option list. Errors:
// truncated packet, port 0, unknown event.
struct UdpAnnounce {
  AnnounceRequest request;
  std::string_view url_data;  // BEP 41: the first URLData option (path and query)
};
core::Result<UdpAnnounce> parse_udp_announce(std::span<const std::uint8_t> packet);

// Appends the scrape's info-hashes to `out` (cleared by the caller). Errors:
// no hash, a partial hash, more than kUdpMaxScrapeHashes.
core::Status parse_udp_scrape(std::span<const std::uint8_t> packet,
                              std::vector<core::InfoHash>& out);

// Encoders write into `out` and return the bytes written. None writes past
// out.size(): a reply that cannot fit writes nothing and returns kTooLarge. A
// buffer of udp_reply_capacity(maxpeers) bytes always fits (an announce then
// carrying at most maxpeers peers). They never allocate but for an error.
core::Result<std::size_t> encode_udp_connect(std::uint32_t transaction_id,
                                             std::uint64_t connection_id,
                                             std::span<std::uint8_t> out);
// Peers of the other address family than `ipv6` are skipped: a BEP 15 reply
// holds one kind of address. Peers beyond what `out` holds are left out (a
// tracker may return fewer peers than asked for); kTooLarge only when not even
// the 20-byte header fits.
core::Result<std::size_t> encode_udp_announce(std::uint32_t transaction_id,
                                              const AnnounceReply& reply, bool ipv6,
                                              std::span<std::uint8_t> out);
// One entry per requested hash, in request order; all of them or kTooLarge.
core::Result<std::size_t> encode_udp_scrape(std::uint32_t transaction_id,
                                            std::span<const ScrapeEntry> entries,
                                            std::span<std::uint8_t> out);
// The message is cut to what fits after the 8-byte header.
core::Result<std::size_t> encode_udp_error(std::uint32_t transaction_id, std::string_view message,
                                           std::span<std::uint8_t> out);

}  // namespace p2p::wire

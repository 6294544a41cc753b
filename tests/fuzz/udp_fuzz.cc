// Fuzz target for the UDP tracker protocol (BEP 15, BEP 41 options): the input
// is one datagram, parsed as UdpServer parses it, and every request is answered
// the way the server answers it, into a heap buffer of exactly the server's
// reply slot size (wire::udp_reply_capacity), so a reply that outgrows its slot
// is a heap overflow the sanitizers report (issue 10).
//
// The server's maxpeers comes from the transaction id, over the range the
// config accepts, so the slots of every configuration are tried; an announce
// is answered with min(numwant, maxpeers) peers, as many as Tracker gives.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "wire/udp.h"

namespace {

using namespace p2p;
using Bytes = std::vector<std::uint8_t>;

// The config's range for maxpeers (src/config/config.cc).
constexpr std::uint32_t kMaxpeersLimit = 2000;

std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// A reply's common header: action and transaction id.
void check_header(std::span<const std::uint8_t> reply, wire::UdpAction action,
                  std::uint32_t transaction_id) {
  FUZZ_CHECK(reply.size() >= 8);
  FUZZ_CHECK(get32(reply.data()) == static_cast<std::uint32_t>(action));
  FUZZ_CHECK(get32(reply.data() + 4) == transaction_id);
}

void answer_error(std::uint32_t transaction_id, std::string_view message, Bytes& slot) {
  FUZZ_CHECK(!message.empty());
  auto n = wire::encode_udp_error(transaction_id, message, slot);
  FUZZ_CHECK(n && *n <= slot.size());
  FUZZ_CHECK(*n == wire::kUdpErrorHeaderSize + std::min(message.size(), slot.size() - 8));
  check_header(std::span(slot.data(), *n), wire::UdpAction::kError, transaction_id);
  FUZZ_CHECK(std::memcmp(slot.data() + 8, message.data(), *n - 8) == 0);
}

void answer_announce(std::span<const std::uint8_t> packet, std::uint32_t transaction_id,
                     std::uint32_t maxpeers, Bytes& slot) {
  auto parsed = wire::parse_udp_announce(packet);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == core::ErrorCode::kInvalidArgument);
    answer_error(transaction_id, parsed.error().message, slot);
    return;
  }
  const wire::AnnounceRequest& r = parsed->request;
  FUZZ_CHECK(packet.size() >= wire::kUdpAnnounceSize && r.port != 0 && r.compact);
  // BEP 41: URLData is a view of the option bytes after the fixed part,
  // behind its type (2) and length bytes.
  const std::string_view url = parsed->url_data;
  if (!url.empty()) {
    const auto* at = reinterpret_cast<const std::uint8_t*>(url.data());
    FUZZ_CHECK(at >= packet.data() + wire::kUdpAnnounceSize + 2);
    FUZZ_CHECK(at + url.size() <= packet.data() + packet.size());
    FUZZ_CHECK(at[-2] == 2 && at[-1] == url.size());
  }

  // Peers of both families, derived from the request; the reply keeps the
  // requester's family, as the server does.
  const bool ipv6 = r.key.value_or(0) & 1;
  const std::uint32_t count = std::min(r.numwant.value_or(maxpeers), maxpeers);
  std::vector<wire::PeerEntry> peers(count);
  std::size_t same_family = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const bool v6 = (r.info_hash.bytes[i % 20] >> (i % 8)) & 1;
    std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
    std::memcpy(a + 12, &i, sizeof i);
    peers[i].endpoint = {v6 ? core::Address::v6_bytes(a) : core::Address::v4(0x0A000000 + i),
                         static_cast<std::uint16_t>(1 + i)};
    if (v6 == ipv6) ++same_family;
  }
  wire::AnnounceReply reply;
  reply.interval = 1800;
  reply.complete = r.key.value_or(0);
  reply.incomplete = count;
  reply.peers = peers;
  auto n = wire::encode_udp_announce(transaction_id, reply, ipv6, slot);
  FUZZ_CHECK(n);
  // All of them fit: the slot holds maxpeers peers of either family.
  FUZZ_CHECK(*n == wire::udp_announce_reply_size(same_family, ipv6));
  check_header(std::span(slot.data(), *n), wire::UdpAction::kAnnounce, transaction_id);
}

void answer_scrape(std::span<const std::uint8_t> packet, std::uint32_t transaction_id,
                   Bytes& slot) {
  std::vector<core::InfoHash> hashes;
  if (auto st = wire::parse_udp_scrape(packet, hashes); !st) {
    FUZZ_CHECK(st.error().code == core::ErrorCode::kInvalidArgument);
    answer_error(transaction_id, st.error().message, slot);
    return;
  }
  FUZZ_CHECK(!hashes.empty() && hashes.size() <= wire::kUdpMaxScrapeHashes);
  FUZZ_CHECK(packet.size() == 16 + 20 * hashes.size());
  std::vector<wire::ScrapeEntry> entries;
  for (const core::InfoHash& h : hashes) entries.push_back({h, h.bytes[0], h.bytes[1], h.bytes[2]});
  auto n = wire::encode_udp_scrape(transaction_id, entries, slot);
  FUZZ_CHECK(n && *n == wire::udp_scrape_reply_size(hashes.size()));
  check_header(std::span(slot.data(), *n), wire::UdpAction::kScrape, transaction_id);
  // BEP 15's order: seeders, completed, leechers; one entry per hash in
  // request order.
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    FUZZ_CHECK(get32(slot.data() + 8 + 12 * i) == hashes[i].bytes[0]);
    FUZZ_CHECK(get32(slot.data() + 16 + 12 * i) == hashes[i].bytes[2]);
  }
  // One byte short must not fit, and must be refused rather than written.
  FUZZ_CHECK(!wire::encode_udp_scrape(transaction_id, entries, std::span(slot.data(), *n - 1)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::uint8_t> packet(data, size);
  wire::UdpHeader h;
  if (!wire::parse_udp_header(packet, h)) {
    FUZZ_CHECK(size < 16);
    return 0;
  }
  const std::uint32_t maxpeers = 1 + h.transaction_id % kMaxpeersLimit;
  // Exactly the server's slot, on the heap, so a sanitizer sees any write
  // past it.
  Bytes slot(wire::udp_reply_capacity(maxpeers));

  // The server checks the connection id before the action; any id will do
  // here, since what is fuzzed is what comes after.
  switch (static_cast<wire::UdpAction>(h.action)) {
    case wire::UdpAction::kConnect: {
      if (h.connection_id != wire::kUdpProtocolId) return 0;
      auto n = wire::encode_udp_connect(h.transaction_id, h.connection_id ^ 1, slot);
      FUZZ_CHECK(n && *n == wire::kUdpConnectReplySize);
      check_header(std::span(slot.data(), *n), wire::UdpAction::kConnect, h.transaction_id);
      break;
    }
    case wire::UdpAction::kAnnounce:
      answer_announce(packet, h.transaction_id, maxpeers, slot);
      break;
    case wire::UdpAction::kScrape:
      answer_scrape(packet, h.transaction_id, slot);
      break;
    default:
      answer_error(h.transaction_id, "unknown action", slot);
      break;
  }
  return 0;
}

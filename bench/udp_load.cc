// udp_load: the benchmark suite's UDP tracker (BEP 15) load generator.
//
// One thread, several non-blocking UDP sockets, each keeping a window of
// requests in flight (closed loop: a reply frees a slot, the slot sends the
// next request). Packets go out and come back in batches (sendmmsg/recvmmsg),
// so the generator costs little per request and the server, not this program,
// is what gets measured. Every reply's transaction id is checked against the
// request outstanding in its slot; replies that match nothing are counted as
// bad, never as answers.
//
// Flow control: a server drops what overflows its socket's receive buffer,
// and a closed loop that waited a full timeout for every drop would measure
// the timeout, not the server. So each socket keeps a congestion window
// (AIMD, as TCP: one more request in flight per window of answers, half as
// many after a loss, at most --window) and detects loss fast: a server
// thread answers one socket's requests in order, so a request still
// unanswered when one sent kReorder requests after it is answered was
// dropped. The window then settles around what the server's buffer holds,
// keeping the server busy without flooding it. --timeout-ms remains the
// backstop for a request nothing after it reveals as lost.
//
// Modes:
//   announce  random (torrent, peer) pairs from the same pool bench/announce.lua
//             draws from: peer j of every torrent is port port_base + j with
//             peer_id "-BN0001-" + j (12 digits); every tenth peer a seeder.
//   scrape    random sets of --scrape-hashes info-hashes.
//   prime     every (torrent, peer) pair of that pool announced once (lost
//             packets resent), from 127.0.0.1: fills the swarms before the
//             timed works.
//   fill      every socket announces once into every torrent (lost packets
//             resent), so sockets x torrents peers end up in the swarms: the
//             memory benchmark. Sockets bind distinct loopback addresses
//             127.0.R.H (--rack-size hosts per /24) so each is its own peer.
//             Prime and fill stop when every announce is answered (or after
//             5 tries, or at --duration) and report, as peers_held, the sum
//             over torrents of the largest swarm size (seeders + leechers) a
//             reply showed.
//
// Prints one JSON object on stdout: counts, the rate of answered requests per
// second and the latency (send to reply) percentiles in microseconds. Exits 1
// when nothing was answered or the arguments are wrong.
//
// Loopback only: the server address must be in 127.0.0.0/8.
#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/rng.h"

namespace {

using Clock = std::chrono::steady_clock;
using p2p::core::InfoHash;

constexpr std::uint64_t kProtocolId = 0x41727101980ull;  // BEP 15
constexpr std::uint32_t kConnect = 0, kAnnounce = 1, kScrape = 2, kError = 3;
constexpr std::size_t kAnnounceSize = 98;
constexpr int kBatch = 64;                // packets per sendmmsg/recvmmsg call
constexpr std::size_t kMaxPacket = 2048;  // a 35-peer reply is 230 bytes
// Both trackers accept a connection id for one to two minutes; renewing every
// 30 s keeps every request's id valid whatever the window alignment.
constexpr auto kReconnectEvery = std::chrono::seconds(30);
constexpr std::size_t kMaxLatencyUs = 2'000'000;  // histogram range; slower is clamped
// A request this many sends older than an answered one is taken as dropped.
// One server thread answers a socket in order; the slack allows for a
// multi-threaded server's small reorderings.
constexpr std::uint64_t kReorder = 16;
constexpr double kMinWindow = 4;  // the congestion window never shrinks below this

enum class Mode { kAnnounce, kScrape, kPrime, kFill };

struct Options {
  std::string server = "127.0.0.1:6969";
  Mode mode = Mode::kAnnounce;
  std::string hashes_file;
  std::uint32_t peers_per_torrent = 100;
  std::uint16_t port_base = 20000;
  int sockets = 4;
  int window = 256;
  double duration = 10;  // seconds; in fill mode the time limit
  int scrape_hashes = 10;
  std::int32_t numwant = 35;
  int rack_size = 20;  // fill: hosts per 127.0.R.0/24
  std::uint16_t fill_port = 6881;
  int timeout_ms = 1000;  // a request unanswered this long is lost (and, in fill, resent)
  double rate = 0;        // most requests sent per second, all sockets together; 0: no limit
  std::uint64_t seed = 1;
};

void put32(std::uint8_t* p, std::uint32_t v) {
  v = htonl(v);
  std::memcpy(p, &v, 4);
}
void put64(std::uint8_t* p, std::uint64_t v) {
  put32(p, static_cast<std::uint32_t>(v >> 32));
  put32(p + 4, static_cast<std::uint32_t>(v));
}
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
std::uint64_t get64(const std::uint8_t* p) { return std::uint64_t(get32(p)) << 32 | get32(p + 4); }

// One request in flight. The transaction id is (generation << slot_bits) |
// slot, so a reply finds its slot directly and a late reply to a slot's
// previous request (older generation) is recognised as stale.
struct Slot {
  bool busy = false;
  std::uint32_t tid = 0;
  std::uint32_t generation = 0;
  std::uint64_t seq = 0;  // the socket's send counter when sent
  Clock::time_point sent;
  std::uint32_t item = 0;  // prime, fill: which announce (see Generator::target)
};

// Send order, to find the oldest request still outstanding.
struct Sent {
  std::uint64_t seq;
  std::uint32_t slot;
  std::uint32_t tid;
};

struct Socket {
  int fd = -1;
  sockaddr_in local{};
  std::uint64_t connection_id = 0;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> free_slots;
  std::uint32_t slot_bits = 0;
  std::uint64_t next_seq = 0;
  std::deque<Sent> order;         // outstanding (and some answered) requests, oldest first
  double cwnd = 0;                // congestion window (see the top of the file)
  std::uint64_t recover_seq = 0;  // losses of requests sent before this do not shrink cwnd again
  std::size_t slots_in_use = 0;
  // prime, fill: this socket's announces are items next_item, next_item +
  // item_step, ... below item_end.
  std::uint32_t next_item = 0;
  std::uint32_t item_step = 1;
  std::uint32_t item_end = 0;
  std::vector<std::uint32_t> retry;  // items whose announce was lost
};

struct Counts {
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;   // replies of the expected kind, tid verified
  std::uint64_t in_time = 0;    // answered before the deadline (the rate's numerator)
  std::uint64_t errors = 0;     // error packets (action 3) with a valid tid
  std::uint64_t bad_tid = 0;    // replies matching no outstanding request
  std::uint64_t malformed = 0;  // wrong action or size
  std::uint64_t lost = 0;       // timed out
  std::uint64_t gave_up = 0;    // fill: items never answered
  std::uint64_t peers = 0;      // peers in all announce replies (a sanity check: 35 each)
};

bool parse_endpoint(const std::string& text, sockaddr_in& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) != 1) return false;
  int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return false;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  // 127.0.0.0/8 only: the suite never sends anywhere but this machine.
  return (ntohl(out.sin_addr.s_addr) >> 24) == 127;
}

bool load_hashes(const std::string& path, std::vector<InfoHash>& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    auto h = InfoHash::from_hex(line);
    if (!h) return false;
    out.push_back(*h);
  }
  return !out.empty();
}

void usage() {
  std::fprintf(stderr,
               "usage: udp_load --server 127.0.0.1:PORT --hashes FILE [--mode "
               "announce|scrape|prime|fill]\n"
               "  [--peers-per-torrent 100] [--port-base 20000] [--sockets 4] [--window 256]\n"
               "  [--duration 10] [--scrape-hashes 10] [--numwant 35] [--rack-size 20]\n"
               "  [--fill-port 6881] [--timeout-ms 1000] [--rate 0] [--seed 1]\n");
}

bool parse_mode(std::string_view v, Mode& out) {
  if (v == "announce") {
    out = Mode::kAnnounce;
  } else if (v == "scrape") {
    out = Mode::kScrape;
  } else if (v == "prime") {
    out = Mode::kPrime;
  } else if (v == "fill") {
    out = Mode::kFill;
  } else {
    return false;
  }
  return true;
}

// Throws std::invalid_argument / std::out_of_range on a number that does not
// parse (main turns that into the usage message).
bool parse_args(int argc, char** argv, Options& o) {
  auto u16 = [](const std::string& v) { return static_cast<std::uint16_t>(std::stoul(v)); };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    const std::string v = argv[i + 1];
    if (a == "--server") {
      o.server = v;
    } else if (a == "--mode") {
      if (!parse_mode(v, o.mode)) return false;
    } else if (a == "--hashes") {
      o.hashes_file = v;
    } else if (a == "--peers-per-torrent") {
      o.peers_per_torrent = static_cast<std::uint32_t>(std::stoul(v));
    } else if (a == "--port-base") {
      o.port_base = u16(v);
    } else if (a == "--sockets") {
      o.sockets = std::stoi(v);
    } else if (a == "--window") {
      o.window = std::stoi(v);
    } else if (a == "--duration") {
      o.duration = std::stod(v);
    } else if (a == "--scrape-hashes") {
      o.scrape_hashes = std::stoi(v);
    } else if (a == "--numwant") {
      o.numwant = std::stoi(v);
    } else if (a == "--rack-size") {
      o.rack_size = std::stoi(v);
    } else if (a == "--fill-port") {
      o.fill_port = u16(v);
    } else if (a == "--timeout-ms") {
      o.timeout_ms = std::stoi(v);
    } else if (a == "--rate") {
      o.rate = std::stod(v);
    } else if (a == "--seed") {
      o.seed = std::stoull(v);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !o.hashes_file.empty() && o.sockets > 0 && o.window > 0 &&
         o.window <= 65536 && o.peers_per_torrent > 0 && o.scrape_hashes > 0 &&
         o.scrape_hashes <= 74 && o.rack_size > 0 && o.rack_size < 255;
}

class Generator {
 public:
  Generator(const Options& o, std::vector<InfoHash> hashes, const sockaddr_in& server)
      : o_(o),
        hashes_(std::move(hashes)),
        server_(server),
        rng_(o.seed),
        latency_(kMaxLatencyUs + 1, 0) {}

  bool open_sockets();
  // Connects every socket (BEP 15 connect, resent up to 5 times).
  bool connect_all();
  int run();

 private:
  std::size_t build_request(Socket& s, Slot& slot, std::uint8_t* out);
  void on_reply(Socket& s, const std::uint8_t* p, std::size_t n, Clock::time_point now,
                bool in_time);
  void expire(Clock::time_point now);
  void release(Socket& s, std::uint32_t k) {
    s.slots[k].busy = false;
    s.free_slots.push_back(k);
    --s.slots_in_use;
  }
  // A request given up as dropped: free its slot, resend it later (prime,
  // fill), shrink the window once per round trip.
  void lose(Socket& s, std::uint32_t k) {
    Slot& slot = s.slots[k];
    release(s, k);
    ++c_.lost;
    if (finite()) retry_or_give_up(s, slot.item);
    if (slot.seq >= s.recover_seq) {
      s.cwnd = std::max(kMinWindow, s.cwnd / 2);
      s.recover_seq = s.next_seq;
    }
  }
  // An answer to request `seq` arrived: older requests still outstanding by
  // more than kReorder sends were dropped.
  void detect_loss(Socket& s, std::uint64_t seq) {
    while (!s.order.empty()) {
      const Sent& e = s.order.front();
      const Slot& slot = s.slots[e.slot];
      if (slot.busy && slot.tid == e.tid) {
        if (e.seq + kReorder >= seq) break;
        lose(s, e.slot);
      }
      s.order.pop_front();
    }
  }
  void retry_or_give_up(Socket& s, std::uint32_t item) {
    if (++tries_[item] < 5) {
      s.retry.push_back(item);
    } else {
      ++c_.gave_up;
    }
  }
  bool finite() const { return o_.mode == Mode::kPrime || o_.mode == Mode::kFill; }
  bool fill_pending(const Socket& s) const { return !s.retry.empty() || s.next_item < s.item_end; }
  struct Target {
    std::uint32_t torrent, peer;
    std::uint16_t port;
  };
  // Prime: item = torrent * peers_per_torrent + peer, from 127.0.0.1, the
  // pool's port. Fill: item = socket * torrents + torrent, the socket's own
  // address and --fill-port.
  Target target(std::uint32_t item) const {
    if (o_.mode == Mode::kPrime) {
      std::uint32_t peer = item % o_.peers_per_torrent;
      return {item / o_.peers_per_torrent, peer, static_cast<std::uint16_t>(o_.port_base + peer)};
    }
    auto t = static_cast<std::uint32_t>(hashes_.size());
    return {item % t, item / t, o_.fill_port};
  }
  bool fill_done() const;
  std::uint64_t percentile(double q) const;

  const Options& o_;
  std::vector<InfoHash> hashes_;
  sockaddr_in server_;
  p2p::core::Rng rng_;
  std::vector<Socket> socks_;
  Counts c_;
  std::vector<std::uint32_t> latency_;     // replies per microsecond of latency
  std::vector<std::uint32_t> swarm_size_;  // prime, fill: largest seeders+leechers per torrent
  std::vector<std::uint8_t> tries_;        // prime, fill: per item
};

bool Generator::open_sockets() {
  std::uint32_t slot_bits = 0;
  while ((1u << slot_bits) < static_cast<std::uint32_t>(o_.window)) ++slot_bits;
  for (int i = 0; i < o_.sockets; ++i) {
    Socket s;
    s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) return false;
    int buf = 4 << 20;
    setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    s.local.sin_family = AF_INET;
    if (o_.mode == Mode::kFill) {
      // 127.0.R.H: R from 1, H from 1, rack_size hosts per rack.
      std::uint32_t r = 1 + i / o_.rack_size, h = 1 + i % o_.rack_size;
      s.local.sin_addr.s_addr = htonl(127u << 24 | r << 8 | h);
    } else {
      s.local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (bind(s.fd, reinterpret_cast<sockaddr*>(&s.local), sizeof s.local) != 0 ||
        connect(s.fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
      std::perror("udp_load: bind/connect");
      return false;
    }
    s.slots.resize(std::size_t(1) << slot_bits);
    s.slot_bits = slot_bits;
    s.cwnd = std::max<double>(kMinWindow, o_.window / 4.0);
    for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(o_.window); ++k) {
      s.free_slots.push_back(k);
    }
    auto torrents = static_cast<std::uint32_t>(hashes_.size());
    auto sockets = static_cast<std::uint32_t>(o_.sockets);
    if (o_.mode == Mode::kFill) {
      s.next_item = static_cast<std::uint32_t>(i) * torrents;
      s.item_end = s.next_item + torrents;
    } else if (o_.mode == Mode::kPrime) {
      s.next_item = static_cast<std::uint32_t>(i);
      s.item_step = sockets;
      s.item_end = torrents * o_.peers_per_torrent;
    }
    socks_.push_back(std::move(s));
  }
  if (finite()) {
    swarm_size_.assign(hashes_.size(), 0);
    std::size_t items = o_.mode == Mode::kFill
                            ? hashes_.size() * static_cast<std::size_t>(o_.sockets)
                            : hashes_.size() * o_.peers_per_torrent;
    if (items > UINT32_MAX) return false;
    tries_.assign(items, 0);
  }
  return true;
}

bool Generator::connect_all() {
  std::vector<bool> done(socks_.size(), false);
  for (int attempt = 0; attempt < 5; ++attempt) {
    for (std::size_t i = 0; i < socks_.size(); ++i) {
      if (done[i]) continue;
      std::uint8_t req[16];
      put64(req, kProtocolId);
      put32(req + 8, kConnect);
      put32(req + 12, 0xC0DE0000u | static_cast<std::uint32_t>(i));
      if (send(socks_[i].fd, req, sizeof req, 0) != 16) return false;
    }
    auto until = Clock::now() + std::chrono::milliseconds(500);
    while (Clock::now() < until &&
           std::count(done.begin(), done.end(), true) < static_cast<long>(done.size())) {
      for (std::size_t i = 0; i < socks_.size(); ++i) {
        std::uint8_t rep[kMaxPacket];
        ssize_t n;
        while ((n = recv(socks_[i].fd, rep, sizeof rep, 0)) > 0) {
          // Replies to requests of the previous connection may still arrive;
          // only the connect reply with this socket's tid counts.
          if (n >= 16 && get32(rep) == kConnect &&
              get32(rep + 4) == (0xC0DE0000u | static_cast<std::uint32_t>(i))) {
            socks_[i].connection_id = get64(rep + 8);
            done[i] = true;
          }
        }
      }
      if (std::count(done.begin(), done.end(), true) < static_cast<long>(done.size())) {
        ::usleep(1000);
      }
    }
    if (std::count(done.begin(), done.end(), true) == static_cast<long>(done.size())) return true;
  }
  return false;
}

std::size_t Generator::build_request(Socket& s, Slot& slot, std::uint8_t* out) {
  put64(out, s.connection_id);
  put32(out + 12, slot.tid);
  if (o_.mode == Mode::kScrape) {
    put32(out + 8, kScrape);
    std::size_t n = 16;
    for (int k = 0; k < o_.scrape_hashes; ++k) {
      const InfoHash& h = hashes_[rng_.below(hashes_.size())];
      std::memcpy(out + n, h.bytes.data(), 20);
      n += 20;
    }
    return n;
  }
  put32(out + 8, kAnnounce);
  std::uint32_t torrent, peer;
  std::uint16_t port;
  if (finite()) {
    Target t = target(slot.item);
    torrent = t.torrent;
    peer = t.peer;
    port = t.port;
  } else {
    torrent = static_cast<std::uint32_t>(rng_.below(hashes_.size()));
    peer = static_cast<std::uint32_t>(rng_.below(o_.peers_per_torrent));
    port = static_cast<std::uint16_t>(o_.port_base + peer);
  }
  std::memcpy(out + 16, hashes_[torrent].bytes.data(), 20);
  char peer_id[21];
  std::snprintf(peer_id, sizeof peer_id, "-BN0001-%012u", peer);
  std::memcpy(out + 36, peer_id, 20);
  bool seeder = peer % 10 == 0;
  put64(out + 56, seeder ? 1'000'000 : 0);  // downloaded
  put64(out + 64, seeder ? 0 : 1'000'000);  // left
  put64(out + 72, 0);                       // uploaded
  put32(out + 80, 0);                       // event: none
  put32(out + 84, 0);                       // ip: the sender's
  put32(out + 88, peer);                    // key
  put32(out + 92, static_cast<std::uint32_t>(o_.numwant));
  out[96] = static_cast<std::uint8_t>(port >> 8);
  out[97] = static_cast<std::uint8_t>(port);
  return kAnnounceSize;
}

void Generator::on_reply(Socket& s, const std::uint8_t* p, std::size_t n, Clock::time_point now,
                         bool in_time) {
  if (n < 8) {
    ++c_.malformed;
    return;
  }
  std::uint32_t action = get32(p), tid = get32(p + 4);
  std::uint32_t slot_index = tid & ((1u << s.slot_bits) - 1);
  Slot& slot = s.slots[slot_index];
  if (!slot.busy || slot.tid != tid) {
    ++c_.bad_tid;  // stale (already timed out) or never sent
    return;
  }
  release(s, slot_index);
  detect_loss(s, slot.seq);
  bool ok = false;
  if (action == kError) {
    ++c_.errors;
  } else if (o_.mode == Mode::kScrape) {
    ok = action == kScrape && n == 8 + 12 * static_cast<std::size_t>(o_.scrape_hashes);
    if (!ok) ++c_.malformed;
  } else {
    ok = action == kAnnounce && n >= 20 && (n - 20) % 6 == 0;
    if (!ok) ++c_.malformed;
    if (ok) c_.peers += (n - 20) / 6;
    if (ok && finite()) {
      std::uint32_t size = get32(p + 12) + get32(p + 16);  // leechers + seeders
      std::uint32_t torrent = target(slot.item).torrent;
      swarm_size_[torrent] = std::max(swarm_size_[torrent], size);
    }
  }
  if (!ok) {
    if (finite()) retry_or_give_up(s, slot.item);
    return;
  }
  ++c_.answered;
  if (in_time) ++c_.in_time;
  s.cwnd = std::min<double>(o_.window, s.cwnd + 1 / s.cwnd);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - slot.sent).count();
  latency_[std::min<std::size_t>(static_cast<std::size_t>(us), kMaxLatencyUs)]++;
}

void Generator::expire(Clock::time_point now) {
  auto cutoff = now - std::chrono::milliseconds(o_.timeout_ms);
  for (auto& s : socks_) {
    for (std::uint32_t k = 0; k < s.slots.size(); ++k) {
      Slot& slot = s.slots[k];
      if (!slot.busy || slot.sent > cutoff) continue;
      lose(s, k);
    }
  }
}

bool Generator::fill_done() const {
  for (const auto& s : socks_) {
    if (fill_pending(s) || s.slots_in_use != 0) {
      return false;
    }
  }
  return true;
}

std::uint64_t Generator::percentile(double q) const {
  std::uint64_t total = 0;
  for (auto v : latency_) total += v;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1));
  std::uint64_t seen = 0;
  for (std::size_t us = 0; us < latency_.size(); ++us) {
    seen += latency_[us];
    if (seen > rank) return us;
  }
  return kMaxLatencyUs;
}

int Generator::run() {
  std::vector<std::array<std::uint8_t, kMaxPacket>> out(kBatch), in(kBatch);
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::vector<std::uint32_t> batch_slots;

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o_.duration));
  auto last_connect = start;
  auto last_expire = start;
  bool sending = true;
  for (;;) {
    auto now = Clock::now();
    if (now >= deadline) sending = false;
    if (finite() && fill_done()) break;
    if (!sending) {
      bool idle = true;
      for (const auto& s : socks_) {
        if (s.slots_in_use != 0) idle = false;
      }
      if (idle) break;
    }
    if (now - last_connect >= kReconnectEvery) {
      // Let the window drain so no request carries an id about to expire,
      // then renew every socket's connection id.
      bool drained = true;
      for (const auto& s : socks_) {
        if (s.slots_in_use != 0) drained = false;
      }
      if (drained) {
        if (!connect_all()) {
          std::fprintf(stderr, "udp_load: reconnect failed\n");
          break;
        }
        last_connect = Clock::now();
        now = last_connect;
      }
    }
    bool renewing = now - last_connect >= kReconnectEvery;

    // --rate: a request may go out once the time since the start allows it.
    std::uint64_t allowed = UINT64_MAX;
    if (o_.rate > 0) {
      allowed =
          static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() * o_.rate) +
          1;
    }
    bool progress = false;
    for (std::size_t si = 0; si < socks_.size(); ++si) {
      Socket& s = socks_[si];
      // Send: fill free slots, one batch per call.
      int count = 0;
      batch_slots.clear();
      while (sending && !renewing && count < kBatch && !s.free_slots.empty() &&
             static_cast<double>(s.slots_in_use) < s.cwnd && c_.sent + count < allowed) {
        std::uint32_t item = 0;
        if (finite()) {
          if (!s.retry.empty()) {
            item = s.retry.back();
            s.retry.pop_back();
          } else if (s.next_item < s.item_end) {
            item = s.next_item;
            s.next_item += s.item_step;
          } else {
            break;
          }
        }
        std::uint32_t k = s.free_slots.back();
        s.free_slots.pop_back();
        Slot& slot = s.slots[k];
        slot.busy = true;
        ++s.slots_in_use;
        slot.generation++;
        slot.tid = (slot.generation << s.slot_bits) | k;
        slot.item = item;
        slot.sent = now;
        slot.seq = s.next_seq++;
        s.order.push_back({slot.seq, k, slot.tid});
        std::size_t n = build_request(s, slot, out[count].data());
        iov[count] = {out[count].data(), n};
        msgs[count] = {};
        msgs[count].msg_hdr.msg_iov = &iov[count];
        msgs[count].msg_hdr.msg_iovlen = 1;
        batch_slots.push_back(k);
        ++count;
      }
      if (count > 0) {
        int sent = sendmmsg(s.fd, msgs.data(), count, 0);
        if (sent < 0) sent = 0;
        c_.sent += sent;
        // Unsent packets (socket buffer full): give their slots back.
        for (int k = sent; k < count; ++k) {
          Slot& slot = s.slots[batch_slots[k]];
          release(s, batch_slots[k]);
          if (finite()) s.retry.push_back(slot.item);
        }
        if (sent > 0) progress = true;
      }
      // Receive whatever is there.
      for (int k = 0; k < kBatch; ++k) {
        iov[k] = {in[k].data(), kMaxPacket};
        msgs[k] = {};
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int got = recvmmsg(s.fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (got > 0) {
        auto t = Clock::now();
        for (int k = 0; k < got; ++k) {
          on_reply(s, in[k].data(), msgs[k].msg_len, t, t < deadline);
        }
        progress = true;
      }
    }
    if (now - last_expire >= std::chrono::milliseconds(100)) {
      expire(now);
      last_expire = now;
    }
    if (!progress) {
      std::vector<pollfd> fds;
      for (const auto& s : socks_) fds.push_back({s.fd, POLLIN, 0});
      poll(fds.data(), fds.size(), 1);
    }
  }
  const auto end = Clock::now();
  double elapsed = std::chrono::duration<double>(std::min(end, deadline) - start).count();
  const char* mode = o_.mode == Mode::kAnnounce ? "announce"
                     : o_.mode == Mode::kScrape ? "scrape"
                     : o_.mode == Mode::kPrime  ? "prime"
                                                : "fill";
  double cwnd = 0;
  for (const auto& s : socks_) cwnd += s.cwnd / static_cast<double>(socks_.size());
  std::uint64_t peers_held = 0;
  for (auto v : swarm_size_) peers_held += v;
  // Prime and fill: the rate is over the time they took, not the limit.
  if (finite()) elapsed = std::chrono::duration<double>(end - start).count();
  double rate =
      elapsed > 0 ? static_cast<double>(finite() ? c_.answered : c_.in_time) / elapsed : 0;
  fmt::print(
      "{{\"mode\": \"{}\", \"sockets\": {}, \"window\": {}, \"seconds\": {:.3f}, \"sent\": {}, "
      "\"answered\": {}, \"errors\": {}, \"bad_tid\": {}, \"malformed\": {}, \"lost\": {}, "
      "\"gave_up\": {}, \"rate\": {:.1f}, \"p50_us\": {}, \"p99_us\": {}, \"peers_held\": {}, "
      "\"mean_window\": {:.1f}, \"peers_per_reply\": {:.2f}}}\n",
      mode, o_.sockets, o_.window, elapsed, c_.sent, c_.answered, c_.errors, c_.bad_tid,
      c_.malformed, c_.lost, c_.gave_up, rate, percentile(0.50), percentile(0.99), peers_held, cwnd,
      c_.answered ? static_cast<double>(c_.peers) / static_cast<double>(c_.answered) : 0.0);
  return c_.answered > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    if (!parse_args(argc, argv, o)) {
      usage();
      return 2;
    }
  } catch (const std::exception&) {  // a number that does not parse
    usage();
    return 2;
  }
  sockaddr_in server;
  if (!parse_endpoint(o.server, server)) {
    std::fprintf(stderr, "udp_load: --server must be 127.x.y.z:PORT\n");
    return 2;
  }
  std::vector<InfoHash> hashes;
  if (!load_hashes(o.hashes_file, hashes)) {
    std::fprintf(stderr, "udp_load: cannot read 40-hex-digit info-hashes from %s\n",
                 o.hashes_file.c_str());
    return 2;
  }
  Generator g(o, std::move(hashes), server);
  if (!g.open_sockets()) return 1;
  if (!g.connect_all()) {
    std::fprintf(stderr, "udp_load: no connect reply from %s\n", o.server.c_str());
    return 1;
  }
  return g.run();
}

#include "net/udp_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "net/client_address.h"
#include "net/port_probe.h"
#include "wire/udp.h"

namespace p2p::net {
namespace {

core::Endpoint from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    return {core::Address::v4(ntohl(a.sin_addr.s_addr)), ntohs(a.sin_port)};
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
  // An IPv4 client of a dual-stack socket arrives IPv4-mapped and folds to
  // IPv4.
  return {core::Address::v6_bytes(a.sin6_addr.s6_addr), ntohs(a.sin6_port)};
}

// Largest datagram we receive: a full scrape (16 + 74 * 20) or an announce
// with BEP 41 options fits with room to spare; larger packets are truncated
// by the kernel and then fail to parse, which is the right answer.
constexpr std::size_t kMaxRequest = 2048;

}  // namespace

std::uint64_t ConnectionIds::id_for(const core::Endpoint& client, std::int64_t window) const {
  // The address and the window, not the port: the id proves the client can
  // receive at that address (BEP 15's defence against spoofed sources), which
  // the port adds nothing to; and libtorrent 2.0.8 caches one id per tracker
  // for all its UDP sockets, so an id tied to the port would make its
  // announces from another socket fail until it reconnects (seen with two
  // sessions in one process).
  std::uint8_t msg[16 + 8];
  std::memcpy(msg, client.address.bytes().data(), 16);
  for (int i = 0; i < 8; ++i) msg[16 + i] = static_cast<std::uint8_t>(window >> (8 * i));
  return core::siphash24(key_, msg, sizeof msg);
}

std::uint64_t ConnectionIds::issue(const core::Endpoint& client) const {
  return id_for(client, clock_.now().time_since_epoch().count() / kWindowSeconds);
}

bool ConnectionIds::valid(std::uint64_t id, const core::Endpoint& client) const {
  const std::int64_t window = clock_.now().time_since_epoch().count() / kWindowSeconds;
  return id == id_for(client, window) || id == id_for(client, window - 1);
}

// Announces one UDP worker may hold while they wait for a topology answer
// (topology_wait_ms); more are answered at once. 2 KiB each.
constexpr std::size_t kMaxParked = 256;

struct UdpServer::Worker {
  int fd = -1;
  // Parked announces: the packet and its sender, kept until their topology
  // answer is in; `ready` (from the topology thread) lists the slots whose
  // wait is over, and `wake_fd` wakes the worker's poll() for them.
  struct Parked {
    std::array<std::uint8_t, kMaxRequest> packet;
    std::size_t len = 0;
    sockaddr_storage from{};
    socklen_t from_len = 0;
  };
  std::vector<Parked> parked;         // kMaxParked slots when topology_wait_ms is set
  std::vector<std::uint32_t> idle;    // free slots of `parked`
  std::mutex ready_mu;
  std::vector<std::uint32_t> ready;   // guarded by ready_mu
  std::vector<std::uint32_t> resuming;  // the worker's copy of `ready`
  int wake_fd = -1;
  WorkerContext context{0};
  std::size_t reply_capacity = 0;
  std::vector<std::uint8_t> in;   // batch x kMaxRequest
  std::vector<std::uint8_t> out;  // batch x reply_capacity
  std::vector<mmsghdr> in_msgs, out_msgs;
  std::vector<iovec> in_iov, out_iov;
  std::vector<sockaddr_storage> addrs;
  std::array<wire::ScrapeEntry, wire::kUdpMaxScrapeHashes> entries;

  ~Worker() {
    if (fd >= 0) ::close(fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }
};

namespace {

// Resumes one parked announce: hands its slot to the worker and wakes it.
class ParkedAnnounce final : public Deferrable {
 public:
  ParkedAnnounce(UdpServer::Worker& w, std::uint32_t slot) : w_(w), slot_(slot) {}
  std::function<void()> resumer() override {
    return [w = &w_, slot = slot_] {
      {
        std::lock_guard lock(w->ready_mu);
        w->ready.push_back(slot);
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(w->wake_fd, &one, sizeof one);
    };
  }

 private:
  UdpServer::Worker& w_;
  std::uint32_t slot_;
};

}  // namespace

UdpServer::UdpServer(const UdpServerOptions& options, Tracker& tracker, const core::Clock& clock)
    : options_(options),
      tracker_(tracker),
      ids_(
          [] {
            // A fresh key per process: ids from before a restart are refused
            // and clients reconnect, which BEP 15 clients do on any error
            // anyway.
            core::SipKey key;
            std::random_device rd;
            for (auto& b : key) b = static_cast<std::uint8_t>(rd());
            return key;
          }(),
          clock) {}

UdpServer::~UdpServer() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

core::Result<std::unique_ptr<UdpServer>> UdpServer::create(const UdpServerOptions& options,
                                                           Tracker& tracker,
                                                           const core::Clock& clock) {
  std::unique_ptr<UdpServer> s(new UdpServer(options, tracker, clock));
  auto host = core::Address::parse(options.host);
  if (!host) {
    return core::invalid_argument(fmt::format(
        "host '{}' is not an IP address to listen on (try 0.0.0.0 or ::)", options.host));
  }
  if (auto free = check_port_free(*host, options.port, Transport::kUdp); !free) {
    return free.error();
  }
  // The IPv6 wildcard listens dual-stack; anything else in its own family.
  const bool v6 = !host->is_v4();
  std::uint16_t port = options.port;
  const std::size_t batch = static_cast<std::size_t>(std::max(1, options.batch));
  // Every slot holds the largest reply any request can get: with a small
  // maxpeers that is a full scrape, not an announce.
  const std::size_t reply_capacity = wire::udp_reply_capacity(tracker.options().maxpeers);
  metrics::Registry* registry = options.metrics;
  if (registry == nullptr) {
    s->own_metrics_ = std::make_unique<metrics::Registry>();
    registry = s->own_metrics_.get();
  }
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    auto w = std::make_unique<Worker>();
    auto fail = [&](std::string_view what) {
      return core::unavailable(fmt::format("cannot listen on UDP {}:{} ({}): {}", options.host,
                                           port, what, std::strerror(errno)));
    };
    w->fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0) return fail("socket");
    int one = 1, zero = 0;
    if (::setsockopt(w->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return fail("SO_REUSEPORT");
    }
    // Bursts of announces from a whole fleet: a larger receive buffer rides
    // them out instead of dropping (best effort; capped by net.core.rmem_max).
    int rcvbuf = 4 << 20;
    ::setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      ::setsockopt(w->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      auto& a = reinterpret_cast<sockaddr_in6&>(ss);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      std::memcpy(a.sin6_addr.s6_addr, host->bytes().data(), 16);
      len = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(ss);
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(host->v4_value());
      len = sizeof a;
    }
    if (::bind(w->fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail("bind");
    if (::getsockname(w->fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      port = from_sockaddr(ss).port;
    }
    w->context = WorkerContext(std::random_device{}() ^ (std::uint64_t(i) << 32));
    w->context.index = i;
    w->context.counters = &registry->add_worker();
    w->context.protocol = metrics::Protocol::kUdp;
    w->reply_capacity = reply_capacity;
    w->in.resize(batch * kMaxRequest);
    w->out.resize(batch * reply_capacity);
    w->in_msgs.resize(batch);
    w->out_msgs.resize(batch);
    w->in_iov.resize(batch);
    w->out_iov.resize(batch);
    w->addrs.resize(batch);
    w->context.hashes.reserve(wire::kUdpMaxScrapeHashes);
    w->context.peers.reserve(tracker.options().maxpeers);
    if (tracker.options().topology_wait.count() > 0) {
      w->parked.resize(kMaxParked);
      for (std::uint32_t k = 0; k < kMaxParked; ++k) w->idle.push_back(kMaxParked - 1 - k);
      w->ready.reserve(kMaxParked);
      w->resuming.reserve(kMaxParked);
      w->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (w->wake_fd < 0) return fail("eventfd");
    }
    s->workers_.push_back(std::move(w));
  }
  s->port_ = port;
  s->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->stop_fd_ < 0) return core::unavailable("eventfd: " + std::string(std::strerror(errno)));
  return s;
}

void UdpServer::start() {
  for (auto& w : workers_) threads_.emplace_back([this, w = w.get()] { run(*w); });
}

void UdpServer::stop() {
  if (stopped_.exchange(true)) return;
  if (stop_fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

UdpStats UdpServer::stats() const {
  UdpStats s;
  for (const auto& w : workers_) {
    const metrics::WorkerCounters& c = *w->context.counters;
    using metrics::Counter;
    s.received += c.get(Counter::kUdpReceived);
    s.sent += c.get(Counter::kUdpSent);
    s.connects += c.get(Counter::kUdpConnects);
    s.announces += c.get(Counter::kAnnounceUdpOk) + c.get(Counter::kAnnounceUdpInactive);
    s.scrapes += c.get(Counter::kScrapeUdpOk);
    s.errors_sent += c.get(Counter::kUdpErrors);
    s.dropped += c.get(Counter::kUdpDropped);
  }
  return s;
}

void UdpServer::run(Worker& w) {
  const std::size_t batch = w.in_msgs.size();
  metrics::WorkerCounters& counters = *w.context.counters;
  using metrics::Counter;
  for (std::size_t i = 0; i < batch; ++i) {
    w.in_iov[i] = {w.in.data() + i * kMaxRequest, kMaxRequest};
  }
  pollfd fds[3] = {{w.fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}, {w.wake_fd, POLLIN, 0}};
  const nfds_t nfds = w.wake_fd >= 0 ? 3 : 2;
  // Under load the socket is never empty: receive first and wait only when
  // there was nothing, so a busy worker makes two system calls per batch
  // (recvmmsg, sendmmsg) instead of three.
  bool idle = true;
  while (!stopped_.load(std::memory_order_relaxed)) {
    if (idle) {
      if (::poll(fds, nfds, -1) < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) break;
      if (nfds == 3 && (fds[2].revents & POLLIN)) resume_parked(w);
      if (!(fds[0].revents & POLLIN)) continue;
    }
    for (std::size_t i = 0; i < batch; ++i) {
      w.in_msgs[i] = {};
      w.in_msgs[i].msg_hdr.msg_iov = &w.in_iov[i];
      w.in_msgs[i].msg_hdr.msg_iovlen = 1;
      w.in_msgs[i].msg_hdr.msg_name = &w.addrs[i];
      w.in_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    int n = ::recvmmsg(w.fd, w.in_msgs.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    idle = n <= 0;
    if (idle) continue;
    std::size_t replies = 0;
    for (int i = 0; i < n; ++i) {
      counters.add(Counter::kUdpReceived);
      std::span<const std::uint8_t> packet(w.in.data() + i * kMaxRequest, w.in_msgs[i].msg_len);
      std::span<std::uint8_t> out(w.out.data() + replies * w.reply_capacity, w.reply_capacity);
      const std::size_t len =
          answer(w, packet, w.addrs[i], w.in_msgs[i].msg_hdr.msg_namelen, out, /*may_park=*/true);
      if (len == 0) continue;
      w.out_iov[replies] = {out.data(), len};
      w.out_msgs[replies] = {};
      w.out_msgs[replies].msg_hdr.msg_iov = &w.out_iov[replies];
      w.out_msgs[replies].msg_hdr.msg_iovlen = 1;
      w.out_msgs[replies].msg_hdr.msg_name = &w.addrs[i];
      w.out_msgs[replies].msg_hdr.msg_namelen = w.in_msgs[i].msg_hdr.msg_namelen;
      ++replies;
    }
    std::size_t done = 0;
    while (done < replies) {
      int k = ::sendmmsg(w.fd, w.out_msgs.data() + done, static_cast<unsigned>(replies - done), 0);
      if (k <= 0) {
        if (errno == EINTR) continue;
        break;  // a reply we cannot send is a lost UDP packet; the client
                // retries
      }
      done += static_cast<std::size_t>(k);
    }
    counters.add(Counter::kUdpSent, done);
  }
}

std::size_t UdpServer::answer(Worker& w, std::span<const std::uint8_t> packet,
                              const sockaddr_storage& from, socklen_t from_len,
                              std::span<std::uint8_t> out, bool may_park) {
  metrics::WorkerCounters& counters = *w.context.counters;
  using metrics::Counter;
  const core::Endpoint client = from_sockaddr(from);
  // No proxy speaks UDP for a client: the sender is the requester.
  const core::Address requester = requester_address(tracker_.options().trust, client.address, {});
  core::Result<std::size_t> len = std::size_t{0};

  wire::UdpHeader h;
  if (!wire::parse_udp_header(packet, h)) {
    counters.add(Counter::kUdpDropped);
    return 0;
  }
  if (h.action == static_cast<std::uint32_t>(wire::UdpAction::kConnect)) {
    if (h.connection_id != wire::kUdpProtocolId) {
      counters.add(Counter::kUdpDropped);
      return 0;
    }
    counters.add(Counter::kUdpConnects);
    len = wire::encode_udp_connect(h.transaction_id, ids_.issue(client), out);
    tracker_.prefetch_topology(requester);
  } else if (!ids_.valid(h.connection_id, client)) {
    // Unproven source address: answering could reflect traffic at a
    // spoofed victim, so say nothing.
    counters.add(Counter::kUdpDropped);
    return 0;
  } else if (h.action == static_cast<std::uint32_t>(wire::UdpAction::kAnnounce) && may_park &&
             !tracker_.admit(RequestKind::kAnnounce, requester, w.context)) {
    // A proven address (valid connection id): it hears why, as BEP 15
    // error packets go; the limit bounds how often. (A parked announce was
    // admitted when it arrived.)
    counters.add(Counter::kUdpErrors);
    len = wire::encode_udp_error(h.transaction_id, kAnnounceRateLimited, out);
  } else if (h.action == static_cast<std::uint32_t>(wire::UdpAction::kScrape) &&
             !tracker_.admit(RequestKind::kScrape, requester, w.context)) {
    counters.add(Counter::kUdpErrors);
    len = wire::encode_udp_error(h.transaction_id, kScrapeRateLimited, out);
  } else if (h.action == static_cast<std::uint32_t>(wire::UdpAction::kAnnounce)) {
    auto parsed = wire::parse_udp_announce(packet);
    if (!parsed) {
      count_announce_failure(w.context, parsed.error().message);
      counters.add(Counter::kUdpErrors);
      len = wire::encode_udp_error(h.transaction_id, parsed.error().message, out);
    } else {
      const wire::AnnounceRequest& a = parsed->request;
      const core::Address address = announced_address(tracker_.options().trust, requester, a.ip);
      if (may_park && park(w, packet, from, from_len, address)) return 0;
      wire::AnnounceReply reply;
      const std::string_view refused = tracker_.announce(a, address, w.context, reply);
      if (!refused.empty()) {
        counters.add(Counter::kUdpErrors);
        len = wire::encode_udp_error(h.transaction_id, refused, out);
      } else {
        len = wire::encode_udp_announce(h.transaction_id, reply, !client.address.is_v4(), out);
      }
    }
  } else if (h.action == static_cast<std::uint32_t>(wire::UdpAction::kScrape)) {
    w.context.hashes.clear();
    if (auto st = wire::parse_udp_scrape(packet, w.context.hashes); !st) {
      count_scrape(w.context, false);
      counters.add(Counter::kUdpErrors);
      len = wire::encode_udp_error(h.transaction_id, st.error().message, out);
    } else {
      count_scrape(w.context, true);
      std::size_t k = 0;
      for (const auto& hash : w.context.hashes) {  // BEP 15: in request order
        swarm::ScrapeCounts c = tracker_.scrape_one(hash);
        w.entries[k++] = {hash, c.complete, c.downloaded, c.incomplete};
      }
      len = wire::encode_udp_scrape(h.transaction_id,
                                    std::span<const wire::ScrapeEntry>(w.entries.data(), k), out);
    }
  } else {
    counters.add(Counter::kUdpErrors);
    len = wire::encode_udp_error(h.transaction_id, "unknown action", out);
  }
  if (!len) {
    // The slot is sized for every reply (udp_reply_capacity), so this is
    // a bug: send nothing rather than a cut reply, and count it.
    assert(false && "UDP reply larger than its slot");
    counters.add(Counter::kUdpDropped);
    return 0;
  }
  return *len;
}

bool UdpServer::park(Worker& w, std::span<const std::uint8_t> packet,
                     const sockaddr_storage& from, socklen_t from_len,
                     const core::Address& address) {
  if (w.idle.empty()) return false;  // kMaxParked wait already: answer now
  const std::uint32_t slot = w.idle.back();
  ParkedAnnounce later(w, slot);
  // The slot is filled first: the topology thread may resume it at once.
  Worker::Parked& p = w.parked[slot];
  std::memcpy(p.packet.data(), packet.data(), packet.size());
  p.len = packet.size();
  p.from = from;
  p.from_len = from_len;
  if (!tracker_.await_topology(address, later)) return false;
  w.idle.pop_back();
  return true;
}

void UdpServer::resume_parked(Worker& w) {
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(w.wake_fd, &count, sizeof count);
  w.resuming.clear();
  {
    std::lock_guard lock(w.ready_mu);
    w.resuming.swap(w.ready);
  }
  std::span<std::uint8_t> out(w.out.data(), w.reply_capacity);
  for (std::uint32_t slot : w.resuming) {
    Worker::Parked& p = w.parked[slot];
    const std::size_t len = answer(w, std::span<const std::uint8_t>(p.packet.data(), p.len),
                                   p.from, p.from_len, out, /*may_park=*/false);
    if (len > 0 && ::sendto(w.fd, out.data(), len, 0, reinterpret_cast<const sockaddr*>(&p.from),
                            p.from_len) == static_cast<ssize_t>(len)) {
      w.context.counters->add(metrics::Counter::kUdpSent);
    }
    w.idle.push_back(slot);
  }
}

}  // namespace p2p::net

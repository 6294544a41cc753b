// HttpServer against raw sockets: chunked arrival, limits, keep-alive,
// timeouts.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace p2p::net {
namespace {

// A stats page's size and more: more than loopback's socket buffers take in
// while the client does not read, so its write stays pending.
constexpr std::size_t kBigReply = 16 << 20;

// Answers with the method, path and query it saw, so tests can check parsing.
class EchoHandler final : public HttpHandler {
 public:
  Placement placement(const HttpRequest& r) const override {
    return r.path == "/slow" ? Placement::kBlocking : Placement::kInline;
  }
  std::size_t body_limit(const HttpRequest& r) const override {
    return r.path == "/upload" ? 1000 : 0;
  }
  void handle(const HttpRequest& r, HttpResponse& resp, WorkerContext&) override {
    if (r.path == "/big") return resp.body.assign(kBigReply, 'x'), void();
    resp.body = std::string(r.path) + "|" + std::string(r.query) + "|" +
                std::to_string(r.body.size()) + "|" + std::string(r.header("X-Test"));
  }
  // A request with X-Refuse is refused from its header (as AdminAccess does).
  bool refuse_early(const HttpRequest& r, HttpResponse& resp) const override {
    if (r.header("X-Refuse").empty()) return false;
    resp.status = 403;
    resp.body = "refused";
    return true;
  }
};

class Client {
 public:
  // `source`: the loopback address to connect from (127/8 stands for other
  // hosts).
  explicit Client(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

  bool connected() const { return connected_; }
  void send(std::string_view s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size());
  }
  // Reads until `n` complete responses arrived, the peer closes, or the
  // timeout.
  std::string read_responses(int n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return read([n](const std::string& got) { return count_responses(got) >= n; }, timeout);
  }
  // Reads until `marker` arrived, the peer closes, or the timeout. For
  // interim replies, which read_responses() does not count.
  std::string read_until(std::string_view marker,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return read([marker](const std::string& got) { return got.find(marker) != std::string::npos; },
                timeout);
  }
  // True if the server closes the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    if (closed_) return true;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    while (true) {
      ssize_t k = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (k == 0) return true;
      if (k < 0) return errno != EAGAIN;
    }
  }

 private:
  template <class Done>
  std::string read(Done done, std::chrono::milliseconds timeout) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(got)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k <= 0) {
        closed_ = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(k));
    }
    return got;
  }
  static int count_responses(const std::string& s) {
    int n = 0;
    std::size_t pos = 0;
    while ((pos = s.find("HTTP/1.1 ", pos)) != std::string::npos) {
      auto head_end = s.find("\r\n\r\n", pos);
      if (head_end == std::string::npos) break;
      auto cl = s.find("Content-Length: ", pos);
      std::size_t len = cl < head_end ? std::stoul(s.substr(cl + 16)) : 0;
      if (s.size() < head_end + 4 + len) break;
      if (s.compare(pos, 12, "HTTP/1.1 100") != 0) ++n;  // interim replies don't count
      pos = head_end + 4 + len;
    }
    return n;
  }
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

template <class Predicate>
bool wait_for(Predicate p, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!p()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.workers = 2;
    auto s = HttpServer::create(o, handler_);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  EchoHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersRequestArrivingInEveryChunkSize) {
  start();
  const std::string req = "GET /announce?a=1&b=%20 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\n\r\n";
  for (std::size_t chunk = 1; chunk <= req.size(); chunk += (chunk < 8 ? 1 : 7)) {
    Client c(server_->port());
    ASSERT_TRUE(c.connected());
    for (std::size_t i = 0; i < req.size(); i += chunk)
      c.send(std::string_view(req).substr(i, chunk));
    std::string got = c.read_responses(1);
    ASSERT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << "chunk " << chunk << ": " << got;
    EXPECT_NE(got.find("/announce|a=1&b=%20|0|yes"), std::string::npos) << got;
  }
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client c(server_->port());
  c.send(
      "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  std::string got = c.read_responses(2);
  EXPECT_NE(got.find("/one|"), std::string::npos);
  EXPECT_NE(got.find("/two|"), std::string::npos);
  EXPECT_NE(got.find("Connection: keep-alive"), std::string::npos);
  // HTTP/1.0 without keep-alive: one answer, then close.
  Client d(server_->port());
  d.send("GET /three HTTP/1.0\r\n\r\n");
  EXPECT_NE(d.read_responses(1).find("Connection: close"), std::string::npos);
  EXPECT_TRUE(d.closed_by_peer(std::chrono::seconds(2)));
}

TEST_F(HttpServerTest, OversizedHeaderGetsBencodedFailureAndClose) {
  HttpServerOptions o;
  o.max_request_bytes = 1024;
  start(o);
  Client c(server_->port());
  c.send("GET /announce?" + std::string(4000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.read_responses(1);
  EXPECT_NE(got.find("HTTP/1.1 431"), std::string::npos) << got;
  EXPECT_NE(got.find("failure reason"), std::string::npos);
  EXPECT_NE(got.find("1024 bytes"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST_F(HttpServerTest, GarbageGets400AndServerSurvives) {
  start();
  {
    Client c(server_->port());
    c.send("\x01\x02garbage\r\n\r\n");
    std::string got = c.read_responses(1);
    EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << got;
    EXPECT_NE(got.find("failure reason"), std::string::npos);
  }
  Client c(server_->port());
  c.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.read_responses(1).find("/ok|"), std::string::npos);
}

TEST_F(HttpServerTest, SlowRequestIsCutOff) {
  HttpServerOptions o;
  o.request_timeout = std::chrono::seconds(1);
  start(o);
  Client slow(server_->port());
  slow.send("GET /announce?info_ha");
  EXPECT_TRUE(slow.closed_by_peer(std::chrono::seconds(4)));
  Client ok(server_->port());
  ok.send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(ok.read_responses(1).find("/fine|"), std::string::npos);
}

TEST_F(HttpServerTest, AKeptAliveConnectionHasRequestTimeoutFromItsNextRequestsFirstByte) {
  HttpServerOptions o;
  o.request_timeout = std::chrono::seconds(1);
  o.keepalive_timeout = std::chrono::seconds(30);
  start(o);
  Client slow(server_->port());
  slow.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(slow.read_responses(1).find("/first|"), std::string::npos);
  slow.send("GET /announce?info_ha");  // and nothing more: cut after 1 s, not 30
  EXPECT_TRUE(slow.closed_by_peer(std::chrono::seconds(4)));
  // Idle between requests it has keepalive_timeout.
  Client idle(server_->port());
  idle.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(idle.read_responses(1).find("/first|"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  idle.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(idle.read_responses(1).find("/second|"), std::string::npos);
}

TEST_F(HttpServerTest, BodyLimits) {
  start();
  {
    Client c(server_->port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_NE(c.read_responses(1).find("/upload||5|"), std::string::npos);
  }
  {
    Client c(server_->port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
           std::string(5000, 'x'));
    EXPECT_NE(c.read_responses(1).find("HTTP/1.1 413"), std::string::npos);
  }
  {
    Client c(server_->port());
    c.send("POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_NE(c.read_responses(1).find("HTTP/1.1 413"), std::string::npos);
  }
  {
    // curl's Expect: 100-continue gets the interim reply before the body is
    // sent.
    Client c(server_->port());
    c.send(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: "
        "100-continue\r\n\r\n");
    std::string interim = c.read_responses(0, std::chrono::milliseconds(500));
    c.send("abc");
    std::string got = interim + c.read_responses(1);
    EXPECT_NE(got.find("HTTP/1.1 100 Continue"), std::string::npos) << got;
    EXPECT_NE(got.find("/upload||3|"), std::string::npos) << got;
  }
}

// A refused upload is answered before its body arrives, and the connection
// closes: the unread body must not be parsed as the next request.
TEST_F(HttpServerTest, RefusedBeforeTheBodyIsRead) {
  start();
  Client c(server_->port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\nX-Refuse: 1\r\n\r\n");
  std::string got = c.read_responses(1);
  EXPECT_EQ(got.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n\r\nrefused"), std::string::npos) << got;
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(5)));
  // Without a body pending, the handler decides as usual (no early path).
  Client d(server_->port());
  d.send("GET /upload HTTP/1.1\r\nHost: x\r\nX-Refuse: 1\r\n\r\n");
  EXPECT_NE(d.read_responses(1).find("/upload||0|"), std::string::npos);
}

// Clients that ask for big replies and never read them hold them until
// request_timeout; past max_reply_bytes_in_flight the next gets 503, and a
// reply that ends (here: its client gone) gives its bytes back.
TEST_F(HttpServerTest, BigRepliesPastTheBoundGet503) {
  HttpServerOptions o;
  o.max_reply_bytes_in_flight = 2 * kBigReply + kBigReply / 2;
  start(o);
  std::vector<std::unique_ptr<Client>> holders;
  for (int i = 0; i < 2; ++i) {
    holders.push_back(std::make_unique<Client>(server_->port()));
    holders.back()->send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string head = holders.back()->read_until("\r\n\r\n");
    ASSERT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.substr(0, 200);
  }
  Client refused(server_->port());
  refused.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string got = refused.read_responses(1);
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got.substr(0, 200);
  EXPECT_NE(got.find("failure reason"), std::string::npos) << got.substr(0, 200);
  EXPECT_EQ(server_->stats().replies_refused, 1u);
  // Small replies are not counted.
  Client small(server_->port());
  small.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(small.read_responses(1).find("HTTP/1.1 200"), std::string::npos);

  holders.front()->close();
  EXPECT_TRUE(wait_for([&] {
    Client next(server_->port());
    next.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    return next.read_until("\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0;
  }));
}

TEST_F(HttpServerTest, Issue10UploadsBeyondTheBoundGet503BeforeTheirBody) {
  HttpServerOptions o;
  o.max_uploads_in_flight = 1;
  start(o);
  // The interim 100 Continue comes after the slot is taken. (Waiting for it
  // must not take request_timeout, or the server may cut the holder off.)
  Client holder(server_->port());
  holder.send(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: "
      "100-continue\r\n\r\n");
  std::string interim = holder.read_until("\r\n\r\n");
  ASSERT_NE(interim.find("HTTP/1.1 100 Continue"), std::string::npos) << interim;

  Client refused(server_->port());
  refused.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
  std::string got = refused.read_responses(1);
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
  EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got;
  EXPECT_TRUE(refused.closed_by_peer(std::chrono::seconds(5)));
  EXPECT_EQ(server_->stats().uploads_refused, 1u);

  // The holder finishes; its slot comes back.
  holder.send("abcdefghij");
  EXPECT_NE(holder.read_responses(1).find("/upload||10|"), std::string::npos);
  Client after(server_->port());
  after.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_NE(after.read_responses(1).find("/upload||2|"), std::string::npos);
}

// A blocking handler that waits for `gate` when it gets a body: an upload
// being parsed for a long time.
class GateHandler final : public HttpHandler {
 public:
  explicit GateHandler(std::shared_future<void> gate) : gate_(std::move(gate)) {}
  Placement placement(const HttpRequest&) const override { return Placement::kBlocking; }
  std::size_t body_limit(const HttpRequest&) const override { return 1000; }
  void handle(const HttpRequest& r, HttpResponse& resp, WorkerContext&) override {
    if (!r.body.empty()) gate_.wait_for(std::chrono::seconds(30));
    resp.body = std::string(r.path);
  }

 private:
  std::shared_future<void> gate_;
};

TEST(HttpServerUploadThreadTest, Issue10ASlowUploadDoesNotHoldUpOtherBlockingRequests) {
  std::promise<void> open_gate;
  GateHandler handler(open_gate.get_future().share());
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.workers = 1;
  auto s = HttpServer::create(o, handler);
  ASSERT_TRUE(s) << s.error().message;
  (*s)->start();
  Client upload((*s)->port());
  upload.send("POST /torrents/x.torrent HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  Client stats((*s)->port());
  stats.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  // Answered while the upload is still held at the gate.
  EXPECT_NE(stats.read_responses(1).find("/metrics"), std::string::npos);
  open_gate.set_value();
  EXPECT_NE(upload.read_responses(1).find("/torrents/x.torrent"), std::string::npos);
  (*s)->stop();
}

// One address holding idle connections gets max_connections_per_source of
// them; the rest are closed at once and other addresses are still served.
TEST_F(HttpServerTest, OneSourceHoldsAtMostItsShareOfConnections) {
  HttpServerOptions o;
  o.max_connections = 100;
  o.max_connections_per_source = 3;
  start(o);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 6; ++i)
    held.push_back(std::make_unique<Client>(server_->port(), "127.0.3.1"));
  int closed = 0;
  for (auto& c : held) closed += c->closed_by_peer(std::chrono::milliseconds(300));
  EXPECT_EQ(closed, 3);
  EXPECT_EQ(server_->stats().rejected_per_source, 3u);
  Client other(server_->port(), "127.0.3.2");
  other.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(other.read_responses(1).find("200 OK"), std::string::npos);
  // A connection that ends gives its place back.
  held.clear();
  ASSERT_TRUE(wait_for([&] { return server_->stats().open <= 1; }));
  Client again(server_->port(), "127.0.3.1");
  again.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_NE(again.read_responses(1).find("200 OK"), std::string::npos);
}

TEST_F(HttpServerTest, BlockingPlacementStillAnswers) {
  start();
  Client c(server_->port());
  c.send(
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  std::string got = c.read_responses(2);
  auto slow = got.find("/slow|"), fast = got.find("/fast|");
  ASSERT_NE(slow, std::string::npos);
  ASSERT_NE(fast, std::string::npos);
  EXPECT_LT(slow, fast);  // responses keep request order
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  start();
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = server_->port();
  // SO_REUSEPORT lets our own process share a port, but not with a listener
  // that did not set it; bind a plain socket elsewhere to check the message.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  o.port = ntohs(a.sin_port);
  EchoHandler h;
  auto s = HttpServer::create(o, h);
  ::close(fd);
  ASSERT_FALSE(s);
  // Found before any worker binds (issue 14: the probe that refuses a second tracker).
  EXPECT_NE(
      s.error().message.find(fmt::format("TCP port {} on 127.0.0.1 is already in use", o.port)),
      std::string::npos)
      << s.error().message;
  auto bad = HttpServer::create(HttpServerOptions{.host = "not-an-ip"}, h);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not-an-ip"), std::string::npos);
}

// HttpServer sets TCP_NODELAY once, on its listening socket, and relies on
// the kernel copying it to every accepted connection.
TEST(TcpNoDelayTest, AcceptedSocketsInheritItFromTheListener) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  int one = 1;
  ASSERT_EQ(::setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  int accepted = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  int value = 0;
  socklen_t vlen = sizeof value;
  ASSERT_EQ(::getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &value, &vlen), 0);
  EXPECT_NE(value, 0);
  ::close(accepted);
  ::close(client);
  ::close(listener);
}

}  // namespace
}  // namespace p2p::net

#include "net/http_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/intrusive/list.hpp>
#include <cerrno>
#include <chrono>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "net/asio_convert.h"
#include "net/handler_memory.h"
#include "net/port_probe.h"

namespace p2p::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// A connection waiting on a deadline (to receive a request, to write a
// reply). The worker keeps them in one list per timeout length, so each list
// is in deadline order by construction: arming is an append, the sweep pops
// expired ones off the front. A steady_timer per connection cost a timer-heap
// update per read and write and a timerfd_settime per new connection.
struct Deadline {
  virtual void expire() = 0;  // the deadline passed
  // auto_unlink: a connection destroyed while waiting leaves its list.
  boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
      hook;
  std::chrono::steady_clock::time_point at;

 protected:
  ~Deadline() = default;
};

using DeadlineList = boost::intrusive::list<
    Deadline, boost::intrusive::member_hook<Deadline, decltype(Deadline::hook), &Deadline::hook>,
    boost::intrusive::constant_time_size<false>>;

// How often a worker looks for passed deadlines: a timed-out client is cut
// off at most this late.
constexpr auto kSweepTick = std::chrono::milliseconds(250);

// How long a worker stops accepting after a failed accept. With no file
// descriptor left (EMFILE, ENFILE) the pending connection stays in the backlog
// and the listening socket stays readable, so retrying at once spins a core
// at 100% until a descriptor is freed; connections closing or timing out free
// them within a request_timeout. Short enough that a good client waiting in
// the backlog is served soon after.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

class Session;

// A worker's finished sessions, kept for its next connections. A fleet
// announces on a fresh connection each time, so a session per connection from
// the heap (about 20 KB with its handler slots and header arena, then its
// read buffer and reply strings) was heap churn per announce; a reused one
// keeps those buffers' capacity and allocates nothing once warm.
// What a pooled session's buffers may keep of their capacity: far above an
// announce's, far below a stats page's.
constexpr std::size_t kKeptCapacity = 64 * 1024;

class SessionPool {
 public:
  static constexpr std::size_t kMaxIdle = 256;  // beyond that a burst's sessions are freed

  SessionPool() = default;
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;
  // Frees the idle sessions; the worker declares its pool after its loop, so
  // their sockets go while the loop still exists.
  ~SessionPool();

  Session* take();             // null when empty
  bool give_back(Session* s);  // false (caller deletes) when full
                               // Only the worker's thread takes and gives back; sessions whose last
                               // reference drops elsewhere (at shutdown) are freed, never pooled.

 private:
  std::vector<Session*> idle_;
};

}  // namespace

struct HttpServer::Worker {
  Worker(HttpServer& s, int index, std::uint64_t seed, metrics::WorkerCounters& counters)
      : server(s), context(seed) {
    context.index = index;
    context.counters = &counters;
  }
  HttpServer& server;
  // Before `loop`: connections (owned by its pending handlers) leave these
  // lists when the loop's destructor destroys them.
  DeadlineList request_deadlines;       // request_timeout: receive a request, write a reply
  DeadlineList keepalive_deadlines;     // keepalive_timeout: idle between requests
  std::atomic<std::thread::id> thread;  // the one running `loop`: the pool's only user
  asio::io_context loop{1};             // one thread per loop: Asio may skip locking
  SessionPool sessions;                 // after `loop`: freed while it exists
  std::optional<tcp::acceptor> acceptor;
  tcp::endpoint peer;  // the address async_accept fills in
  std::optional<asio::steady_timer> sweep;
  std::optional<asio::steady_timer> accept_backoff;
  WorkerContext context;
  // The server's, shared by every worker (set before the loops run).
  std::atomic<std::size_t>* uploads_in_flight = nullptr;
  std::atomic<std::size_t>* reply_bytes_in_flight = nullptr;  // max_reply_bytes_in_flight
  std::atomic<std::int64_t>* connections_admitted = nullptr;  // max_connections
  asio::io_context* upload_loop = nullptr;
  WorkerContext* upload_context = nullptr;
  SourceConnections* per_source = nullptr;  // the server's; null: no per-source cap
};

namespace {

// SO_REUSEPORT: every worker binds its own acceptor to the one port.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

// Error replies written by the server itself, before any handler ran. Bencoded
// like a tracker failure so a BitTorrent client can show the reason.
void failure_body(std::string& out, std::string_view reason) {
  out.clear();
  fmt::format_to(std::back_inserter(out), "d14:failure reason{}:{}e", reason.size(), reason);
}

// What a pending operation holds of its session: a counted reference. The
// last one to go ends the connection and hands the session back to its
// worker's pool (std::shared_ptr would free it instead).
class SessionRef {
 public:
  explicit SessionRef(Session* s) noexcept;
  SessionRef(const SessionRef& other) noexcept : SessionRef(other.s_) {}
  SessionRef(SessionRef&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  SessionRef& operator=(const SessionRef&) = delete;
  ~SessionRef();
  Session* operator->() const noexcept { return s_; }

 private:
  Session* s_;
};

class Session final : private Deadline, public Deferrable {
 public:
  Session(HttpServer::Worker& worker, const HttpServerOptions& options, HttpHandler& handler,
          asio::io_context& blocking_loop, WorkerContext& blocking_context)
      : socket_(worker.loop),
        worker_(worker),
        counters_(*worker.context.counters),
        options_(options),
        handler_(handler),
        blocking_loop_(blocking_loop),
        blocking_context_(blocking_context) {}

  // Serves one connection, in a pooled session if the worker has one.
  // `ticket`: the connection's place in worker.per_source, given back when
  // it ends.
  static void serve(tcp::socket socket, const core::Endpoint& remote, HttpServer::Worker& worker,
                    const HttpServerOptions& options, HttpHandler& handler,
                    asio::io_context& blocking_loop, WorkerContext& blocking_context,
                    std::optional<SourceConnections::Ticket> ticket) {
    Session* s = worker.sessions.take();
    if (s == nullptr) s = new Session(worker, options, handler, blocking_loop, blocking_context);
    s->socket_ = std::move(socket);
    s->remote_ = remote;
    s->ticket_ = ticket;
    s->first_request_ = true;
    s->keep_alive_ = s->timed_out_ = s->timed_ = false;
    s->buffer_.clear();  // keeps its capacity
    s->counters_.add_shared(metrics::Counter::kHttpConnectionsOpen, 1);
    s->read_header();
  }

 private:
  friend class SessionRef;

  SessionRef self() { return SessionRef(this); }

  // The last reference went: no operation is pending, so the connection is
  // over. It may go on the blocking pool's thread (a slow request when the
  // server stops), hence add_shared, and then the session is freed, not
  // pooled: the pool belongs to the worker's thread.
  void release() {
    end_upload();
    counters_.add_shared(metrics::Counter::kHttpConnectionsOpen, -1);
    worker_.connections_admitted->fetch_sub(1, std::memory_order_acq_rel);
    if (ticket_) worker_.per_source->release(*std::exchange(ticket_, std::nullopt));
    disarm();
    beast::error_code ec;
    socket_.close(ec);
    parser_.reset();
    // A pooled session keeps its buffers' capacity for the next connection,
    // but not what a large request or reply grew them to: a worker's idle
    // sessions each holding a stats page or an upload would be gigabytes
    // that nothing uses.
    response_.reset();
    if (response_.body.capacity() > kKeptCapacity) std::string().swap(response_.body);
    if (buffer_.capacity() > kKeptCapacity) {
      buffer_.clear();
      buffer_.shrink_to_fit();
    }
    if (std::this_thread::get_id() != worker_.thread.load(std::memory_order_relaxed) ||
        !worker_.sessions.give_back(this)) {
      delete this;
    }
  }

 private:
  using Fields = http::basic_fields<ArenaAllocator<char>>;
  using Parser = http::request_parser<http::string_body, ArenaAllocator<char>>;

  // One deadline per phase (receive a request, write a reply). When it
  // passes the socket is closed, which fails the pending operation: slow and
  // idle clients are cut off without a timer per read. Always armed just
  // before an operation starts, so the pending operation keeps the session
  // alive while it is on a list.
  void arm(DeadlineList& list, std::chrono::seconds timeout) {
    disarm();
    at = std::chrono::steady_clock::now() + timeout;
    list.push_back(*this);
  }
  void disarm() {
    if (hook.is_linked()) hook.unlink();
  }
  void expire() override {
    timed_out_ = true;
    beast::error_code ignored;
    socket_.close(ignored);
  }

  void read_header() {
    // The previous request's fields lived in the arena; the parser that owned
    // them is gone before the arena is reused.
    parser_.reset();
    arena_.reset();
    parser_.emplace(std::piecewise_construct, std::make_tuple(),
                    std::make_tuple(ArenaAllocator<char>(arena_)));
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_request_bytes));
    // Beast checks Content-Length against body_limit while parsing the header,
    // but the limit depends on the route, known only after the header: lift it
    // here and set the real one in on_header(). (Not boost::none: Beast 1.74
    // compares Content-Length > optional, which is true for none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A new connection gets request_timeout to send its request; a kept-alive
    // one may idle for keepalive_timeout first, and then has request_timeout
    // from its next request's first byte (not keepalive_timeout for the
    // whole request: one byte a second would hold it a minute).
    if (!first_request_ && buffer_.size() == 0) {
      arm(worker_.keepalive_deadlines, options_.keepalive_timeout);
      socket_.async_wait(tcp::socket::wait_read,
                         bind_memory(memory_, [self = self()](beast::error_code ec) {
                           if (ec) return self->on_read_error(ec);
                           self->read_request_header();
                         }));
      return;
    }
    read_request_header();
  }

  void read_request_header() {
    arm(worker_.request_deadlines, options_.request_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        bind_memory(memory_,
                    [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); }));
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    fill_request();
    std::size_t limit = handler_.body_limit(request_);
    if (parser_->is_done()) return dispatch();
    // A request refused whatever its body is answered from its header: a
    // stranger's upload costs us its header, not up to max_torrent_bytes of
    // memory and the time to receive them.
    response_.reset();
    if (handler_.refuse_early(request_, response_)) return reply_early();
    if (limit == 0) {
      return reply_error(413, "this endpoint takes no request body");
    }
    if (auto length = parser_->content_length(); length && *length > limit) {
      return reply_error(
          413, fmt::format("request body of {} bytes exceeds the {} allowed here", *length, limit));
    }
    // A body is held in memory until its handler is done with it: bound how
    // many are, before reading any of this one.
    if (!begin_upload()) {
      counters_.add(metrics::Counter::kHttpUploadsRefused);
      return reply_error(
          503,
          fmt::format("{} uploads are in progress; retry shortly", options_.max_uploads_in_flight),
          "Retry-After: 1\r\n");
    }
    parser_->body_limit(limit);  // still guards chunked bodies
    auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // curl sends large uploads only after this interim reply (else it waits
      // a second for nothing).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        bind_memory(memory_, [self = self()](beast::error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        }));
      return;
    }
    read_body();
  }

  // Counts a big reply against max_reply_bytes_in_flight until it is written
  // (or the write fails or times out); false when it would pass the bound.
  // Small replies are bounded by the connections that can be open, and a
  // shared one costs its connection nothing, so only the rest are counted.
  bool hold_reply() {
    const std::size_t n = response_.shared_body ? 0 : response_.body.size();
    if (n <= kKeptCapacity || options_.max_reply_bytes_in_flight == 0) return true;
    std::atomic<std::size_t>& total = *worker_.reply_bytes_in_flight;
    if (total.fetch_add(n, std::memory_order_acq_rel) + n > options_.max_reply_bytes_in_flight) {
      total.fetch_sub(n, std::memory_order_acq_rel);
      return false;
    }
    reply_held_ = n;
    return true;
  }
  void release_reply() {
    if (reply_held_ == 0) return;
    worker_.reply_bytes_in_flight->fetch_sub(std::exchange(reply_held_, 0),
                                             std::memory_order_acq_rel);
  }

  // Takes one of the max_uploads_in_flight slots; false when none is free.
  bool begin_upload() {
    std::atomic<std::size_t>& n = *worker_.uploads_in_flight;
    if (n.fetch_add(1, std::memory_order_acq_rel) >= options_.max_uploads_in_flight) {
      n.fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
    upload_ = true;
    return true;
  }
  // Gives the slot back: the body is handled (its reply is being written), or
  // the connection is over.
  void end_upload() {
    if (!upload_) return;
    upload_ = false;
    worker_.uploads_in_flight->fetch_sub(1, std::memory_order_acq_rel);
  }

  void read_body() {
    arm(worker_.request_deadlines, options_.request_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     bind_memory(memory_, [self = self()](beast::error_code ec, std::size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->fill_request();
                       self->dispatch();
                     }));
  }

  void on_read_error(beast::error_code ec) {
    if (timed_out_) {
      // The deadline closed the socket: slow or idle clients are cut off.
      // Only a request that had started counts as bad.
      if (first_request_ || buffer_.size() > 0) {
        counters_.add(metrics::Counter::kHttpBadRequests);
      }
      return close();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::error::eof) {
      return close();
    }
    counters_.add(metrics::Counter::kHttpBadRequests);
    if (ec == http::error::header_limit) {
      return reply_error(
          431, fmt::format("request line and headers exceed {} bytes", options_.max_request_bytes));
    }
    if (ec == http::error::body_limit) return reply_error(413, "request body too large");
    reply_error(400, fmt::format("malformed HTTP request: {}", ec.message()));
  }

  void fill_request() {
    auto& msg = parser_->get();
    request_.method = to_method(msg.method());
    auto target = msg.target();
    request_.target = std::string_view(target.data(), target.size());
    auto q = request_.target.find('?');
    request_.path = request_.target.substr(0, q);
    request_.query =
        q == std::string_view::npos ? std::string_view{} : request_.target.substr(q + 1);
    request_.body = msg.body();
    request_.remote = remote_;
    joined_headers_.clear();
    request_.header = [this, &msg](std::string_view name) -> std::string_view {
      const auto [first, last] = msg.equal_range(beast::string_view(name.data(), name.size()));
      if (first == last) return {};
      if (std::next(first) == last) return {first->value().data(), first->value().size()};
      // Repeated field lines are one field, joined in order (RFC 9110 5.3):
      // a proxy that adds a line of its own to the client's is read after it.
      std::string& joined = joined_headers_.emplace_back();
      for (auto it = first; it != last; ++it) {
        if (it != first) joined += ", ";
        joined.append(it->value().data(), it->value().size());
      }
      return joined;
    };
  }

  void dispatch() {
    counters_.add(metrics::Counter::kHttpRequests);
    // p2ptracker_http_response_seconds runs from here to the last byte written.
    dispatched_at_ = std::chrono::steady_clock::now();
    timed_ = true;
    response_.reset();
    disarm();  // handling has no deadline; writing the reply has one
    if (handler_.placement(request_) == Placement::kInline) {
      // The handler may wait for something (a topology answer) without
      // holding the worker: it resumes the request on the worker's loop.
      if (handler_.defer(request_, worker_.context, *this)) return;
      return handle_inline();
    }
    // Slow work leaves the worker's loop; the reply is written back on it.
    // Uploads have a thread of their own, so parsing and storing one never
    // holds up the blocking pool's other requests (/metrics, stats).
    asio::io_context& loop = upload_ ? *worker_.upload_loop : blocking_loop_;
    WorkerContext& context = upload_ ? *worker_.upload_context : blocking_context_;
    asio::post(loop, [self = self(), &context] {
      self->handler_.handle(self->request_, self->response_, context);
      asio::post(self->socket_.get_executor(), [self] { self->write_response(); });
    });
  }

  std::function<void()> resumer() override {
    return [self = self()] {
      asio::post(self->socket_.get_executor(), [self] { self->handle_inline(); });
    };
  }

  void handle_inline() {
    handler_.handle(request_, response_, worker_.context);
    write_response();
  }

  // The handler's refusal of a request whose body is still unread: answered
  // like any response, then the connection closes, since the unread body
  // would otherwise be taken for the next request.
  void reply_early() {
    counters_.add(metrics::Counter::kHttpRequests);
    dispatched_at_ = std::chrono::steady_clock::now();
    timed_ = true;
    response_.close = true;
    write_response();
  }

  void reply_error(int status, std::string_view reason, std::string_view extra_headers = {}) {
    timed_ = false;  // refused before any handler: a bad request, not a response time
    response_.reset();
    response_.status = status;
    response_.close = true;
    response_.extra_headers = extra_headers;
    failure_body(response_.body, reason);
    write_response();
  }

  void write_response() {
    // The body has been handled: the slot goes back before the reply leaves,
    // so a client that has seen the reply finds it free.
    end_upload();
    if (!hold_reply()) {
      counters_.add(metrics::Counter::kHttpRepliesRefused);
      std::string().swap(response_.body);  // its memory is what the bound is for
      return reply_error(503,
                         fmt::format("replies of {} bytes are being written; retry shortly",
                                     worker_.reply_bytes_in_flight->load()),
                         "Retry-After: 1\r\n");
    }
    keep_alive_ =
        !response_.close && parser_ && parser_->is_header_done() && parser_->get().keep_alive();
    const bool head_only = request_.method == Method::kHead;
    head_.clear();
    fmt::format_to(std::back_inserter(head_),
                   "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                   "Connection: {}\r\n{}\r\n",
                   response_.status, status_text(response_.status), response_.content_type,
                   response_.body_bytes().size(), keep_alive_ ? "keep-alive" : "close",
                   response_.extra_headers);
    const std::string_view body = response_.body_bytes();
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_), asio::buffer(body.data(), head_only ? 0 : body.size())};
    arm(worker_.request_deadlines, options_.request_timeout);
    asio::async_write(socket_, buffers,
                      bind_memory(memory_, [self = self()](beast::error_code ec, std::size_t) {
                        self->release_reply();  // written, failed or cut off
                        // On the worker's loop: its own block, single writer.
                        if (!ec && self->timed_) {
                          self->counters_.observe_latency(std::chrono::steady_clock::now() -
                                                          self->dispatched_at_);
                        }
                        self->timed_ = false;
                        if (ec) return self->close();
                        if (!self->keep_alive_) return self->close_after_reply();
                        self->first_request_ = false;
                        self->read_header();
                      }));
  }

  void close() {
    beast::error_code ec;
    disarm();
    socket_.close(ec);
  }

  // After the last reply. A close() with unread bytes still in the receive
  // buffer makes the kernel send a reset, which can destroy the reply before
  // the client reads it, so a request we did not read to its end (an error
  // reply, a pipelined next request) gets a FIN first. A client that sent one
  // whole request and asked to close needs no shutdown: it was 8.5% of the CPU
  // per new connection (docs/performance.md), and opentracker does not either.
  void close_after_reply() {
    const bool drained = parser_ && parser_->is_done() && buffer_.size() == 0;
    if (!drained) {
      beast::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
    }
    close();
  }

  std::atomic<int> refs_{0};  // SessionRefs alive
  // Declared first: destroyed last, after everything that may hold its memory.
  HandlerMemory memory_;
  RequestArena arena_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  HttpServer::Worker& worker_;
  metrics::WorkerCounters& counters_;  // the worker's block
  const HttpServerOptions& options_;
  HttpHandler& handler_;
  asio::io_context& blocking_loop_;
  WorkerContext& blocking_context_;
  core::Endpoint remote_;
  std::optional<SourceConnections::Ticket> ticket_;  // counted in worker_.per_source
  HttpRequest request_;
  // request_.header()'s joined values of repeated fields, valid while the
  // request is handled (a deque: a view stays valid as more are added).
  std::deque<std::string> joined_headers_;
  HttpResponse response_;
  std::string head_;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool timed_out_ = false;
  bool timed_ = false;   // a dispatched request whose response is being written
  bool upload_ = false;  // holds one of the max_uploads_in_flight slots
  std::size_t reply_held_ = 0;  // bytes counted in max_reply_bytes_in_flight
  std::chrono::steady_clock::time_point dispatched_at_;
};

SessionRef::SessionRef(Session* s) noexcept : s_(s) {
  s_->refs_.fetch_add(1, std::memory_order_relaxed);
}

SessionRef::~SessionRef() {
  if (s_ != nullptr && s_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) s_->release();
}

Session* SessionPool::take() {
  if (idle_.empty()) return nullptr;
  Session* s = idle_.back();
  idle_.pop_back();
  return s;
}

bool SessionPool::give_back(Session* s) {
  if (idle_.size() >= kMaxIdle) return false;
  if (idle_.capacity() == 0) idle_.reserve(kMaxIdle);  // once: never on a warm path
  idle_.push_back(s);
  return true;
}

SessionPool::~SessionPool() {
  for (Session* s : idle_) delete s;
}

}  // namespace

HttpServer::HttpServer(const HttpServerOptions& options, HttpHandler& handler)
    : options_(options), handler_(handler) {}

HttpServer::~HttpServer() { stop(); }

core::Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerOptions& options,
                                                             HttpHandler& handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(options, handler));
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return core::invalid_argument(fmt::format(
        "host '{}' is not an IP address to listen on (try 0.0.0.0 or ::)", options.host));
  }
  if (auto host = core::Address::parse(options.host)) {
    if (auto free = check_port_free(*host, options.port, Transport::kTcp); !free) {
      return free.error();
    }
  }
  const int n = std::max(1, options.workers);
  std::random_device seed_source;
  std::uint16_t port = options.port;
  metrics::Registry* registry = options.metrics;
  if (registry == nullptr) {
    server->own_metrics_ = std::make_unique<metrics::Registry>();
    registry = server->own_metrics_.get();
  }
  if (options.max_connections_per_source > 0) {
    server->per_source_ = std::make_unique<SourceConnections>();
  }
  for (int i = 0; i < n; ++i) {
    metrics::WorkerCounters& counters = registry->add_worker();
    server->worker_counters_.push_back(&counters);
    auto w = std::make_unique<Worker>(
        *server, i, (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ i, counters);
    w->per_source = server->per_source_.get();
    tcp::endpoint ep(address, port);
    auto& acc = w->acceptor.emplace(w->loop);
    auto fail = [&](std::string_view what) -> core::Error {
      return core::unavailable(
          fmt::format("cannot listen on {}:{} ({}): {}", options.host, port, what, ec.message()));
    };
    acc.open(ep.protocol(), ec);
    if (ec) return fail("open");
    acc.set_option(tcp::acceptor::reuse_address(true), ec);
    acc.set_option(reuse_port(true), ec);
    if (ec) return fail("SO_REUSEPORT");
    if (address.is_v6()) {
      // "::" serves IPv4 clients too (they appear as IPv4-mapped addresses).
      acc.set_option(asio::ip::v6_only(false), ec);
    }
    // Linux copies TCP_NODELAY to every connection accepted from this socket,
    // saving a setsockopt per connection (tests/net checks the inheritance).
    // Replies are one write each, but a pipelined client's second reply must
    // not wait for the first one's ACK.
    acc.set_option(tcp::no_delay(true), ec);
    if (ec) return fail("TCP_NODELAY");
    acc.bind(ep, ec);
    if (ec) return fail("bind");
    acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    // Port 0 means "any free port": the first worker gets one, the others
    // join it there.
    port = acc.local_endpoint().port();
    server->workers_.push_back(std::move(w));
  }
  server->port_ = port;
  server->blocking_loop_ = std::make_unique<asio::io_context>(1);
  server->blocking_context_ = std::make_unique<WorkerContext>(seed_source());
  server->blocking_context_->index = n;
  server->blocking_context_->counters = &registry->add_worker();
  server->upload_loop_ = std::make_unique<asio::io_context>(1);
  server->upload_context_ = std::make_unique<WorkerContext>(seed_source());
  server->upload_context_->index = n + 1;
  server->upload_context_->counters = &registry->add_worker();
  for (auto& w : server->workers_) {
    w->uploads_in_flight = &server->uploads_in_flight_;
    w->reply_bytes_in_flight = &server->reply_bytes_in_flight_;
    w->connections_admitted = &server->connections_admitted_;
    w->upload_loop = server->upload_loop_.get();
    w->upload_context = server->upload_context_.get();
  }
  return server;
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  for (const metrics::WorkerCounters* c : worker_counters_) {
    s.accepted += c->get(metrics::Counter::kHttpConnectionsAccepted);
    s.rejected += c->get(metrics::Counter::kHttpConnectionsRejected);
    s.rejected_per_source += c->get(metrics::Counter::kHttpSourceConnectionsRejected);
    s.requests += c->get(metrics::Counter::kHttpRequests);
    s.bad_requests += c->get(metrics::Counter::kHttpBadRequests);
    s.uploads_refused += c->get(metrics::Counter::kHttpUploadsRefused);
    s.replies_refused += c->get(metrics::Counter::kHttpRepliesRefused);
    s.accept_errors += c->get(metrics::Counter::kHttpAcceptErrors);
    s.open += static_cast<std::int64_t>(c->get(metrics::Counter::kHttpConnectionsOpen));
  }
  return s;
}

asio::io_context& HttpServer::main_loop() { return workers_.front()->loop; }

namespace {

bool is_uncapped(const HttpServerOptions& options, const core::Address& a) {
  return std::any_of(options.uncapped_sources.begin(), options.uncapped_sources.end(),
                     [&](const core::Cidr& c) { return c.contains(a); });
}

void accept_loop(HttpServer::Worker& w, const HttpServerOptions& options, HttpHandler& handler,
                 asio::io_context& blocking_loop, WorkerContext& blocking_context,
                 const std::vector<metrics::WorkerCounters*>& all_counters) {
  // The peer's address comes with the accept (no getpeername per connection).
  w.acceptor->async_accept(
      w.loop, w.peer,
      [&w, &options, &handler, &blocking_loop, &blocking_context, &all_counters](
          beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !w.acceptor->is_open()) return;
        if (ec) {
          w.context.counters->add(metrics::Counter::kHttpAcceptErrors);
          // A connection reset before it was accepted is the client's
          // business: go on. Out of descriptors or memory: pause (see
          // kAcceptBackoff), then accept again.
          const bool exhausted = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                                 ec == asio::error::no_buffer_space ||
                                 ec == asio::error::no_memory;
          if (!exhausted) {
            return accept_loop(w, options, handler, blocking_loop, blocking_context, all_counters);
          }
          w.accept_backoff->expires_after(kAcceptBackoff);
          w.accept_backoff->async_wait([&w, &options, &handler, &blocking_loop, &blocking_context,
                                        &all_counters](beast::error_code wait_ec) {
            if (wait_ec || !w.acceptor->is_open()) return;
            accept_loop(w, options, handler, blocking_loop, blocking_context, all_counters);
          });
          return;
        }
        {
          metrics::WorkerCounters& counters = *w.context.counters;
          counters.add(metrics::Counter::kHttpConnectionsAccepted);
          // A slot is taken before the checks (one atomic add, shared by the
          // workers) and given back if the connection is turned away.
          const std::int64_t open = w.connections_admitted->fetch_add(1, std::memory_order_acq_rel);
          const core::Endpoint remote = from_asio(w.peer);
          std::optional<SourceConnections::Ticket> ticket;
          if (static_cast<std::size_t>(open) >= options.max_connections) {
            // Closing at once is the cheapest answer under a flood.
            w.connections_admitted->fetch_sub(1, std::memory_order_acq_rel);
            counters.add(metrics::Counter::kHttpConnectionsRejected);
            socket.close(ec);
          } else if (w.per_source != nullptr && !is_uncapped(options, remote.address) &&
                     !(ticket = w.per_source->acquire(
                           remote.address,
                           static_cast<std::uint32_t>(options.max_connections_per_source)))) {
            // This address holds its share already: it waits for one of its
            // own connections to end, everyone else keeps being served.
            w.connections_admitted->fetch_sub(1, std::memory_order_acq_rel);
            counters.add(metrics::Counter::kHttpSourceConnectionsRejected);
            socket.close(ec);
          } else {
            Session::serve(std::move(socket), remote, w, options, handler, blocking_loop,
                           blocking_context, ticket);
          }
        }
        accept_loop(w, options, handler, blocking_loop, blocking_context, all_counters);
      });
}

// Cuts off the connections whose deadline passed, every kSweepTick.
void sweep_loop(HttpServer::Worker& w) {
  w.sweep->expires_after(kSweepTick);
  w.sweep->async_wait([&w](beast::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    for (DeadlineList* list : {&w.request_deadlines, &w.keepalive_deadlines}) {
      while (!list->empty() && list->front().at <= now) {
        Deadline& d = list->front();
        list->pop_front();
        d.expire();  // closes the socket; the session ends in its handlers, later
      }
    }
    sweep_loop(w);
  });
}

}  // namespace

void HttpServer::start() {
  for (auto& w : workers_) {
    w->accept_backoff.emplace(w->loop);
    accept_loop(*w, options_, handler_, *blocking_loop_, *blocking_context_, worker_counters_);
    w->sweep.emplace(w->loop);
    sweep_loop(*w);
  }
  for (auto& w : workers_) {
    threads_.emplace_back([w = w.get()] {
      w->thread.store(std::this_thread::get_id(), std::memory_order_relaxed);
      auto guard = asio::make_work_guard(w->loop);
      w->loop.run();
    });
  }
  threads_.emplace_back([this] {
    auto guard = asio::make_work_guard(*blocking_loop_);
    blocking_loop_->run();
  });
  threads_.emplace_back([this] {
    auto guard = asio::make_work_guard(*upload_loop_);
    upload_loop_->run();
  });
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  for (auto& w : workers_) {
    asio::post(w->loop, [&w] {
      beast::error_code ec;
      w->acceptor->close(ec);
    });
    w->loop.stop();
  }
  if (blocking_loop_) blocking_loop_->stop();
  if (upload_loop_) upload_loop_->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace p2p::net

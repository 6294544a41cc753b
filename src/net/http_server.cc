#include "net/http_server.h"

#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <limits>
#include <optional>
#include <random>

#include "net/asio_convert.h"

namespace p2p::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Worker {
  Worker(HttpServer& s, int index, std::uint64_t seed) : server(s), context(seed) {
    context.index = index;
  }
  HttpServer& server;
  asio::io_context loop{1};  // one thread per loop: Asio may skip locking
  std::optional<tcp::acceptor> acceptor;
  WorkerContext context;
};

namespace {

// SO_REUSEPORT: every worker binds its own acceptor to the one port.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

Method to_method(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::kGet;
    case http::verb::head: return Method::kHead;
    case http::verb::post: return Method::kPost;
    case http::verb::put: return Method::kPut;
    case http::verb::delete_: return Method::kDelete;
    default: return Method::kOther;
  }
}

// Error replies written by the server itself, before any handler ran. Bencoded
// like a tracker failure so a BitTorrent client can show the reason.
void failure_body(std::string& out, std::string_view reason) {
  out.clear();
  fmt::format_to(std::back_inserter(out), "d14:failure reason{}:{}e", reason.size(), reason);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Worker& worker, const HttpServerOptions& options,
          HttpHandler& handler, asio::io_context& blocking_loop, WorkerContext& blocking_context,
          HttpServerStats& stats)
      : stream_(std::move(socket)),
        worker_(worker),
        options_(options),
        handler_(handler),
        blocking_loop_(blocking_loop),
        blocking_context_(blocking_context),
        stats_(stats) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = from_asio(ep);
    ++stats_.open;
  }
  ~Session() { --stats_.open; }

  void start() { read_header(); }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_request_bytes));
    // Beast checks Content-Length against body_limit while parsing the header,
    // but the limit depends on the route, known only after the header: lift it
    // here and set the real one in on_header(). (Not boost::none: Beast 1.74
    // compares Content-Length > optional, which is true for none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A new connection gets request_timeout to send its request; a kept-alive
    // one may idle for keepalive_timeout first.
    stream_.expires_after(first_request_ ? options_.request_timeout : options_.keepalive_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    fill_request();
    std::size_t limit = handler_.body_limit(request_);
    if (parser_->is_done()) return dispatch();
    if (limit == 0) {
      return reply_error(413, "this endpoint takes no request body");
    }
    if (auto length = parser_->content_length(); length && *length > limit) {
      return reply_error(413, fmt::format("request body of {} bytes exceeds the {} allowed here",
                                          *length, limit));
    }
    parser_->body_limit(limit);  // still guards chunked bodies
    auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // curl sends large uploads only after this interim reply (else it waits
      // a second for nothing).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(options_.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->fill_request();
                       self->dispatch();
                     });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == beast::error::timeout) {
      // The stream already closed the socket: slow or idle clients are cut off.
      if (!first_request_ && buffer_.size() == 0) return;  // idle keep-alive ended
      ++stats_.bad_requests;
      return;
    }
    ++stats_.bad_requests;
    if (ec == http::error::header_limit) {
      return reply_error(431, fmt::format("request line and headers exceed {} bytes",
                                          options_.max_request_bytes));
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
    request_.query = q == std::string_view::npos ? std::string_view{} : request_.target.substr(q + 1);
    request_.body = msg.body();
    request_.remote = remote_;
    request_.header = [&msg](std::string_view name) {
      auto v = msg[beast::string_view(name.data(), name.size())];
      return std::string_view(v.data(), v.size());
    };
  }

  void dispatch() {
    ++stats_.requests;
    response_.reset();
    stream_.expires_never();
    if (handler_.placement(request_) == Placement::kInline) {
      handler_.handle(request_, response_, worker_.context);
      return write_response();
    }
    // Slow work leaves the worker's loop; the reply is written back on it.
    asio::post(blocking_loop_, [self = shared_from_this()] {
      self->handler_.handle(self->request_, self->response_, self->blocking_context_);
      asio::post(self->stream_.get_executor(), [self] { self->write_response(); });
    });
  }

  void reply_error(int status, std::string_view reason) {
    response_.reset();
    response_.status = status;
    response_.close = true;
    failure_body(response_.body, reason);
    write_response();
  }

  void write_response() {
    keep_alive_ = !response_.close && parser_ && parser_->is_header_done() &&
                  parser_->get().keep_alive();
    const bool head_only = request_.method == Method::kHead;
    head_.clear();
    fmt::format_to(std::back_inserter(head_),
                   "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                   "Connection: {}\r\n{}\r\n",
                   response_.status, status_text(response_.status), response_.content_type,
                   response_.body.size(), keep_alive_ ? "keep-alive" : "close",
                   response_.extra_headers);
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_), asio::buffer(response_.body.data(), head_only ? 0 : response_.body.size())};
    stream_.expires_after(options_.request_timeout);
    asio::async_write(stream_, buffers,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->close();
                        self->first_request_ = false;
                        self->read_header();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Worker& worker_;
  const HttpServerOptions& options_;
  HttpHandler& handler_;
  asio::io_context& blocking_loop_;
  WorkerContext& blocking_context_;
  HttpServerStats& stats_;
  core::Endpoint remote_;
  HttpRequest request_;
  HttpResponse response_;
  std::string head_;
  bool first_request_ = true;
  bool keep_alive_ = false;
};

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
    return core::invalid_argument(
        fmt::format("host '{}' is not an IP address to listen on (try 0.0.0.0 or ::)", options.host));
  }
  const int n = std::max(1, options.workers);
  std::random_device seed_source;
  std::uint16_t port = options.port;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*server, i,
                                      (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ i);
    tcp::endpoint ep(address, port);
    auto& acc = w->acceptor.emplace(w->loop);
    auto fail = [&](std::string_view what) -> core::Error {
      return core::unavailable(fmt::format("cannot listen on {}:{} ({}): {}", options.host, port,
                                           what, ec.message()));
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
  return server;
}

asio::io_context& HttpServer::main_loop() { return workers_.front()->loop; }

namespace {

void accept_loop(HttpServer::Worker& w, const HttpServerOptions& options, HttpHandler& handler,
                 asio::io_context& blocking_loop, WorkerContext& blocking_context,
                 HttpServerStats& stats) {
  w.acceptor->async_accept(
      w.loop, [&w, &options, &handler, &blocking_loop, &blocking_context, &stats](
                  beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !w.acceptor->is_open()) return;
        if (!ec) {
          ++stats.accepted;
          if (static_cast<std::size_t>(stats.open.load()) >= options.max_connections) {
            ++stats.rejected;  // closing at once is the cheapest answer under a flood
            socket.close(ec);
          } else {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket), w, options, handler, blocking_loop,
                                      blocking_context, stats)
                ->start();
          }
        }
        accept_loop(w, options, handler, blocking_loop, blocking_context, stats);
      });
}

}  // namespace

void HttpServer::start() {
  for (auto& w : workers_) {
    accept_loop(*w, options_, handler_, *blocking_loop_, *blocking_context_, stats_);
  }
  for (auto& w : workers_) {
    threads_.emplace_back([loop = &w->loop] {
      auto guard = asio::make_work_guard(*loop);
      loop->run();
    });
  }
  threads_.emplace_back([this] {
    auto guard = asio::make_work_guard(*blocking_loop_);
    blocking_loop_->run();
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
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace p2p::net

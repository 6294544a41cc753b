// HttpServer: accepts HTTP/1.1 connections on every worker and hands each
// request to an HttpHandler.
//
// One event loop (io_context) per worker thread, each with its own acceptor on
// the same port (SO_REUSEPORT: the kernel spreads new connections over the
// workers, so no accept lock). A connection stays on the worker that accepted
// it. Requests run inline on that worker unless the handler asks for the
// blocking pool (a thread of its own) for slow work; a request with a body
// (an upload) that asks for the pool runs on a thread of its own instead, so
// an upload being parsed or written never delays /metrics or the stats API.
// Limits enforced here, not by handlers: request line + headers
// (max_request_bytes), the time to receive a request (request_timeout), idle
// keep-alive time (keepalive_timeout), body size (the handler's body_limit,
// checked against Content-Length before any of the body is read), requests
// with a body being received or handled (max_uploads_in_flight), open
// connections (max_connections). A failed accept (no file descriptor left)
// pauses that worker's accepts for kAcceptBackoff rather than retrying at once.
//
// Thread-safety: create() and start() on one thread; stop() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/address.h"
#include "core/result.h"
#include "metrics/registry.h"
#include "net/http_types.h"
#include "net/source_limits.h"

namespace p2p::net {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 6969;  // 0: any free port (see port())
  int workers = 1;
  std::size_t max_request_bytes = 8192;
  std::chrono::seconds request_timeout{10};
  std::chrono::seconds keepalive_timeout{60};
  std::size_t max_connections = 20000;
  // Requests with a body received or handled at once, all workers together;
  // more get 503 before their body is read.
  std::size_t max_uploads_in_flight = 4;
  // Bytes of replies being written, all workers together, counting only
  // replies over 64 KiB that are not shared (a stats page, not an announce or
  // the shared full scrape); a reply that would pass it gets 503 instead, so
  // clients that ask and never read cannot hold gigabytes. 0: no bound.
  std::size_t max_reply_bytes_in_flight = 0;
  // Open connections one source address may hold, all workers together, so
  // one address cannot take max_connections from everyone else; 0: no cap.
  std::size_t max_connections_per_source = 0;
  // Sources the per-source cap does not apply to: with proxypass, every
  // client behind a trusted proxy shares the proxy's address.
  std::vector<core::Cidr> uncapped_sources = {};
  // Where the workers' counter blocks come from (the server's /metrics
  // registry); null: the server keeps its own, visible only through stats().
  metrics::Registry* metrics = nullptr;
};

// The server's counters summed over its workers (each worker counts in its own
// metrics::WorkerCounters block; see p2ptracker_http_* on /metrics).
struct HttpServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;             // over max_connections
  std::uint64_t rejected_per_source = 0;  // over max_connections_per_source
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;     // unparsable, oversized, timed out
  std::uint64_t uploads_refused = 0;  // over max_uploads_in_flight
  std::uint64_t replies_refused = 0;  // over max_reply_bytes_in_flight
  std::uint64_t accept_errors = 0;    // EMFILE and the like
  std::int64_t open = 0;
};

class HttpServer {
 public:
  // Binds and listens; errors name the address ("cannot listen on
  // 0.0.0.0:6969: Address already in use").
  static core::Result<std::unique_ptr<HttpServer>> create(const HttpServerOptions& options,
                                                          HttpHandler& handler);
  ~HttpServer();

  // Starts the worker threads and the blocking pool; returns at once.
  void start();
  // Stops accepting, closes every connection, joins the threads. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  int workers() const { return static_cast<int>(workers_.size()); }
  // Worker 0's event loop, for the server's own timers and signals.
  boost::asio::io_context& main_loop();
  // Sums the workers' blocks (reads other threads' cache lines: not for the
  // hot path).
  HttpServerStats stats() const;

  struct Worker;  // implementation detail, public for the session code

 private:
  HttpServer(const HttpServerOptions& options, HttpHandler& handler);

  HttpServerOptions options_;
  HttpHandler& handler_;
  std::uint16_t port_ = 0;
  // Before the workers: connections still open when they are destroyed count
  // themselves out in its blocks.
  std::unique_ptr<metrics::Registry> own_metrics_;  // when options.metrics is null
  // Before the workers, for the same reason: connections count themselves
  // out here. Null when max_connections_per_source is 0.
  std::unique_ptr<SourceConnections> per_source_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::io_context> blocking_loop_;
  std::unique_ptr<WorkerContext> blocking_context_;
  std::unique_ptr<boost::asio::io_context> upload_loop_;  // blocking requests with a body
  std::unique_ptr<WorkerContext> upload_context_;
  std::atomic<std::size_t> uploads_in_flight_{0};  // every worker's sessions
  std::atomic<std::size_t> reply_bytes_in_flight_{0};  // max_reply_bytes_in_flight
  // Connections admitted and not yet over, every worker's: taken at accept,
  // so two workers accepting at once cannot both take the last slot.
  std::atomic<std::int64_t> connections_admitted_{0};
  std::vector<std::thread> threads_;
  std::vector<metrics::WorkerCounters*> worker_counters_;  // one per worker, in order
  std::atomic<bool> stopped_{false};
};

}  // namespace p2p::net

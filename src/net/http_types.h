// The small HTTP vocabulary shared by the server (net/http_server) and the
// handlers behind it (tracker, admin API). Handlers never see a socket or a
// Beast type: they get an HttpRequest view and fill an HttpResponse.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/digest.h"
#include "core/peer.h"
#include "core/rng.h"
#include "metrics/metric_list.h"
#include "metrics/worker_counters.h"
#include "net/source_limits.h"

namespace p2p::net {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOther };

// A request as handlers see it. Views into the connection's buffers: valid only
// during handle().
struct HttpRequest {
  Method method = Method::kOther;
  std::string_view target;  // "/announce?info_hash=..."
  std::string_view path;    // target without the query
  std::string_view query;   // after '?', still percent-encoded
  std::string_view body;
  core::Endpoint remote;  // the TCP peer (the client, or a proxy)
  // Header lookup, case-insensitive; empty when absent.
  std::function<std::string_view(std::string_view)> header;
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = "text/plain";
  std::string body;           // reused across requests: clear() keeps capacity
  std::string extra_headers;  // complete "Name: value\r\n" lines
  bool close = false;         // close the connection after this response

  void reset() {
    status = 200;
    content_type = "text/plain";
    body.clear();
    extra_headers.clear();
    close = false;
  }
};

// Per-thread scratch a handler may use without allocating: each worker (and the
// blocking pool's thread) owns one, so nothing in it is shared.
struct WorkerContext {
  explicit WorkerContext(std::uint64_t seed) : rng(seed) {}
  core::Rng rng;
  std::vector<core::PeerContact> peers;
  std::vector<core::InfoHash> hashes;
  std::array<char, 96> warning{};  // the reply's "warning message" text
  SourceRates rates;               // this thread's per-source token buckets
  int index = 0;                   // worker number
  // This thread's counter block (from metrics::Registry::add_worker), set by
  // the server that owns the context; null: nothing is counted (tests).
  metrics::WorkerCounters* counters = nullptr;
  // The front door this context serves: the `protocol` label of what it counts.
  metrics::Protocol protocol = metrics::Protocol::kHttp;

  // Owning thread only; never blocks, never allocates.
  void count(metrics::Counter c) noexcept {
    if (counters != nullptr) counters->add(c);
  }
};

// Where a request runs: on the worker's event loop (must not block) or on the
// blocking pool (file writes, Redis reads, libtorrent parsing).
enum class Placement { kInline, kBlocking };

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual Placement placement(const HttpRequest& request) const = 0;
  // Fills `response`. Thread-safe: called from every worker at once.
  virtual void handle(const HttpRequest& request, HttpResponse& response,
                      WorkerContext& context) = 0;
  // Largest body this request may carry (read after its headers); 0: none.
  virtual std::size_t body_limit(const HttpRequest&) const { return 0; }
};

// Routes by path: exact paths first, then the longest matching prefix.
class Router final : public HttpHandler {
 public:
  void add_exact(std::string path, HttpHandler* handler);
  void add_prefix(std::string prefix, HttpHandler* handler);

  Placement placement(const HttpRequest& request) const override;
  void handle(const HttpRequest& request, HttpResponse& response, WorkerContext& context) override;
  std::size_t body_limit(const HttpRequest& request) const override;

 private:
  HttpHandler* route(std::string_view path) const;
  std::vector<std::pair<std::string, HttpHandler*>> exact_;
  std::vector<std::pair<std::string, HttpHandler*>> prefixes_;  // longest first
};

// Reason phrase for a status code ("Not Found").
std::string_view status_text(int status);

}  // namespace p2p::net

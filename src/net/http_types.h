// The small HTTP vocabulary shared by the server (net/http_server) and the
// handlers behind it (tracker, admin API). Handlers never see a socket or a
// Beast type: they get an HttpRequest view and fill an HttpResponse.
#pragma once

#include <array>
#include <functional>
#include <memory>
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
  // Set: the body instead of `body`, a reply many requests share (a full
  // scrape), written without a copy.
  std::shared_ptr<const std::string> shared_body;
  std::string extra_headers;  // complete "Name: value\r\n" lines
  bool close = false;         // close the connection after this response

  void reset() {
    status = 200;
    content_type = "text/plain";
    body.clear();
    shared_body.reset();
    extra_headers.clear();
    close = false;
  }
  std::string_view body_bytes() const {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
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
// blocking pool (file writes, Redis reads, .torrent parsing); a blocking request
// with a body runs on the server's upload thread (http_server.h).
enum class Placement { kInline, kBlocking };

// What a request does, which decides who may make it (net/admin_access.h):
// kPublic is the BitTorrent protocol (announce, scrape), open to every client;
// kRead shows the tracker's state (stats, lists, .torrent files, /metrics, the
// dashboard); kChange alters it (registering, replacing, deleting,
// deactivating).
enum class Access { kPublic, kRead, kChange };

inline bool is_read_method(Method m) { return m == Method::kGet || m == Method::kHead; }

// A request whose handling may wait (HttpHandler::defer).
class Deferrable {
 public:
  // A function that resumes the request on its worker; call it once. Only
  // asked for when a handler does defer (it allocates).
  virtual std::function<void()> resumer() = 0;

 protected:
  ~Deferrable() = default;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual Placement placement(const HttpRequest& request) const = 0;
  // Fills `response`. Thread-safe: called from every worker at once.
  virtual void handle(const HttpRequest& request, HttpResponse& response,
                      WorkerContext& context) = 0;
  // Largest body this request may carry (read after its headers); 0: none.
  virtual std::size_t body_limit(const HttpRequest&) const { return 0; }
  // What `request` does. The method decides unless a handler knows better, so
  // an endpoint added later is protected without being listed anywhere: GET
  // and HEAD read, every other method (POST, PUT, DELETE, and any unknown
  // one) changes state.
  virtual Access access(const HttpRequest& request) const {
    return is_read_method(request.method) ? Access::kRead : Access::kChange;
  }
  // Called by the server once the header of a request with a body is in,
  // before the body is read: true when the request is refused whatever its
  // body (filled into `response`; the server answers and closes). Runs on the
  // worker: must not block. Default: never.
  virtual bool refuse_early(const HttpRequest&, HttpResponse&) const { return false; }
  // Called on the worker before an inline request is handled: true when the
  // handler wants it handled later, once the function `request.resumer()`
  // gave it is called (once, from any thread). The worker serves other
  // requests meanwhile. Must not block. Default: never.
  virtual bool defer(const HttpRequest&, WorkerContext&, Deferrable&) { return false; }
};

class AdminAccess;

// Routes by path: exact paths first, then the longest matching prefix. With
// an AdminAccess set, each request first passes its check for what the chosen
// handler says it does (HttpHandler::access), and a refused one never reaches
// the handler.
class Router final : public HttpHandler {
 public:
  void add_exact(std::string path, HttpHandler* handler);
  void add_prefix(std::string prefix, HttpHandler* handler);
  // Not owned; outlives the router. Null (the default): no check.
  void set_access(const AdminAccess* access) { access_ = access; }
  // The JSON body of a 404 for a path no handler serves.
  void set_not_found(std::string body) { not_found_ = std::move(body); }

  Placement placement(const HttpRequest& request) const override;
  void handle(const HttpRequest& request, HttpResponse& response, WorkerContext& context) override;
  std::size_t body_limit(const HttpRequest& request) const override;
  Access access(const HttpRequest& request) const override;
  bool defer(const HttpRequest& request, WorkerContext& context, Deferrable& later) override;
  // The AdminAccess check, so a refused upload is not read first.
  bool refuse_early(const HttpRequest& request, HttpResponse& response) const override;

 private:
  HttpHandler* route(std::string_view path) const;
  void not_found(HttpResponse& response) const;
  const AdminAccess* access_ = nullptr;
  std::string not_found_ = R"({"error":"no such endpoint; see the README for the API"})";
  std::vector<std::pair<std::string, HttpHandler*>> exact_;
  std::vector<std::pair<std::string, HttpHandler*>> prefixes_;  // longest first
};

// Reason phrase for a status code ("Not Found").
std::string_view status_text(int status);

}  // namespace p2p::net

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "net/admin_access.h"
#include "net/http_types.h"

namespace p2p::net {
namespace {

constexpr std::string_view kInternalError =
    "{\n  \"error\": \"internal error: the tracker's log says what went wrong\"\n}\n";

}  // namespace

void Router::add_exact(std::string path, HttpHandler* handler) {
  exact_.emplace_back(std::move(path), handler);
}

void Router::add_prefix(std::string prefix, HttpHandler* handler) {
  prefixes_.emplace_back(std::move(prefix), handler);
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

HttpHandler* Router::route(std::string_view path) const {
  for (const auto& [p, h] : exact_) {
    if (p == path) return h;
  }
  for (const auto& [p, h] : prefixes_) {
    if (path.substr(0, p.size()) == p) return h;
  }
  return nullptr;
}

Placement Router::placement(const HttpRequest& request) const {
  HttpHandler* h = route(request.path);
  return h != nullptr ? h->placement(request) : Placement::kInline;
}

std::size_t Router::body_limit(const HttpRequest& request) const {
  HttpHandler* h = route(request.path);
  return h != nullptr ? h->body_limit(request) : 0;
}

Access Router::access(const HttpRequest& request) const {
  HttpHandler* h = route(request.path);
  return h != nullptr ? h->access(request) : Access::kPublic;
}

bool Router::refuse_early(const HttpRequest& request, HttpResponse& response) const {
  HttpHandler* h = route(request.path);
  if (h == nullptr) {  // a 404 says more than "this endpoint takes no body"
    not_found(response);
    return true;
  }
  return access_ != nullptr && !access_->admit(request, h->access(request), response);
}

void Router::not_found(HttpResponse& response) const {
  response.status = 404;
  response.content_type = "application/json";
  response.body = not_found_;
}

bool Router::defer(const HttpRequest& request, WorkerContext& context, Deferrable& later) {
  HttpHandler* h = route(request.path);
  return h != nullptr && h->defer(request, context, later);
}

void Router::handle(const HttpRequest& request, HttpResponse& response, WorkerContext& context) {
  if (HttpHandler* h = route(request.path)) {
    if (access_ != nullptr && !access_->admit(request, h->access(request), response)) return;
    // A handler that throws has a bug; thrown out of a worker's loop it ends
    // the process, so it costs this request (a 500, and the log says what)
    // instead of every client's tracker.
    try {
      h->handle(request, response, context);
    } catch (const std::exception& e) {
      context.count(metrics::Counter::kHttpInternalErrors);
      spdlog::error("internal error answering {}: {}", request.path, e.what());
      response.reset();
      response.status = 500;
      response.content_type = "application/json";
      response.body = kInternalError;
    }
    return;
  }
  not_found(response);
}

std::string_view status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace p2p::net

// HttpClient: the operator commands' blocking HTTP/1.1 client for the
// tracker's admin API (Boost.Beast).
//
// One connection per request: the commands make a handful of requests, and a
// fresh connection never trips over a tracker that restarted or closed an idle
// keep-alive. Every request has one deadline covering name resolution, connect,
// send and receive. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "cli/tracker_url.h"
#include "core/result.h"

namespace p2p::cli {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
};

class HttpClient {
 public:
  // A non-empty `bearer_token` goes with every request as "Authorization:
  // Bearer <token>" (the tracker's admin_token_file; docs/security.md).
  HttpClient(TrackerUrl tracker, std::chrono::milliseconds timeout, std::string bearer_token = {})
      : tracker_(std::move(tracker)), timeout_(timeout), bearer_token_(std::move(bearer_token)) {}

  // `target` is the path below the tracker's base URL ("/transfers/"), with
  // its query. Any HTTP status is a reply; an error means no reply arrived:
  // core::unavailable with "cannot reach tracker at HOST:PORT: <reason>",
  // "cannot resolve ..." or "... did not answer within Ns".
  core::Result<HttpReply> get(std::string_view target) const;
  core::Result<HttpReply> post(std::string_view target, std::string body,
                               std::string_view content_type) const;
  core::Result<HttpReply> del(std::string_view target) const;

  const TrackerUrl& tracker() const { return tracker_; }
  // The same client (tracker, token) with another deadline per request.
  HttpClient with_timeout(std::chrono::milliseconds timeout) const {
    return HttpClient(tracker_, timeout, bearer_token_);
  }

 private:
  enum class Method { kGet, kPost, kDelete };
  core::Result<HttpReply> request(Method method, std::string_view target, std::string body,
                                  std::string_view content_type) const;

  TrackerUrl tracker_;
  std::chrono::milliseconds timeout_;
  std::string bearer_token_;
};

}  // namespace p2p::cli

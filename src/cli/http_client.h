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
  HttpClient(TrackerUrl tracker, std::chrono::milliseconds timeout)
      : tracker_(std::move(tracker)), timeout_(timeout) {}

  // `target` is the path below the tracker's base URL ("/transfers/"), with
  // its query. Any HTTP status is a reply; an error means no reply arrived:
  // core::unavailable with "cannot reach tracker at HOST:PORT: <reason>",
  // "cannot resolve ..." or "... did not answer within Ns".
  core::Result<HttpReply> get(std::string_view target) const;
  core::Result<HttpReply> post(std::string_view target, std::string body,
                               std::string_view content_type) const;
  core::Result<HttpReply> del(std::string_view target) const;

  const TrackerUrl& tracker() const { return tracker_; }

 private:
  enum class Method { kGet, kPost, kDelete };
  core::Result<HttpReply> request(Method method, std::string_view target, std::string body,
                                  std::string_view content_type) const;

  TrackerUrl tracker_;
  std::chrono::milliseconds timeout_;
};

}  // namespace p2p::cli

// JSON replies of the admin API: one place that maps our errors to HTTP
// statuses and shapes error bodies, so every endpoint answers alike.
#pragma once

#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/result.h"
#include "net/http_types.h"

namespace p2p::admin {

inline int http_status(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kInvalidArgument:
      return 400;
    case core::ErrorCode::kNotFound:
      return 404;
    case core::ErrorCode::kAlreadyExists:
      return 409;
    case core::ErrorCode::kTooLarge:
      return 413;
    case core::ErrorCode::kUnavailable:
      return 503;
    case core::ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

inline void reply_json(net::HttpResponse& r, int status, const nlohmann::json& body) {
  r.status = status;
  r.content_type = "application/json";
  r.body = core::json_text(body, 2);
  r.body.push_back('\n');
}

// A plain-text answer, as the original's endpoints gave to deletions.
inline void reply_text(net::HttpResponse& r, int status, std::string body) {
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
}

inline void reply_error(net::HttpResponse& r, const core::Error& e) {
  reply_json(r, http_status(e.code), {{"error", e.message}});
}

inline void reply_error(net::HttpResponse& r, int status, std::string message) {
  reply_json(r, status, {{"error", std::move(message)}});
}

}  // namespace p2p::admin

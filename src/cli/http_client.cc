#include "cli/http_client.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace p2p::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The admin API's largest reply is a transfer's JSON with every member of
// every rack (?peers=1): about 200 bytes a peer, so this covers ~300k peers.
constexpr std::uint64_t kMaxReplyBytes = 64u << 20;

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0);
}

}  // namespace

core::Result<HttpReply> HttpClient::get(std::string_view target) const {
  return request(Method::kGet, target, {}, {});
}

core::Result<HttpReply> HttpClient::post(std::string_view target, std::string body,
                                         std::string_view content_type) const {
  return request(Method::kPost, target, std::move(body), content_type);
}

core::Result<HttpReply> HttpClient::del(std::string_view target) const {
  return request(Method::kDelete, target, {}, {});
}

core::Result<HttpReply> HttpClient::request(Method method, std::string_view target,
                                            std::string body, std::string_view content_type) const {
  const std::string where = tracker_.authority();
  asio::io_context ioc;
  // Name resolution is blocking (getaddrinfo has no cancel); the system
  // resolver's own timeout bounds it. Connect, send and receive share the
  // deadline below, which beast::tcp_stream enforces on its async operations.
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(tracker_.host, std::to_string(tracker_.port), ec);
  if (ec) {
    return core::unavailable(
        fmt::format("cannot resolve tracker host '{}': {}", tracker_.host, ec.message()));
  }

  http::verb verb = method == Method::kGet    ? http::verb::get
                    : method == Method::kPost ? http::verb::post
                                              : http::verb::delete_;
  http::request<http::string_body> req{verb, tracker_.base_path + std::string(target), 11};
  req.set(http::field::host, where);
  req.set(http::field::user_agent, "p2ptracker-cli/" P2P_VERSION);
  req.set(http::field::accept, "application/json");
  req.keep_alive(false);
  if (!bearer_token_.empty()) req.set(http::field::authorization, "Bearer " + bearer_token_);
  if (!content_type.empty()) req.set(http::field::content_type, std::string(content_type));
  if (method != Method::kGet && method != Method::kDelete) {
    req.body() = std::move(body);
    req.prepare_payload();
  }

  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  enum class Stage { kConnect, kSend, kReceive, kDone } stage = Stage::kConnect;
  beast::error_code failure;

  stream.expires_after(timeout_);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      failure = e;
      return;
    }
    stage = Stage::kSend;
    http::async_write(stream, req, [&](beast::error_code e2, std::size_t) {
      if (e2) {
        failure = e2;
        return;
      }
      stage = Stage::kReceive;
      http::async_read(stream, buffer, parser, [&](beast::error_code e3, std::size_t) {
        if (e3) {
          failure = e3;
          return;
        }
        stage = Stage::kDone;
      });
    });
  });
  ioc.run();

  if (stage != Stage::kDone) {
    if (failure == beast::error::timeout) {
      if (stage == Stage::kConnect) {
        return core::unavailable(fmt::format("cannot reach tracker at {}: no connection within {}",
                                             where, seconds_text(timeout_)));
      }
      return core::unavailable(
          fmt::format("tracker at {} did not answer within {}", where, seconds_text(timeout_)));
    }
    if (stage == Stage::kConnect) {
      return core::unavailable(
          fmt::format("cannot reach tracker at {}: {}", where, failure.message()));
    }
    if (failure == http::error::body_limit) {
      return core::unavailable(fmt::format("reply from tracker at {} is larger than {} MiB", where,
                                           kMaxReplyBytes >> 20));
    }
    return core::unavailable(fmt::format("lost the connection to tracker at {} while {}: {}", where,
                                         stage == Stage::kSend ? "sending" : "receiving",
                                         failure.message()));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.content_type = std::string(res[http::field::content_type]);
  reply.body = std::move(res.body());
  return reply;
}

}  // namespace p2p::cli

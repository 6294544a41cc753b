#include "topology/smdb_source.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "topology/static_map_locator.h"

namespace p2p::topology {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// nlohmann's parser keeps its own stack, but a value nested this deep is no
// inventory record: refuse it before parsing rather than build it.
constexpr int kMaxJsonDepth = 32;

bool nested_too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

Answer error(std::string detail) {
  Answer a;
  a.kind = Answer::Kind::kError;
  a.detail = std::move(detail);
  return a;
}

// One lookup: resolve, connect, GET, read, under one deadline. Owns itself
// through the handlers it has pending.
class SmdbLookup : public std::enable_shared_from_this<SmdbLookup> {
 public:
  SmdbLookup(asio::io_context& io, const HttpTarget& target, std::string path,
             std::string rack_field, std::chrono::milliseconds timeout,
             std::function<void(Answer)> done)
      : resolver_(io),
        stream_(io),
        deadline_(io),
        target_(target),
        rack_field_(std::move(rack_field)),
        timeout_(timeout),
        done_(std::move(done)) {
    request_.method(http::verb::get);
    request_.target(path);
    request_.version(11);
    request_.set(http::field::host, target.host);
    request_.set(http::field::user_agent, "p2ptracker");
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::connection, "close");
    parser_.body_limit(kMaxSmdbAnswerBytes);
  }

  void start() {
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the lookup finished first
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->stream_.socket().close(ignored);
    });
    resolver_.async_resolve(
        target_.host, target_.port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return self->fail("cannot resolve", ec);
          self->stream_.async_connect(
              results, [self](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->fail("cannot connect", ec);
                http::async_write(self->stream_, self->request_,
                                  [self](beast::error_code ec, std::size_t) {
                                    if (ec) return self->fail("cannot send the request", ec);
                                    self->read();
                                  });
              });
        });
  }

 private:
  void read() {
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail("no answer", ec);
                       self->answered();
                     });
  }

  void answered() {
    const auto& res = parser_.get();
    const unsigned status = res.result_int();
    if (status == 404) {
      // Some inventories say "no such address" this way.
      Answer a;
      a.kind = Answer::Kind::kUnknown;
      return finish(std::move(a));
    }
    if (status != 200) {
      return finish(error(fmt::format("HTTP {} from {}:{}{}", status, target_.host, target_.port,
                                      std::string(request_.target()))));
    }
    finish(parse_smdb_answer(res.body(), rack_field_));
  }

  void fail(std::string_view what, beast::error_code ec) {
    if (timed_out_) {
      return finish(error(fmt::format("no answer from {}:{} within {} ms", target_.host,
                                      target_.port, timeout_.count())));
    }
    finish(error(fmt::format("{} {}:{}: {}", what, target_.host, target_.port, ec.message())));
  }

  void finish(Answer a) {
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    if (auto done = std::exchange(done_, nullptr)) done(std::move(a));
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  asio::steady_timer deadline_;
  const HttpTarget& target_;
  std::string rack_field_;
  std::chrono::milliseconds timeout_;
  std::function<void(Answer)> done_;
  http::request<http::empty_body> request_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
  bool timed_out_ = false;
};

}  // namespace

std::string_view answer_kind_name(Answer::Kind kind) {
  switch (kind) {
    case Answer::Kind::kFound:
      return "found";
    case Answer::Kind::kUnknown:
      return "unknown";
    case Answer::Kind::kError:
      return "error";
  }
  return "error";
}

core::Result<HttpTarget> parse_http_url(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://")) {
    return core::invalid_argument(fmt::format(
        "'{}': https is not supported; put the inventory behind a plain http:// address on a "
        "trusted network, or a local TLS proxy",
        url));
  }
  if (!url.starts_with(kHttp)) {
    return core::invalid_argument(
        fmt::format("'{}' is not an http:// URL (http://host[:port][/path])", url));
  }
  std::string_view rest = url.substr(kHttp.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return core::invalid_argument(
        fmt::format("'{}': the inventory URL may not carry a query or a fragment", url));
  }
  HttpTarget t;
  t.base_path = std::string(path);
  if (authority.starts_with('[')) {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::invalid_argument(fmt::format("'{}': unclosed [ in the host", url));
    }
    t.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      return core::invalid_argument(fmt::format("'{}': expected :port after ]", url));
    }
  } else {
    const auto colon = authority.find(':');
    t.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? "" : authority.substr(colon);
  }
  if (t.host.empty()) return core::invalid_argument(fmt::format("'{}' names no host", url));
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    unsigned value = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (char c : port) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value == 0 || value > 65535) {
      return core::invalid_argument(fmt::format("'{}': bad port '{}'", url, port));
    }
    t.port = std::string(port);
  }
  return t;
}

Answer parse_smdb_answer(std::string_view body, std::string_view rack_field) {
  if (nested_too_deep(body)) {
    return error(fmt::format("malformed answer: nested deeper than {} levels", kMaxJsonDepth));
  }
  // Document order, so "the last server" is the last one written.
  const auto doc = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return error("malformed answer: not JSON");
  if (!doc.is_object()) {
    return error(fmt::format("malformed answer: a JSON {}, not an object of servers",
                             doc.type_name()));
  }
  Answer a;
  a.kind = Answer::Kind::kUnknown;
  if (doc.empty()) return a;  // the original's {}: the inventory does not know it
  nlohmann::ordered_json::json_pointer pointer;
  try {
    pointer = nlohmann::ordered_json::json_pointer(std::string(rack_field));
  } catch (const nlohmann::json::exception&) {
    return error(fmt::format("smdb_rack_field '{}' is not a JSON pointer", rack_field));
  }
  const nlohmann::ordered_json* last = nullptr;
  std::string last_server;
  for (const auto& item : doc.items()) {
    last = &item.value();
    last_server = item.key();
  }
  if (!last->is_object()) {
    return error(fmt::format("malformed answer: server '{}' is a JSON {}, not an object",
                             last_server.substr(0, 64), last->type_name()));
  }
  const nlohmann::ordered_json* found = nullptr;
  try {
    if (last->contains(pointer)) found = &(*last)[pointer];
  } catch (const nlohmann::json::exception&) {
    // A pointer step that does not fit the record (an array index into an
    // object...): the field is not there.
  }
  if (found == nullptr) return a;
  const auto& value = *found;
  if (!value.is_string()) {
    return error(fmt::format("malformed answer: {} of server '{}' is a JSON {}, not a string",
                             rack_field, last_server.substr(0, 64), value.type_name()));
  }
  std::string rack = value.get<std::string>();
  if (rack.empty()) return a;
  if (auto ok = check_rack_name(rack, "malformed answer"); !ok) return error(ok.error().message);
  a.kind = Answer::Kind::kFound;
  a.rack = std::move(rack);
  a.ambiguous = doc.size() > 1;
  return a;
}

core::Result<std::unique_ptr<SmdbSource>> SmdbSource::create(const SmdbOptions& options,
                                                             boost::asio::io_context& io) {
  auto target = parse_http_url(options.url);
  if (!target) return core::invalid_argument("smdb_url " + target.error().message);
  if (options.rack_field.empty() || options.rack_field.front() != '/') {
    return core::invalid_argument(fmt::format(
        "smdb_rack_field '{}' is not a JSON pointer (it starts with /, as in \"/cabinet\")",
        options.rack_field));
  }
  try {
    nlohmann::json::json_pointer check(options.rack_field);
  } catch (const nlohmann::json::exception& e) {
    return core::invalid_argument(
        fmt::format("smdb_rack_field '{}' is not a JSON pointer: {}", options.rack_field, e.what()));
  }
  return std::unique_ptr<SmdbSource>(new SmdbSource(options, std::move(*target), io));
}

void SmdbSource::lookup(const core::Address& address, std::function<void(Answer)> done) {
  std::string path = fmt::format("{}/servers/ipaddresses/{}", target_.base_path, address.to_string());
  std::make_shared<SmdbLookup>(io_, target_, std::move(path), options_.rack_field, options_.timeout,
                               std::move(done))
      ->start();
}

}  // namespace p2p::topology

#include "topology/smdb_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
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

// What an HTTP GET got: the status and body, or why there is none.
struct HttpResult {
  unsigned status = 0;
  std::string body;
  std::string error;  // set: no answer (the status and body mean nothing)
};

// One GET: resolve, connect, send, read, under one deadline. Owns itself
// through the handlers it has pending.
class HttpGet : public std::enable_shared_from_this<HttpGet> {
 public:
  HttpGet(asio::io_context& io, const HttpTarget& target, std::string path,
          std::size_t body_limit, std::chrono::milliseconds timeout,
          std::function<void(HttpResult)> done)
      : resolver_(io),
        stream_(io),
        deadline_(io),
        target_(target),
        timeout_(timeout),
        done_(std::move(done)) {
    request_.method(http::verb::get);
    request_.target(path);
    request_.version(11);
    request_.set(http::field::host, target.host);
    request_.set(http::field::user_agent, "p2ptracker");
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::connection, "close");
    parser_.body_limit(body_limit);
  }

  void start() {
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the request finished first
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
                       if (ec) return self->fail("no answer from", ec);
                       HttpResult r;
                       r.status = self->parser_.get().result_int();
                       r.body = std::move(self->parser_.get().body());
                       self->finish(std::move(r));
                     });
  }

  void fail(std::string_view what, beast::error_code ec) {
    HttpResult r;
    if (timed_out_) {
      r.error = fmt::format("no answer from {}:{} within {} ms", target_.host, target_.port,
                            timeout_.count());
    } else {
      r.error = fmt::format("{} {}:{}: {}", what, target_.host, target_.port, ec.message());
    }
    finish(std::move(r));
  }

  void finish(HttpResult r) {
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    if (auto done = std::exchange(done_, nullptr)) done(std::move(r));
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  asio::steady_timer deadline_;
  const HttpTarget& target_;
  std::chrono::milliseconds timeout_;
  std::function<void(HttpResult)> done_;
  http::request<http::empty_body> request_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
  bool timed_out_ = false;
};

core::Status check_fields(const std::vector<std::string>& fields) {
  if (fields.empty()) return core::invalid_argument("smdb_fields is empty: name at least the rack's");
  for (const std::string& f : fields) {
    if (f.empty() || f.front() != '/') {
      return core::invalid_argument(fmt::format(
          "smdb_fields: '{}' is not a JSON pointer (it starts with /, as in \"/cabinet\")", f));
    }
    try {
      nlohmann::json::json_pointer check(f);
    } catch (const nlohmann::json::exception& e) {
      return core::invalid_argument(
          fmt::format("smdb_fields: '{}' is not a JSON pointer: {}", f, e.what()));
    }
  }
  return {};
}

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

Answer smdb_record_answer(const nlohmann::json& record, std::string_view server,
                          const std::vector<std::string>& fields) {
  const std::string who(server.substr(0, 64));
  if (!record.is_object()) {
    return bad_record_answer(fmt::format(
        "malformed answer: server '{}' is a JSON {}, not an object", who, record.type_name()));
  }
  std::string rack;
  std::string missing;
  for (const std::string& field : fields) {
    const nlohmann::json* found = nullptr;
    try {
      const nlohmann::json::json_pointer pointer(field);
      if (record.contains(pointer)) found = &record[pointer];
    } catch (const nlohmann::json::exception&) {
      // A pointer step that does not fit the record (an array index into an
      // object...): the field is not there.
    }
    if (found == nullptr || found->is_null()) {
      missing += (missing.empty() ? "" : ", ") + field;
      continue;
    }
    if (!found->is_string()) {
      return bad_record_answer(
          fmt::format("malformed answer: {} of server '{}' is a JSON {}, not a string", field, who,
                      found->type_name()));
    }
    const std::string& value = found->get_ref<const std::string&>();
    if (value.empty()) {
      missing += (missing.empty() ? "" : ", ") + field;
      continue;
    }
    if (!rack.empty()) rack.push_back('/');
    rack += value;
  }
  Answer a;
  a.kind = Answer::Kind::kUnknown;
  if (rack.empty()) return a;
  if (auto ok = check_rack_name(rack, "malformed answer"); !ok) {
    return bad_record_answer(ok.error().message);
  }
  // A location missing a level would put its outer groups at the wrong
  // level, where its hosts and the others' do not see each other
  // (docs/topology.md).
  if (!missing.empty()) {
    return bad_record_answer(
        fmt::format("malformed answer: server '{}' has no {} (a record names every one of "
                    "smdb_fields, or none)",
                    who, missing));
  }
  a.kind = Answer::Kind::kFound;
  a.rack = std::move(rack);
  return a;
}

namespace {

// A SAX handler that builds nothing: the names of the top-level object's
// members, the last one and how many.
struct LastServer : nlohmann::json_sax<nlohmann::json> {
  std::string last;
  std::size_t count = 0;
  int depth = 0;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth, true; }
  bool end_object() override { return --depth, true; }
  bool start_array(std::size_t) override { return ++depth, true; }
  bool end_array() override { return --depth, true; }
  bool key(string_t& name) override {
    if (depth == 1) {
      last = name;
      ++count;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
    return false;
  }
};

}  // namespace

Answer parse_smdb_answer(std::string_view body, const std::vector<std::string>& fields) {
  if (nested_too_deep(body)) {
    return error_answer(fmt::format("malformed answer: nested deeper than {} levels", kMaxJsonDepth));
  }
  // "The last server" is the last one written. nlohmann::ordered_json keeps
  // that order, but its objects search their keys one by one on every insert
  // (100,000 keys took 10 s), and so does json's parser with a callback on
  // every nested object's end; json's objects are maps, and of a name written
  // twice keep the last value, as the original's dict did. So a first pass
  // that builds nothing notes the servers' names, and json parses.
  LastServer servers;
  if (!nlohmann::json::sax_parse(body, &servers, nlohmann::json::input_format_t::json,
                                 /*strict=*/true, /*ignore_comments=*/false)) {
    return error_answer("malformed answer: not JSON");
  }
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return error_answer("malformed answer: not JSON");
  if (!doc.is_object()) {
    return error_answer(fmt::format("malformed answer: a JSON {}, not an object of servers",
                             doc.type_name()));
  }
  if (doc.empty()) {  // the original's {}: the inventory does not know it
    Answer a;
    a.kind = Answer::Kind::kUnknown;
    return a;
  }
  Answer a = smdb_record_answer(doc.at(servers.last), servers.last, fields);
  if (a.kind == Answer::Kind::kFound) a.ambiguous = servers.count > 1;
  return a;
}

core::Status parse_smdb_bulk(std::string_view body, const std::vector<std::string>& fields,
                             std::vector<std::pair<core::Address, Answer>>& out,
                             std::size_t& skipped) {
  if (nested_too_deep(body)) {
    return core::invalid_argument(
        fmt::format("malformed inventory: nested deeper than {} levels", kMaxJsonDepth));
  }
  // json, not ordered_json: see parse_smdb_answer.
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return core::invalid_argument("malformed inventory: not JSON");
  if (!doc.is_object()) {
    return core::invalid_argument(fmt::format(
        "malformed inventory: a JSON {}, not an object of addresses", doc.type_name()));
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    auto address = core::Address::parse(it.key());
    if (!address || !it.value().is_object()) {
      ++skipped;
      continue;
    }
    out.emplace_back(*address, smdb_record_answer(it.value(), it.key(), fields));
  }
  return {};
}

core::Result<std::unique_ptr<SmdbSource>> SmdbSource::create(const SmdbOptions& options,
                                                             boost::asio::io_context& io) {
  auto target = parse_http_url(options.url);
  if (!target) return core::invalid_argument("smdb_url " + target.error().message);
  if (auto ok = check_fields(options.fields); !ok) return ok.error();
  std::unique_ptr<SmdbSource> s(new SmdbSource(options, std::move(*target), io));
  if (!options.bulk_url.empty()) {
    auto bulk = parse_http_url(options.bulk_url);
    if (!bulk) return core::invalid_argument("smdb_bulk_url " + bulk.error().message);
    s->bulk_path_ = bulk->base_path.empty() ? "/" : bulk->base_path;
    s->bulk_target_ = std::move(*bulk);
  }
  return s;
}

SmdbSource::~SmdbSource() {
  if (parser_ != nullptr) parser_->join();
}

void SmdbSource::lookup(const core::Address& address, std::function<void(Answer)> done) {
  std::string path = fmt::format("{}/servers/ipaddresses/{}", target_.base_path, address.to_string());
  auto fields = &options_.fields;
  auto got = [done = std::move(done), fields, where = path,
              target = &target_](HttpResult r) {
    if (!r.error.empty()) return done(error_answer(std::move(r.error)));
    if (r.status == 404) {  // some inventories say "no such address" this way
      Answer a;
      a.kind = Answer::Kind::kUnknown;
      return done(std::move(a));
    }
    if (r.status != 200) {
      return done(error_answer(fmt::format("HTTP {} from {}:{}{}", r.status, target->host, target->port,
                                    where)));
    }
    done(parse_smdb_answer(r.body, *fields));
  };
  std::make_shared<HttpGet>(io_, target_, std::move(path), kMaxSmdbAnswerBytes, options_.timeout,
                            std::move(got))
      ->start();
}

void SmdbSource::start_bulk(BulkDelivery deliver) {
  if (options_.bulk_url.empty()) return;
  deliver_ = std::move(deliver);
  bulk_timer_ = std::make_unique<asio::steady_timer>(io_);
  parser_ = std::make_unique<asio::thread_pool>(1);
  fetch_bulk();
}

void SmdbSource::fetch_bulk() {
  // A whole inventory takes longer than one address: ten lookups' deadline.
  std::make_shared<HttpGet>(
      io_, bulk_target_, bulk_path_, kMaxSmdbBulkBytes, options_.timeout * 10,
      [this](HttpResult r) {
        if (r.error.empty() && r.status != 200) {
          r.error = fmt::format("HTTP {} from {}", r.status, options_.bulk_url);
        }
        if (!r.error.empty()) return bulk_parsed(std::move(r.error), {}, 0);
        asio::post(*parser_, [this, body = std::move(r.body)] {
          std::vector<std::pair<core::Address, Answer>> answers;
          std::size_t skipped = 0;
          std::string error;
          if (auto ok = parse_smdb_bulk(body, options_.fields, answers, skipped); !ok) {
            error = fmt::format("{}: {}", options_.bulk_url, ok.error().message);
          }
          asio::post(io_, [this, error = std::move(error), answers = std::move(answers),
                           skipped]() mutable {
            bulk_parsed(std::move(error), std::move(answers), skipped);
          });
        });
      })
      ->start();
}

void SmdbSource::bulk_parsed(std::string error,
                             std::vector<std::pair<core::Address, Answer>> answers,
                             std::size_t skipped) {
  if (!error.empty()) {
    spdlog::warn(
        "topology source smdb: cannot fetch the inventory: {}; asking about each address "
        "instead until the next try in {} s",
        error, options_.bulk_interval.count());
  } else {
    spdlog::info("topology source smdb: inventory of {} addresses from {}{}", answers.size(),
                 options_.bulk_url,
                 skipped > 0 ? fmt::format(" ({} entries not an address and a record)", skipped)
                             : std::string());
    deliver_slices(
        std::make_shared<std::vector<std::pair<core::Address, Answer>>>(std::move(answers)), 0);
  }
  bulk_timer_->expires_after(options_.bulk_interval);
  bulk_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) fetch_bulk();
  });
}

void SmdbSource::deliver_slices(
    std::shared_ptr<std::vector<std::pair<core::Address, Answer>>> answers, std::size_t from) {
  const std::size_t to = std::min(answers->size(), from + kBulkSlice);
  std::vector<std::pair<core::Address, Answer>> slice(
      std::make_move_iterator(answers->begin() + static_cast<std::ptrdiff_t>(from)),
      std::make_move_iterator(answers->begin() + static_cast<std::ptrdiff_t>(to)));
  deliver_(std::move(slice));
  if (to < answers->size()) {
    asio::post(io_, [this, answers = std::move(answers), to]() mutable {
      deliver_slices(std::move(answers), to);
    });
  }
}

}  // namespace p2p::topology

// Fuzz target for an HTTP request as HttpServer reads it: Beast's request
// parser with the server's limits (header_limit = max_request_bytes, a body
// limit), then what our code does with what Beast returns -- the target split
// at '?' (HttpServer::fill_request, wire::split_target), every query pair
// percent-decoded, the announce or scrape parse the path routes to, the
// proxy trust rule (net::requester_address) over both headers, and the
// multipart upload of a POST.
//
// The input is one request's bytes, fed to the parser whole and then in
// chunks of every size (every size up to kAllChunkSizesUpTo bytes of input,
// a spread of sizes above), as a socket may deliver them (STYLE.md): each
// chunked parse must end as the whole one does, with the same request.
//
// Beast's own assertions are findings too, all but one: Boost 1.74's
// parse_chunk_header asserts n >= 5 where 3 is possible ("0\r\n" then
// "\r\n" in separate reads), fixed upstream (boostorg/beast#2861); the code
// after it returns need_more correctly, and release builds (NDEBUG) never
// check it. The input is tests/fuzz/corpus/http/issue10_beast_final_chunk.
#define BOOST_ENABLE_ASSERT_HANDLER

#include <algorithm>
#include <boost/assert.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "fuzz_check.h"
#include "net/client_address.h"
#include "wire/announce.h"
#include "wire/multipart.h"
#include "wire/query.h"
#include "wire/scrape.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace p2p;

// The server's default max_request_bytes (src/config/config.cc), small enough
// that the fuzzer reaches the limit.
constexpr std::uint32_t kHeaderLimit = 8192;
// The largest body a route accepts in the fuzzer (uploads are larger in the
// server; the limit logic is Beast's either way).
constexpr std::uint64_t kBodyLimit = 1 << 20;
// Every chunk size for inputs this small; above, kSpread only (quadratic
// otherwise, and libFuzzer's inputs are mostly small).
constexpr std::size_t kAllChunkSizesUpTo = 128;
constexpr std::size_t kSpread[] = {1, 2, 3, 5, 7, 16, 61, 255, 1024};

struct Outcome {
  bool ok = false;  // a complete request
  std::string method, target, fields, body;
  bool keep_alive = false;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

using Parser = http::request_parser<http::string_body>;

void set_limits(Parser& p) {
  p.header_limit(kHeaderLimit);
  p.body_limit(kBodyLimit);
  p.eager(true);
}

Outcome outcome_of(const Parser& p) {
  Outcome o;
  o.ok = true;
  const auto& msg = p.get();
  o.method = std::string(msg.method_string());
  o.target = std::string(msg.target());
  for (const auto& f : msg) {
    o.fields += std::string(f.name_string());
    o.fields += ':';
    o.fields += std::string(f.value());
    o.fields += '\n';
  }
  o.body = msg.body();
  o.keep_alive = msg.keep_alive();
  return o;
}

// Parses `in` delivered `chunk` bytes at a time (0: all at once), as
// async_read does: bytes the parser did not consume stay in the buffer and
// are offered again with the next chunk. An end of input that leaves the
// request incomplete is the peer closing the connection.
Outcome parse(std::string_view in, std::size_t chunk, Parser& p) {
  set_limits(p);
  if (chunk == 0) chunk = in.size() == 0 ? 1 : in.size();
  std::string pending;
  std::size_t offered = 0;
  beast::error_code ec;
  while (!p.is_done()) {
    if (offered < in.size()) {
      std::size_t n = std::min(chunk, in.size() - offered);
      pending.append(in.data() + offered, n);
      offered += n;
    } else {
      // As Beast's read: a connection closed before any byte is no request,
      // after some is the end of a body delimited by the close (or an error).
      if (!p.got_some()) return {};
      p.put_eof(ec);
      break;
    }
    // Consume what the parser takes; it stops at need_more or at the end.
    while (!pending.empty() && !p.is_done()) {
      std::size_t used = p.put(boost::asio::buffer(pending.data(), pending.size()), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return {};
      if (used == 0) break;
    }
  }
  if (ec || !p.is_done()) return {};
  return outcome_of(p);
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// What the server and its handlers do with a complete request.
void handle(const Parser& p) {
  const auto& msg = p.get();
  std::string_view target(msg.target().data(), msg.target().size());

  // HttpServer::fill_request splits at the first '?', as split_target does.
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  wire::Target t = wire::split_target(target);
  FUZZ_CHECK(t.path == path && t.query == query);

  wire::QueryIterator it(query);
  std::string_view k, v;
  std::string decoded;
  std::optional<std::string_view> last_key;
  while (it.next(k, v)) {
    FUZZ_CHECK(inside(k, query) && inside(v, query));
    decoded.assign(v.size(), '\0');
    auto n = wire::percent_decode(v, decoded.data(), decoded.size());
    FUZZ_CHECK(!n || *n <= v.size());
    last_key = k;
  }
  // query_value (the admin API's ?racks=1, the test clock's ?advance=N): the
  // last pair of a name is the one that counts.
  if (last_key) {
    auto found = wire::query_value(query, *last_key);
    FUZZ_CHECK(found && inside(*found, query));
  }
  if (query.find("nosuchkey") == std::string_view::npos) {
    FUZZ_CHECK(!wire::query_value(query, "nosuchkey"));
  }

  // TrackerHandler: /scrape... scrapes, anything else announces.
  if (path.starts_with("/scrape")) {
    std::vector<core::InfoHash> hashes;
    auto r = wire::parse_scrape(query, hashes);
    FUZZ_CHECK(r || !r.error().message.empty());
  } else {
    auto r = wire::parse_announce(query);
    FUZZ_CHECK(r || !r.error().message.empty());
  }

  // The one trust rule (net/client_address.h) over the request's proxy
  // headers, as a trusted proxy's: whatever it returns is the source or an
  // address that parses back to itself.
  auto header = [&msg](std::string_view name) {
    auto value = msg[beast::string_view(name.data(), name.size())];
    return std::string_view(value.data(), value.size());
  };
  static const net::TrustOptions kTrustEveryProxy = [] {
    net::TrustOptions t;
    t.proxypass = true;
    t.trusted_proxies = {*core::Cidr::parse("127.0.0.0/8"), *core::Cidr::parse("::1/128")};
    return t;
  }();
  const core::Address source = *core::Address::parse("127.0.0.1");
  for (auto kind : {net::ProxyHeader::kXForwardedFor, net::ProxyHeader::kXRealIp}) {
    net::TrustOptions trust = kTrustEveryProxy;
    trust.proxy_header = kind;
    const core::Address who =
        net::requester_address(trust, source, header(net::proxy_header_name(kind)));
    FUZZ_CHECK(core::Address::parse(who.to_string()) == who);
  }

  // POST /api/v1/torrents: the upload, a multipart form or the raw body.
  std::string_view body = msg.body();
  auto form = wire::parse_form_file(header("Content-Type"), body);
  if (form) FUZZ_CHECK(inside(form->data, body) && inside(form->filename, body));
}

}  // namespace

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::string_view(expr) == "n >= 5" && std::string_view(file).ends_with("basic_parser.ipp")) {
    return;  // boostorg/beast#2861, see the top of this file
  }
  std::fprintf(stderr, "%s:%ld: %s: Boost assertion failed: %s\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
  std::fprintf(stderr, "%s: ", msg);
  assertion_failed(expr, function, file, line);
}

}  // namespace boost

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Parser whole_parser;
  Outcome whole = parse(in, 0, whole_parser);
  if (whole.ok) handle(whole_parser);

  auto check = [&](std::size_t chunk) {
    Parser p;
    Outcome o = parse(in, chunk, p);
    if (!(o == whole)) {
      std::fprintf(stderr, "chunks of %zu bytes: %s, whole: %s\n", chunk,
                   o.ok ? "complete" : "failed", whole.ok ? "complete" : "failed");
    }
    FUZZ_CHECK(o == whole);
  };
  if (size <= kAllChunkSizesUpTo) {
    for (std::size_t chunk = 1; chunk < size; ++chunk) check(chunk);
  } else {
    for (std::size_t chunk : kSpread) check(chunk);
  }
  return 0;
}

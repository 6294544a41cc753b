#include "server/test_clock.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "admin/json_reply.h"
#include "wire/query.h"

namespace p2p::server {
namespace {

// Ten years: far past any TTL or window, and far from overflowing the clock.
constexpr std::uint64_t kMaxAdvanceSeconds = 10ull * 366 * 24 * 3600;

}  // namespace

bool test_clock_enabled() {
  const char* v = std::getenv("P2PTRACKER_TEST_CLOCK");
  return v != nullptr && std::string_view(v) == "1";
}

void TestClockHandler::handle(const net::HttpRequest& request, net::HttpResponse& response,
                              net::WorkerContext&) {
  const bool read = request.method == net::Method::kGet || request.method == net::Method::kHead;
  if (!read && request.method != net::Method::kPost) {
    response.extra_headers = "Allow: GET, HEAD, POST\r\n";
    return admin::reply_error(response, 405,
                              "use GET to read the test clock, POST ?advance=SECONDS to move it");
  }
  std::uint64_t seconds = 0;
  if (!read) {
    const auto value = wire::query_value(request.query, "advance");
    if (!value) {
      return admin::reply_error(response, 400, "POST /api/v1/test/clock needs ?advance=SECONDS");
    }
    const char* end = value->data() + value->size();
    const auto [at, ec] = std::from_chars(value->data(), end, seconds);
    if (value->empty() || ec != std::errc{} || at != end || seconds == 0 ||
        seconds > kMaxAdvanceSeconds) {
      // The value is not echoed: it may be any bytes, and the reply is JSON.
      return admin::reply_error(
          response, 400,
          fmt::format("advance must be a whole number of seconds from 1 to {}",
                      kMaxAdvanceSeconds));
    }
    // The clock only moves forward: every deadline the server keeps stays
    // ordered (an expiry never comes before the time it was set).
    clock_.advance(std::chrono::seconds(seconds));
  }
  admin::reply_json(response, 200,
                    {{"now", core::iso8601(clock_.now())}, {"advanced_seconds", seconds}});
}

}  // namespace p2p::server

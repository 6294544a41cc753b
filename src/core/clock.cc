#include "core/clock.h"

#include <fmt/chrono.h>
#include <time.h>

namespace p2p::core {

std::string iso8601(TimePoint t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<Seconds>(t));
}

std::string iso8601(PreciseTime t) { return iso8601(std::chrono::floor<Seconds>(t)); }

std::string python_datetime(PreciseTime t) {
  const auto seconds = std::chrono::floor<Seconds>(t);
  const auto micros = (t - seconds).count();
  const std::time_t tt = seconds.time_since_epoch().count();
  std::tm local{};
  localtime_r(&tt, &local);  // TZ as the process found it, as Python's datetime.now()
  std::string out =
      fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", local.tm_year + 1900, local.tm_mon + 1,
                  local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
  if (micros != 0) out += fmt::format(".{:06}", micros);
  return out;
}

}  // namespace p2p::core

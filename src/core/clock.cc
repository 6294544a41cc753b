#include "core/clock.h"

#include <fmt/chrono.h>
#include <time.h>

namespace p2p::core {

std::string iso8601(TimePoint t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<Seconds>(t));
}

std::string iso8601(PreciseTime t) { return iso8601(std::chrono::floor<Seconds>(t)); }

std::string http_date(TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  const std::chrono::weekday wd{day};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

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

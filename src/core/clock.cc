#include "core/clock.h"

#include <fmt/format.h>
#include <time.h>

namespace p2p::core {

namespace {

// A time's calendar fields, computed in days and seconds: fmt's chrono
// formatting converts to system_clock's nanoseconds, which overflow past the
// year 2262, and a time read back from a damaged file may be any year.
struct Civil {
  std::chrono::year_month_day ymd;
  std::chrono::hh_mm_ss<Seconds> hms;
  std::chrono::weekday wd;
};

Civil civil(TimePoint t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  return {std::chrono::year_month_day{day}, std::chrono::hh_mm_ss<Seconds>{t - day},
          std::chrono::weekday{day}};
}

}  // namespace

std::string iso8601(TimePoint t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(c.ymd.year()),
                     static_cast<unsigned>(c.ymd.month()), static_cast<unsigned>(c.ymd.day()),
                     c.hms.hours().count(), c.hms.minutes().count(), c.hms.seconds().count());
}

std::string iso8601(PreciseTime t) { return iso8601(std::chrono::floor<Seconds>(t)); }

std::string http_date(TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = civil(t);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[c.wd.c_encoding()],
                     static_cast<unsigned>(c.ymd.day()),
                     kMonths[static_cast<unsigned>(c.ymd.month()) - 1],
                     static_cast<int>(c.ymd.year()), c.hms.hours().count(), c.hms.minutes().count(),
                     c.hms.seconds().count());
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

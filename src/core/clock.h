// Clock: the one source of "now" for expiry, intervals and timestamps.
//
// Injected everywhere time matters so tests move time forward instead of
// sleeping (STYLE.md). Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace p2p::core {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::sys_seconds;  // wall time, whole seconds, UTC
// Wall time to the microsecond, UTC: when a deploy event happened. The original
// p2ptracker stamped events with str(datetime.now()), microseconds included, so
// two events in the same second still tell apart; its consumers may sort on it.
using PreciseTime = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Never blocks, never allocates.
  virtual TimePoint now() const noexcept = 0;
  // The same clock to the microsecond (never behind now()). Never blocks, never
  // allocates; read only for the rare events that keep a precise time.
  virtual PreciseTime now_precise() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
  }
  PreciseTime now_precise() const noexcept override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(Seconds(1'700'000'000))) : now_(start) {}
  TimePoint now() const noexcept override { return std::chrono::floor<Seconds>(now_precise()); }
  PreciseTime now_precise() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::chrono::microseconds d) {
    now_.store(now_precise() + d, std::memory_order_relaxed);
  }
  void set(PreciseTime t) { now_.store(t, std::memory_order_relaxed); }

 private:
  std::atomic<PreciseTime> now_;
};

// The system clock, moved forward by hand. The server runs on it so that,
// with P2PTRACKER_TEST_CLOCK=1 (docs/api.md), a test of the whole binary moves
// time past a cache TTL or a stall window instead of sleeping through it; its
// offset stays zero otherwise.
class AdvanceableClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return std::chrono::floor<Seconds>(now_precise()); }
  PreciseTime now_precise() const noexcept override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now()) +
           std::chrono::microseconds(offset_.load(std::memory_order_relaxed));
  }
  void advance(std::chrono::microseconds d) {
    offset_.fetch_add(d.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> offset_{0};
};

// ISO 8601 UTC, e.g. "2026-11-24T05:25:23Z" (sub-second digits dropped).
std::string iso8601(TimePoint t);
std::string iso8601(PreciseTime t);

// HTTP's Date format (RFC 9110's IMF-fixdate), e.g. "Sat, 05 Dec 2026 18:40:02
// GMT": English names whatever the locale.
std::string http_date(TimePoint t);

// As the original p2ptracker wrote times, Python's str(datetime.now()): local
// time, "2026-12-03 11:02:20.123456", the fraction left out when it is zero.
std::string python_datetime(PreciseTime t);

}  // namespace p2p::core

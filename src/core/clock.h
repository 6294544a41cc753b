// Clock: the one source of "now" for expiry, intervals and timestamps.
//
// Injected everywhere time matters so tests move time forward instead of
// sleeping (STYLE.md). Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace p2p::core {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::sys_seconds;  // wall time, whole seconds, UTC

class Clock {
 public:
  virtual ~Clock() = default;
  // Never blocks, never allocates.
  virtual TimePoint now() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
  }
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(Seconds(1'700'000'000))) : now_(start) {}
  TimePoint now() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(Seconds d) { now_.store(now() + d, std::memory_order_relaxed); }
  void set(TimePoint t) { now_.store(t, std::memory_order_relaxed); }

 private:
  std::atomic<TimePoint> now_;
};

// ISO 8601 UTC, e.g. "2026-11-24T05:25:23Z".
std::string iso8601(TimePoint t);

}  // namespace p2p::core

#include "core/clock.h"

#include <fmt/chrono.h>

namespace p2p::core {

std::string iso8601(TimePoint t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<Seconds>(t));
}

}  // namespace p2p::core

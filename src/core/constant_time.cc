#include "core/constant_time.h"

#include <cstddef>

namespace p2p::core {

bool constant_time_equal(std::string_view presented, std::string_view secret) noexcept {
  // Every byte of `presented` is compared, against the secret's bytes repeated
  // when the lengths differ, so no length leaks through an early exit or a
  // shorter loop. An empty secret matches nothing (callers refuse to start
  // with one; this keeps the index below defined regardless).
  if (secret.empty()) return false;
  std::size_t diff = presented.size() ^ secret.size();
  // volatile: the compiler may not turn the loop into one that stops at the
  // first difference.
  volatile unsigned char acc = 0;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    acc = static_cast<unsigned char>(acc | (static_cast<unsigned char>(presented[i]) ^
                                            static_cast<unsigned char>(secret[i % secret.size()])));
  }
  return (diff | acc) == 0;
}

}  // namespace p2p::core

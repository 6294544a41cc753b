// Comparing secrets without telling an attacker how much of a guess was right.
//
// A plain == stops at the first differing byte, so its running time says how
// long the correct prefix of a guess is; over the network that is enough to
// recover a token byte by byte. Pure; thread-safe.
#pragma once

#include <string_view>

namespace p2p::core {

// True when `presented` equals `secret`. The time taken depends only on
// presented.size() (which the caller already knows), never on where the two
// differ or on the secret's length: a length mismatch is folded into the same
// accumulator as the byte differences instead of returning early.
bool constant_time_equal(std::string_view presented, std::string_view secret) noexcept;

}  // namespace p2p::core

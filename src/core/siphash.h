// SipHash-2-4 (Aumasson and Bernstein): a fast keyed hash, for values a client
// must not be able to forge or predict (UDP connection ids).
//
// Written here rather than taken from OpenSSL: OpenSSL 3 offers SipHash only
// through EVP_MAC, which allocates a context per call; this runs once per UDP
// packet, on the hot path. Pure; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace p2p::core {

using SipKey = std::array<std::uint8_t, 16>;

std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t size);

}  // namespace p2p::core

#include "core/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace p2p::core {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

Address Address::v4(std::uint32_t host_order) {
  std::uint8_t b[4] = {
      static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
      static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)};
  return v4_bytes(b);
}

Address Address::v4_bytes(const std::uint8_t bytes[4]) {
  Address a;
  std::memcpy(a.bytes_.data(), kMappedPrefix, 12);
  std::memcpy(a.bytes_.data() + 12, bytes, 4);
  return a;
}

Address Address::v6_bytes(const std::uint8_t bytes[16]) {
  Address a;
  std::memcpy(a.bytes_.data(), bytes, 16);
  return a;
}

std::optional<Address> Address::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; addresses are short.
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) return v4_bytes(raw);
  if (inet_pton(AF_INET6, buf, raw) == 1) return v6_bytes(raw);
  return std::nullopt;
}

bool Address::is_v4() const { return std::memcmp(bytes_.data(), kMappedPrefix, 12) == 0; }

std::uint32_t Address::v4_value() const {
  return std::uint32_t{bytes_[12]} << 24 | std::uint32_t{bytes_[13]} << 16 |
         std::uint32_t{bytes_[14]} << 8 | std::uint32_t{bytes_[15]};
}

bool Address::is_loopback() const {
  if (is_v4()) return bytes_[12] == 127;
  static constexpr std::uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(bytes_.data(), kLoopback6, 16) == 0;
}

std::string Address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  }
  return buf;
}

std::string Endpoint::to_string() const {
  if (address.is_v4()) return address.to_string() + ":" + std::to_string(port);
  return "[" + address.to_string() + "]:" + std::to_string(port);
}

Address mask(const Address& a, int prefix_len) {
  int bits = a.is_v4() ? 96 + prefix_len : prefix_len;
  bits = std::clamp(bits, 0, 128);
  std::array<std::uint8_t, 16> b = a.bytes();
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(bits - 8 * i, 0, 8);
    b[i] &= static_cast<std::uint8_t>(0xFF00 >> keep);
  }
  return Address::v6_bytes(b.data());
}

Cidr::Cidr(Address network, int prefix_len) {
  bool v4 = network.is_v4();
  prefix_len128_ = v4 ? 96 + prefix_len : prefix_len;
  network_ = mask(network, prefix_len);
}

Result<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = Address::parse(text.substr(0, slash));
  if (!addr) {
    return invalid_argument("'" + std::string(text) + "' is not an IP address or CIDR prefix");
  }
  int max_len = addr->is_v4() ? 32 : 128;
  int len = max_len;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || len < 0 ||
        len > max_len) {
      return invalid_argument("'" + std::string(text) + "' has a bad prefix length (0-" +
                              std::to_string(max_len) + ")");
    }
  }
  return Cidr(*addr, len);
}

bool Cidr::contains(const Address& a) const {
  if (network_.is_v4() != a.is_v4()) return false;
  int len = network_.is_v4() ? prefix_len128_ - 96 : prefix_len128_;
  return mask(a, len) == network_;
}

int Cidr::prefix_len() const { return network_.is_v4() ? prefix_len128_ - 96 : prefix_len128_; }

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_len());
}

}  // namespace p2p::core

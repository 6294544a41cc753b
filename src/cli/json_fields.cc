#include "cli/json_fields.h"

namespace p2p::cli {
namespace {

// The field, or null when `j` is not an object or has no such key.
const nlohmann::json* find(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() ? &*it : nullptr;
}

}  // namespace

const nlohmann::json& object_field(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json* f = find(j, key);
  return f != nullptr && f->is_object() ? *f : kEmpty;
}

std::string text_field(const nlohmann::json& j, std::string_view key, std::string_view absent) {
  const nlohmann::json* f = find(j, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string(absent);
}

std::uint64_t count_field(const nlohmann::json& j, std::string_view key, std::uint64_t absent) {
  const nlohmann::json* f = find(j, key);
  if (f == nullptr || !f->is_number_integer()) return absent;
  // Parsed text holds a non-negative integer as unsigned; built JSON may
  // hold it as signed.
  if (f->is_number_unsigned()) return f->get<std::uint64_t>();
  const auto n = f->get<std::int64_t>();
  return n >= 0 ? static_cast<std::uint64_t>(n) : absent;
}

double number_field(const nlohmann::json& j, std::string_view key, double absent) {
  const nlohmann::json* f = find(j, key);
  return f != nullptr && f->is_number() ? f->get<double>() : absent;
}

bool flag_field(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* f = find(j, key);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

}  // namespace p2p::cli

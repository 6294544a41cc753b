// Reading the tracker's JSON replies field by field (status, watch, register,
// deactivate). Whatever answers at --tracker may send any JSON (an older or
// newer tracker, a proxy's error page, another service): a field that is
// missing, or of another type, or asked of something that is not an object,
// reads as absent. None of these throws, as nlohmann's value() and get<>()
// do on a mismatch. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace p2p::cli {

// j[key] when it is an object; otherwise an empty object.
const nlohmann::json& object_field(const nlohmann::json& j, std::string_view key);
std::string text_field(const nlohmann::json& j, std::string_view key, std::string_view absent = "");
// A count: a non-negative integer.
std::uint64_t count_field(const nlohmann::json& j, std::string_view key, std::uint64_t absent = 0);
double number_field(const nlohmann::json& j, std::string_view key, double absent = 0);
bool flag_field(const nlohmann::json& j, std::string_view key);

}  // namespace p2p::cli

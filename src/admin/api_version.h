// Which of the admin API's two renderings an endpoint answers in.
//
//   kOriginal  /torrents/, /transfers/: the original p2ptracker's paths and
//              shapes (lower-case hex keys, string sizes and percentages,
//              Python-style times), so its deploy scripts keep working.
//   kV1        /api/v1/...: numbers as numbers, ISO 8601 times, per-host
//              detail and history, for the dashboard, the CLI and new tools.
#pragma once

#include <string_view>

namespace p2p::admin {

enum class ApiVersion { kOriginal, kV1 };

// The path prefix of the versioned API.
inline constexpr std::string_view kV1Prefix = "/api/v1";

// `path` without the version prefix, so both renderings parse one path shape.
inline std::string_view unversioned(std::string_view path, ApiVersion version) {
  if (version == ApiVersion::kV1 && path.starts_with(kV1Prefix))
    path.remove_prefix(kV1Prefix.size());
  return path;
}

}  // namespace p2p::admin

// Writing files so that a crash leaves either the old content or the new,
// never a torn file: write a temporary file in the same directory, fsync it,
// rename it over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace p2p::admin {

core::Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes);
// A regular file's bytes (core::read_regular_file, unbounded: the data_dir
// is the tracker's own). Errors name the path and the cause: not_found when
// there is no such file, unavailable when it cannot be read or is not a
// regular file (a directory, a FIFO, a symlink loop).
core::Result<std::string> read_file(const std::filesystem::path& path);
// The same, but no file is nullopt, not an error.
core::Result<std::optional<std::string>> read_file_if_present(const std::filesystem::path& path);
// Writes `text`, what `path` held when a load left entries of it out, to
// `path`.damaged-<now, UTC, 20261207T033304Z> before a rewrite drops them.
// Returns what to add to the warning: "the file as it was is kept as <copy>",
// or why it could not be (a read-only data_dir; the load goes on).
std::string keep_damaged_copy(const std::filesystem::path& path, std::string_view text,
                              core::TimePoint now);
// Removes `path` and syncs its directory so the removal survives a crash.
core::Status remove_file_durably(const std::filesystem::path& path);

}  // namespace p2p::admin

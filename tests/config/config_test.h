// Helpers shared by the config tests: files in a scratch directory, paths in the
// source tree, and error text of a failed Result.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "config/config.h"

namespace p2p::config::testing {

inline std::filesystem::path source_path(std::string_view relative) {
  return std::filesystem::path(P2P_SOURCE_DIR) / relative;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out) << "cannot write " << path;
}

// A directory of this process's own (ctest runs tests as parallel processes),
// removed at exit.
inline const std::filesystem::path& temp_dir() {
  struct Owner {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("p2p-config-test-" + std::to_string(::getpid()));
    Owner() { std::filesystem::create_directories(path); }
    ~Owner() {
      std::error_code ec;  // best effort
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Owner owner;
  return owner.path;
}

// A file named `name` holding `text`; returns its path.
inline std::string temp_file(std::string_view name, std::string_view text) {
  auto path = temp_dir() / name;
  write_text(path, text);
  return path.string();
}

template <class R>
std::string error_of(const R& result) {
  EXPECT_FALSE(result.ok()) << "expected an error";
  return result.ok() ? std::string() : result.error().message;
}

}  // namespace p2p::config::testing

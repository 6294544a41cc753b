// TempDir: a fresh directory under the system temp dir, removed with its
// contents when the object goes away. For tests that need real files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace p2p::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("p2p-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;  // best effort; a leftover temp dir must not fail a test
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `text` to `name` inside the directory (replacing it) and returns the
  // full path. Written to a side file and renamed, as an operator's deploy tool
  // would, so a concurrent reader sees the old or the new file, never half.
  std::string write(std::string_view name, std::string_view text) const {
    auto target = path_ / std::string(name);
    auto side = path_ / (std::string(name) + ".tmp");
    {
      std::ofstream out(side, std::ios::binary | std::ios::trunc);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    std::filesystem::rename(side, target);
    return target.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace p2p::test

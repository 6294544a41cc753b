// One tracker per data_dir. Two processes sharing a data_dir would each keep
// their own registry and history in memory and overwrite each other's files;
// the second one to start is refused instead.
//
// The lock is flock(2) on the data_dir directory itself, held for the life
// of the DataDirLock (released by the kernel if the process dies, so a crash
// never leaves a stale lock), so a read-only data_dir is locked too. When it
// can, the holder writes its pid to <data_dir>/p2ptracker.lock, for the
// message the next one prints. Start-up only; not thread-safe.
#pragma once

#include <filesystem>
#include <memory>

#include "core/result.h"

namespace p2p::admin {

class DataDirLock {
 public:
  // Creates data_dir if needed and takes its lock; already_exists, naming the
  // holder's pid, when another process has it.
  static core::Result<std::unique_ptr<DataDirLock>> acquire(const std::filesystem::path& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace p2p::admin

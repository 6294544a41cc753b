// Reading a file the process is pointed at and must not wait on: the
// data_dir's files, the topology map. Blocking file I/O: start-up, reloads
// and the admin API's writes. Thread-safe.
//
// The file is opened non-blocking and read only if it is a regular file, so
// that a FIFO, a device or a directory in its place is an error rather than
// a start (or a SIGHUP reload) held in open() or read() forever. Files an
// operator may pass as pipes on purpose (the config file, a token file) are
// read elsewhere, blocking.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "core/result.h"

namespace p2p::core {

// The file's bytes, read until its end or until more than `max_bytes`.
// The error's message is the cause only ("cannot open: No such file or
// directory", "cannot read: Input/output error", "not a regular file",
// "larger than N bytes"): the caller names the file as its reader knows it.
// Codes: kNotFound when there is no such file, kTooLarge past max_bytes,
// kUnavailable otherwise.
Result<std::string> read_regular_file(
    const std::string& path, std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

}  // namespace p2p::core

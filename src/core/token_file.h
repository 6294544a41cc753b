// Reading a bearer token from a file (the tracker's admin_token_file, the
// operator commands' --token-file).
//
// A file rather than a config value or a flag: --print-config, `ps` and shell
// history never show it, and file permissions say who may read it. Blocking
// file I/O: start-up and the operator commands only. Thread-safe.
#pragma once

#include <string>

#include "core/result.h"

namespace p2p::core {

struct TokenFile {
  std::string token;            // the file's content without leading and trailing white space
  bool world_readable = false;  // mode has S_IROTH: any local user can read the secret
};

// Reads `path`. Errors (kNotFound, kInvalidArgument) name the path and say
// what is wrong: cannot be opened or read, or holds nothing but white space.
// A token contains no white space inside either: an HTTP header value could
// not carry a line break, and a space is almost surely a mistake.
Result<TokenFile> read_token_file(const std::string& path);

}  // namespace p2p::core

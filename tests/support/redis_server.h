// RedisServer: a private redis-server for one test, on a free loopback port.
//
// Runs the real redis-server binary (STYLE.md: integration tests use real
// servers) bound to 127.0.0.1 with persistence off and its files in a fresh
// temporary directory, and polls PING until it answers. It can be stopped,
// killed, paused (SIGSTOP, to stall clients) and started again on the same port,
// for reconnect tests. The destructor stops it. Not thread-safe: one test
// thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace p2p::test {

class RedisServer {
 public:
  // Starts a server on a free port. Fails, with the reason and the server's
  // log, when redis-server is not installed or does not come up.
  static core::Result<std::unique_ptr<RedisServer>> start();

  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM and wait for exit (SIGKILL if it takes over 5 s). No-op if stopped.
  void stop();
  // SIGKILL and wait: Redis vanishes without closing anything politely.
  void kill();
  // SIGSTOP / SIGCONT: connections stay open but nothing is answered.
  void pause();
  void resume();
  // Starts again on the same port after stop() or kill().
  core::Status restart();

  // One command on a fresh connection, for tests that inspect Redis directly.
  // Returns the reply flattened to strings (an integer as its decimal text, a
  // nil as ""), or the error.
  core::Result<std::vector<std::string>> command(const std::vector<std::string>& argv) const;

 private:
  RedisServer(std::string binary, std::string dir);
  core::Status launch(std::uint16_t port);
  // Polls PING until it answers, the child exits, or `limit` passes.
  core::Status wait_ready(std::chrono::milliseconds limit);
  void wait_exit(int signal);
  std::string log_tail() const;

  std::string binary_;
  std::string dir_;  // the server's working directory and log
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace p2p::test

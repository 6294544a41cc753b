#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace p2p::test {
namespace {

using std::chrono::milliseconds;

// Generous for a loaded CI machine; a healthy redis-server answers in ~20 ms.
constexpr milliseconds kReadyLimit{10000};
constexpr milliseconds kPollInterval{10};
constexpr milliseconds kStopLimit{5000};
// A free port found by binding port 0 can be taken by someone else before
// redis-server binds it; a few fresh tries make that race harmless.
constexpr int kPortAttempts = 5;

std::optional<std::string> find_redis_server() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string dir; std::getline(ss, dir, ':');) {
      if (!dir.empty()) dirs.push_back(dir);
    }
  }
  for (const char* d : {"/usr/bin", "/usr/sbin", "/usr/local/bin"}) dirs.push_back(d);
  for (const std::string& dir : dirs) {
    const std::string candidate = dir + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

core::Result<std::uint16_t> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::internal("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return core::internal("cannot bind a loopback port");
  }
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

void flatten(const redisReply* r, std::vector<std::string>& out) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.emplace_back(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.push_back(std::to_string(r->integer));
      break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r->elements; ++i) flatten(r->element[i], out);
      break;
    default:  // nil
      out.emplace_back();
      break;
  }
}

}  // namespace

RedisServer::RedisServer(std::string binary, std::string dir)
    : binary_(std::move(binary)), dir_(std::move(dir)) {}

core::Result<std::unique_ptr<RedisServer>> RedisServer::start() {
  auto binary = find_redis_server();
  if (!binary) {
    return core::unavailable(
        "redis-server not found on PATH or in /usr/bin; the storage tests need a real Redis "
        "(`make test` installs it; on Debian: apt-get install redis-server)");
  }
  std::string templ = (std::filesystem::temp_directory_path() / "p2p-redis-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return core::internal("mkdtemp failed for " + templ);
  std::unique_ptr<RedisServer> server(new RedisServer(*binary, templ));
  core::Status last = core::internal("no attempt made");
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto port = free_loopback_port();
    if (!port.ok()) return port.error();
    last = server->launch(*port);
    if (last.ok()) last = server->wait_ready(kReadyLimit);
    if (last.ok()) return server;
    server->kill();
  }
  return last.error();
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

core::Status RedisServer::launch(std::uint16_t port) {
  port_ = port;
  const std::string port_text = std::to_string(port);
  const std::string log = dir_ + "/redis.log";
  // Everything the child needs is built before fork(): after it only
  // async-signal-safe calls are allowed.
  std::vector<std::string> args = {binary_,  "--port", port_text,      "--bind",    "127.0.0.1",
                                   "--save", "",       "--appendonly", "no",        "--daemonize",
                                   "no",     "--dir",  dir_,           "--logfile", log};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = dir_ + "/stdout.log";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return core::internal("cannot open " + out_path);

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return core::internal("fork failed");
  }
  if (pid == 0) {
    // If the test binary dies, take the server with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    // Keep the test's own sockets (store connections) out of the server.
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out);
  pid_ = pid;
  paused_ = false;
  return {};
}

core::Status RedisServer::wait_ready(milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return core::unavailable("redis-server exited during start-up on port " +
                               std::to_string(port_) + ":\n" + log_tail());
    }
    auto pong = command({"PING"});
    if (pong.ok() && !pong->empty() && (*pong)[0] == "PONG") return {};
    std::this_thread::sleep_for(kPollInterval);
  }
  return core::unavailable("redis-server on port " + std::to_string(port_) +
                           " did not answer PING within " + std::to_string(limit.count()) +
                           " ms:\n" + log_tail());
}

void RedisServer::wait_exit(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  if (paused_) ::kill(pid_, SIGCONT);  // a stopped process cannot act on SIGTERM
  const auto deadline = std::chrono::steady_clock::now() + kStopLimit;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  pid_ = -1;
  paused_ = false;
}

void RedisServer::stop() { wait_exit(SIGTERM); }

void RedisServer::kill() { wait_exit(SIGKILL); }

void RedisServer::pause() {
  if (pid_ > 0 && !paused_) {
    ::kill(pid_, SIGSTOP);
    paused_ = true;
  }
}

void RedisServer::resume() {
  if (pid_ > 0 && paused_) {
    ::kill(pid_, SIGCONT);
    paused_ = false;
  }
}

core::Status RedisServer::restart() {
  if (pid_ > 0) return {};
  auto launched = launch(port_);
  if (!launched.ok()) return launched;
  return wait_ready(kReadyLimit);
}

core::Result<std::vector<std::string>> RedisServer::command(
    const std::vector<std::string>& args) const {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr || c->err) {
    std::string reason = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return core::unavailable("cannot connect to test Redis on port " + std::to_string(port_) +
                             ": " + reason);
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> argv;
  std::vector<std::size_t> len;
  for (const std::string& a : args) {
    argv.push_back(a.c_str());
    len.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), len.data()));
  if (reply == nullptr) {
    std::string reason = c->errstr;
    redisFree(c);
    return core::unavailable("test Redis command failed: " + reason);
  }
  core::Result<std::vector<std::string>> out = std::vector<std::string>{};
  if (reply->type == REDIS_REPLY_ERROR) {
    out = core::internal(std::string(reply->str, reply->len));
  } else {
    flatten(reply, *out);
  }
  freeReplyObject(reply);
  redisFree(c);
  return out;
}

std::string RedisServer::log_tail() const {
  std::string text;
  for (const char* name : {"/stdout.log", "/redis.log"}) {
    std::ifstream in(dir_ + name);
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  constexpr std::size_t kTail = 2000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace p2p::test

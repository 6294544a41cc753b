#include "topology/exec_source.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <cerrno>
#include <cstring>

#include "topology/location_text.h"

extern char** environ;

namespace p2p::topology {
namespace {

namespace asio = boost::asio;

// What is kept of a run's stderr: its first line goes into the error an
// operator reads; the rest is read and dropped, so a chatty program cannot
// fill the tracker's log or memory.
constexpr std::size_t kMaxStderrBytes = 512;

// One run of the program: reads its stdout to the end, then reaps it; kills
// it at the deadline. The program runs in a process group of its own, and
// the whole group is killed when it is done or at the deadline: what it
// started (a `sleep` of a hung script, a child left in the background) goes
// with it, not to init. Owns itself through its pending handlers.
class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(asio::io_context& io, const ExecOptions& options, pid_t pid, int out_fd, int err_fd,
      std::function<void(Answer)> done)
      : options_(options),
        pid_(pid),
        out_(io, out_fd),
        err_(io, err_fd),
        deadline_(io),
        reap_(io),
        done_(std::move(done)) {}

  void start() {
    deadline_.expires_after(options_.timeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      boost::system::error_code ignored;
      // Reaped already, stderr is held open by something that left its group:
      // stop waiting for it.
      if (!self->reaped_) {
        self->timed_out_ = true;
        self->kill_group();
        self->out_.close(ignored);
      }
      self->err_.close(ignored);
    });
    read();
    read_stderr();
  }

 private:
  // Until the program is reaped its pid, and so its group's id, cannot be
  // anyone else's.
  void kill_group() { ::kill(-pid_, SIGKILL); }

  void read() {
    out_.async_read_some(asio::buffer(chunk_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           self->output_.append(self->chunk_.data(), n);
                           if (self->output_.size() > kMaxLocationTextBytes) {
                             self->too_long_ = true;
                             self->kill_group();
                             ec = asio::error::eof;
                           }
                           if (!ec) return self->read();
                           boost::system::error_code ignored;
                           self->out_.close(ignored);
                           self->reap();
                         });
  }

  void read_stderr() {
    err_.async_read_some(asio::buffer(err_chunk_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           const std::size_t room =
                               kMaxStderrBytes - std::min(kMaxStderrBytes, self->errors_.size());
                           self->errors_.append(self->err_chunk_.data(), std::min(n, room));
                           if (!ec) return self->read_stderr();
                           boost::system::error_code ignored;
                           self->err_.close(ignored);
                           self->stderr_done_ = true;
                           if (self->reaped_) self->finish();
                         });
  }

  // Its stdout is closed; it may still be running (or killed just now). It is
  // waited for without being reaped (WNOWAIT), its group killed, then reaped.
  // Then, once stderr is at its end too (the group is gone), finish().
  void reap() {
    siginfo_t info{};
    const int w = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if ((w == 0 && info.si_pid == 0) || (w != 0 && errno == EINTR)) {
      reap_.expires_after(std::chrono::milliseconds(5));
      reap_.async_wait([self = shared_from_this()](boost::system::error_code) { self->reap(); });
      return;
    }
    kill_group();
    lost_ = w != 0 || ::waitpid(pid_, &status_, 0) < 0;
    reaped_ = true;
    if (stderr_done_) finish();
  }

  void finish() {
    deadline_.cancel();
    const int status = status_;
    const bool lost = lost_;
    // A failure's first line of stderr, if it said anything.
    const std::string said = first_line(errors_);
    const std::string who =
        said.empty() ? options_.command : options_.command + " (\"" + said + "\")";
    if (timed_out_) {
      return done(error_answer(fmt::format("{} did not answer within {} ms (killed)", who,
                                    options_.timeout.count())));
    }
    if (too_long_) {
      return done(error_answer(fmt::format("{} printed more than {} bytes (killed)", who,
                                    kMaxLocationTextBytes)));
    }
    if (lost) return done(error_answer(fmt::format("{}: its exit status was lost", who)));
    if (WIFSIGNALED(status)) {
      return done(error_answer(fmt::format("{} was killed by signal {}", who, WTERMSIG(status))));
    }
    if (WEXITSTATUS(status) != 0) {
      return done(error_answer(fmt::format("{} exited with status {}", who, WEXITSTATUS(status))));
    }
    Answer a = parse_location_text(output_, options_.levels);
    if (a.kind == Answer::Kind::kError) a.detail = options_.command + ": " + a.detail;
    done(std::move(a));
  }

  void done(Answer a) {
    if (auto d = std::exchange(done_, nullptr)) d(std::move(a));
  }

  static std::string first_line(std::string_view text) {
    text = text.substr(0, text.find('\n'));
    std::string line;
    for (char c : text.substr(0, 200)) line.push_back(c >= 0x20 && c != 0x7f ? c : '?');
    return line;
  }

  const ExecOptions& options_;
  pid_t pid_;
  asio::posix::stream_descriptor out_;
  asio::posix::stream_descriptor err_;
  asio::steady_timer deadline_;
  asio::steady_timer reap_;
  std::function<void(Answer)> done_;
  std::array<char, 1024> chunk_{};
  std::array<char, 1024> err_chunk_{};
  std::string output_;
  std::string errors_;  // the first kMaxStderrBytes of its stderr
  bool timed_out_ = false, too_long_ = false, reaped_ = false, stderr_done_ = false;
  int status_ = 0;     // the program's exit status, once reaped
  bool lost_ = false;  // its exit status could not be had
};

}  // namespace

core::Result<std::unique_ptr<ExecSource>> ExecSource::create(ExecOptions options,
                                                              boost::asio::io_context& io) {
  if (options.command.empty()) {
    return core::invalid_argument("topology \"exec\" needs exec_command, the program to run");
  }
  if (::access(options.command.c_str(), X_OK) != 0) {
    return core::invalid_argument(fmt::format("exec_command '{}' is not an executable file: {}",
                                              options.command, std::strerror(errno)));
  }
  return std::unique_ptr<ExecSource>(new ExecSource(std::move(options), io));
}

void ExecSource::lookup(const core::Address& address, std::function<void(Answer)> done) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return done(error_answer(
        fmt::format("cannot run {}: pipe: {}", options_.command, std::strerror(errno))));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return done(error_answer(fmt::format("cannot run {}: pipe: {}", options_.command, std::strerror(errno))));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);  // a group of its own, led by it
  const std::string ip = address.to_string();
  char* argv[] = {const_cast<char*>(options_.command.c_str()), const_cast<char*>(ip.c_str()),
                  nullptr};
  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, options_.command.c_str(), &actions, &attributes, argv, environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return done(error_answer(fmt::format("cannot run {}: {}", options_.command, std::strerror(rc))));
  }
  std::make_shared<Run>(io_, options_, pid, out[0], err[0], std::move(done))->start();
}

}  // namespace p2p::topology

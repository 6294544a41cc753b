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

// One run of the program: reads its stdout to the end, then reaps it; kills
// it at the deadline. Owns itself through its pending handlers.
class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(asio::io_context& io, const ExecOptions& options, pid_t pid, int out_fd,
      std::function<void(Answer)> done)
      : options_(options),
        pid_(pid),
        out_(io, out_fd),
        deadline_(io),
        reap_(io),
        done_(std::move(done)) {}

  void start() {
    deadline_.expires_after(options_.timeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->reaped_) return;
      self->timed_out_ = true;
      ::kill(self->pid_, SIGKILL);
      boost::system::error_code ignored;
      self->out_.close(ignored);
    });
    read();
  }

 private:
  void read() {
    out_.async_read_some(asio::buffer(chunk_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           self->output_.append(self->chunk_.data(), n);
                           if (self->output_.size() > kMaxLocationTextBytes) {
                             self->too_long_ = true;
                             ::kill(self->pid_, SIGKILL);
                             ec = asio::error::eof;
                           }
                           if (!ec) return self->read();
                           boost::system::error_code ignored;
                           self->out_.close(ignored);
                           self->reap();
                         });
  }

  // Its stdout is closed; it may still be running (or killed just now).
  void reap() {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) {
      reap_.expires_after(std::chrono::milliseconds(5));
      reap_.async_wait([self = shared_from_this()](boost::system::error_code) { self->reap(); });
      return;
    }
    reaped_ = true;
    deadline_.cancel();
    finish(status, r < 0);
  }

  void finish(int status, bool lost) {
    const std::string& who = options_.command;
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
    if (a.kind == Answer::Kind::kError) a.detail = who + ": " + a.detail;
    done(std::move(a));
  }

  void done(Answer a) {
    if (auto d = std::exchange(done_, nullptr)) d(std::move(a));
  }

  const ExecOptions& options_;
  pid_t pid_;
  asio::posix::stream_descriptor out_;
  asio::steady_timer deadline_;
  asio::steady_timer reap_;
  std::function<void(Answer)> done_;
  std::array<char, 1024> chunk_{};
  std::string output_;
  bool timed_out_ = false, too_long_ = false, reaped_ = false;
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
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return done(error_answer(fmt::format("cannot run {}: pipe: {}", options_.command, std::strerror(errno))));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  const std::string ip = address.to_string();
  char* argv[] = {const_cast<char*>(options_.command.c_str()), const_cast<char*>(ip.c_str()),
                  nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, options_.command.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return done(error_answer(fmt::format("cannot run {}: {}", options_.command, std::strerror(rc))));
  }
  std::make_shared<Run>(io_, options_, pid, fds[0], std::move(done))->start();
}

}  // namespace p2p::topology

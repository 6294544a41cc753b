// ExecSource: a plugin program, in any language, that says where an address
// is. Run as `<exec_command> <address>`, it prints the location on stdout
// (location_text.h: "dc=ams1 row=3 rack=12" or "ams1/row3/rack12") and exits
// 0; nothing printed means "not known here" (the next source answers). A
// non-zero exit, more than 4 KiB of output, or no exit within the timeout
// (the program is then killed) is an error.
//
// The program is started with posix_spawn, stdin from /dev/null, stderr
// inherited (its messages land in the tracker's log), and read without
// blocking on the chain's io_context. How many run at once is bounded by the
// chain (exec_max_running).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "topology/lookup_source.h"

namespace p2p::topology {

struct ExecOptions {
  std::string command;              // exec_command: a path to an executable
  std::vector<std::string> levels;  // the keys of its key=value answers
  std::chrono::milliseconds timeout{2000};
};

class ExecSource final : public LookupSource {
 public:
  // Fails unless `command` names an executable file.
  static core::Result<std::unique_ptr<ExecSource>> create(ExecOptions options,
                                                          boost::asio::io_context& io);

  std::string_view name() const override { return "exec"; }
  void lookup(const core::Address& address, std::function<void(Answer)> done) override;

 private:
  ExecSource(ExecOptions options, boost::asio::io_context& io)
      : options_(std::move(options)), io_(io) {}

  ExecOptions options_;
  boost::asio::io_context& io_;
};

}  // namespace p2p::topology

// SmdbSource: the original p2ptracker's inventory call, asked asynchronously.
//
//   GET {smdb_url}/servers/ipaddresses/{ip}
//   -> {"<server>": {"cabinet": "<rack>", "name": ..., ...}, ...}
//
// as the original's smdbapi.get_rack made it (../shared/seed/original-
// behaviour.md, section c). Which field names the rack is a JSON pointer
// into each server's object (smdb_rack_field, "/cabinet" by default), so
// other inventory services answering per address fit too. One connection per
// lookup (Boost.Beast), one deadline over resolve, connect, send and receive.
//
// Threads: lookups start and finish on the io_context given at construction;
// parse_smdb_answer() is a pure function (fuzzed: fuzz/fuzz_smdb.cc).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "topology/lookup_source.h"

namespace p2p::topology {

// Largest SMDB answer read; a server's record is a few hundred bytes.
inline constexpr std::size_t kMaxSmdbAnswerBytes = 1 << 20;

// Where an inventory service is: the parts of an http:// URL.
struct HttpTarget {
  std::string host;  // a name or an address (IPv6 without brackets)
  std::string port = "80";
  std::string base_path;  // without a trailing slash; "" for the root
};
// Parses "http://host[:port][/path]". https is refused with a message (no TLS
// client here); so is anything else that is not such a URL.
core::Result<HttpTarget> parse_http_url(std::string_view url);

// The answer in `body` (an HTTP 200's body) for the rack field `rack_field`
// (a JSON pointer into each server's object). `{}` or a server without the
// field (or with an empty one) is kUnknown; several servers: the last one in
// the document (ambiguous = true; the original took the last it iterated);
// anything that is not an object of objects, or a rack that is not a string
// of at most 128 of A-Z a-z 0-9 . _ : / -, is kError with the reason. Never
// throws on any input.
Answer parse_smdb_answer(std::string_view body, std::string_view rack_field);

struct SmdbOptions {
  std::string url;                  // smdb_url
  std::string rack_field = "/cabinet";  // smdb_rack_field: a JSON pointer
  std::chrono::milliseconds timeout{2000};
};

class SmdbSource final : public LookupSource {
 public:
  // Fails on a URL parse_http_url() refuses or a rack_field that is not a
  // JSON pointer.
  static core::Result<std::unique_ptr<SmdbSource>> create(const SmdbOptions& options,
                                                          boost::asio::io_context& io);

  std::string_view name() const override { return "smdb"; }
  void lookup(const core::Address& address, std::function<void(Answer)> done) override;

  const HttpTarget& target() const { return target_; }

 private:
  SmdbSource(SmdbOptions options, HttpTarget target, boost::asio::io_context& io)
      : options_(std::move(options)), target_(std::move(target)), io_(io) {}

  SmdbOptions options_;
  HttpTarget target_;
  boost::asio::io_context& io_;
};

}  // namespace p2p::topology

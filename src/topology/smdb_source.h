// SmdbSource: the original p2ptracker's inventory call, asked asynchronously.
//
//   GET {smdb_url}/servers/ipaddresses/{ip}
//   -> {"<server>": {"cabinet": "<rack>", "name": ..., ...}, ...}
//
// as the original's smdbapi.get_rack made it (../shared/seed/original-
// behaviour.md, section c). Which fields name the location are JSON pointers
// into each server's object, one per level outermost first (smdb_fields,
// ["/cabinet"] by default): the rack is the path of the values found
// ("ams1/row3/cab-12"), so other inventories (NetBox's site, location and
// rack of a device) fit too. One connection per lookup (Boost.Beast), one
// deadline over resolve, connect, send and receive.
//
// Bulk mode (smdb_bulk_url): every smdb_bulk_interval the whole inventory is
// fetched from one URL answering {"<ip>": {<server record>}, ...}; each
// address it lists is placed from it, and only addresses it does not list are
// asked about one by one.
//
// Threads: lookups start and finish on the io_context given at construction;
// parse_smdb_answer() is a pure function (fuzzed: fuzz/fuzz_smdb.cc).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "topology/lookup_source.h"

namespace p2p::topology {

// Largest SMDB answer read; a server's record is a few hundred bytes.
inline constexpr std::size_t kMaxSmdbAnswerBytes = 1 << 20;
// Largest bulk inventory read: 100,000 hosts of a few hundred bytes each fit
// twice over. Parsed, JSON takes up to about 16 times its text (a wide array
// of small numbers), so this bounds what a broken inventory costs to ~1 GB.
inline constexpr std::size_t kMaxSmdbBulkBytes = std::size_t{64} << 20;

// Where an inventory service is: the parts of an http:// URL.
struct HttpTarget {
  std::string host;  // a name or an address (IPv6 without brackets)
  std::string port = "80";
  std::string base_path;  // without a trailing slash; "" for the root
};
// Parses "http://host[:port][/path]". https is refused with a message (no TLS
// client here); so is anything else that is not such a URL.
core::Result<HttpTarget> parse_http_url(std::string_view url);

// The answer in `body` (an HTTP 200's body). `fields` are JSON pointers into
// each server's object, outermost level first; the rack is the path of the
// string values found ("/"-joined; fields a record lacks, or has empty, are
// skipped). `{}` or a server with none of the fields is kUnknown; several
// servers: the last one in the document (ambiguous = true; the original took
// the last it iterated); anything that is not an object of objects, a field
// that is not a string, or a rack that is not 1-128 of A-Z a-z 0-9 . _ : / -
// is kError with the reason. Never throws on any input.
Answer parse_smdb_answer(std::string_view body, const std::vector<std::string>& fields);

// One server's record (`record`, a JSON object) read as parse_smdb_answer()
// reads the last server of an answer.
Answer smdb_record_answer(const nlohmann::json& record, std::string_view server,
                          const std::vector<std::string>& fields);

// The bulk inventory in `body`: {"<ip>": {<server record>}, ...}. Appends
// one (address, answer) per key that is an address; keys that are not, and
// values that are not objects, are counted in `skipped`. Fails only if `body`
// is not a JSON object.
core::Status parse_smdb_bulk(std::string_view body, const std::vector<std::string>& fields,
                             std::vector<std::pair<core::Address, Answer>>& out,
                             std::size_t& skipped);

struct SmdbOptions {
  std::string url;                                  // smdb_url
  std::vector<std::string> fields = {"/cabinet"};  // smdb_fields: JSON pointers
  std::chrono::milliseconds timeout{2000};
  std::string bulk_url;  // smdb_bulk_url; empty: no bulk mode
  std::chrono::seconds bulk_interval{300};
};

class SmdbSource final : public LookupSource {
 public:
  // Fails on a URL parse_http_url() refuses or a field that is not a JSON
  // pointer.
  static core::Result<std::unique_ptr<SmdbSource>> create(const SmdbOptions& options,
                                                          boost::asio::io_context& io);
  ~SmdbSource() override;

  std::string_view name() const override { return "smdb"; }
  void lookup(const core::Address& address, std::function<void(Answer)> done) override;
  void start_bulk(BulkDelivery deliver) override;

  const HttpTarget& target() const { return target_; }

 private:
  SmdbSource(SmdbOptions options, HttpTarget target, boost::asio::io_context& io)
      : options_(std::move(options)), target_(std::move(target)), io_(io) {}

  void fetch_bulk();
  // Back on the chain's thread with what the parse made of a fetch: logs it,
  // hands the answers over and sets the next fetch.
  void bulk_parsed(std::string error, std::vector<std::pair<core::Address, Answer>> answers,
                   std::size_t skipped);
  // Hands answers[from...] over kBulkSlice at a time, each slice its own turn
  // on the chain's thread: storing 200,000 answers takes near a second, and
  // lookups (with the announces waiting on them) go on between slices.
  static constexpr std::size_t kBulkSlice = 2048;
  void deliver_slices(std::shared_ptr<std::vector<std::pair<core::Address, Answer>>> answers,
                      std::size_t from);

  SmdbOptions options_;
  HttpTarget target_;
  HttpTarget bulk_target_;
  std::string bulk_path_;
  boost::asio::io_context& io_;
  BulkDelivery deliver_;
  std::unique_ptr<boost::asio::steady_timer> bulk_timer_;
  // Parses the whole inventory off the chain's thread (about a second at
  // 200,000 addresses, while lookups and the announces waiting on them would
  // wait too). One thread, made by start_bulk(); joined first on destruction.
  std::unique_ptr<boost::asio::thread_pool> parser_;
};

}  // namespace p2p::topology

// LookupSource: a topology source that is asked about one address at a time
// and answers later (an inventory service over HTTP; DNS and plugin programs
// fit the same shape).
//
// ChainLocator (chain_locator.h) owns the thread a source runs on, caches
// its answers and decides what an announce does meanwhile; a source only
// turns an address into an Answer. Sources never see the announce path.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/address.h"

namespace p2p::topology {

struct Answer {
  enum class Kind {
    kFound,    // `rack` is the address's rack
    kUnknown,  // the source does not know the address: ask the next one
    kError,    // no usable answer (down, timed out, malformed): ask the next one
  };
  Kind kind = Kind::kError;
  std::string rack;    // kFound: a valid rack name (static_map_locator.h's rule)
  std::string detail;  // kError: what went wrong, for the log and /health
  // kFound: the source had to choose among several candidates (the SMDB
  // listing several servers for one address) and took the last one.
  bool ambiguous = false;
  // kError: the source answered, but what it holds for this address is not
  // usable (a rack name that is not one, a field that is no string): the
  // record's fault, not a sign the source is down.
  bool bad_record = false;
};

// A kError answer saying `detail`.
inline Answer error_answer(std::string detail) {
  Answer a;
  a.kind = Answer::Kind::kError;
  a.detail = std::move(detail);
  return a;
}

// A kError answer about one address's record (bad_record), saying `detail`.
inline Answer bad_record_answer(std::string detail) {
  Answer a = error_answer(std::move(detail));
  a.bad_record = true;
  return a;
}

// The outcome label of an answer on /metrics ("found", "unknown", "error").
std::string_view answer_kind_name(Answer::Kind kind);

class LookupSource {
 public:
  virtual ~LookupSource() = default;
  // Its name in the `topology` list, logs, /metrics and /health ("smdb").
  virtual std::string_view name() const = 0;
  // Starts looking up `address`; calls `done` exactly once with the answer,
  // on the thread that runs the source's io_context. Never blocks.
  virtual void lookup(const core::Address& address, std::function<void(Answer)> done) = 0;

  // Answers about many addresses at once, delivered on the source's thread.
  using BulkDelivery =
      std::function<void(std::vector<std::pair<core::Address, Answer>>&& answers)>;
  // Sources that can list their whole inventory deliver it now and then
  // (called once, on the source's thread, after start). Default: none.
  virtual void start_bulk(BulkDelivery) {}
};

}  // namespace p2p::topology

// Locator: maps a peer's address to the rack it sits in.
//
// The swarm groups peers by the RackId a Locator returns and never learns what a
// rack is. Implementations answer from an immutable in-memory snapshot that a
// reload swaps atomically, so locate() is safe from every worker thread at once,
// never blocks and never allocates. Slow work (reading files, later DNS or a
// REST service) happens in reload(), off the announce path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/rack.h"
#include "core/result.h"

namespace p2p::topology {

class Locator {
 public:
  virtual ~Locator() = default;

  // The rack of `address`. Thread-safe, never blocks, never allocates, never
  // fails: an address no rule knows falls back to the subnet rule.
  virtual core::RackId locate(const core::Address& address) const noexcept = 0;

  // Printable name of a rack this locator returned ("127.0.1.0/24",
  // "dc1-rack12"). Thread-safe; allocates; not for the announce path.
  virtual std::string rack_name(core::RackId rack) const = 0;

  // Re-reads the locator's sources (on SIGHUP). On failure returns the error
  // and keeps serving the previous snapshot. Thread-safe against locate().
  virtual core::Status reload() = 0;

  // Incremented by every successful reload; lets the swarm notice that racks
  // may have moved.
  virtual std::uint64_t generation() const noexcept = 0;
};

struct Options {
  std::string kind = "subnet";  // "subnet" or "static"
  int subnet_prefix_v4 = 24;
  int subnet_prefix_v6 = 64;
  std::string map_file;  // for "static": lines of "CIDR-or-address rack-name"
  // The levels the lookup sources' locations have: the map file's paths
  // must have as many (0: any, as long as they agree).
  std::size_t depth = 0;
};

// Builds the locator `options.kind` names, loading its sources once. Errors name
// the file and line of a bad map entry.
core::Result<std::unique_ptr<Locator>> make_locator(const Options& options);

// The default rule alone: a rack is the address's /prefix network.
class SubnetLocator;
// A static map file with longest-prefix match, falling back to SubnetLocator.
class StaticMapLocator;

}  // namespace p2p::topology

// StaticMapLocator: racks from an operator's map file, longest prefix wins.
//
// The file lists `<CIDR or single address> <rack-name>` lines (format in
// docs/topology.md, sample in etc/racks.example). Loading parses the whole file
// into an immutable Snapshot -- per address family, one flat sorted array per
// prefix length -- and publishes it as a shared_ptr. locate() takes a
// reference to the current snapshot and binary-searches it, longest prefix
// first; an address no entry covers gets the subnet rule (subnet_locator.h).
// reload() (SIGHUP) reads and parses the file with no lock that locate()
// needs, and swaps the new snapshot in only if the whole file is good.
//
// Threads: locate(), rack_name() and generation() from any thread; reload()
// from any thread too (concurrent reloads are serialised by reload_mu_, which
// locate() never takes).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "topology/locator.h"
#include "topology/rack_names.h"

namespace p2p::topology {

// Longest accepted rack name. Generous for "dc/row/rack" paths, small enough
// that a name always fits one log line and one admin-API field.
inline constexpr std::size_t kMaxRackNameLength = 128;

// Largest map file read. One line per /24 of a large fleet is a few MB; a file
// far past this is almost certainly the wrong path (a log, a device).
inline constexpr std::size_t kMaxMapFileBytes = std::size_t{64} << 20;

// Whether `name` may name a rack: 1-128 of [A-Za-z0-9._:/-], a path of at
// most 1 + kMaxUpperLevels levels, none empty. The error reads "<where>: rack
// name ... contains ..." (or "is N characters", "has N levels", "has an empty
// level").
core::Status check_rack_name(std::string_view name, const std::string& where);

// One line of a map file.
struct RackMapEntry {
  core::Cidr prefix;  // a bare address is a host prefix (/32 or /128)
  std::string rack;   // validated: 1-128 of [A-Za-z0-9._:/-]
  int line = 0;       // 1-based, for messages
};

// Parses a map file's text; no I/O. `source` names the file in errors, which
// read "<source>:<line>: <what is wrong>": a bad address or prefix, host bits
// set under the prefix, a missing rack name, extra tokens, a bad or too long
// rack name, a path of other levels than the file's first path (or than
// `depth`, the lookup sources' levels, when above 1), or a prefix given twice
// (both lines named). A single name is a group of its own at the top, beside
// any paths. Empty text (or only comments) is a valid, empty map. Never
// throws on any input.
core::Result<std::vector<RackMapEntry>> parse_rack_map(std::string_view text,
                                                       std::string_view source,
                                                       std::size_t depth = 0);
// How many levels rack name `rack` has ("ams1/row3/rack12": 3).
std::size_t path_levels(std::string_view rack);

class StaticMapLocator final : public Locator {
 public:
  // Loads `path` once. Fails (naming the path, or file and line) if the file
  // is missing, unreadable or malformed. Prefixes as for SubnetLocator (1-32,
  // 1-64; asserted). Named racks are interned into `names`, which must outlive
  // the locator.
  // `depth`: the levels the lookup sources' locations have, which the
  // file's paths must have too (0: any, as long as they agree).
  static core::Result<std::unique_ptr<StaticMapLocator>> open(
      std::string path, int prefix_v4, int prefix_v6, RackNames& names = RackNames::global(),
      std::size_t depth = 0);

  ~StaticMapLocator() override;

  // Longest-prefix match in the current snapshot, else the subnet rule. Never
  // waits for I/O, never allocates, never throws: it copies the snapshot
  // pointer under a shared lock (see snapshot_mu_) and binary-searches.
  core::RackId locate(const core::Address& address) const noexcept override;
  std::string rack_name(core::RackId rack) const override;
  // Re-reads the file. On any error returns it and keeps the previous snapshot;
  // on success swaps in the new one and increments generation().
  core::Status reload() override;
  // 0 after open(), +1 per successful reload().
  std::uint64_t generation() const noexcept override;

  const std::string& path() const { return path_; }
  // Entries in the current snapshot (for the "loaded N racks" log line).
  std::size_t entry_count() const noexcept;

  struct Snapshot;  // defined in the .cc

 private:
  StaticMapLocator(std::string path, int prefix_v4, int prefix_v6, RackNames& names,
                   std::size_t depth);
  // Reads and parses the file into a snapshot; touches no member state except
  // interning names once the whole file has parsed.
  core::Result<std::shared_ptr<const Snapshot>> load() const;

  // The snapshot locate() should use, sharing ownership with it.
  std::shared_ptr<const Snapshot> current() const noexcept;

  const std::string path_;
  const int prefix_v4_;
  const int prefix_v6_;
  const std::size_t depth_;  // open()'s
  RackNames& names_;

  // Serialises reload(); held during file I/O, never taken by locate().
  std::mutex reload_mu_;
  // The snapshot replaced by the last reload, guarded by reload_mu_. Keeping it
  // until the next reload means a locate() that still holds it never drops the
  // last reference, so freeing a map happens on the reload thread, not on the
  // announce path.
  std::shared_ptr<const Snapshot> retired_;

  // Guards snapshot_, and is held only to copy or swap that one pointer (never
  // during I/O or parsing), so locate() waits at most for a pointer swap. Not
  // std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal
  // lock with a relaxed store, a data race ThreadSanitizer reports
  // (google/sanitizers#1558).
  mutable std::shared_mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // never null after open()
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace p2p::topology

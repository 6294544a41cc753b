// RackNames: the process-wide, append-only table behind RackId::named().
//
// A map file names racks ("dc1/row3/rack12"); the swarm only sees RackIds. A
// named rack's RackId is its index in this table. Names are never removed or
// renumbered, so the same name keeps the same RackId across every reload and a
// swarm's grouping stays stable when the map is re-read. The table only grows
// when a map file introduces a new name; repeated reloads of the same names add
// nothing.
//
// Threads: intern() runs at load time (start-up, SIGHUP reload) and takes the
// table's lock exclusively; name() may be called from any thread and takes it
// shared. Neither is for the announce path: locators hand out RackIds they
// interned at load time, so locate() never touches this table.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/rack.h"

namespace p2p::topology {

class RackNames {
 public:
  RackNames() = default;
  RackNames(const RackNames&) = delete;
  RackNames& operator=(const RackNames&) = delete;

  // The table every locator uses unless a test injects its own.
  static RackNames& global();

  // RackId::named(i) for `name`, adding it on first sight. The same name always
  // gives the same id. Callers validate names first (see static_map_locator.h).
  core::RackId intern(std::string_view name);

  // The name interned at `index`, or nullopt for an index never handed out. The
  // view stays valid for the table's lifetime (entries never move or change).
  std::optional<std::string_view> name(std::uint64_t index) const;

  // The groups above named rack `index`, outermost first, into `out` (at most
  // out.size(), the nearest ones): the prefixes of its path before each '/'
  // ("ams1", "ams1/row3" for "ams1/row3/rack12"), interned with it. Returns
  // how many. Called when a rack first appears in a transfer, not per
  // announce.
  std::size_t ancestors(std::uint64_t index, std::span<core::RackId> out) const;

  // The id of `name` if it was interned, else nullopt (adds nothing).
  std::optional<core::RackId> find(std::string_view name) const;

  // Number of names interned so far.
  std::size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  // Guarded by mu_. A deque never moves its elements on push_back, so views
  // returned by name() stay valid after the lock is released.
  std::deque<std::string> names_;
  // Guarded by mu_. Keys view the strings in names_.
  std::unordered_map<std::string_view, std::uint32_t> index_;
  // Guarded by mu_. parents_[i]: the index of names_[i]'s path without its
  // last label, or kNoParent.
  std::vector<std::uint32_t> parents_;
  static constexpr std::uint32_t kNoParent = 0xFFFFFFFFu;

  std::uint32_t intern_locked(std::string_view name);
};

// Printable name of any RackId a locator returns: "127.0.1.0/24",
// "2001:db8:1:2::/64", or the interned name for a named rack (looked up in
// `names`). Allocates; not for the announce path.
std::string format_rack(core::RackId rack, const RackNames& names);

}  // namespace p2p::topology

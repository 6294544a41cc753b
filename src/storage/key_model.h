// KeyModel: the original p2ptracker's Redis data model (docs/storage.md), as
// key names and as the Redis-shaped commands each write turns into.
//
// RedisStore pipelines the commands to Redis; the reads (WriteBehindStore)
// use the same key names, so writes and reads cannot drift apart. Only the
// writer threads build commands; KeyModel is immutable after construction and
// safe to share, a CommandBatch belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/digest.h"
#include "storage/store.h"

namespace p2p::storage {

// The commands the model needs, named as in Redis. All values are strings.
enum class Verb : std::uint8_t {
  kSadd,   // SADD set member
  kSrem,   // SREM set member
  kSet,    // SET key value
  kSetnx,  // SETNX key value: first_* timestamps are written once
  kMset,   // MSET key value [key value ...]: the per-peer fields in one command
  kEval,   // EVAL script numkeys key... arg...: work that must read Redis first
  kZrem,   // ZREM sorted-set member
};

const char* verb_name(Verb verb);

// Commands in one reusable buffer: clear() keeps the memory, so a writer
// thread that reuses its batch stops allocating once warmed up.
class CommandBatch {
 public:
  struct Command {
    Verb verb;
    std::uint32_t first_arg;  // index into the argument table
    std::uint32_t argc;       // arguments after the verb
  };

  void clear();
  void begin(Verb verb);
  // Appends one argument, the concatenation of `parts` (string_view-able or
  // unsigned integers, printed in decimal), to the command begun last.
  template <class... Parts>
  void arg(const Parts&... parts) {
    const std::size_t offset = arena_.size();
    (put(parts), ...);
    args_.push_back(
        {static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(arena_.size() - offset)});
    ++commands_.back().argc;
  }

  std::size_t size() const { return commands_.size(); }
  bool empty() const { return commands_.empty(); }
  const Command& command(std::size_t i) const { return commands_[i]; }
  std::string_view argument(std::size_t i) const {
    return {arena_.data() + args_[i].offset, args_[i].size};
  }

 private:
  struct Slice {
    std::uint32_t offset;
    std::uint32_t size;
  };
  void put(std::string_view s) { arena_.append(s); }
  void put(const std::string& s) { arena_.append(s); }
  void put(const char* s) { arena_.append(s); }
  void put(char c) { arena_.push_back(c); }
  void put(std::uint64_t v);
  void put(std::uint32_t v) { put(std::uint64_t{v}); }
  void put(std::uint16_t v) { put(std::uint64_t{v}); }

  std::string arena_;  // every argument's bytes, back to back
  std::vector<Slice> args_;
  std::vector<Command> commands_;
};

// The per-peer fields ("HASH:peer:PEER:<field>") peer_fields() reads back.
inline constexpr std::string_view kPeerFields[] = {
    "compact",         "port",          "peer_id",     "key",    "last_event", "event:started",
    "event:completed", "event:stopped", "event:empty", "seeder", "downloaded", "left",
    "uploaded",        "rack",          "hostname",
};

// The per-transfer fields ("HASH:<field>") transfer_fields() reads back.
inline constexpr std::string_view kTransferFields[] = {
    "name",          "length",       "registered",      "deregistered",
    "first_started", "last_started", "first_completed", "last_completed",
};

// Event names as the original stored them; kNone is BEP 3's "empty".
std::string_view event_name(AnnounceEvent event);

class KeyModel {
 public:
  // `max_departed_peers`: per transfer, how many departed peers' fields stay
  // as history (0: all of them, as the original kept them).
  explicit KeyModel(std::string prefix, std::size_t max_departed_peers = 0);

  const std::string& prefix() const { return prefix_; }

  // The full key (prefix included) for the concatenation of `parts`.
  template <class... Parts>
  std::string key(const Parts&... parts) const {
    std::string k = prefix_;
    (k.append(parts), ...);
    return k;
  }

  // Append the commands for one write to `batch`.
  void plan_peer(const PeerUpdate& update, std::string_view rack, CommandBatch& batch) const;
  void plan_seen(const core::InfoHash& info_hash, CommandBatch& batch) const;
  void plan_registered(const TransferRecord& record, CommandBatch& batch) const;
  // The set and timestamp part of a deregistration. The archive step (rename
  // every "HASH*" key) needs to list keys, which each store does its own way:
  // see archive_match() and archived_key().
  void plan_deregistered(const core::InfoHash& info_hash, core::TimePoint at,
                         CommandBatch& batch) const;

  // Full-key prefix of every key of a transfer: prefix + HASH.
  std::string transfer_key_prefix(const core::InfoHash& info_hash) const;
  // A SCAN MATCH pattern for the keys transfer_key_prefix() starts; glob
  // characters in the configured prefix are escaped.
  std::string archive_match(const core::InfoHash& info_hash) const;
  // Where deregistration moves `full_key`: prefix + "<iso-time>:" + the rest.
  std::string archived_key(std::string_view full_key, core::TimePoint at) const;

 private:
  std::string prefix_;
  std::size_t max_departed_peers_;
  std::string forget_departed_script_;  // built once from kPeerFields
};

// Parses core::iso8601's form, "2026-11-24T05:25:23Z"; nullopt otherwise.
std::optional<core::TimePoint> parse_iso8601(std::string_view text);

}  // namespace p2p::storage

#include "storage/key_model.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace p2p::storage {

const char* verb_name(Verb verb) {
  switch (verb) {
    case Verb::kSadd:
      return "SADD";
    case Verb::kSrem:
      return "SREM";
    case Verb::kSet:
      return "SET";
    case Verb::kSetnx:
      return "SETNX";
    case Verb::kMset:
      return "MSET";
    case Verb::kEval:
      return "EVAL";
    case Verb::kZrem:
      return "ZREM";
  }
  return "?";
}

void CommandBatch::clear() {
  arena_.clear();
  args_.clear();
  commands_.clear();
}

void CommandBatch::begin(Verb verb) {
  commands_.push_back({verb, static_cast<std::uint32_t>(args_.size()), 0});
}

void CommandBatch::put(std::uint64_t v) {
  char buf[20];  // 2^64 - 1 has 20 decimal digits
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // cannot fail: the buffer fits any uint64_t
  arena_.append(buf, end);
}

std::string_view event_name(AnnounceEvent event) {
  switch (event) {
    case AnnounceEvent::kStarted:
      return "started";
    case AnnounceEvent::kCompleted:
      return "completed";
    case AnnounceEvent::kStopped:
      return "stopped";
    case AnnounceEvent::kNone:
      break;
  }
  // BEP 3: "empty, which is the same as not being present".
  return "empty";
}

namespace {

std::string_view python_bool(bool b) { return b ? "True" : "False"; }

// A peer a topology reload moved to another rack leaves its previous rack's
// sets. Only Redis knows that rack (the peer's "rack" field, written by its
// last announce), so the check runs there, before the announce's own writes.
// KEYS[1]: the peer's rack field; ARGV: its new rack, "<prefix><HASH>:rack:",
// the peer.
constexpr std::string_view kLeavePreviousRack = R"lua(
local old = redis.call('GET', KEYS[1])
if old and old ~= ARGV[1] then
  for _, kind in ipairs({':N', ':R', ':S'}) do
    redis.call('SREM', ARGV[2] .. old .. kind, ARGV[3])
  end
end
return 0)lua";

// A departed peer (stopped, or expired) joins the transfer's "departed" set,
// scored by when it left; past max_departed_peers the earliest to leave are
// forgotten: their fields go, and so does their address from the rack's
// hosts (and the rack from "racks" once it has none). Peers that leave are
// what an attacker can make without end (new ports, new IPv6 addresses), so
// this is the bound on what the history keeps. A host forgotten while it
// still announces elsewhere is added back by its next announce.
// ARGV: the set, the peer, the second it left, the bound,
// "<prefix><HASH>:peer:", "<prefix>". %FIELDS% becomes kPeerFields as a Lua
// list. Scores are microseconds, one more than the latest when a second is
// shared, so peers leaving in one second are forgotten in the order they left.
constexpr std::string_view kForgetDepartedTemplate = R"lua(
local score = tonumber(ARGV[3]) * 1000000
local top = redis.call('ZRANGE', ARGV[1], -1, -1, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
redis.call('ZADD', ARGV[1], score, ARGV[2])
local over = redis.call('ZCARD', ARGV[1]) - tonumber(ARGV[4])
if over <= 0 then return 0 end
local fields = {%FIELDS%}
local gone = redis.call('ZPOPMIN', ARGV[1], over)
for i = 1, #gone, 2 do
  local fp = ARGV[5] .. gone[i] .. ':'
  local rack = redis.call('GET', fp .. 'rack')
  local ip = redis.call('GET', fp .. 'hostname')
  local keys = {}
  for j, f in ipairs(fields) do keys[j] = fp .. f end
  redis.call('DEL', unpack(keys))
  if rack and ip then
    local hosts = ARGV[6] .. 'rack:' .. rack
    redis.call('SREM', hosts, ip)
    if redis.call('EXISTS', hosts) == 0 then redis.call('SREM', ARGV[6] .. 'racks', rack) end
  end
end
return over)lua";

// The announce "key" parameter as the 8 upper-case hex digits clients send.
std::string key_hex(std::uint32_t key) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", key);
  return buf;
}

}  // namespace

KeyModel::KeyModel(std::string prefix, std::size_t max_departed_peers)
    : prefix_(std::move(prefix)), max_departed_peers_(max_departed_peers) {
  std::string fields;
  for (std::string_view f : kPeerFields) {
    if (!fields.empty()) fields += ", ";
    fields.append("'").append(f).append("'");
  }
  const std::string_view t = kForgetDepartedTemplate;
  const std::size_t at = t.find("%FIELDS%");
  forget_departed_script_.append(t.substr(0, at)).append(fields).append(t.substr(at + 8));
}

void KeyModel::plan_peer(const PeerUpdate& u, std::string_view rack, CommandBatch& b) const {
  const std::string h = u.info_hash.hex();
  const std::string peer = u.endpoint.to_string();
  const std::string ip = u.endpoint.address.to_string();
  const std::string at = core::iso8601(u.at);
  const bool seeder = u.left == 0;
  const std::string_view event = event_name(u.event);
  const std::string fp = prefix_ + h + ":peer:" + peer + ":";

  if (u.rack_changed) {
    b.begin(Verb::kEval);
    b.arg(kLeavePreviousRack);
    b.arg("1");
    b.arg(fp, "rack");
    b.arg(rack);
    b.arg(prefix_, h, ":rack:");
    b.arg(peer);
  }

  auto member = [&](Verb verb, std::string_view suffix) {
    b.begin(verb);
    b.arg(prefix_, h, suffix);
    b.arg(peer);
  };
  auto rack_member = [&](Verb verb, std::string_view kind) {
    b.begin(verb);
    b.arg(prefix_, h, ":rack:", rack, kind);
    b.arg(peer);
  };
  auto leave_current_sets = [&] {
    for (std::string_view kind : {":peers:N", ":peers:R", ":peers:S", ":peers:L"}) {
      member(Verb::kSrem, kind);
    }
    for (std::string_view kind : {":N", ":R", ":S"}) rack_member(Verb::kSrem, kind);
  };
  auto departed = [&] {
    if (max_departed_peers_ == 0) return;
    b.begin(Verb::kEval);
    b.arg(forget_departed_script_);
    b.arg("0");
    b.arg(prefix_, h, ":departed");
    b.arg(peer);
    b.arg(static_cast<std::uint64_t>(u.at.time_since_epoch().count()));
    b.arg(static_cast<std::uint64_t>(max_departed_peers_));
    b.arg(prefix_, h, ":peer:");
    b.arg(prefix_);
  };
  if (u.expired) {
    // Gone without a word: out of the current sets, its fields (last event,
    // left, ...) left as its last announce wrote them.
    leave_current_sets();
    departed();
    return;
  }

  b.begin(Verb::kSadd);
  b.arg(prefix_, "racks");
  b.arg(rack);
  b.begin(Verb::kSadd);
  b.arg(prefix_, "rack:", rack);
  b.arg(ip);

  if (u.event == AnnounceEvent::kStopped) {
    leave_current_sets();  // its fields stay as history
  } else {
    member(Verb::kSadd, ":peers:N");
    rack_member(Verb::kSadd, ":N");
    // Representative status can be lost (the swarm re-elects), so remove too.
    const Verb repr = u.representative ? Verb::kSadd : Verb::kSrem;
    member(repr, ":peers:R");
    rack_member(repr, ":R");
    member(seeder ? Verb::kSadd : Verb::kSrem, ":peers:S");
    member(seeder ? Verb::kSrem : Verb::kSadd, ":peers:L");
    rack_member(seeder ? Verb::kSadd : Verb::kSrem, ":S");
  }

  if (max_departed_peers_ > 0 && u.joined && u.event != AnnounceEvent::kStopped) {
    b.begin(Verb::kZrem);  // back, so not forgotten while it announces
    b.arg(prefix_, h, ":departed");
    b.arg(peer);
  }

  b.begin(Verb::kMset);
  b.arg(fp, "compact");
  b.arg(python_bool(u.compact));
  b.arg(fp, "port");
  b.arg(u.endpoint.port);
  b.arg(fp, "peer_id");
  b.arg(u.peer_id.hex());
  b.arg(fp, "key");
  b.arg(key_hex(u.key));
  b.arg(fp, "last_event");
  b.arg(event);
  b.arg(fp, "event:", event);
  b.arg(at);
  b.arg(fp, "seeder");
  b.arg(python_bool(seeder));
  b.arg(fp, "downloaded");
  b.arg(u.downloaded);
  b.arg(fp, "left");
  b.arg(u.left);
  b.arg(fp, "uploaded");
  b.arg(u.uploaded);
  b.arg(fp, "rack");
  b.arg(rack);
  b.arg(fp, "hostname");  // the original resolved it; we keep the address
  b.arg(ip);
  if (u.event == AnnounceEvent::kStarted || u.event == AnnounceEvent::kCompleted) {
    b.arg(prefix_, h, ":last_", event);
    b.arg(at);
    b.begin(Verb::kSetnx);
    b.arg(prefix_, h, ":first_", event);
    b.arg(at);
  }
  if (u.event == AnnounceEvent::kStopped) departed();  // after its fields are written
}

void KeyModel::plan_seen(const core::InfoHash& info_hash, CommandBatch& b) const {
  b.begin(Verb::kSadd);
  b.arg(prefix_, "transfers");
  b.arg(info_hash.hex());
}

void KeyModel::plan_registered(const TransferRecord& record, CommandBatch& b) const {
  const std::string h = record.info_hash.hex();
  b.begin(Verb::kSadd);
  b.arg(prefix_, "transfers");
  b.arg(h);
  b.begin(Verb::kSadd);
  b.arg(prefix_, "active_transfers");
  b.arg(h);
  b.begin(Verb::kMset);
  b.arg(prefix_, h, ":name");
  b.arg(record.name);
  b.arg(prefix_, h, ":length");
  b.arg(record.length);
  b.arg(prefix_, h, ":registered");
  b.arg(core::iso8601(record.registered));
  if (!record.file.empty()) {
    // The original's index of uploads, which its GET /torrents/ listed. As
    // there, deregistration leaves them: `active_transfers` says what is live.
    b.begin(Verb::kSadd);
    b.arg(prefix_, "torrents");
    b.arg(record.file);
    b.begin(Verb::kSet);
    b.arg(prefix_, record.file);
    b.arg(h);
  }
}

void KeyModel::plan_deregistered(const core::InfoHash& info_hash, core::TimePoint at,
                                 CommandBatch& b) const {
  const std::string h = info_hash.hex();
  b.begin(Verb::kSrem);
  b.arg(prefix_, "active_transfers");
  b.arg(h);
  b.begin(Verb::kSet);
  b.arg(prefix_, h, ":deregistered");
  b.arg(core::iso8601(at));
}

std::string KeyModel::transfer_key_prefix(const core::InfoHash& info_hash) const {
  return prefix_ + info_hash.hex();
}

std::string KeyModel::archive_match(const core::InfoHash& info_hash) const {
  std::string pattern;
  for (char c : prefix_) {
    // Redis glob metacharacters (stringmatchlen): * ? [ ] and the escape itself.
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  // The colon keeps out keys that only start with the hex digits: the file
  // name key of a torrent named "<HASH>-notes.torrent".
  pattern += info_hash.hex();
  pattern += ":*";
  return pattern;
}

std::string KeyModel::archived_key(std::string_view full_key, core::TimePoint at) const {
  std::string k = prefix_;
  k += core::iso8601(at);
  k.push_back(':');
  k.append(full_key.substr(prefix_.size()));
  return k;
}

std::optional<core::TimePoint> parse_iso8601(std::string_view s) {
  // "YYYY-MM-DDTHH:MM:SSZ": 20 characters, separators at fixed places.
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t pos, std::size_t len, int& out) {
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && ptr == s.data() + pos + len;
  };
  int y, mo, d, h, mi, sec;
  if (!number(0, 4, y) || !number(5, 2, mo) || !number(8, 2, d) || !number(11, 2, h) ||
      !number(14, 2, mi) || !number(17, 2, sec)) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return core::TimePoint(sys_days(ymd)) + hours(h) + minutes(mi) + seconds(sec);
}

}  // namespace p2p::storage

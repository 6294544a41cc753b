#include "admin/data_files.h"

#include <fmt/format.h>

#include <limits>

namespace p2p::admin {
namespace {

// 9999-12-31T23:59:59Z: the last second ISO 8601's four-digit year can say.
constexpr std::int64_t kLastSecond = 253402300799;

std::int64_t secs(core::TimePoint t) { return t.time_since_epoch().count(); }

std::optional<core::TimePoint> time_of(const nlohmann::json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(kLastSecond)) {
    return std::nullopt;
  }
  const auto s = v.get<std::int64_t>();
  if (s < 0 || s > kLastSecond) return std::nullopt;
  return core::TimePoint(core::Seconds(s));
}

// `j[key]` when it is a string, `fallback` when absent; nullopt when of
// another type.
std::optional<std::string> string_field(const nlohmann::json& j, const char* key,
                                        std::string fallback = {}) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

template <typename Unsigned>
bool unsigned_field(const nlohmann::json& j, const char* key, Unsigned& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_unsigned() ||
      it->get<std::uint64_t>() > std::numeric_limits<Unsigned>::max()) {
    return false;
  }
  out = static_cast<Unsigned>(it->get<std::uint64_t>());
  return true;
}

// The array named `key` in the JSON object `text` holds. Error: there is none.
core::Result<nlohmann::json> array_in(std::string_view text, const char* key) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return core::invalid_argument("not a JSON object");
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return core::invalid_argument(fmt::format("no \"{}\" array", key));
  }
  return std::move(*it);
}

// A precise time as microseconds since the epoch (0: never), within the
// years ISO 8601 can say.
std::optional<core::PreciseTime> precise_time_of(const nlohmann::json& v) {
  constexpr std::uint64_t kLastMicro = std::uint64_t(kLastSecond) * 1000000 + 999999;
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > kLastMicro) return std::nullopt;
  return core::PreciseTime(std::chrono::microseconds(v.get<std::uint64_t>()));
}

std::int64_t micros(core::PreciseTime t) { return t.time_since_epoch().count(); }

// A member as progress_text writes it: [address, port, completed, origin],
// and for a representative its rank, above and cadence8 after them.
std::optional<swarm::DeployProgress::Member> member_of(const nlohmann::json& m) {
  if (!m.is_array() || (m.size() != 4 && m.size() != 7) || !m[0].is_string() ||
      !m[1].is_number_unsigned() || m[1].get<std::uint64_t>() > 65535 || !m[2].is_boolean() ||
      !m[3].is_boolean()) {
    return std::nullopt;
  }
  const auto address = core::Address::parse(m[0].get<std::string>());
  if (!address) return std::nullopt;
  swarm::DeployProgress::Member member{
      {*address, static_cast<std::uint16_t>(m[1].get<std::uint64_t>())},
      m[2].get<bool>(),
      m[3].get<bool>()};
  if (m.size() == 7) {
    std::uint8_t* role[] = {&member.rank, &member.above, &member.cadence8};
    for (std::size_t i = 0; i < std::size(role); ++i) {
      const auto& v = m[4 + i];
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 255) return std::nullopt;
      *role[i] = static_cast<std::uint8_t>(v.get<std::uint64_t>());
    }
    if (member.rank == 0) return std::nullopt;
  }
  return member;
}

std::optional<std::pair<core::InfoHash, swarm::DeployProgress>> progress_of(
    const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto hash_text = string_field(j, "info_hash");
  const auto t = j.find("t");
  const auto completions = j.find("completions");
  const auto members = j.find("members");
  if (!hash_text || t == j.end() || !t->is_array() || t->size() != 4 || completions == j.end() ||
      !completions->is_array() || members == j.end() || !members->is_array()) {
    return std::nullopt;
  }
  const auto hash = core::InfoHash::from_hex(*hash_text);
  if (!hash) return std::nullopt;
  swarm::DeployProgress p;
  core::PreciseTime* times[] = {&p.first_started, &p.last_started, &p.first_completed,
                                &p.last_completed};
  for (std::size_t i = 0; i < std::size(times); ++i) {
    const auto at = precise_time_of((*t)[i]);
    if (!at) return std::nullopt;
    *times[i] = *at;
  }
  if (!unsigned_field(j, "completed", p.completed) || !unsigned_field(j, "joined", p.joined) ||
      !unsigned_field(j, "origins_joined", p.origins_joined)) {
    return std::nullopt;
  }
  p.completions.reserve(completions->size());
  for (const auto& c : *completions) {
    const auto at = time_of(c);
    if (!at) return std::nullopt;
    p.completions.push_back(*at);
  }
  p.members.reserve(members->size());
  for (const auto& m : *members) {
    auto member = member_of(m);
    if (!member) return std::nullopt;
    p.members.push_back(*member);
  }
  return std::pair{*hash, std::move(p)};
}

}  // namespace

nlohmann::json time_or_null(core::TimePoint t) {
  if (t == core::TimePoint{}) return nullptr;
  return core::iso8601(t);
}

nlohmann::json DeployRecord::to_json() const {
  nlohmann::json duration = nullptr;
  if (first_start != core::TimePoint{} && last_complete >= first_start) {
    duration = (last_complete - first_start).count();
  }
  return {{"info_hash", info_hash.hex()},
          {"file", file},
          {"name", name},
          {"size", size},
          {"registered", core::iso8601(registered)},
          {"deregistered", core::iso8601(deregistered)},
          {"first_start", time_or_null(first_start)},
          {"last_start", time_or_null(last_start)},
          {"first_complete", time_or_null(first_complete)},
          {"last_complete", time_or_null(last_complete)},
          {"duration", duration},
          {"peers", peers},
          {"seeders", seeders},
          {"completed", completed},
          {"racks", racks},
          // Machine-readable times, so the file reads back exactly.
          {"t",
           {secs(registered), secs(deregistered), secs(first_start), secs(last_start),
            secs(first_complete), secs(last_complete)}}};
}

std::optional<DeployRecord> DeployRecord::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto hash_text = string_field(j, "info_hash");
  const auto t = j.find("t");
  if (!hash_text || t == j.end() || !t->is_array() || t->size() != 6) return std::nullopt;
  const auto hash = core::InfoHash::from_hex(*hash_text);
  if (!hash) return std::nullopt;
  DeployRecord r;
  r.info_hash = *hash;
  core::TimePoint* times[] = {&r.registered, &r.deregistered,   &r.first_start,
                              &r.last_start, &r.first_complete, &r.last_complete};
  for (std::size_t i = 0; i < std::size(times); ++i) {
    const auto at = time_of((*t)[i]);
    if (!at) return std::nullopt;
    *times[i] = *at;
  }
  auto file = string_field(j, "file");
  auto name = string_field(j, "name");
  if (!file || !name) return std::nullopt;
  r.file = std::move(*file);
  r.name = std::move(*name);
  if (!unsigned_field(j, "size", r.size) || !unsigned_field(j, "peers", r.peers) ||
      !unsigned_field(j, "seeders", r.seeders) || !unsigned_field(j, "completed", r.completed) ||
      !unsigned_field(j, "racks", r.racks)) {
    return std::nullopt;
  }
  return r;
}

core::Result<HistoryFile> parse_history(std::string_view text) {
  auto deploys = array_in(text, "deploys");
  if (!deploys) return deploys.error();
  HistoryFile out;
  for (const auto& e : *deploys) {
    if (auto r = DeployRecord::from_json(e)) {
      out.records.push_back(std::move(*r));
    } else {
      ++out.skipped;
    }
  }
  return out;
}

core::Result<RegistryIndex> parse_registry_index(std::string_view text) {
  auto torrents = array_in(text, "torrents");
  if (!torrents) return torrents.error();
  RegistryIndex out;
  for (const auto& e : *torrents) {
    if (!e.is_object()) {
      ++out.skipped;
      continue;
    }
    const auto file = e.find("file");
    const auto registered = e.find("registered");
    std::optional<core::TimePoint> at;
    if (registered != e.end()) at = time_of(*registered);
    if (file == e.end() || !file->is_string() || !at) {
      ++out.skipped;
      continue;
    }
    out.registered_at[file->get<std::string>()] = secs(*at);
  }
  return out;
}

std::string progress_text(const ProgressFile& file) {
  nlohmann::json transfers = nlohmann::json::array();
  for (const auto& [hash, p] : file.transfers) {
    nlohmann::json completions = nlohmann::json::array();
    for (core::TimePoint c : p.completions) completions.push_back(secs(c));
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : p.members) {
      nlohmann::json& member = members.emplace_back(
          nlohmann::json{m.endpoint.address.to_string(), m.endpoint.port, m.completed, m.origin});
      if (m.rank != 0) {
        for (std::uint8_t v : {m.rank, m.above, m.cadence8}) member.push_back(v);
      }
    }
    transfers.push_back({{"info_hash", hash.hex()},
                         {"t",
                          {micros(p.first_started), micros(p.last_started),
                           micros(p.first_completed), micros(p.last_completed)}},
                         {"completed", p.completed},
                         {"joined", p.joined},
                         {"origins_joined", p.origins_joined},
                         {"completions", std::move(completions)},
                         {"members", std::move(members)}});
  }
  return nlohmann::json{{"transfers", std::move(transfers)}}.dump();
}

core::Result<ProgressFile> parse_progress(std::string_view text) {
  auto transfers = array_in(text, "transfers");
  if (!transfers) return transfers.error();
  ProgressFile out;
  for (const auto& e : *transfers) {
    if (auto p = progress_of(e)) {
      out.transfers.push_back(std::move(*p));
    } else {
      ++out.skipped;
    }
  }
  return out;
}

}  // namespace p2p::admin

#include "admin/history.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/durable_file.h"

namespace p2p::admin {
namespace {

std::int64_t secs(core::TimePoint t) { return t.time_since_epoch().count(); }
core::TimePoint from_secs(std::int64_t s) { return core::TimePoint(core::Seconds(s)); }

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
  if (!j.is_object() || !j.contains("info_hash") || !j.contains("t")) return std::nullopt;
  auto hash = core::InfoHash::from_hex(j.value("info_hash", ""));
  const auto& t = j["t"];
  if (!hash || !t.is_array() || t.size() != 6) return std::nullopt;
  DeployRecord r;
  r.info_hash = *hash;
  r.file = j.value("file", "");
  r.name = j.value("name", "");
  r.size = j.value("size", std::uint64_t{0});
  r.registered = from_secs(t[0].get<std::int64_t>());
  r.deregistered = from_secs(t[1].get<std::int64_t>());
  r.first_start = from_secs(t[2].get<std::int64_t>());
  r.last_start = from_secs(t[3].get<std::int64_t>());
  r.first_complete = from_secs(t[4].get<std::int64_t>());
  r.last_complete = from_secs(t[5].get<std::int64_t>());
  r.peers = j.value("peers", 0u);
  r.seeders = j.value("seeders", 0u);
  r.completed = j.value("completed", 0u);
  r.racks = j.value("racks", 0u);
  return r;
}

History::History(std::filesystem::path file, const core::Clock& clock, core::Seconds max_age)
    : file_(std::move(file)), clock_(clock), max_age_(max_age) {}

core::Result<std::unique_ptr<History>> History::open(const std::filesystem::path& data_dir,
                                                     const core::Clock& clock,
                                                     core::Seconds max_age) {
  std::unique_ptr<History> h(new History(data_dir / "history.json", clock, max_age));
  if (std::filesystem::exists(h->file_)) {
    auto text = read_file(h->file_);
    if (!text) return text.error();
    auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j["deploys"].is_array()) {
      return core::invalid_argument(fmt::format(
          "{} is not a valid history file; move it away to start a new one", h->file_.string()));
    }
    for (const auto& e : j["deploys"]) {
      if (auto r = DeployRecord::from_json(e)) h->records_.push_back(std::move(*r));
    }
  }
  std::lock_guard lock(h->mu_);
  h->prune();
  return h;
}

void History::prune() {
  const core::TimePoint cutoff = clock_.now() - max_age_;
  std::erase_if(records_, [&](const DeployRecord& r) { return r.deregistered < cutoff; });
}

core::Status History::save() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : records_) list.push_back(r.to_json());
  return write_file_atomically(file_, nlohmann::json{{"deploys", list}}.dump(2) + "\n");
}

core::Status History::add(const DeployRecord& record) {
  std::lock_guard lock(mu_);
  records_.push_back(record);
  prune();
  return save();
}

std::vector<DeployRecord> History::list() const {
  std::lock_guard lock(mu_);
  // Records age out between writes too; the file catches up at the next add().
  const core::TimePoint cutoff = clock_.now() - max_age_;
  std::vector<DeployRecord> out;
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->deregistered >= cutoff) out.push_back(*it);
  }
  return out;
}

}  // namespace p2p::admin

#include "admin/registry.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <system_error>

#include "admin/data_files.h"
#include "admin/durable_file.h"
#include "core/json_text.h"
#include "core/utf8.h"

namespace p2p::admin {
namespace {

constexpr std::string_view kExtension = ".torrent";
constexpr std::size_t kMaxNameLength = 200;  // well under NAME_MAX (255) with the extension

nlohmann::json to_json(const RegisteredTorrent& t) {
  nlohmann::json j = {{"file", t.file},
                      {"info_hash", t.meta.primary().hex()},
                      {"name", t.meta.name},
                      {"length", t.meta.length},
                      {"registered", t.registered.time_since_epoch().count()}};
  return j;
}

}  // namespace

Registry::Registry(std::filesystem::path data_dir, const core::Clock& clock, int max_torrent_files)
    : dir_(std::move(data_dir)),
      torrents_dir_(dir_ / "torrents"),
      clock_(clock),
      max_torrent_files_(max_torrent_files) {}

core::Status Registry::check_file_name(std::string_view file) {
  if (file.size() <= kExtension.size() ||
      file.substr(file.size() - kExtension.size()) != kExtension) {
    return core::invalid_argument(
        fmt::format("'{}' must be named <name>.torrent (wrong or missing extension)", file));
  }
  std::string_view name = file.substr(0, file.size() - kExtension.size());
  if (name.size() > kMaxNameLength) {
    return core::invalid_argument(
        fmt::format("torrent name is {} characters; at most {}", name.size(), kMaxNameLength));
  }
  if (name.front() == '.') {
    return core::invalid_argument("torrent name must not start with '.'");
  }
  for (unsigned char c : name) {
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7F) {
      return core::invalid_argument(
          "torrent name must not contain '/', '\\' or control characters");
    }
  }
  // The name is a key in registry.json and in the API's JSON, which are UTF-8:
  // bytes that are not were written as U+FFFD there, and the name read back
  // named no file.
  if (!core::is_utf8(name)) return core::invalid_argument("torrent name must be UTF-8");
  return {};
}

core::Result<std::unique_ptr<Registry>> Registry::open(const std::filesystem::path& data_dir,
                                                       const core::Clock& clock,
                                                       int max_torrent_files) {
  std::unique_ptr<Registry> r(new Registry(data_dir, clock, max_torrent_files));
  std::error_code ec;
  std::filesystem::create_directories(r->torrents_dir_, ec);
  if (ec) {
    return core::unavailable(fmt::format("cannot create data directory {}: {} (set data_dir)",
                                         r->torrents_dir_.string(), ec.message()));
  }
  if (auto st = r->load(); !st) return st.error();
  return r;
}

core::Status Registry::load() {
  const auto index_path = dir_ / "registry.json";
  std::map<std::string, std::int64_t> registered_at;
  auto text = read_file_if_present(index_path);
  if (!text) return text.error();
  if (*text) {
    auto index = parse_registry_index(**text);
    if (!index) {
      return core::invalid_argument(
          fmt::format("{} is not a valid registry index ({}); move it away to "
                      "rebuild it from {}",
                      index_path.string(), index.error().message, torrents_dir_.string()));
    }
    registered_at = std::move(index->registered_at);
    if (index->skipped > 0) {
      // The index is rewritten below without them.
      warnings_.push_back(fmt::format(
          "{}: left out {} entr{} without a file name and a registration time (seconds since "
          "1970, before the year 10000); {} registered now; {}",
          index_path.string(), index->skipped, index->skipped == 1 ? "y" : "ies",
          index->skipped == 1 ? "its torrent counts as" : "their torrents count as",
          keep_damaged_copy(index_path, **text, clock_.now())));
    }
  }
  // The files are the truth; the index only remembers when each was registered.
  // The error_code forms throughout: an entry the file system cannot stat (a
  // symlink loop) is skipped, not thrown at the start.
  std::error_code ec;
  std::filesystem::directory_iterator it(torrents_dir_, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    const std::string file = entry.path().filename().string();
    std::error_code type_ec;
    if (file.front() == '.' || !entry.is_regular_file(type_ec)) continue;
    if (!check_file_name(file)) {
      warnings_.push_back(
          fmt::format("skipped {}: not a <name>.torrent file", entry.path().string()));
      continue;
    }
    auto bytes = read_file(entry.path());
    if (!bytes) {
      warnings_.push_back(bytes.error().message);
      continue;
    }
    auto meta = parse_torrent(*bytes, max_torrent_files_);
    if (!meta) {
      warnings_.push_back(
          fmt::format("skipped {}: {}", entry.path().string(), meta.error().message));
      continue;
    }
    RegisteredTorrent t{file, std::move(*meta), clock_.now()};
    if (auto it = registered_at.find(file); it != registered_at.end()) {
      t.registered = core::TimePoint(core::Seconds(it->second));
    }
    by_file_.emplace(file, std::move(t));
  }
  if (ec) {
    return core::unavailable(
        fmt::format("cannot list {}: {} (set data_dir)", torrents_dir_.string(), ec.message()));
  }
  // add() refuses a second file of one transfer; files copied in by hand are
  // not asked. Both registered, deleting one left the other listed as active
  // with no swarm. The first registered stays (then the first name).
  std::map<core::InfoHash, const RegisteredTorrent*> first_of;
  for (const auto& [file, t] : by_file_) {
    auto [it, fresh] = first_of.emplace(t.meta.primary(), &t);
    if (!fresh && t.registered < it->second->registered) it->second = &t;
  }
  for (auto it = by_file_.begin(); it != by_file_.end();) {
    const RegisteredTorrent* kept = first_of.at(it->second.meta.primary());
    if (kept == &it->second) {
      ++it;
      continue;
    }
    warnings_.push_back(fmt::format(
        "skipped {}: the same transfer (info_hash {}) as {}, registered first; remove one of "
        "the two files",
        (torrents_dir_ / it->first).string(), it->second.meta.primary().hex(), kept->file));
    it = by_file_.erase(it);
  }
  // Rewritten only when it changed (files added or removed by hand), so a
  // read-only data_dir serves what it holds; if it cannot be written, the
  // tracker still serves and says why registering will fail.
  std::lock_guard lock(mu_);
  if (auto current = read_file(index_path); current && *current == index_text()) return {};
  if (auto st = save_index(); !st) {
    warnings_.push_back(fmt::format(
        "{}; serving the registered torrents, but registering, replacing and deleting will "
        "fail until data_dir is writable",
        st.error().message));
  }
  return {};
}

std::string Registry::index_text() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [file, t] : by_file_) list.push_back(to_json(t));
  nlohmann::json j = {{"torrents", list}};
  return core::json_text(j, 2) + "\n";
}

core::Status Registry::save_index() const {
  return write_file_atomically(dir_ / "registry.json", index_text());
}

core::Result<RegisteredTorrent> Registry::add(std::string_view file, std::string_view bytes) {
  if (auto st = check_file_name(file); !st) return st.error();
  auto meta = parse_torrent(bytes, max_torrent_files_);
  if (!meta) return meta.error();
  std::lock_guard lock(mu_);
  if (by_file_.contains(file)) {
    return core::already_exists(fmt::format("{} is already registered", file));
  }
  for (const auto& [other, t] : by_file_) {
    if (t.meta.primary() == meta->primary()) {
      return core::already_exists(
          fmt::format("info_hash {} is already registered as {}", meta->primary().hex(), other));
    }
  }
  const auto path = torrents_dir_ / std::string(file);
  if (auto st = write_file_atomically(path, bytes); !st) return st.error();
  RegisteredTorrent t{std::string(file), std::move(*meta), clock_.now()};
  auto [it, inserted] = by_file_.emplace(t.file, t);
  if (auto st = save_index(); !st) {
    // Undo, so a failed registration leaves nothing behind.
    by_file_.erase(it);
    (void)remove_file_durably(path);
    return st.error();
  }
  return t;
}

core::Result<Registry::Replaced> Registry::replace(std::string_view file, std::string_view bytes) {
  if (auto st = check_file_name(file); !st) return st.error();
  auto meta = parse_torrent(bytes, max_torrent_files_);
  if (!meta) return meta.error();
  std::lock_guard lock(mu_);
  auto it = by_file_.find(file);
  if (it == by_file_.end()) return core::not_found(fmt::format("{} is not registered", file));
  RegisteredTorrent previous = it->second;
  if (previous.meta.primary() == meta->primary()) return Replaced{previous, previous};
  for (const auto& [other, t] : by_file_) {
    if (other != file && t.meta.primary() == meta->primary()) {
      return core::already_exists(
          fmt::format("info_hash {} is already registered as {}", meta->primary().hex(), other));
    }
  }
  const auto path = torrents_dir_ / std::string(file);
  auto old_bytes = read_file(path);
  if (!old_bytes) return old_bytes.error();
  if (auto st = write_file_atomically(path, bytes); !st) return st.error();
  it->second = RegisteredTorrent{std::string(file), std::move(*meta), clock_.now()};
  if (auto st = save_index(); !st) {
    // Put the previous registration back, so a failure changes nothing.
    it->second = previous;
    (void)write_file_atomically(path, *old_bytes);
    return st.error();
  }
  return Replaced{std::move(previous), it->second};
}

core::Result<RegisteredTorrent> Registry::remove(std::string_view file) {
  std::lock_guard lock(mu_);
  auto it = by_file_.find(file);
  if (it == by_file_.end()) {
    return core::not_found(fmt::format("{} is not registered (GET /torrents/ lists them)", file));
  }
  RegisteredTorrent t = it->second;
  by_file_.erase(it);
  // Index first: if the unlink then fails, the file is merely re-registered at
  // the next start, which is safe; the reverse order could lose a torrent
  // that the index still lists.
  if (auto st = save_index(); !st) {
    by_file_.emplace(t.file, t);
    return st.error();
  }
  if (auto st = remove_file_durably(torrents_dir_ / t.file); !st) return st.error();
  return t;
}

std::vector<RegisteredTorrent> Registry::list() const {
  std::lock_guard lock(mu_);
  std::vector<RegisteredTorrent> out;
  for (const auto& [file, t] : by_file_) out.push_back(t);
  return out;
}

std::optional<RegisteredTorrent> Registry::find(std::string_view file) const {
  std::lock_guard lock(mu_);
  auto it = by_file_.find(file);
  if (it == by_file_.end()) return std::nullopt;
  return it->second;
}

std::optional<RegisteredTorrent> Registry::find(const core::InfoHash& info_hash) const {
  std::lock_guard lock(mu_);
  for (const auto& [file, t] : by_file_) {
    if (t.meta.primary() == info_hash || t.meta.v2_truncated == info_hash) return t;
  }
  return std::nullopt;
}

core::Result<std::string> Registry::read(std::string_view file) const {
  if (!find(file)) return core::not_found(fmt::format("{} is not registered", file));
  return read_file(torrents_dir_ / std::string(file));
}

}  // namespace p2p::admin

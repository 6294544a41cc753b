// Registry: the registered (active) transfers and their .torrent files, kept in
// the data directory so they survive restarts and crashes.
//
// Layout: <data_dir>/torrents/<file>.torrent holds each uploaded file as is;
// <data_dir>/registry.json indexes them (info-hash, name, length, registration
// time). Both are written atomically, torrent file first, so a crash leaves
// either the whole registration or none of it. A .torrent file an operator
// drops into torrents/ is registered at the next start.
//
// Thread-safe (one mutex); every method may do file I/O, so callers keep it
// off the announce path (the admin API runs on the blocking pool).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/torrent_file.h"
#include "core/clock.h"
#include "core/result.h"

namespace p2p::admin {

struct RegisteredTorrent {
  std::string file;  // "<name>.torrent", the key in the API
  TorrentMeta meta;
  core::TimePoint registered;
};

class Registry {
 public:
  // Creates the directories if needed and loads what is there. Errors name the
  // path (unwritable data_dir, corrupt registry.json). Torrents listing more
  // than `max_torrent_files` files are refused by add() and replace(), and
  // skipped with a warning at load.
  static core::Result<std::unique_ptr<Registry>> open(
      const std::filesystem::path& data_dir, const core::Clock& clock,
      int max_torrent_files = kDefaultMaxTorrentFiles);

  // Registers `bytes` under `file`. Errors: bad file name or extension,
  // corrupt torrent (invalid_argument); the name or info-hash taken
  // (already_exists); disk failure (unavailable) with nothing left behind.
  core::Result<RegisteredTorrent> add(std::string_view file, std::string_view bytes);
  // Puts `bytes` in place of the registered `file`'s content, atomically: the
  // previous registration comes back, the new one is stored (the same content
  // again: both are the previous). Errors as add(), and not_found when `file`
  // is not registered; on an error nothing changed.
  struct Replaced {
    RegisteredTorrent previous;
    RegisteredTorrent current;
  };
  core::Result<Replaced> replace(std::string_view file, std::string_view bytes);
  // Unregisters and deletes the file; not_found if unknown.
  core::Result<RegisteredTorrent> remove(std::string_view file);

  std::vector<RegisteredTorrent> list() const;
  std::optional<RegisteredTorrent> find(std::string_view file) const;
  std::optional<RegisteredTorrent> find(const core::InfoHash& info_hash) const;
  core::Result<std::string> read(std::string_view file) const;

  // Problems met while loading (skipped files), for the start-up log.
  const std::vector<std::string>& load_warnings() const { return warnings_; }

  // Checks a registration file name: "<name>.torrent", name of 1-200
  // characters, no '/', no leading '.', no control characters.
  static core::Status check_file_name(std::string_view file);

 private:
  Registry(std::filesystem::path data_dir, const core::Clock& clock, int max_torrent_files);
  core::Status load();
  // The index file's content for by_file_.
  std::string index_text() const;
  core::Status save_index() const;  // mu_ held

  std::filesystem::path dir_;
  std::filesystem::path torrents_dir_;
  const core::Clock& clock_;
  const int max_torrent_files_;
  mutable std::mutex mu_;
  std::map<std::string, RegisteredTorrent, std::less<>> by_file_;  // guarded by mu_
  std::vector<std::string> warnings_;
};

}  // namespace p2p::admin

// p2ptracker make-torrent: a .torrent for a payload, announcing to our tracker.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/terminal.h"
#include "cli/torrent_maker.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr std::string_view kCommand = "make-torrent";

struct Options {
  std::string payload;
  std::string tracker;
  std::string output;
  std::string piece_size = "auto";
  std::string name;
  std::string comment;
  bool is_private = true;
  bool udp = false;
  int udp_port = 0;  // 0: the HTTP port
  bool hybrid = false;
  bool v2 = false;
  bool force = false;
  bool json = false;
  bool quiet = false;
};

// Hashing progress on stderr: a bar redrawn in place on a terminal; otherwise
// (a log file, CI) a line every kLogEvery, so short runs stay quiet.
class HashProgress {
 public:
  static constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
  static constexpr auto kLogEvery = std::chrono::seconds(5);

  HashProgress(std::string name, int pieces, int piece_size, std::uint64_t length, bool enabled)
      : name_(std::move(name)),
        pieces_(pieces),
        piece_size_(piece_size),
        length_(length),
        enabled_(enabled),
        tty_(enabled && is_terminal(STDERR_FILENO)),
        start_(Clock::now()),
        last_(start_) {}

  void update(int done) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done < pieces_ && now - last_ < (tty_ ? kRedrawEvery : kLogEvery)) return;
    if (!tty_ && done == pieces_ && !logged_) return;  // fast enough: no log lines at all
    last_ = now;
    const std::uint64_t bytes =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(done) * piece_size_, length_);
    const double percent = pieces_ ? 100.0 * done / pieces_ : 100.0;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const std::string rate =
        seconds > 0.2 ? human_bytes(static_cast<std::uint64_t>(bytes / seconds)) + "/s" : "";
    if (tty_) {
      const std::string tail = fmt::format(" {:5.1f}%  {} / {}  {}", percent, human_bytes(bytes),
                                           human_bytes(length_), rate);
      const std::string head = "hashing " + name_ + " ";
      const int room = terminal_columns(STDERR_FILENO) - 1 -
                       static_cast<int>(display_width(head) + display_width(tail));
      std::string line = head + progress_bar(percent, std::clamp(room, 12, 52)) + tail;
      std::cerr << "\r\033[2K" << line << std::flush;
      drawn_ = true;
    } else {
      std::cerr << fmt::format("hashing {}: {:.0f}% ({} of {}) {}\n", name_, percent,
                               human_bytes(bytes), human_bytes(length_), rate);
      logged_ = true;
    }
  }

  // Clears the bar so the summary starts on a clean line.
  void finish() {
    if (drawn_) std::cerr << "\r\033[2K" << std::flush;
  }

 private:
  std::string name_;
  int pieces_;
  int piece_size_;
  std::uint64_t length_;
  bool enabled_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_;
  bool drawn_ = false;
  bool logged_ = false;
};

// The temporary file's name for the signal handler below: a fixed buffer, as
// a handler may only use async-signal-safe calls (unlink, signal, raise).
char g_temp_path[4096];
volatile std::sig_atomic_t g_temp_armed = 0;

extern "C" void remove_temp_and_die(int sig) {
  if (g_temp_armed) ::unlink(g_temp_path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

// The temporary output file: created before hashing (so an unwritable
// destination fails in a second, not after an hour of hashing), renamed over
// the output at the end, removed if anything fails.
class TempOutput {
 public:
  ~TempOutput() {
    disarm();
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  core::Status create(const fs::path& output) {
    path_ = output.string() + fmt::format(".tmp-{}", ::getpid());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      path_.clear();
      return core::unavailable(
          fmt::format("cannot write {}: {}", output.string(), std::strerror(err)));
    }
    // Ctrl-C during an hour of hashing must not leave the file behind.
    if (path_.size() < sizeof(g_temp_path)) {
      std::memcpy(g_temp_path, path_.c_str(), path_.size() + 1);
      g_temp_armed = 1;
      for (int sig : kCleanupSignals) std::signal(sig, remove_temp_and_die);
    }
    return {};
  }

  core::Status commit(std::string_view bytes, const fs::path& output) {
    std::string_view rest = bytes;
    while (!rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return write_error(output);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      return write_error(output);
    }
    fd_ = -1;
    if (::rename(path_.c_str(), output.c_str()) != 0) return write_error(output);
    disarm();
    path_.clear();
    return {};
  }

  const std::string& path() const { return path_; }

 private:
  static void disarm() {
    if (!g_temp_armed) return;
    g_temp_armed = 0;
    for (int sig : kCleanupSignals) std::signal(sig, SIG_DFL);
  }

  core::Error write_error(const fs::path& output) const {
    return core::unavailable(
        fmt::format("cannot write {}: {}", output.string(), std::strerror(errno)));
  }

  std::string path_;
  int fd_ = -1;
};

int run(const Options& o) {
  auto tracker = tracker_from(o.tracker);
  if (!tracker) return fail(kCommand, tracker.error().message);
  auto piece_size = parse_piece_size(o.piece_size);
  if (!piece_size) return fail(kCommand, piece_size.error().message);

  MakeTorrentOptions m;
  m.payload = o.payload;
  m.announce_url = tracker->announce_url();
  if (o.udp || o.udp_port != 0) {
    // The path is ignored by BEP 15 trackers (p2ptracker reads it as BEP 41
    // URL data); "/announce" keeps the URL recognizable.
    TrackerUrl udp = *tracker;
    if (o.udp_port != 0) udp.port = static_cast<std::uint16_t>(o.udp_port);
    m.udp_announce_url = fmt::format("udp://{}/announce", udp.authority());
  }
  m.piece_size = *piece_size;
  m.is_private = o.is_private;
  m.format = o.v2 ? TorrentFormat::kV2 : o.hybrid ? TorrentFormat::kHybrid : TorrentFormat::kV1;
  m.name = o.name;
  m.comment = o.comment;

  const std::string name = o.name.empty() ? payload_name(o.payload) : o.name;
  const fs::path output = o.output.empty() ? fs::path(name + ".torrent") : fs::path(o.output);
  std::error_code ec;
  if (fs::is_directory(output, ec)) {
    return fail(kCommand, fmt::format("{} is a directory; give -o a file name", output.string()));
  }
  if (fs::exists(output, ec) && !o.force) {
    return fail(kCommand, fmt::format("{} already exists; use --force to replace it, or -o to "
                                      "write elsewhere",
                                      output.string()));
  }
  if (!fs::exists(o.payload, ec)) {
    return fail(kCommand, fmt::format("{}: no such file or directory", o.payload));
  }
  TempOutput temp;
  if (auto st = temp.create(output); !st) return fail(kCommand, st.error().message);
  // Never hash our own output into the payload (-o inside the directory).
  m.exclude = {output, temp.path()};

  auto maker = TorrentMaker::plan(m);
  if (!maker) return fail(kCommand, maker.error().message);
  for (const std::string& w : maker->warnings()) std::cerr << "warning: " << printable(w) << "\n";
  const bool chatty = !o.quiet;
  if (chatty) {
    std::cerr << fmt::format("hashing {}: {} file{}, {} in {} pieces of {}\n", maker->name(),
                             maker->files(), maker->files() == 1 ? "" : "s",
                             human_bytes(maker->length()), maker->pieces(),
                             human_bytes(static_cast<std::uint64_t>(maker->piece_size())));
  }
  HashProgress progress(maker->name(), maker->pieces(), maker->piece_size(), maker->length(),
                        chatty);
  auto bytes = maker->hash([&](int done) { progress.update(done); });
  progress.finish();
  if (!bytes) return fail(kCommand, bytes.error().message);
  if (auto st = temp.commit(*bytes, output); !st) return fail(kCommand, st.error().message);

  auto summary = read_torrent(*bytes);
  if (!summary) return fail(kCommand, "the new torrent does not parse: " + summary.error().message);
  const char* format = o.v2 ? "v2" : o.hybrid ? "hybrid v1+v2" : "v1";
  if (o.json) {
    nlohmann::json j = {{"torrent", output.string()}, {"info_hash", summary->info_hash},
                        {"name", summary->name},      {"files", summary->files},
                        {"length", summary->length},  {"piece_size", summary->piece_size},
                        {"pieces", summary->pieces},  {"private", summary->is_private},
                        {"format", format},           {"announce", m.announce_url}};
    if (!m.udp_announce_url.empty()) j["announce_udp"] = m.udp_announce_url;
    if (summary->info_hash_v2) j["info_hash_v2"] = *summary->info_hash_v2;
    std::cout << core::json_text(j, 2) << "\n";
    return 0;
  }
  if (chatty) {
    std::cerr << fmt::format(
        "wrote {}: {}, {} file{}, {}, {} pieces of {}, {}, {}\n", output.string(), summary->name,
        summary->files, summary->files == 1 ? "" : "s", human_bytes(summary->length),
        summary->pieces, human_bytes(static_cast<std::uint64_t>(summary->piece_size)),
        summary->is_private ? "private" : "public (DHT and PEX allowed)", format);
    if (!m.udp_announce_url.empty()) {
      std::cerr << "announce " << m.udp_announce_url << ", then " << m.announce_url << "\n";
    } else {
      std::cerr << "announce " << m.announce_url << "\n";
    }
    if (summary->info_hash_v2) std::cerr << "info_hash_v2 " << *summary->info_hash_v2 << "\n";
    if (!summary->is_private) {
      std::cerr << "warning: a public torrent lets clients find peers through DHT and peer "
                   "exchange, behind the tracker's back: the rack policy no longer holds\n";
    }
  }
  // stdout: the info-hash alone, for HASH=$(p2ptracker make-torrent ...).
  std::cout << summary->info_hash << "\n";
  return 0;
}

}  // namespace

Command add_make_torrent(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "make-torrent", "Create a .torrent for a file or directory, announcing to the tracker.");
  cmd->add_option("PATH", o->payload, "The payload: a file, or a directory (multi-file torrent)")
      ->required();
  add_tracker_option(cmd, o->tracker);
  cmd->add_option("-o,--output", o->output,
                  "Where to write the .torrent (default: NAME.torrent in the current directory)")
      ->type_name("FILE");
  cmd->add_option("--piece-size", o->piece_size,
                  "Piece size, a power of two from 16K to 64M (e.g. 256K, 4M; default: auto, "
                  "from the payload size)")
      ->type_name("SIZE");
  cmd->add_flag("--private,!--no-private", o->is_private,
                "Mark the torrent private (the default). Private torrents keep clients off DHT "
                "and peer exchange, which would hand them peers in other racks behind the "
                "tracker's back and break the rack policy; use --no-private only if you know "
                "why");
  cmd->add_option("--name", o->name,
                  "The torrent's name: the file or top directory name clients save it as "
                  "(default: PATH's name)");
  cmd->add_option("--comment", o->comment, "A comment stored in the torrent");
  auto* hybrid = cmd->add_flag(
      "--hybrid", o->hybrid,
      "Make a hybrid v1+v2 torrent (default v1 only: clients of a hybrid torrent announce both "
      "info-hashes, so the tracker sees two swarms)");
  auto* v2 = cmd->add_flag("--v2", o->v2, "Make a v2-only torrent (BEP 52 clients only)");
  hybrid->excludes(v2);
  cmd->add_flag("--udp", o->udp,
                "Announce over UDP first (BEP 15: one packet each way instead of a TCP "
                "connection): the torrent lists udp://HOST:PORT/announce in the first tier and "
                "the HTTP URL in the second, for clients without UDP tracker support or when UDP "
                "is blocked");
  cmd->add_option("--udp-port", o->udp_port,
                  "The tracker's UDP port, when its udp_port is not its HTTP port (implies --udp)")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");
  cmd->add_flag("-f,--force", o->force, "Replace the output file if it exists");
  cmd->add_flag("--json", o->json, "Print a JSON summary on stdout instead of the info-hash");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress or summary on stderr");
  cmd->footer(
      "Prints the info-hash (40 hex digits) on stdout; progress and the summary go to stderr.\n"
      "Example:\n"
      "  p2ptracker make-torrent app.tar --tracker http://tracker:6969/announce\n"
      "  p2ptracker register app.tar.torrent --tracker http://tracker:6969");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

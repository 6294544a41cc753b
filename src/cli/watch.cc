// p2ptracker watch: follow one transfer until it completes, for people
// (live per-rack bars) and deploy scripts (exit status).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/options.h"
#include "cli/status_view.h"
#include "cli/terminal.h"
#include "core/json_text.h"

namespace p2p::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kCommand = "watch";
constexpr int kExitTimeout = 2;
// The longest one poll may wait for the tracker; shortened near --timeout.
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kMinRequestTimeout = std::chrono::seconds(1);

struct Options {
  std::string transfer;
  std::string tracker;
  std::string token_file;
  double timeout = 0;
  double interval = 2;
  std::uint64_t min_seeders = 0;
  bool json = false;
};

struct Global {
  std::string name, file, info_hash;
  double progress = 0;
  std::uint64_t peers = 0, seeders = 0, leechers = 0, stuck = 0;
  // Hosts that finished, those that have left included (completed events
  // plus origin seeders): what --min-seeders counts.
  std::uint64_t finished = 0;
  bool complete = false;

  bool operator==(const Global&) const = default;

  static Global from(const nlohmann::json& stats) {
    const nlohmann::json& j = object_field(stats, "global");
    Global g;
    // Shown on the terminal as they are read.
    g.name = printable(text_field(j, "name"));
    g.file = printable(text_field(j, "file"));
    g.info_hash = printable(text_field(j, "info_hash"));
    g.progress = number_field(j, "progress");
    g.peers = count_field(j, "peers");
    g.seeders = count_field(j, "seeders");
    g.leechers = count_field(j, "leechers");
    g.stuck = count_field(j, "stuck");
    // An older tracker without "finished": those seeding now.
    g.finished = count_field(j, "finished", g.seeders);
    g.complete = flag_field(j, "complete");
    return g;
  }
};

std::size_t complete_racks(const std::vector<RackRow>& racks) {
  return static_cast<std::size_t>(
      std::count_if(racks.begin(), racks.end(), [](const RackRow& r) { return r.complete; }));
}

// Cuts `line` to `columns` display columns, so no line wraps and the cursor
// arithmetic of the redraw holds.
std::string fit(const std::string& line, int columns) {
  if (columns <= 0 || display_width(line) <= static_cast<std::size_t>(columns)) return line;
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) != 0x80 && ++shown > columns) break;
    out.push_back(line[i]);
  }
  return out;
}

// Draws the state; called once per poll.
class View {
 public:
  virtual ~View() = default;
  virtual void show(const nlohmann::json& stats, std::int64_t elapsed) = 0;
  // Something else was printed on the terminal: draw the next frame below it.
  virtual void interrupted() {}
};

// A terminal: one frame redrawn in place with ANSI escapes.
class LiveView final : public View {
 public:
  LiveView(double timeout, std::uint64_t min_seeders)
      : timeout_(timeout), min_seeders_(min_seeders) {}

  void show(const nlohmann::json& stats, std::int64_t elapsed) override {
    const int columns = terminal_columns(STDOUT_FILENO) - 1;
    const int rows = terminal_rows(STDOUT_FILENO);
    const Global g = Global::from(stats);
    const auto racks = rack_rows(stats);
    std::vector<std::string> lines;

    std::string when = "elapsed " + human_duration(elapsed);
    if (timeout_ > 0) when += " of " + human_duration(static_cast<std::int64_t>(timeout_));
    lines.push_back(fmt::format("{}  {}  {}", g.name.empty() ? g.file : g.name, g.info_hash, when));
    std::string state = g.complete ? "complete" : "in progress";
    if (g.complete && g.finished < min_seeders_) {
      state = fmt::format("waiting for {} of {} hosts", min_seeders_ - g.finished, min_seeders_);
    }
    lines.push_back(
        fmt::format("{} {:>6}  {}", progress_bar(g.progress, 32), percent_text(g.progress), state));
    lines.push_back(fmt::format("{} peers: {} seeding, {} leeching, {} stuck; racks {}/{} complete",
                                g.peers, g.seeders, g.leechers, g.stuck, complete_racks(racks),
                                racks.size()));

    // Keep the frame within the screen: with more racks than rows, show the
    // unfinished ones (those are what someone watching looks for).
    const std::size_t room = rows > 7 ? static_cast<std::size_t>(rows - 5) : 2;
    std::vector<const RackRow*> shown;
    for (const auto& r : racks) shown.push_back(&r);
    std::size_t hidden_complete = 0;
    if (shown.size() > room) {
      std::vector<const RackRow*> unfinished;
      for (const auto* r : shown) {
        if (!r->complete) unfinished.push_back(r);
      }
      hidden_complete = shown.size() - unfinished.size();
      shown = std::move(unfinished);
      if (shown.size() > room) shown.resize(room);
    }
    std::size_t name_width = 4;
    for (const auto* r : shown) name_width = std::max(name_width, display_width(r->rack));
    for (const auto* r : shown) {
      std::string line = fmt::format("  {:<{}}  {} {:>6}  N {}  R {}  S {}", r->rack, name_width,
                                     progress_bar(r->progress, 22), percent_text(r->progress),
                                     r->peers, r->representatives, r->seeders);
      if (r->stuck > 0) line += fmt::format("  stuck {}", r->stuck);
      if (r->complete) line += "  done";
      lines.push_back(std::move(line));
    }
    if (shown.size() < racks.size()) {
      lines.push_back(fmt::format("  ... {} more racks ({} complete)", racks.size() - shown.size(),
                                  hidden_complete));
    }
    if (racks.empty()) lines.push_back("  no peer has announced yet");
    // Rows and datacenters above the racks: who represents each, on one line.
    if (const auto levels = level_rows(stats); !levels.empty()) {
      std::string line = "  above racks:";
      for (const auto& l : levels) line += fmt::format("  {} {} R {};", l.level, l.group, l.representatives);
      line.pop_back();
      lines.push_back(std::move(line));
    }

    std::string frame;
    if (drawn_ > 0)
      frame += fmt::format("\033[{}F", drawn_);  // to the first line of the last frame
    for (const auto& l : lines) {
      frame += "\033[2K";
      frame += fit(l, columns);
      frame += '\n';
    }
    frame += "\033[J";  // the last frame may have been longer
    std::cout << frame << std::flush;
    drawn_ = lines.size();
  }

  void interrupted() override { drawn_ = 0; }

 private:
  double timeout_;
  std::uint64_t min_seeders_;
  std::size_t drawn_ = 0;
};

// A pipe or a file: a line when the transfer's numbers change, and one per
// rack that changed, each stamped with the time since the watch began.
class LogView final : public View {
 public:
  void show(const nlohmann::json& stats, std::int64_t elapsed) override {
    const Global g = Global::from(stats);
    const auto racks = rack_rows(stats);
    std::string out;
    if (!last_ || !(*last_ == g)) {
      out += fmt::format(
          "[+{}] {} peers {} seeders {} leechers {} stuck {} racks {}/{} complete "
          "{}\n",
          human_duration(elapsed), percent_text(g.progress), g.peers, g.seeders, g.leechers,
          g.stuck, complete_racks(racks), racks.size(), g.complete ? "yes" : "no");
      last_ = g;
    }
    for (const auto& r : racks) {
      auto it = std::find_if(last_racks_.begin(), last_racks_.end(),
                             [&](const RackRow& x) { return x.rack == r.rack; });
      if (it != last_racks_.end() && *it == r) continue;
      out += fmt::format("[+{}]   rack {} {} N {} R {} S {} stuck {} complete {}\n",
                         human_duration(elapsed), r.rack, percent_text(r.progress), r.peers,
                         r.representatives, r.seeders, r.stuck, r.complete ? "yes" : "no");
    }
    last_racks_ = racks;
    // Rows and datacenters: a line when who represents one changes.
    const auto levels = level_rows(stats);
    for (const auto& l : levels) {
      if (std::find(last_levels_.begin(), last_levels_.end(), l) != last_levels_.end()) continue;
      out += fmt::format("[+{}]   {} {} R {}\n", human_duration(elapsed), l.level, l.group,
                         l.representatives);
    }
    last_levels_ = levels;
    std::cout << out << std::flush;
  }

 private:
  std::optional<Global> last_;
  std::vector<RackRow> last_racks_;
  std::vector<LevelRow> last_levels_;
};

// --json: the tracker's reply, one compact line each time it changes.
class JsonView final : public View {
 public:
  void show(const nlohmann::json& stats, std::int64_t) override {
    std::string line = core::json_text(stats);
    if (line == last_) return;
    std::cout << line << "\n" << std::flush;
    last_ = std::move(line);
  }

 private:
  std::string last_;
};

std::string unfinished_racks(const std::vector<RackRow>& racks) {
  constexpr std::size_t kListed = 5;
  std::string out;
  std::size_t n = 0;
  for (const auto& r : racks) {
    if (r.complete) continue;
    if (n++ < kListed)
      out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", r.rack, percent_text(r.progress));
  }
  if (n > kListed) out += fmt::format(" and {} more", n - kListed);
  return out;
}

int run(const Options& o) {
  if (o.interval < 0.1) return fail(kCommand, "--interval must be at least 0.1 seconds");
  if (o.timeout < 0) return fail(kCommand, "--timeout must be 0 (no limit) or positive");
  auto api = api_from(o.tracker, o.token_file);
  if (!api) return fail(kCommand, api.error().message);
  auto hash = api->resolve_transfer(o.transfer);
  if (!hash) return fail(kCommand, hash.error().message);

  std::unique_ptr<View> view;
  if (o.json) {
    view = std::make_unique<JsonView>();
  } else if (is_terminal(STDOUT_FILENO)) {
    view = std::make_unique<LiveView>(o.timeout, o.min_seeders);
  } else {
    view = std::make_unique<LogView>();
  }

  const auto start = Clock::now();
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval));
  const bool has_deadline = o.timeout > 0;
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
  std::optional<nlohmann::json> last;
  bool outage_reported = false;
  for (;;) {
    std::chrono::milliseconds request_timeout = kRequestTimeout;
    if (has_deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      request_timeout =
          std::clamp<std::chrono::milliseconds>(left, kMinRequestTimeout, kRequestTimeout);
    }
    TrackerApi poll_api = api->with_timeout(request_timeout);
    auto stats = poll_api.transfer(*hash, /*racks=*/true);
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
    if (stats) {
      if (outage_reported) {
        std::cerr << "tracker reachable again\n";
        view->interrupted();
      }
      outage_reported = false;
      view->show(*stats, elapsed);
      const Global g = Global::from(*stats);
      if (g.complete && g.finished >= o.min_seeders) {
        std::cerr << fmt::format(
            "complete: {} hosts finished, {} of {} peers seeding in {} racks, after {}\n",
            g.finished, g.seeders, g.peers, rack_rows(*stats).size(), human_duration(elapsed));
        return 0;
      }
      last = std::move(*stats);
    } else if (stats.error().code == core::ErrorCode::kUnavailable && last) {
      // The transfer was there: a tracker restart or a network blip should
      // not fail a deploy that is still running. Keep polling until --timeout.
      if (!outage_reported) {
        std::cerr << fmt::format("p2ptracker watch: {}; retrying\n", stats.error().message);
        view->interrupted();
        outage_reported = true;
      }
    } else if (stats.error().code == core::ErrorCode::kNotFound) {
      return fail(kCommand, last ? "the transfer was deactivated or deregistered while "
                                   "watching: " +
                                       stats.error().message
                                 : stats.error().message);
    } else {
      return fail(kCommand, stats.error().message);
    }

    const auto now = Clock::now();
    if (has_deadline && now >= deadline) {
      std::string why = "no reply from the tracker";
      if (last) {
        const Global g = Global::from(*last);
        why = fmt::format("{} done, {} hosts finished, {} of {} peers seeding, {} stuck",
                          percent_text(g.progress), g.finished, g.seeders, g.peers, g.stuck);
        if (g.complete) why += fmt::format(" (fewer than --min-seeders {})", o.min_seeders);
        const std::string racks = unfinished_racks(rack_rows(*last));
        if (!racks.empty()) why += "; unfinished racks: " + racks;
        if (outage_reported) why += "; the tracker has not answered since (see above)";
      }
      std::cerr << fmt::format("p2ptracker watch: timed out after {:g}s: {}\n", o.timeout, why);
      return kExitTimeout;
    }
    auto next = now + interval;
    if (has_deadline && next > deadline) next = deadline;
    std::this_thread::sleep_until(next);
  }
}

}  // namespace

Command add_watch(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = parent.add_subcommand(
      "watch",
      "Follow a transfer rack by rack until it completes (exit 0) or --timeout passes (exit 2).");
  cmd->add_option("HASH", o->transfer,
                  "The transfer: its info-hash, or the registered .torrent's file name")
      ->required();
  add_tracker_option(cmd, o->tracker);
  add_token_file_option(cmd, o->token_file);
  cmd->add_option("--timeout", o->timeout,
                  "Give up after this many seconds, exit status 2 (default 0: wait forever)")
      ->type_name("SECONDS");
  cmd->add_option("--interval", o->interval, "Seconds between polls of the tracker (default 2)")
      ->type_name("SECONDS");
  cmd->add_option("--min-seeders", o->min_seeders,
                  "Also wait until at least N hosts finished (sent completed, or seeded from the "
                  "start), counting those that have left since. A transfer is complete when "
                  "every peer that announced seeds: give the deploy's host count (origin seeders "
                  "included) so that hosts not yet started are waited for")
      ->type_name("N");
  cmd->add_flag("--json", o->json,
                "Print the tracker's transfer JSON (?racks=1), one line each time it changes");
  cmd->footer(
      "On a terminal: live progress bars, one per rack, redrawn in place. Otherwise a line\n"
      "whenever the numbers change. Exit status: 0 complete; 1 an unknown or deactivated\n"
      "transfer or an unreachable tracker; 2 --timeout passed.\n"
      "Example (a deploy script):\n"
      "  p2ptracker watch \"$HASH\" --timeout 1800 --min-seeders 120 || exit 1");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace p2p::cli

// Fuzz target for the admin API's handlers (/torrents/, /transfers/,
// /api/v1/..., /history) behind the Router, over a real
// registry and history in a scratch data_dir: what a client on the admin port
// can make them do, not only how its bytes are parsed (http_fuzz stops there).
// The dashboard's handler serves embedded files only and is left out, so the
// libFuzzer build need not embed them.
//
// An input is a session of requests, each written as HTTP is, without the
// version: "<METHOD> <target>\n", header lines, an empty line, the body; the
// requests are separated by "\n===\n". Each input starts from an empty
// data_dir, so a crash replays from its input alone. After every request each
// registered transfer has three peers (one of them a seeder), so the stats
// have racks and members to show.
//
// Invariants: no handler throws (the Router would answer 500); every status
// is a success or a client error (2xx-4xx); every JSON reply is JSON; a body beyond the
// endpoint's limit never reaches it (the server refuses it first).
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../support/three_levels.h"
#include "admin/history.h"
#include "admin/registry.h"
#include "admin/torrents_api.h"
#include "admin/transfers.h"
#include "admin/transfers_api.h"
#include "core/clock.h"
#include "fuzz_check.h"
#include "net/http_types.h"
#include "storage/null_store.h"
#include "swarm/swarm_table.h"

namespace {

using namespace p2p;

constexpr std::size_t kMaxRequests = 16;
constexpr std::size_t kMaxTorrentBytes = 1 << 20;

// The data_dir every session starts from empty, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    // tmpfs when there is one: every registration syncs its files.
    const std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    remove_left_behind(base);
    path_ = base / (std::string(kPrefix) + std::to_string(::getpid()));
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& empty() {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
    return path_;
  }

 private:
  static constexpr std::string_view kPrefix = "p2p-admin-api-fuzz-";

  // A run that crashed, or was killed at its time limit, never reached the
  // destructor: its directory is removed by the next run, once its process is gone.
  static void remove_left_behind(const std::filesystem::path& base) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(kPrefix)) continue;
      const std::string_view digits = std::string_view(name).substr(kPrefix.size());
      pid_t pid = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
      if (error != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
      if (::kill(pid, 0) == -1 && errno == ESRCH) std::filesystem::remove_all(entry.path(), ec);
    }
  }

  std::filesystem::path path_;
};

// One session's tracker: what server.cc wires behind the admin port.
struct Tracker {
  explicit Tracker(const std::filesystem::path& dir) {
    auto r = admin::Registry::open(dir, clock, 64);
    FUZZ_CHECK(r);
    registry = std::move(*r);
    auto h = admin::History::open(dir, clock, core::Seconds(86400));
    FUZZ_CHECK(h);
    history = std::move(*h);
    transfers = std::make_unique<admin::Transfers>(
        *registry, *history, swarms, store, clock,
        [](core::RackId r) { return std::to_string(r.lo) + "/" + std::to_string(r.prefix); },
        admin::StatsOptions{});
    torrents = std::make_unique<admin::TorrentsApi>(*transfers, kMaxTorrentBytes,
                                                    admin::ApiVersion::kOriginal);
    torrents_v1 =
        std::make_unique<admin::TorrentsApi>(*transfers, kMaxTorrentBytes, admin::ApiVersion::kV1);
    transfers_api = std::make_unique<admin::TransfersApi>(*transfers, admin::ApiVersion::kOriginal);
    transfers_v1 = std::make_unique<admin::TransfersApi>(*transfers, admin::ApiVersion::kV1);
    router.add_exact("/torrents", torrents.get());
    router.add_prefix("/torrents/", torrents.get());
    router.add_exact("/transfers", transfers_api.get());
    router.add_prefix("/transfers/", transfers_api.get());
    router.add_exact("/api/v1/torrents", torrents_v1.get());
    router.add_prefix("/api/v1/torrents/", torrents_v1.get());
    router.add_exact("/api/v1/transfers", transfers_v1.get());
    router.add_prefix("/api/v1/transfers/", transfers_v1.get());
    router.add_exact("/api/v1/history", transfers_v1.get());
    router.add_exact("/history", transfers_v1.get());
  }

  // Three peers in every registered transfer: two downloading, one seeding.
  void add_peers() {
    for (const admin::RegisteredTorrent& t : registry->list()) {
      for (int i = 1; i <= 3; ++i) {
        swarm::PeerAnnounce a;
        a.endpoint = {*core::Address::parse("127.0." + std::to_string(i) + ".1"), 6881};
        a.left = i == 3 ? 0 : t.meta.length / static_cast<std::uint64_t>(i);
        a.numwant = 50;
        peers.clear();
        swarms.announce(t.meta.primary(), a, rng, peers);
      }
    }
  }

  core::ManualClock clock;
  test::ThreeLevels racks;
  swarm::SwarmTable swarms{swarm::SwarmOptions{}, racks, clock};
  storage::NullStore store;
  std::unique_ptr<admin::Registry> registry;
  std::unique_ptr<admin::History> history;
  std::unique_ptr<admin::Transfers> transfers;
  std::unique_ptr<admin::TorrentsApi> torrents, torrents_v1;
  std::unique_ptr<admin::TransfersApi> transfers_api, transfers_v1;
  net::Router router;
  core::Rng rng{1};
  std::vector<core::PeerContact> peers = std::vector<core::PeerContact>(64);
};

net::Method method_of(std::string_view m) {
  if (m == "GET") return net::Method::kGet;
  if (m == "HEAD") return net::Method::kHead;
  if (m == "POST") return net::Method::kPost;
  if (m == "PUT") return net::Method::kPut;
  if (m == "DELETE") return net::Method::kDelete;
  return net::Method::kOther;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

// P2P_FUZZ_TRACE=1 prints each request's status and the start of its reply:
// what a seed input does.
const bool trace = std::getenv("P2P_FUZZ_TRACE") != nullptr;

void run(Tracker& t, std::string_view text) {
  std::string_view line = next_line(text);
  const auto space = line.find(' ');
  if (space == std::string_view::npos) return;
  net::HttpRequest request;
  request.method = method_of(line.substr(0, space));
  request.target = line.substr(space + 1);
  const auto q = request.target.find('?');
  request.path = request.target.substr(0, q);
  request.query = q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1);
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  for (std::string_view h = next_line(text); !h.empty(); h = next_line(text)) {
    const auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.emplace_back(h.substr(0, colon), value);
  }
  request.header = [&headers](std::string_view name) {
    for (const auto& [n, v] : headers) {
      if (iequal(n, name)) return v;
    }
    return std::string_view{};
  };
  request.body = text;
  request.remote = {*core::Address::parse("127.0.0.1"), 40000};
  // The server reads no more than this (413 without the handler).
  if (request.body.size() > t.router.body_limit(request)) return;

  net::WorkerContext context(7);
  net::HttpResponse response;
  t.router.handle(request, response, context);
  if (trace) {
    std::fprintf(
        stderr, "%.*s -> %d %.*s\n", static_cast<int>(line.size()), line.data(), response.status,
        static_cast<int>(std::min<std::size_t>(response.body.size(), 160)), response.body.data());
  }
  FUZZ_CHECK(response.status != 500);  // a handler threw
  FUZZ_CHECK(response.status >= 200 && response.status < 500);
  if (response.content_type == "application/json") {
    FUZZ_CHECK(nlohmann::json::accept(response.body));
  }
  t.add_peers();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchDir scratch = [] {
    spdlog::set_level(spdlog::level::off);  // every registration logs a line
    return ScratchDir();
  }();
  Tracker tracker(scratch.empty());
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (std::size_t n = 0; n < kMaxRequests && !in.empty(); ++n) {
    const auto end = in.find("\n===\n");
    run(tracker, in.substr(0, end));
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 5);
  }
  return 0;
}

// The key model, end to end: RedisStore against a real redis-server must keep
// the original's keys and answer the same reads. Parameterised by store kind
// so a future mirroring store joins the same suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "storage/key_model.h"
#include "storage/store.h"
#include "support/redis_server.h"

namespace p2p::storage {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

constexpr auto kFlushLimit = 10s;  // backstop only; flushes take milliseconds

const Strings kRackNames = {"rack-a", "rack-b", "rack-c"};

core::InfoHash hash(std::uint8_t b) {
  core::InfoHash h;
  for (std::size_t i = 0; i < h.bytes.size(); ++i) h.bytes[i] = static_cast<std::uint8_t>(b + i);
  return h;
}

core::Endpoint endpoint(const std::string& ip, std::uint16_t port) {
  return {*core::Address::parse(ip), port};
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (redis()) {
      auto server = test::RedisServer::start();
      ASSERT_TRUE(server.ok()) << server.error().message;
      server_ = std::move(*server);
    }
    store_ = make("p2p:");
    ASSERT_NE(store_, nullptr);
  }

  bool redis() const { return GetParam() == "redis"; }

  std::unique_ptr<Store> make(const std::string& prefix, std::size_t max_departed_peers = 0,
                              std::chrono::seconds archive_expiry = {}) {
    Options o;
    o.max_departed_peers = max_departed_peers;
    o.archive_expiry = archive_expiry;
    o.kind = GetParam();
    o.redis_host = "127.0.0.1";
    o.redis_port = server_ ? server_->port() : 0;
    o.key_prefix = prefix;
    auto store = make_store(
        o, [](core::RackId r) { return kRackNames.at(r.lo); }, clock_);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  PeerUpdate announce(const core::InfoHash& h, const core::Endpoint& e, std::uint32_t rack,
                      std::uint64_t left, AnnounceEvent event, bool representative = false) {
    PeerUpdate u;
    u.info_hash = h;
    u.peer_id.bytes.fill(0x2D);
    u.endpoint = e;
    u.rack = core::RackId::named(rack);
    u.uploaded = 11;
    u.downloaded = 22;
    u.left = left;
    u.key = 0xABCD;
    u.event = event;
    u.representative = representative;
    u.compact = true;
    u.at = clock_.now();
    return u;
  }

  void flush() {
    core::Status s = store_->flush(kFlushLimit);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  Strings peers(const core::InfoHash& h, char kind) {
    auto r = store_->transfer_peers(h, kind);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : Strings{"<error>"};
  }

  Strings rack_peers(const core::InfoHash& h, const std::string& rack, char kind) {
    auto r = store_->rack_peers(h, rack, kind);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : Strings{"<error>"};
  }

  std::map<std::string, std::string> fields(const core::InfoHash& h, const core::Endpoint& e) {
    auto r = store_->peer_fields(h, e);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::map<std::string, std::string>{};
  }

  std::map<std::string, std::string> transfer(const core::InfoHash& h) {
    auto r = store_->transfer_fields(h);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::map<std::string, std::string>{};
  }

  // Keys in Redis matching a glob (Redis only).
  Strings redis_keys(const std::string& pattern) {
    auto r = server_->command({"KEYS", pattern});
    EXPECT_TRUE(r.ok()) << r.error().message;
    Strings keys = r.ok() ? *r : Strings{};
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  core::ManualClock clock_;
  std::unique_ptr<test::RedisServer> server_;  // outlives the stores using it
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, StartedAnnounceRecordsThePeerEverywhere) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  store_->peer_announced(announce(h, e, 0, 1000, AnnounceEvent::kStarted));
  flush();

  EXPECT_EQ(peers(h, 'N'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(peers(h, 'L'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(peers(h, 'S'), Strings{});
  EXPECT_EQ(peers(h, 'R'), Strings{});
  EXPECT_EQ(rack_peers(h, "rack-a", 'N'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(rack_peers(h, "rack-a", 'S'), Strings{});
  EXPECT_EQ(rack_peers(h, "rack-a", 'R'), Strings{});
  EXPECT_EQ(*store_->racks(), Strings{"rack-a"});
  EXPECT_EQ(*store_->rack_hosts("rack-a"), Strings{"10.0.0.1"});

  const std::string now = core::iso8601(clock_.now());
  const std::map<std::string, std::string> want = {
      {"compact", "True"},
      {"port", "6881"},
      {"peer_id", "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"},  // 20 bytes of '-', hex
      {"key", "0000ABCD"},
      {"last_event", "started"},
      {"event:started", now},
      {"seeder", "False"},
      {"downloaded", "22"},
      {"left", "1000"},
      {"uploaded", "11"},
      {"rack", "rack-a"},
      {"hostname", "10.0.0.1"},
  };
  EXPECT_EQ(fields(h, e), want);
  auto t = transfer(h);
  EXPECT_EQ(t["first_started"], now);
  EXPECT_EQ(t["last_started"], now);
  EXPECT_EQ(t.count("first_completed"), 0u);
}

TEST_P(StoreConformance, RegularAnnounceUpdatesCountersAsEventEmpty) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  store_->peer_announced(announce(h, e, 0, 1000, AnnounceEvent::kStarted));
  clock_.advance(30s);
  auto progress = announce(h, e, 0, 400, AnnounceEvent::kNone);
  progress.downloaded = 600;
  store_->peer_announced(progress);
  flush();

  auto f = fields(h, e);
  EXPECT_EQ(f["left"], "400");
  EXPECT_EQ(f["downloaded"], "600");
  EXPECT_EQ(f["last_event"], "empty");
  EXPECT_EQ(f["event:empty"], core::iso8601(clock_.now()));
  EXPECT_EQ(f["event:started"], core::iso8601(clock_.now() - 30s));
  EXPECT_EQ(peers(h, 'L'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(peers(h, 'N'), Strings{"10.0.0.1:6881"});
}

TEST_P(StoreConformance, CompletedMovesTheLeecherToTheSeeders) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  store_->peer_announced(announce(h, e, 1, 1000, AnnounceEvent::kStarted));
  clock_.advance(60s);
  store_->peer_announced(announce(h, e, 1, 0, AnnounceEvent::kCompleted));
  flush();

  EXPECT_EQ(peers(h, 'S'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(peers(h, 'L'), Strings{});
  EXPECT_EQ(peers(h, 'N'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(rack_peers(h, "rack-b", 'S'), Strings{"10.0.0.1:6881"});
  auto f = fields(h, e);
  EXPECT_EQ(f["seeder"], "True");
  EXPECT_EQ(f["left"], "0");
  EXPECT_EQ(f["last_event"], "completed");
  EXPECT_EQ(f["event:completed"], core::iso8601(clock_.now()));
  auto t = transfer(h);
  EXPECT_EQ(t["first_completed"], core::iso8601(clock_.now()));
  EXPECT_EQ(t["last_completed"], core::iso8601(clock_.now()));
}

TEST_P(StoreConformance, FirstTimestampsAreSetOnceLastOnesMove) {
  const auto h = hash(1);
  const auto t0 = clock_.now();
  store_->peer_announced(announce(h, endpoint("10.0.0.1", 1), 0, 5, AnnounceEvent::kStarted));
  store_->peer_announced(announce(h, endpoint("10.0.0.1", 1), 0, 0, AnnounceEvent::kCompleted));
  clock_.advance(100s);
  store_->peer_announced(announce(h, endpoint("10.0.0.2", 1), 0, 5, AnnounceEvent::kStarted));
  store_->peer_announced(announce(h, endpoint("10.0.0.2", 1), 0, 0, AnnounceEvent::kCompleted));
  flush();
  auto t = transfer(h);
  EXPECT_EQ(t["first_started"], core::iso8601(t0));
  EXPECT_EQ(t["first_completed"], core::iso8601(t0));
  EXPECT_EQ(t["last_started"], core::iso8601(clock_.now()));
  EXPECT_EQ(t["last_completed"], core::iso8601(clock_.now()));
}

TEST_P(StoreConformance, StoppedLeavesEveryCurrentSetButKeepsItsFields) {
  const auto h = hash(1);
  const auto seeder = endpoint("10.0.0.1", 6881);
  const auto leecher = endpoint("10.0.0.2", 6881);
  store_->peer_announced(announce(h, seeder, 0, 0, AnnounceEvent::kStarted, true));
  store_->peer_announced(announce(h, leecher, 0, 10, AnnounceEvent::kStarted));
  flush();
  ASSERT_EQ(peers(h, 'N').size(), 2u);

  clock_.advance(5s);
  store_->peer_announced(announce(h, seeder, 0, 0, AnnounceEvent::kStopped, true));
  store_->peer_announced(announce(h, leecher, 0, 10, AnnounceEvent::kStopped));
  flush();
  for (char kind : {'N', 'R', 'S', 'L'}) EXPECT_EQ(peers(h, kind), Strings{}) << kind;
  for (char kind : {'N', 'R', 'S'}) EXPECT_EQ(rack_peers(h, "rack-a", kind), Strings{}) << kind;
  auto f = fields(h, seeder);
  EXPECT_EQ(f["last_event"], "stopped");
  EXPECT_EQ(f["event:stopped"], core::iso8601(clock_.now()));
  EXPECT_EQ(f["port"], "6881");
  // Racks and their hosts are history: they stay.
  EXPECT_EQ(*store_->rack_hosts("rack-a"), (Strings{"10.0.0.1", "10.0.0.2"}));
}

// A topology reload moved the peer (rack-b to rack-c): its first announce
// since takes it out of every set of the rack it left.
TEST_P(StoreConformance, APeerMovedToAnotherRackLeavesTheOldRacksSets) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  store_->peer_announced(announce(h, e, 1, 0, AnnounceEvent::kStarted, true));
  flush();
  ASSERT_EQ(rack_peers(h, "rack-b", 'R'), Strings{"10.0.0.1:6881"});
  PeerUpdate moved = announce(h, e, 2, 0, AnnounceEvent::kNone, true);
  moved.rack_changed = true;
  store_->peer_announced(moved);
  flush();
  for (char kind : {'N', 'R', 'S'}) {
    EXPECT_EQ(rack_peers(h, "rack-b", kind), Strings{}) << kind;
    EXPECT_EQ(rack_peers(h, "rack-c", kind), Strings{"10.0.0.1:6881"}) << kind;
  }
  EXPECT_EQ(fields(h, e)["rack"], "rack-c");
  EXPECT_EQ(peers(h, 'N'), Strings{"10.0.0.1:6881"});
}

// The swarm dropped the peer after peer_timeout without an announce: it
// leaves the current sets, and its fields keep what its last announce said.
TEST_P(StoreConformance, AnExpiredPeerLeavesTheCurrentSetsAndKeepsItsFields) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  store_->peer_announced(announce(h, e, 1, 0, AnnounceEvent::kStarted, true));
  flush();
  ASSERT_EQ(peers(h, 'N'), Strings{"10.0.0.1:6881"});
  PeerUpdate gone;
  gone.info_hash = h;
  gone.endpoint = e;
  gone.rack = core::RackId::named(1);
  gone.expired = true;
  gone.at = clock_.now();
  store_->peer_announced(gone);
  flush();
  for (char kind : {'N', 'R', 'S', 'L'}) EXPECT_EQ(peers(h, kind), Strings{}) << kind;
  for (char kind : {'N', 'R', 'S'}) EXPECT_EQ(rack_peers(h, "rack-b", kind), Strings{}) << kind;
  auto f = fields(h, e);
  EXPECT_EQ(f["last_event"], "started");
  EXPECT_EQ(f["seeder"], "True");
  EXPECT_EQ(f["rack"], "rack-b");
}

TEST_P(StoreConformance, RepresentativesAreTrackedGloballyAndPerRack) {
  const auto h = hash(1);
  const auto a = endpoint("10.0.0.1", 6881);
  const auto b = endpoint("10.0.1.1", 6881);
  const auto c = endpoint("10.0.0.2", 6881);
  store_->peer_announced(announce(h, a, 0, 10, AnnounceEvent::kStarted, true));
  store_->peer_announced(announce(h, b, 1, 10, AnnounceEvent::kStarted, true));
  store_->peer_announced(announce(h, c, 0, 10, AnnounceEvent::kStarted, false));
  flush();
  EXPECT_EQ(peers(h, 'R'), (Strings{"10.0.0.1:6881", "10.0.1.1:6881"}));
  EXPECT_EQ(rack_peers(h, "rack-a", 'R'), Strings{"10.0.0.1:6881"});
  EXPECT_EQ(rack_peers(h, "rack-b", 'R'), Strings{"10.0.1.1:6881"});
  EXPECT_EQ(rack_peers(h, "rack-a", 'N'), (Strings{"10.0.0.1:6881", "10.0.0.2:6881"}));

  // The swarm re-elected: a lost its seat.
  store_->peer_announced(announce(h, a, 0, 5, AnnounceEvent::kNone, false));
  flush();
  EXPECT_EQ(peers(h, 'R'), Strings{"10.0.1.1:6881"});
  EXPECT_EQ(rack_peers(h, "rack-a", 'R'), Strings{});
}

TEST_P(StoreConformance, RacksAndTheirHostsAccumulate) {
  const auto h1 = hash(1);
  const auto h2 = hash(2);
  store_->peer_announced(announce(h1, endpoint("10.0.0.1", 1000), 0, 1, AnnounceEvent::kStarted));
  // Same host, another port and another transfer: still one host.
  store_->peer_announced(announce(h1, endpoint("10.0.0.1", 1001), 0, 1, AnnounceEvent::kStarted));
  store_->peer_announced(announce(h2, endpoint("10.0.0.1", 1000), 0, 1, AnnounceEvent::kStarted));
  store_->peer_announced(announce(h1, endpoint("10.0.0.9", 1000), 0, 1, AnnounceEvent::kStarted));
  store_->peer_announced(announce(h2, endpoint("10.0.1.1", 1000), 1, 1, AnnounceEvent::kStarted));
  flush();
  EXPECT_EQ(*store_->racks(), (Strings{"rack-a", "rack-b"}));
  EXPECT_EQ(*store_->rack_hosts("rack-a"), (Strings{"10.0.0.1", "10.0.0.9"}));
  EXPECT_EQ(*store_->rack_hosts("rack-b"), Strings{"10.0.1.1"});
  EXPECT_EQ(*store_->rack_hosts("rack-c"), Strings{});
  // Peers are told apart by address and port.
  EXPECT_EQ(peers(h1, 'N'), (Strings{"10.0.0.1:1000", "10.0.0.1:1001", "10.0.0.9:1000"}));
  EXPECT_EQ(peers(h2, 'N'), (Strings{"10.0.0.1:1000", "10.0.1.1:1000"}));
}

// Peers that leave are what strangers can make without end (new ports, new
// addresses), so the history keeps max_departed_peers of them per transfer:
// the earliest to leave go first, with their address from the rack's hosts,
// and a peer that came back is not forgotten while it announces.
TEST_P(StoreConformance, DepartedPeersPastTheBoundAreForgottenEarliestFirst) {
  store_ = make("q:", 3);
  ASSERT_NE(store_, nullptr);
  const auto h = hash(1);
  auto host = [](int i) { return endpoint("10.0.0." + std::to_string(i), 6881); };
  for (int i = 1; i <= 5; ++i) {
    store_->peer_announced(announce(h, host(i), 0, 10, AnnounceEvent::kStarted));
  }
  store_->peer_announced(announce(h, endpoint("10.0.1.1", 6881), 1, 10, AnnounceEvent::kStarted));
  flush();
  // Leaving, one a second: 10.0.1.1 (rack-b's only host) first, then 1..4
  // stop and 5 times out.
  clock_.advance(1s);
  store_->peer_announced(announce(h, endpoint("10.0.1.1", 6881), 1, 10, AnnounceEvent::kStopped));
  for (int i = 1; i <= 4; ++i) {
    clock_.advance(1s);
    store_->peer_announced(announce(h, host(i), 0, 10, AnnounceEvent::kStopped));
  }
  clock_.advance(1s);
  PeerUpdate gone = announce(h, host(5), 0, 10, AnnounceEvent::kNone);
  gone.expired = true;
  store_->peer_announced(gone);
  flush();
  EXPECT_EQ(fields(h, endpoint("10.0.1.1", 6881)), (std::map<std::string, std::string>{}));
  EXPECT_EQ(fields(h, host(1)), (std::map<std::string, std::string>{}));
  EXPECT_EQ(fields(h, host(2)), (std::map<std::string, std::string>{}));
  for (int i = 3; i <= 5; ++i) EXPECT_EQ(fields(h, host(i))["port"], "6881") << i;
  EXPECT_EQ(fields(h, host(4))["last_event"], "stopped");
  EXPECT_EQ(*store_->rack_hosts("rack-a"), (Strings{"10.0.0.3", "10.0.0.4", "10.0.0.5"}));
  EXPECT_EQ(*store_->rack_hosts("rack-b"), Strings{});
  EXPECT_EQ(*store_->racks(), Strings{"rack-a"});

  // 10.0.0.3 comes back; two more leave: 4 is forgotten, not 3, which would
  // be the earliest to have left had it not come back.
  clock_.advance(1s);
  PeerUpdate back = announce(h, host(3), 0, 10, AnnounceEvent::kStarted);
  back.joined = true;  // the swarm had dropped it
  store_->peer_announced(back);
  for (int i = 6; i <= 7; ++i) {
    store_->peer_announced(announce(h, host(i), 0, 10, AnnounceEvent::kStarted));
    clock_.advance(1s);
    store_->peer_announced(announce(h, host(i), 0, 10, AnnounceEvent::kStopped));
  }
  flush();
  EXPECT_EQ(fields(h, host(3))["last_event"], "started");
  EXPECT_EQ(fields(h, host(4)), (std::map<std::string, std::string>{}));
  EXPECT_EQ(fields(h, host(5))["port"], "6881");
  EXPECT_EQ(fields(h, host(6))["last_event"], "stopped");
  EXPECT_EQ(fields(h, host(7))["last_event"], "stopped");
  EXPECT_EQ(peers(h, 'N'), Strings{"10.0.0.3:6881"});
  // 15 fields at most per peer: 4 peers (3 departed, 1 present).
  if (redis()) {
    EXPECT_LE(redis_keys("q:*:peer:*").size(), 4u * std::size(kPeerFields));
  }
}

TEST_P(StoreConformance, Ipv6PeersAreBracketed) {
  const auto h = hash(1);
  const auto e = endpoint("2001:db8::1", 6881);
  store_->peer_announced(announce(h, e, 2, 1, AnnounceEvent::kStarted));
  flush();
  EXPECT_EQ(peers(h, 'N'), Strings{"[2001:db8::1]:6881"});
  EXPECT_EQ(*store_->rack_hosts("rack-c"), Strings{"2001:db8::1"});
  EXPECT_EQ(fields(h, e)["hostname"], "2001:db8::1");
}

TEST_P(StoreConformance, SeenTransfersIncludeUnregisteredOnesActiveOnlyRegistered) {
  store_->transfer_seen(hash(1));
  store_->transfer_seen(hash(1));
  flush();
  EXPECT_EQ(*store_->seen_transfers(), std::vector<core::InfoHash>{hash(1)});
  EXPECT_TRUE(store_->active_transfers()->empty());

  TransferRecord r;
  r.info_hash = hash(2);
  r.name = "release-42.tar";
  r.length = 123456789012;
  r.registered = clock_.now();
  store_->transfer_registered(r);
  flush();
  EXPECT_EQ(*store_->seen_transfers(), (std::vector<core::InfoHash>{hash(1), hash(2)}));
  auto active = store_->active_transfers();
  ASSERT_TRUE(active.ok()) << active.error().message;
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].info_hash, hash(2));
  EXPECT_EQ((*active)[0].name, "release-42.tar");
  EXPECT_EQ((*active)[0].length, 123456789012u);
  EXPECT_EQ((*active)[0].registered, clock_.now());
  // The original's index of uploads: the file name in `torrents`, its hash
  // under the name.
  EXPECT_EQ(redis_keys("p2p:torrents"), Strings{});
  r.info_hash = hash(3);
  r.file = "release-43.torrent";
  store_->transfer_registered(r);
  flush();
  auto files = server_->command({"SMEMBERS", "p2p:torrents"});
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(*files, Strings{"release-43.torrent"});
  auto file_hash = server_->command({"GET", "p2p:release-43.torrent"});
  ASSERT_TRUE(file_hash.ok()) << file_hash.error().message;
  EXPECT_EQ(*file_hash, Strings{hash(3).hex()});
  auto t = transfer(hash(2));
  EXPECT_EQ(t["name"], "release-42.tar");
  EXPECT_EQ(t["length"], "123456789012");
  EXPECT_EQ(t["registered"], core::iso8601(clock_.now()));
}

TEST_P(StoreConformance, ZeroTimesAreStampedWithTheClock) {
  const auto h = hash(1);
  const auto e = endpoint("10.0.0.1", 6881);
  auto u = announce(h, e, 0, 1, AnnounceEvent::kStarted);
  u.at = core::TimePoint{};
  clock_.advance(12345s);
  store_->peer_announced(u);
  TransferRecord r;
  r.info_hash = h;
  r.name = "x";
  store_->transfer_registered(r);
  flush();
  EXPECT_EQ(fields(h, e)["event:started"], core::iso8601(clock_.now()));
  EXPECT_EQ(transfer(h)["registered"], core::iso8601(clock_.now()));
}

TEST_P(StoreConformance, DeregistrationArchivesTheTransfer) {
  const auto h = hash(7);
  const auto other = hash(8);
  TransferRecord r;
  r.info_hash = h;
  r.name = "payload";
  r.length = 10;
  r.registered = clock_.now();
  store_->transfer_registered(r);
  store_->peer_announced(announce(h, endpoint("10.0.0.1", 6881), 0, 10, AnnounceEvent::kStarted));
  store_->peer_announced(
      announce(other, endpoint("10.0.0.1", 6881), 0, 10, AnnounceEvent::kStarted));
  clock_.advance(3600s);
  const core::TimePoint at = clock_.now();
  store_->transfer_deregistered(h, at);
  flush();

  EXPECT_TRUE(store_->active_transfers()->empty());
  EXPECT_EQ(*store_->seen_transfers(), std::vector<core::InfoHash>{h});  // history stays
  EXPECT_EQ(peers(h, 'N'), Strings{});
  EXPECT_TRUE(transfer(h).empty());
  EXPECT_TRUE(fields(h, endpoint("10.0.0.1", 6881)).empty());
  // Another transfer is untouched.
  EXPECT_EQ(peers(other, 'N'), Strings{"10.0.0.1:6881"});

  if (redis()) {
    const std::string archived = "p2p:" + core::iso8601(at) + ":" + h.hex();
    EXPECT_EQ(redis_keys("p2p:" + h.hex() + "*"), Strings{});
    const Strings keys = redis_keys(archived + "*");
    for (const char* suffix :
         {":name", ":length", ":registered", ":deregistered", ":first_started", ":peers:N",
          ":peers:L", ":rack:rack-a:N", ":peer:10.0.0.1:6881:left"}) {
      EXPECT_NE(std::find(keys.begin(), keys.end(), archived + suffix), keys.end()) << suffix;
    }
    auto name = server_->command({"GET", archived + ":name"});
    ASSERT_TRUE(name.ok()) << name.error().message;
    EXPECT_EQ(*name, Strings{"payload"});
    auto when = server_->command({"GET", archived + ":deregistered"});
    ASSERT_TRUE(when.ok());
    EXPECT_EQ(*when, Strings{core::iso8601(at)});
  }

  // Registering again starts from a clean slate.
  clock_.advance(1s);
  r.registered = clock_.now();
  r.name = "payload-v2";
  store_->transfer_registered(r);
  flush();
  auto active = store_->active_transfers();
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].name, "payload-v2");
  EXPECT_EQ(transfer(h).count("deregistered"), 0u);
}

// The archive lives as long as the deploy's /history/ record (history_days);
// without an expiry, for ever, as the original kept it.
TEST_P(StoreConformance, ArchivedKeysExpireAfterTheArchiveExpiry) {
  if (!redis()) GTEST_SKIP() << "expiry is Redis's";
  for (const auto expiry : {std::chrono::seconds(0), std::chrono::seconds(86400 * 7)}) {
    store_ = make("e" + std::to_string(expiry.count()) + ":", 0, expiry);
    ASSERT_NE(store_, nullptr);
    const auto h = hash(7);
    TransferRecord r;
    r.info_hash = h;
    r.name = "payload";
    r.length = 10;
    store_->transfer_registered(r);
    store_->peer_announced(announce(h, endpoint("10.0.0.1", 6881), 0, 10, AnnounceEvent::kStarted));
    store_->transfer_deregistered(h, clock_.now());
    flush();
    const Strings keys = redis_keys("e" + std::to_string(expiry.count()) + ":*:" + h.hex() + "*");
    ASSERT_GE(keys.size(), 10u);
    for (const std::string& key : keys) {
      auto ttl = server_->command({"TTL", key});
      ASSERT_TRUE(ttl.ok()) << ttl.error().message;
      const long seconds = std::stol(ttl->at(0));
      if (expiry.count() == 0) {
        EXPECT_EQ(seconds, -1) << key;
      } else {
        EXPECT_GT(seconds, expiry.count() - 60) << key;
        EXPECT_LE(seconds, expiry.count()) << key;
      }
    }
  }
}

// A torrent may be registered under a file name that starts with another
// transfer's hex digits: that transfer's deregistration leaves its key alone.
TEST_P(StoreConformance, DeregistrationArchivesOnlyTheTransfersOwnKeys) {
  if (!redis()) GTEST_SKIP() << "keys are Redis's";
  const auto h = hash(7);
  TransferRecord r;
  r.info_hash = h;
  r.name = "payload";
  r.length = 10;
  r.file = "app.torrent";
  store_->transfer_registered(r);
  TransferRecord notes = r;
  notes.info_hash = hash(8);
  notes.file = h.hex() + "-notes*[?.torrent";
  store_->transfer_registered(notes);
  flush();
  store_->transfer_deregistered(h, clock_.now());
  flush();
  auto value = server_->command({"GET", "p2p:" + notes.file});
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, Strings{hash(8).hex()});
  EXPECT_EQ(redis_keys("p2p:*:" + h.hex() + "-notes*"), Strings{});
}

TEST_P(StoreConformance, DeregistrationArchivesEveryKeyOfABigTransfer) {
  // Enough keys (about 15 per peer) for several SCAN rounds in Redis.
  const auto h = hash(9);
  constexpr int kPeers = 400;
  for (int i = 0; i < kPeers; ++i) {
    store_->peer_announced(announce(h, endpoint("10.0.1." + std::to_string(i % 250), 1000 + i),
                                    static_cast<std::uint32_t>(i % 3), 0, AnnounceEvent::kStarted));
  }
  flush();
  ASSERT_EQ(peers(h, 'N').size(), static_cast<std::size_t>(kPeers));
  std::size_t before = 0;
  if (redis()) before = redis_keys("p2p:" + h.hex() + "*").size();

  const core::TimePoint at = clock_.now();
  store_->transfer_deregistered(h, at);
  flush();
  EXPECT_EQ(peers(h, 'N'), Strings{});
  for (const std::string& rack : kRackNames) EXPECT_EQ(rack_peers(h, rack, 'N'), Strings{});
  if (redis()) {
    EXPECT_EQ(redis_keys("p2p:" + h.hex() + "*"), Strings{});
    // Every key moved, plus the deregistration time itself.
    EXPECT_EQ(redis_keys("p2p:" + core::iso8601(at) + ":" + h.hex() + "*").size(), before + 1);
  }
}

TEST_P(StoreConformance, FlushWaitsForEverythingQueuedBefore) {
  const auto h = hash(3);
  constexpr int kPeers = 3000;
  for (int i = 0; i < kPeers; ++i) {
    store_->peer_announced(announce(
        h, endpoint("10." + std::to_string(i / 250) + ".0." + std::to_string(i % 250), 6881), 0, 1,
        AnnounceEvent::kStarted));
    store_->transfer_seen(h);
  }
  flush();
  EXPECT_EQ(peers(h, 'N').size(), static_cast<std::size_t>(kPeers));
  const StoreStats s = store_->stats();
  EXPECT_EQ(s.written, 2u * kPeers);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_TRUE(s.connected);
  // Nothing queued: flush returns at once, even with no time to wait.
  EXPECT_TRUE(store_->flush(0ms).ok());
}

TEST_P(StoreConformance, KeyPrefixesIsolateStoresSharingAServer) {
  auto other = make("other:");
  ASSERT_NE(other, nullptr);
  store_->peer_announced(announce(hash(1), endpoint("10.0.0.1", 1), 0, 1, AnnounceEvent::kStarted));
  store_->transfer_seen(hash(1));
  other->peer_announced(announce(hash(2), endpoint("10.0.0.2", 2), 1, 1, AnnounceEvent::kStarted));
  other->transfer_seen(hash(2));
  flush();
  ASSERT_TRUE(other->flush(kFlushLimit).ok());

  EXPECT_EQ(*store_->seen_transfers(), std::vector<core::InfoHash>{hash(1)});
  EXPECT_EQ(*other->seen_transfers(), std::vector<core::InfoHash>{hash(2)});
  EXPECT_EQ(*store_->racks(), Strings{"rack-a"});
  EXPECT_EQ(*other->racks(), Strings{"rack-b"});
  EXPECT_EQ(*other->transfer_peers(hash(1), 'N'), Strings{});

  // Deregistering in one prefix leaves the other's keys alone.
  other->transfer_deregistered(hash(1), clock_.now());
  ASSERT_TRUE(other->flush(kFlushLimit).ok());
  EXPECT_EQ(peers(hash(1), 'N'), Strings{"10.0.0.1:1"});

  if (redis()) {
    for (const std::string& key : redis_keys("*")) {
      EXPECT_TRUE(key.rfind("p2p:", 0) == 0 || key.rfind("other:", 0) == 0) << key;
    }
    EXPECT_FALSE(redis_keys("p2p:racks").empty());
    EXPECT_FALSE(redis_keys("other:racks").empty());
  }
}

TEST_P(StoreConformance, BadSetKindsAreInvalidArguments) {
  auto r = store_->transfer_peers(hash(1), 'X');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
  auto rp = store_->rack_peers(hash(1), "rack-a", 'L');  // no per-rack leecher set
  ASSERT_FALSE(rp.ok());
  EXPECT_EQ(rp.error().code, core::ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, ReadsOfUnknownThingsAreEmpty) {
  EXPECT_TRUE(store_->seen_transfers()->empty());
  EXPECT_TRUE(store_->active_transfers()->empty());
  EXPECT_TRUE(store_->racks()->empty());
  EXPECT_TRUE(store_->rack_hosts("nowhere")->empty());
  EXPECT_TRUE(peers(hash(9), 'N').empty());
  EXPECT_TRUE(fields(hash(9), endpoint("10.0.0.1", 1)).empty());
  EXPECT_TRUE(transfer(hash(9)).empty());
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformance, ::testing::Values("redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace p2p::storage

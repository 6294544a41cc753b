// RedisStore under trouble: Redis absent, killed and restarted, stalled.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "storage/store.h"
#include "support/redis_server.h"

namespace p2p::storage {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Bounds for polling: generous backstops, reached only when something is broken.
constexpr auto kPollLimit = 15s;
constexpr auto kFlushLimit = 10s;

// Polls `done` every few milliseconds until it holds or kPollLimit passes.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + kPollLimit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// A loopback port nothing listens on (bound, then released).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

core::InfoHash hash(std::uint8_t b) {
  core::InfoHash h;
  h.bytes.fill(b);
  return h;
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = test::RedisServer::start();
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  std::unique_ptr<Store> make(std::size_t queue_capacity = 65536) {
    Options o;
    o.kind = "redis";
    o.redis_port = server_->port();
    o.key_prefix = "t:";
    o.queue_capacity = queue_capacity;
    auto store = make_store(o, nullptr, clock_);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  PeerUpdate announce(std::uint16_t port) {
    PeerUpdate u;
    u.info_hash = hash(1);
    u.endpoint = {*core::Address::parse("10.0.0.1"), port};
    u.rack = core::RackId::v4_prefix(0x0A000000, 24);
    u.left = 1;
    u.event = AnnounceEvent::kStarted;
    u.at = clock_.now();
    return u;
  }

  core::ManualClock clock_;
  std::unique_ptr<test::RedisServer> server_;
};

TransferRecord transfer(std::uint8_t b, std::string name) {
  TransferRecord r;
  r.info_hash = hash(b);
  r.name = std::move(name);
  r.length = 1000 + b;
  r.registered = core::TimePoint(core::Seconds(1'700'000'000));
  return r;
}

std::vector<core::InfoHash> hashes_of(const std::vector<TransferRecord>& records) {
  std::vector<core::InfoHash> out;
  for (const TransferRecord& r : records) out.push_back(r.info_hash);
  return out;
}

TEST(RedisStoreStart, StartsDisconnectedWhenNothingListens) {
  core::ManualClock clock;
  Options o;
  o.kind = "redis";
  o.redis_host = "127.0.0.1";
  o.redis_port = closed_port();
  auto store = make_store(o, nullptr, clock);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const StoreStats s = (*store)->stats();
  EXPECT_FALSE(s.connected);
  EXPECT_EQ(s.since, clock.now());
  EXPECT_EQ(s.error, "Connection refused");
  EXPECT_EQ(s.resyncs, 0u);
  // Writes are accepted and fail; reads say where Redis was looked for.
  (*store)->transfer_seen(hash(1));
  EXPECT_FALSE((*store)->flush(kFlushLimit).ok());
  auto racks = (*store)->racks();
  ASSERT_FALSE(racks.ok());
  EXPECT_EQ(racks.error().code, core::ErrorCode::kUnavailable);
  const std::string& m = racks.error().message;
  EXPECT_NE(m.find("cannot reach Redis at 127.0.0.1:" + std::to_string(o.redis_port)),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("is redis-server running?"), std::string::npos) << m;
  EXPECT_NE(m.find("redishost/redisport"), std::string::npos) << m;
}

TEST(RedisStoreStart, RejectsUnknownKindsAndAnEmptyQueue) {
  core::ManualClock clock;
  Options o;
  o.kind = "postgres";
  auto store = make_store(o, nullptr, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("\"memory\" and \"redis\""), std::string::npos);

  o.kind = "memory";
  o.queue_capacity = 0;
  store = make_store(o, nullptr, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, core::ErrorCode::kInvalidArgument);
}

TEST_F(RedisStoreTest, DefaultRackNamesArePrintable) {
  auto store = make();
  ASSERT_NE(store, nullptr);
  store->peer_announced(announce(1));
  ASSERT_TRUE(store->flush(kFlushLimit).ok());
  EXPECT_EQ(*store->racks(), std::vector<std::string>{"10.0.0.0/24"});
}

TEST_F(RedisStoreTest, SurvivesRedisDyingAndReconnectsWhenItReturns) {
  auto store = make();
  ASSERT_NE(store, nullptr);
  store->peer_announced(announce(1));
  ASSERT_TRUE(store->flush(kFlushLimit).ok());
  ASSERT_EQ(store->stats().written, 1u);

  server_->kill();
  // Writes keep being accepted; the writer counts them as errors.
  for (std::uint16_t port = 2; port < 12; ++port) store->peer_announced(announce(port));
  EXPECT_TRUE(eventually([&] {
    const StoreStats s = store->stats();
    return s.errors > 0 && !s.connected;
  }));
  // A flush neither hangs nor pretends the writes landed.
  const auto started = Clock::now();
  core::Status flushed = store->flush(kFlushLimit);
  EXPECT_FALSE(flushed.ok());
  EXPECT_LT(Clock::now() - started, kFlushLimit);
  // Reads fail cleanly.
  auto racks = store->racks();
  ASSERT_FALSE(racks.ok());
  EXPECT_EQ(racks.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(racks.error().message.find("127.0.0.1:" + std::to_string(server_->port())),
            std::string::npos)
      << racks.error().message;

  const StoreStats down = store->stats();
  EXPECT_EQ(down.written + down.errors + down.dropped, 11u);

  ASSERT_TRUE(server_->restart().ok());
  EXPECT_TRUE(eventually([&] { return store->stats().connected; }));
  store->peer_announced(announce(100));
  core::Status s = store->flush(kFlushLimit);
  EXPECT_TRUE(s.ok()) << s.error().message;
  // The restarted Redis is empty (no persistence): only the new write is there.
  auto peers = store->transfer_peers(hash(1), 'N');
  ASSERT_TRUE(peers.ok()) << peers.error().message;
  EXPECT_EQ(*peers, std::vector<std::string>{"10.0.0.1:100"});
  EXPECT_EQ(store->stats().written, down.written + 1);
}

TEST_F(RedisStoreTest, AStalledRedisFillsTheQueueAndDropsAreCounted) {
  constexpr std::size_t kCapacity = 4;
  constexpr int kWrites = 100;
  auto store = make(kCapacity);
  ASSERT_NE(store, nullptr);

  server_->pause();
  for (int i = 0; i < kWrites; ++i) store->peer_announced(announce(static_cast<std::uint16_t>(i)));
  // The writer holds at most one batch (<= capacity) waiting for Redis, and the
  // ring at most `capacity` more; the rest were dropped at once.
  const StoreStats full = store->stats();
  EXPECT_GE(full.dropped, kWrites - 2 * kCapacity);
  core::Status timed_out = store->flush(50ms);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_NE(timed_out.error().message.find("timed out"), std::string::npos)
      << timed_out.error().message;

  server_->resume();
  core::Status s = store->flush(kFlushLimit);
  EXPECT_TRUE(s.ok()) << s.error().message;
  const StoreStats after = store->stats();
  EXPECT_EQ(after.dropped, full.dropped);
  EXPECT_EQ(after.errors, 0u);
  EXPECT_EQ(after.written + after.dropped, static_cast<std::uint64_t>(kWrites));
  EXPECT_EQ(store->transfer_peers(hash(1), 'N')->size(), after.written);
}

TEST_F(RedisStoreTest, DestructionIsQuickWhenRedisIsGone) {
  auto store = make();
  ASSERT_NE(store, nullptr);
  server_->kill();
  for (std::uint16_t port = 0; port < 1000; ++port) store->peer_announced(announce(port));
  const auto started = Clock::now();
  store.reset();
  EXPECT_LT(Clock::now() - started, 5s);
}

TEST_F(RedisStoreTest, RedisStartingLaterGetsTheRegisteredTransfers) {
  const std::uint16_t port = server_->port();
  server_->stop();
  Options o;
  o.kind = "redis";
  o.redis_port = port;
  auto made = make_store(o, nullptr, clock_);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto& store = *made;
  ASSERT_FALSE(store->stats().connected);
  // Registered while Redis is down (the server activates the registry at
  // start-up), one of them deregistered again.
  store->transfer_registered(transfer(1, "one"));
  store->transfer_registered(transfer(2, "two"));
  store->transfer_registered(transfer(3, "three"));
  store->transfer_deregistered(hash(3), {});
  store->peer_announced(announce(1));
  EXPECT_FALSE(store->flush(kFlushLimit).ok());

  clock_.advance(core::Seconds(30));
  ASSERT_TRUE(server_->restart().ok());
  EXPECT_TRUE(eventually([&] { return store->stats().connected; }));
  const StoreStats s = store->stats();
  EXPECT_EQ(s.resyncs, 1u);
  EXPECT_EQ(s.since, clock_.now());
  EXPECT_EQ(s.error, "");
  auto active = store->active_transfers();
  ASSERT_TRUE(active.ok()) << active.error().message;
  EXPECT_EQ(hashes_of(*active), (std::vector<core::InfoHash>{hash(1), hash(2)}));
  EXPECT_EQ(active->front().name, "one");
  EXPECT_EQ(active->front().length, 1001u);
  EXPECT_EQ(active->front().registered, transfer(1, "").registered);
  // Peers are not replayed: their next announce writes them.
  EXPECT_TRUE(store->transfer_peers(hash(1), 'N')->empty());
  store->peer_announced(announce(2));
  ASSERT_TRUE(store->flush(kFlushLimit).ok());
  EXPECT_EQ(*store->transfer_peers(hash(1), 'N'), std::vector<std::string>{"10.0.0.1:2"});
}

TEST_F(RedisStoreTest, ADeregistrationRedisMissedIsAppliedWhenItReturns) {
  auto store = make();
  ASSERT_NE(store, nullptr);
  store->transfer_registered(transfer(1, "stays"));
  store->transfer_registered(transfer(2, "goes"));
  ASSERT_TRUE(store->flush(kFlushLimit).ok());
  ASSERT_EQ(store->active_transfers()->size(), 2u);

  // Stalled, not restarted: Redis keeps its data, so the deregistration that
  // times out must still be applied to it later.
  server_->pause();
  store->transfer_deregistered(hash(2), {});
  EXPECT_TRUE(eventually([&] { return !store->stats().connected; }));
  server_->resume();
  EXPECT_TRUE(eventually([&] { return store->stats().connected; }));
  EXPECT_GE(store->stats().resyncs, 1u);
  auto active = store->active_transfers();
  ASSERT_TRUE(active.ok()) << active.error().message;
  EXPECT_EQ(hashes_of(*active), std::vector<core::InfoHash>{hash(1)});
  // Its keys were archived under the deregistration time, as on the normal path.
  EXPECT_TRUE(store->transfer_fields(hash(2))->empty());
  EXPECT_EQ(store->transfer_fields(hash(1))->at("name"), "stays");
}

TEST_F(RedisStoreTest, ReadsReconnectAfterARestart) {
  auto store = make();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->racks().ok());
  server_->stop();
  ASSERT_TRUE(server_->restart().ok());
  // The read connection is stale; the store retries once on a fresh one.
  auto racks = store->racks();
  EXPECT_TRUE(racks.ok()) << racks.error().message;
}

}  // namespace
}  // namespace p2p::storage

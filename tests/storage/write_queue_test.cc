#include "storage/write_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace p2p::storage {
namespace {

using namespace std::chrono_literals;
using Kind = QueuedRecord::Kind;

core::InfoHash hash(std::uint8_t b) {
  core::InfoHash h;
  h.bytes.fill(b);
  return h;
}

PeerUpdate update(std::uint16_t port) {
  PeerUpdate u;
  u.info_hash = hash(1);
  u.endpoint.port = port;
  return u;
}

TEST(WriteQueue, PopsRecordsInOrderWithRegistrationPayloads) {
  WriteQueue q(16);
  ASSERT_TRUE(q.push_peer(update(1)));
  ASSERT_TRUE(q.push_seen(hash(2)));
  TransferRecord t;
  t.info_hash = hash(3);
  t.name = "payload.tar";
  t.length = 42;
  ASSERT_TRUE(q.push_registered(t));
  ASSERT_TRUE(q.push_deregistered(hash(4), core::TimePoint(core::Seconds(7))));

  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  ASSERT_TRUE(q.pop(records, transfers, 16));
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].kind, Kind::kPeer);
  EXPECT_EQ(records[0].peer.endpoint.port, 1);
  EXPECT_EQ(records[1].kind, Kind::kSeen);
  EXPECT_EQ(records[1].peer.info_hash, hash(2));
  EXPECT_EQ(records[2].kind, Kind::kRegistered);
  EXPECT_EQ(records[3].kind, Kind::kDeregistered);
  EXPECT_EQ(records[3].peer.at, core::TimePoint(core::Seconds(7)));
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0].name, "payload.tar");
  EXPECT_EQ(transfers[0].length, 42u);
}

TEST(WriteQueue, PopTakesAtMostMaxAndWrapsAround) {
  WriteQueue q(4);
  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  std::uint16_t next = 0;
  std::uint16_t expect = 0;
  // Enough rounds to wrap the ring (capacity + reserve slots) several times.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.push_peer(update(next++)));
    ASSERT_TRUE(q.pop(records, transfers, 2));
    ASSERT_EQ(records.size(), 2u);
    for (const auto& r : records) EXPECT_EQ(r.peer.endpoint.port, expect++);
    ASSERT_EQ(q.take(records, transfers, 16), 1u);
    EXPECT_EQ(records[0].peer.endpoint.port, expect++);
  }
  EXPECT_EQ(q.dropped(), 0u);
}

TEST(WriteQueue, DropsAndCountsWhenFull) {
  WriteQueue q(4);
  int accepted = 0;
  for (std::uint16_t i = 0; i < 10; ++i) accepted += q.push_peer(update(i)) ? 1 : 0;
  accepted += q.push_seen(hash(9)) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(q.dropped(), 7u);
}

TEST(WriteQueue, RegistrationsUseTheReserveBeyondCapacity) {
  WriteQueue q(2);
  ASSERT_TRUE(q.push_peer(update(1)));
  ASSERT_TRUE(q.push_peer(update(2)));
  EXPECT_FALSE(q.push_peer(update(3)));
  TransferRecord t;
  t.info_hash = hash(3);
  EXPECT_TRUE(q.push_registered(t));
  EXPECT_TRUE(q.push_deregistered(hash(3), core::TimePoint{}));
  EXPECT_EQ(q.dropped(), 1u);
  // The reserve is bounded too.
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < WriteQueue::kRareReserve + 5; ++i) {
    accepted += q.push_registered(t) ? 1 : 0;
  }
  EXPECT_EQ(accepted, WriteQueue::kRareReserve - 2);
}

TEST(WriteQueue, WaitDoneTimesOutUntilTheConsumerReports) {
  WriteQueue q(8);
  ASSERT_TRUE(q.push_peer(update(1)));
  core::Status s = q.wait_done(10ms);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("timed out"), std::string::npos) << s.error().message;

  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  ASSERT_TRUE(q.pop(records, transfers, 8));
  q.done(records.size(), 0);
  EXPECT_TRUE(q.wait_done(0ms).ok());
}

TEST(WriteQueue, WaitDoneWaitsForAConsumerThread) {
  WriteQueue q(64);
  std::thread consumer([&] {
    std::vector<QueuedRecord> records;
    std::vector<TransferRecord> transfers;
    while (q.pop(records, transfers, 3)) q.done(records.size(), 0);
  });
  for (std::uint16_t i = 0; i < 50; ++i) ASSERT_TRUE(q.push_peer(update(i)));
  EXPECT_TRUE(q.wait_done(10s).ok());
  q.close();
  consumer.join();
}

TEST(WriteQueue, CloseDrainsThenStopsAndRejectsPushes) {
  WriteQueue q(8);
  ASSERT_TRUE(q.push_peer(update(1)));
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.push_peer(update(2)));
  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  EXPECT_TRUE(q.pop(records, transfers, 8));
  EXPECT_EQ(records.size(), 1u);
  EXPECT_FALSE(q.pop(records, transfers, 8));
  EXPECT_TRUE(q.wait_closed_for(0ms));
}

TEST(WriteQueue, CloseWakesASleepingConsumer) {
  WriteQueue q(8);
  std::thread closer([&] { q.close(); });
  // Returns once closed; the 60 s limit is only a backstop.
  EXPECT_TRUE(q.wait_closed_for(60s));
  closer.join();
}

}  // namespace
}  // namespace p2p::storage

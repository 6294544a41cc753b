// store = "memory": the store mirrors nothing (the swarms are the state);
// it accepts every write and keeps nothing.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "storage/store.h"

namespace p2p::storage {
namespace {

TEST(NullStoreTest, KeepsNothing) {
  core::ManualClock clock;
  Options o;
  o.kind = "memory";
  auto store = make_store(o, nullptr, clock);
  ASSERT_TRUE(store) << store.error().message;
  PeerUpdate u;
  u.info_hash = *core::InfoHash::from_hex("0123456789ABCDEF0123456789ABCDEF01234567");
  u.endpoint = {*core::Address::parse("10.0.0.1"), 6881};
  (*store)->peer_announced(u);
  (*store)->transfer_seen(u.info_hash);
  (*store)->transfer_registered({u.info_hash, "x", 1, clock.now(), "x.torrent"});
  EXPECT_TRUE((*store)->flush(std::chrono::milliseconds(10)));
  EXPECT_TRUE((*store)->seen_transfers()->empty());
  EXPECT_TRUE((*store)->active_transfers()->empty());
  EXPECT_TRUE((*store)->transfer_peers(u.info_hash, 'N')->empty());
  EXPECT_EQ((*store)->stats().written, 0u);
}

}  // namespace
}  // namespace p2p::storage

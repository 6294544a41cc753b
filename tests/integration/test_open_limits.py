"""Issue 10, item 5 (open mode): with open = true, 200k random info-hashes
from one address added 124 MB, and with the Redis mirror every unknown hash
stayed in `transfers` and every open-mode peer left a dozen keys, no TTL.
Now max_open_transfers bounds the swarms tracked for unregistered hashes,
open-mode peers are not mirrored, and max_seen_transfers bounds what
unregistered hashes add to Redis."""
import http.client
import os
import time
import unittest

from harness import RedisServer, Tracker, announce_query, peers_of, register_new
from limits_util import GoodClient, metric

GOOD_BOUND = 1.0


def announce_random(port, n, per_source=50):
    """n announces of fresh random info-hashes, per_source of them on each
    keep-alive connection from 127.0.6.1, 127.0.6.2, ... (spread, so a
    per-source rate limit is not what this measures)."""
    for first in range(0, n, per_source):
        source = "127.0.6.%d" % (1 + first // per_source % 250)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                          source_address=(source, 0))
        try:
            for _ in range(min(per_source, n - first)):
                conn.request("GET", "/announce?" + announce_query(os.urandom(20)))
                r = conn.getresponse()
                r.read()
                assert r.status == 200, r.status
        finally:
            conn.close()


class OpenLimitsTest(unittest.TestCase):
    def test_issue10_random_hashes_are_bounded_by_max_open_transfers(self):
        with Tracker(open=True, max_open_transfers=500) as t:
            registered = register_new(t)
            good = GoodClient(t.port, registered, metrics=True)
            good.start()
            announce_random(t.port, 2000)
            good.stop()
            text = t.get("/metrics").body.decode()
            # 500 open ones plus the registered one.
            self.assertEqual(metric(text, "p2ptracker_transfers_active"), 501)
            self.assertEqual(metric(text, "p2ptracker_open_transfers_refused_total"), 1500)
            worst_announce, worst_metrics = good.worst()
            self.assertLess(worst_announce, GOOD_BOUND)
            self.assertLess(worst_metrics, GOOD_BOUND)
            # A refused hash gets the unknown-transfer reply; registered ones still work.
            reply = t.announce(os.urandom(20), source="127.0.6.2").bdecoded()
            self.assertIn(b"warning message", reply)
            t.announce(registered, source="127.0.5.1")
            self.assertIn(("127.0.5.1", 6881),
                          peers_of(t.announce(registered, source="127.0.5.2").bdecoded()))
            print("\n2,000 random hashes, max_open_transfers = 500: %d tracked, %d refused; "
                  "worst good announce %.3f s" % (metric(text, "p2ptracker_transfers_active"),
                                                  metric(text, "p2ptracker_open_transfers_refused_total"),
                                                  worst_announce))

    def test_peers_of_open_transfers_are_bounded_by_max_open_peers(self):
        # max_open_transfers x max_peers_per_transfer multiplied to 10^10 peers.
        with Tracker(open=True, max_open_peers=300) as t:
            registered = register_new(t)
            announce_random(t.port, 300)
            reply = t.announce(os.urandom(20), source="127.0.6.9").bdecoded()
            self.assertIn(b"max_open_peers", reply[b"failure reason"])
            # A registered transfer never counts.
            reply = t.announce(registered, source="127.0.5.1").bdecoded()
            self.assertNotIn(b"failure reason", reply)
            text = t.get("/metrics").body.decode()
            self.assertEqual(metric(text, 'p2ptracker_peers_refused_total{limit="open"}'), 1)
            self.assertEqual(metric(text, "p2ptracker_transfers_active"), 301)

    def test_issue10_redis_keys_do_not_grow_with_random_hashes(self):
        with RedisServer() as redis:
            with Tracker(open=True, store="redis", redisport=redis.port,
                         max_seen_transfers=300) as t:
                registered = register_new(t)
                t.announce(registered, source="127.0.5.1")
                announce_random(t.port, 1000)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    text = t.get("/metrics").body.decode()
                    if metric(text, "p2ptracker_store_seen_skipped_total") == 700:
                        break
                    time.sleep(0.1)
                self.assertEqual(metric(text, "p2ptracker_store_seen_skipped_total"), 700)
                # The 300 seen plus the registered one.
                self.assertEqual(int(redis.command("SCARD", "transfers")), 301)
                keys = int(redis.command("DBSIZE"))
                # The registered transfer and its one peer: a few dozen keys;
                # 1,000 open-mode peers used to add about 17,000.
                self.assertLess(keys, 100, redis.command("KEYS", "*")[:50])
                self.assertTrue(redis.command("SMEMBERS", registered.hex() + ":peers:N"))
                print("\n1,000 random hashes with Redis, max_seen_transfers = 300: %d keys, "
                      "SCARD transfers = %s" % (keys, redis.command("SCARD", "transfers")))


if __name__ == "__main__":
    unittest.main()

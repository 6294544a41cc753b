"""store = "redis" against a real redis-server: the original's key model.

Writes reach Redis asynchronously (write-behind), so every check polls with
wait_until. Key names: docs/storage.md, src/storage/key_model.cc.
"""
import os
import shutil
import signal
import tempfile
import unittest

from harness import (Tracker, RedisServer, http_request, run_tool, free_port, loopback,
                     make_torrent, new_torrent, peers_of, register_new, wait_until,
                     write_atomically)

RACK1 = "127.0.1.0/24"
RACK2 = "127.0.2.0/24"


class RedisModelTest(unittest.TestCase):
    torrents = {}  # HASH -> the .torrent bytes registered

    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer().start()
        try:
            cls.t = Tracker(store="redis", redishost="127.0.0.1", redisport=cls.redis.port).start()
        except Exception:
            cls.redis.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()
        cls.redis.stop()

    def r(self, *args):
        return self.redis.command(*args)

    def members(self, key):
        return set(self.r("SMEMBERS", key) or [])

    def wait_member(self, key, member):
        wait_until(lambda: member in self.members(key), timeout=10,
                   what="%r in SMEMBERS %s (has %r)" % (member, key, self.members(key)))

    def wait_value(self, key, value):
        wait_until(lambda: self.r("GET", key) == value, timeout=10,
                   what="GET %s == %r (is %r)" % (key, value, self.r("GET", key)))

    def register(self, name):
        data, h = make_torrent(name, os.urandom(12345))
        res = self.t.register(name + ".torrent", data)
        self.assertIn(res.status, (200, 201), res.body)
        self.torrents[h.hex()] = data
        return h, h.hex()

    def announce(self, h, rack, host, **params):
        res = self.t.announce(h, source=loopback(rack, host), **params)
        self.assertEqual(res.status, 200)
        reply = res.bdecoded()
        self.assertNotIn(b"failure reason", reply)
        return reply

    def test_keys_of_the_original_model(self):
        h, H = self.register("model")
        self.wait_member("transfers", H)
        self.wait_member("active_transfers", H)
        self.wait_value(H + ":name", "model")
        self.wait_value(H + ":length", "12345")
        self.assertTrue(self.r("GET", H + ":registered"))

        pid = b"-XX0001-peer11peer11"
        self.announce(h, 1, 1, port=6881, left=1000, event="started", key="ABCD1234",
                      peer_id=pid)
        self.announce(h, 1, 2, port=6882, left=0)
        self.announce(h, 2, 1, port=6883, left=500)
        self.announce(h, 1, 3, port=6884, left=1000)  # third of its rack: not a representative

        for rack in (RACK1, RACK2):
            self.wait_member("racks", rack)
        self.wait_member("rack:" + RACK1, "127.0.1.1")
        self.wait_member("rack:" + RACK1, "127.0.1.2")
        self.wait_member("rack:" + RACK2, "127.0.2.1")

        p11, p12, p21, p13 = "127.0.1.1:6881", "127.0.1.2:6882", "127.0.2.1:6883", "127.0.1.3:6884"
        wait_until(lambda: self.members(H + ":peers:N") == {p11, p12, p21, p13},
                   what="all four peers in %s:peers:N" % H)
        self.assertEqual(self.members(H + ":peers:R"), {p11, p12, p21})
        self.assertEqual(self.members(H + ":peers:S"), {p12})
        self.assertEqual(self.members(H + ":peers:L"), {p11, p21, p13})
        self.assertEqual(self.members(H + ":rack:" + RACK1 + ":N"), {p11, p12, p13})
        self.assertEqual(self.members(H + ":rack:" + RACK1 + ":R"), {p11, p12})
        self.assertEqual(self.members(H + ":rack:" + RACK1 + ":S"), {p12})
        self.assertEqual(self.members(H + ":rack:" + RACK2 + ":N"), {p21})

        f = H + ":peer:" + p11 + ":"
        self.assertEqual(self.r("GET", f + "left"), "1000")
        self.assertEqual(self.r("GET", f + "port"), "6881")
        self.assertEqual(self.r("GET", f + "seeder"), "False")
        self.assertEqual(self.r("GET", f + "rack"), RACK1)
        self.assertEqual(self.r("GET", f + "last_event"), "started")
        self.assertEqual(self.r("GET", f + "key"), "ABCD1234")
        self.assertEqual(self.r("GET", f + "compact"), "True")
        self.assertEqual(self.r("GET", f + "uploaded"), "0")
        self.assertEqual(self.r("GET", f + "downloaded"), "0")
        self.assertEqual(self.r("GET", f + "peer_id"), pid.hex())
        self.assertEqual(self.r("GET", f + "hostname"), "127.0.1.1")
        self.assertTrue(self.r("GET", f + "event:started"))
        self.assertEqual(self.r("GET", H + ":peer:" + p12 + ":seeder"), "True")
        self.assertTrue(self.r("GET", H + ":first_started"))
        self.assertTrue(self.r("GET", H + ":last_started"))

        # Progress and completion update the fields and sets.
        self.announce(h, 1, 1, port=6881, left=0, event="completed")
        self.wait_value(f + "left", "0")
        self.wait_value(f + "last_event", "completed")
        self.wait_member(H + ":peers:S", p11)
        self.assertNotIn(p11, self.members(H + ":peers:L"))
        self.assertTrue(self.r("GET", H + ":first_completed"))

        # A stopped peer leaves the current sets.
        self.announce(h, 2, 1, port=6883, left=500, event="stopped")
        wait_until(lambda: p21 not in self.members(H + ":peers:N"),
                   what="stopped peer gone from peers:N")
        self.assertNotIn(p21, self.members(H + ":peers:R"))
        self.assertNotIn(p21, self.members(H + ":rack:" + RACK2 + ":N"))
        # Its fields stay, as history.
        self.wait_value(H + ":peer:" + p21 + ":last_event", "stopped")
        self.wait_value(H + ":peer:" + p21 + ":left", "500")
        # A regular announce is event "empty".
        self.announce(h, 1, 3, port=6884, left=900)
        self.wait_value(H + ":peer:" + p13 + ":last_event", "empty")
        # The write-behind store writes an announce's fields one command each: last_event
        # may land before left (seen under ASan, where the tracker is slower).
        self.wait_value(H + ":peer:" + p13 + ":left", "900")
        self.assertTrue(self.r("GET", H + ":peer:" + p13 + ":event:empty"))

    def test_unregistered_hash_is_seen_not_active(self):
        _, h = new_torrent()
        H = h.hex()
        reply = self.announce(h, 3, 1)
        self.assertIn(b"warning message", reply)
        self.wait_member("transfers", H)
        self.assertNotIn(H, self.members("active_transfers"))

    def test_delete_archives_keys_under_time(self):
        h, H = self.register("archived")
        self.announce(h, 4, 1, port=7001)
        self.wait_member(H + ":peers:N", "127.0.4.1:7001")
        self.wait_value(H + ":name", "archived")
        res = http_request(self.t.port, "DELETE", "/api/v1/torrents/archived.torrent")
        self.assertEqual(res.status, 200, res.body)
        wait_until(lambda: H not in self.members("active_transfers"),
                   what="the transfer out of active_transfers")
        wait_until(lambda: not self.r("KEYS", H + "*"), timeout=10,
                   what="no key left starting with %s (has %r)" % (H, self.r("KEYS", H + "*")))
        archived = self.r("KEYS", "*:" + H + ":*")
        self.assertTrue(archived, "no archived keys for " + H)
        names = [k for k in archived if k.endswith(":" + H + ":name")]
        self.assertEqual(len(names), 1, archived)
        self.assertEqual(self.r("GET", names[0]), "archived")
        stamp = names[0][:-len(":" + H + ":name")]
        # Every archived key carries the same deregistration time.
        for k in archived:
            self.assertTrue(k.startswith(stamp + ":" + H), k)
        self.assertIn(stamp + ":" + H + ":peers:N", archived)
        self.assertIn(stamp + ":" + H + ":deregistered", archived)
        # The transfer is still known as seen.
        self.assertIn(H, self.members("transfers"))
        # And the announce path says it is gone.
        self.assertIn(b"warning message", self.announce(h, 4, 1, port=7001))
        # Registering it again starts a fresh set of keys.
        res = self.t.register("archived.torrent", self.torrents[H])
        self.assertIn(res.status, (200, 201), res.body)
        self.wait_member("active_transfers", H)
        self.wait_value(H + ":name", "archived")
        self.announce(h, 4, 2, port=7002)
        self.wait_member(H + ":peers:N", "127.0.4.2:7002")
        self.assertNotIn("127.0.4.1:7001", self.members(H + ":peers:N"))


class RedisFailureTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-redis-fail-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_starts_without_redis(self):
        # Announces never wait for Redis, so an absent Redis does not stop the
        # tracker (test_original_config.py follows Redis coming up later).
        port = free_port()
        with Tracker(store="redis", redishost="127.0.0.1", redisport=port) as t:
            line = "cannot reach Redis at 127.0.0.1:%d" % port
            self.assertIn(line, t.logged(line))
            h = register_new(t)
            res = t.announce(h, source=loopback(7, 1))
            self.assertEqual(res.status, 200)
            self.assertEqual(res.bdecoded()[b"interval"], 45)

    def test_redis_killed_while_running(self):
        redis = RedisServer().start()
        try:
            with Tracker(store="redis", redisport=redis.port) as t:
                data, h = make_torrent("survivor", os.urandom(5000))
                self.assertIn(t.register("survivor.torrent", data).status, (200, 201))
                t.announce(h, source=loopback(5, 1))
                wait_until(lambda: h.hex() in (redis.command("SMEMBERS", "transfers") or []),
                           what="the transfer in Redis")
                redis.stop()
                for host in range(2, 12):
                    res = t.announce(h, source=loopback(5, host))
                    self.assertEqual(res.status, 200)
                    reply = res.bdecoded()
                    self.assertEqual(reply[b"interval"], 45)
                    self.assertNotIn(b"warning message", reply)
                self.assertEqual(peers_of(t.announce(h, source=loopback(5, 11)).bdecoded()),
                                 {(loopback(5, x), 6881) for x in range(1, 11)})
                wait_until(lambda: "lost connection" in t.output(), timeout=10,
                           what="a log line about the lost Redis connection")
                # Admin API and scrape still answer.
                self.assertEqual(t.get("/api/v1/torrents/").status, 200)
                self.assertEqual(t.get("/scrape").status, 200)
                self.assertIsNone(t.proc.poll())

                # Redis comes back on the same port: later writes reach it again.
                port = redis.port
                redis = RedisServer()
                redis.port = port
                redis.start()
                H = h.hex()

                def written():
                    t.announce(h, source=loopback(6, 1), port=6999)
                    return "127.0.6.1:6999" in (redis.command("SMEMBERS", H + ":peers:N") or [])

                wait_until(written, timeout=20, interval=0.25,
                           what="announces written to the restarted Redis")
                wait_until(lambda: "connection restored" in t.output(), timeout=10,
                           what="a log line about the restored Redis connection")
        finally:
            redis.stop()



class RedisTopologyReloadTest(unittest.TestCase):
    """A topology reload (SIGHUP) that moves a peer to another rack: once it
    announces again it is in the new rack's sets and no longer in the old
    one's."""

    def test_moved_peer_leaves_the_old_racks_sets(self):
        d = tempfile.mkdtemp(prefix="p2ptracker-redis-reload-")
        redis = RedisServer().start()
        try:
            rack_map = os.path.join(d, "racks.map")
            write_atomically(rack_map, "127.0.1.0/24 rack-a\n")
            with Tracker(store="redis", redishost="127.0.0.1", redisport=redis.port,
                         topology="static", topology_file=rack_map) as t:
                h = register_new(t)
                H = h.hex()
                members = lambda key: set(redis.command("SMEMBERS", key) or [])
                peer = "127.0.1.1:6881"
                t.announce(h, source=loopback(1, 1), port=6881)
                wait_until(lambda: peer in members(H + ":rack:rack-a:R"), timeout=10,
                           what="the peer in rack-a's representatives")

                write_atomically(rack_map, "127.0.1.0/24 rack-z\n")
                t.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: "topology reloaded" in t.output(), timeout=10,
                           what="the reload in the log")
                t.announce(h, source=loopback(1, 1), port=6881)
                wait_until(lambda: peer in members(H + ":rack:rack-z:N"), timeout=10,
                           what="the peer in rack-z")
                for kind in ("N", "R"):
                    self.assertEqual(members(H + ":rack:rack-a:" + kind), set(), kind)
                self.assertIn(peer, members(H + ":rack:rack-z:R"))
                self.assertEqual(redis.command("GET", H + ":peer:" + peer + ":rack"), "rack-z")
        finally:
            redis.stop()
            shutil.rmtree(d, ignore_errors=True)


class RedisExpiryTest(unittest.TestCase):
    """A peer that stops announcing is dropped after peer_timeout, from the
    swarm and from the store's current sets; its fields stay."""

    def test_expired_peer_leaves_the_current_sets(self):
        redis = RedisServer().start()
        try:
            with Tracker(store="redis", redishost="127.0.0.1", redisport=redis.port,
                         assumed_announce_gap=0,  # it announces once: see test_announce
                         test_clock=True) as t:
                h = register_new(t)
                H = h.hex()
                members = lambda key: set(redis.command("SMEMBERS", key) or [])
                peer = "127.0.1.1:6881"
                t.announce(h, source=loopback(1, 1), port=6881, event="started")
                wait_until(lambda: peer in members(H + ":peers:N"), timeout=10,
                           what="the peer in peers:N")
                # Past peer_timeout (150 s); the sweep then passes over every
                # swarm within ten seconds.
                t.advance_clock(151)
                wait_until(lambda: peer not in members(H + ":peers:N"), timeout=30,
                           what="the silent peer gone from peers:N")
                self.assertEqual(members(H + ":rack:127.0.1.0/24:N"), set())
                self.assertEqual(members(H + ":peers:R"), set())
                self.assertEqual(redis.command("GET", H + ":peer:" + peer + ":last_event"),
                                 "started")
        finally:
            redis.stop()

class RedisDepartedBoundTest(unittest.TestCase):
    """Peers that leave are what a stranger with a registered info-hash can
    make without end (new ports, new addresses). Redis keeps the fields of
    max_peers_per_transfer of them per transfer, the latest to leave."""

    def test_history_keeps_the_latest_departed_peers(self):
        redis = RedisServer().start()
        try:
            with Tracker(store="redis", redishost="127.0.0.1", redisport=redis.port,
                         max_peers_per_transfer=20, rate_limit_announces=0) as t:
                h = register_new(t)
                H = h.hex()
                hosts = list(range(1, 61))
                for host in hosts:
                    for event in ("started", "stopped"):
                        res = t.announce(h, source=loopback(1, host), port=6881, event=event)
                        self.assertEqual(res.status, 200)
                last = "%s:peer:127.0.1.60:6881:last_event" % H
                wait_until(lambda: redis.command("GET", last) == "stopped", timeout=10,
                           what="the last peer's stop written")
                self.assertEqual(redis.command("ZCARD", H + ":departed"), 20)
                fields = redis.command("KEYS", H + ":peer:*")
                self.assertLessEqual(len(fields), 20 * 15)
                kept = {f.split(":")[2] for f in fields}
                self.assertEqual(kept, {"127.0.1.%d" % i for i in hosts[-20:]})
                self.assertEqual(set(redis.command("SMEMBERS", "rack:" + RACK1)),
                                 {"127.0.1.%d" % i for i in hosts[-20:]})
                # 127.0.1.41, the earliest kept, joins again; five more leave:
                # the set is back at 20 after the first, then 42-45 are
                # forgotten, not 41, which announces.
                t.announce(h, source=loopback(1, 41), port=6881, event="started")
                for host in range(61, 66):
                    for event in ("started", "stopped"):
                        t.announce(h, source=loopback(1, host), port=6881, event=event)
                last = "%s:peer:127.0.1.65:6881:last_event" % H
                wait_until(lambda: redis.command("GET", last) == "stopped", timeout=10,
                           what="the last peer's stop written")
                kept = {f.split(":")[2] for f in redis.command("KEYS", H + ":peer:*")}
                self.assertEqual(kept, {"127.0.1.%d" % i for i in [41] + list(range(46, 66))})
                self.assertEqual(redis.command("GET", H + ":peer:127.0.1.41:6881:last_event"),
                                 "started")
        finally:
            redis.stop()


if __name__ == "__main__":
    unittest.main()

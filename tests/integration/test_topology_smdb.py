"""Issue 13: racks from the original's inventory service (SMDB), asked in the
background, cached, with the rest of the chain answering meanwhile.

A real HTTP service (smdb_server.py) answers as the original's SMDB did, with
slow, failing, malformed and multi-server answers on demand. Addresses are
loopback (127.0.X.Y); the racks the service names do not follow the /24s.
"""
import json
import os
import threading
import time
import unittest

from harness import (SmdbServer, Tracker, free_port, http_request, loopback, register_new,
                     wait_until)


class SmdbCase(unittest.TestCase):
    def setUp(self):
        self.smdb = SmdbServer().start()
        self.trackers = []

    def tearDown(self):
        for t in self.trackers:
            t.cleanup()
        self.smdb.stop()

    def tracker(self, **settings):
        base = {"topology": ["smdb", "subnet"], "smdb_url": self.smdb.url, "max_repr_rack": 1}
        base.update(settings)
        t = Tracker(**base)
        self.trackers.append(t)
        return t.start()

    def announce(self, t, h, ip, **params):
        started = time.monotonic()
        r = t.announce(h, source=ip, **params)
        self.assertEqual(r.status, 200, r.body)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply)
        return reply, time.monotonic() - started

    def racks(self, t, h):
        r = t.get("/transfers/racks/%s.torrent" % h.hex())
        self.assertEqual(r.status, 200, r.body)
        return sorted(json.loads(r.body)["racks"])

    def metric(self, t, name, **labels):
        """The value of one series of /metrics (None if absent)."""
        text = t.get("/metrics").body.decode()
        if not labels:
            for line in text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return None
        want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith(name + "{"):
                inner = line[len(name) + 1:line.index("}")]
                if ",".join(sorted(inner.split(","))) == want:
                    return float(line.rsplit(" ", 1)[1])
        return None


class SmdbTopologyTest(SmdbCase):
    def test_groups_by_cabinet_across_subnets(self):
        # Cabinets cut across /24s: 127.0.60.1 and 127.0.61.1 share cab-A12.
        self.smdb.set("127.0.60.1", cabinet="cab-A12")
        self.smdb.set("127.0.61.1", cabinet="cab-A12")
        self.smdb.set("127.0.60.2", cabinet="cab-B07")
        t = self.tracker()
        h = register_new(t)
        for ip in ("127.0.60.1", "127.0.61.1", "127.0.60.2"):
            self.announce(t, h, ip)
        wait_until(lambda: self.racks(t, h) == ["cab-A12", "cab-B07"],
                   what="racks named by the inventory")
        # 127.0.61.1 is a plain member of cab-A12 (max_repr_rack 1): it sees its
        # cabinet-mate, not the host of its own /24's other cabinet.
        reply, _ = self.announce(t, h, "127.0.61.1")
        peers = {bytes(reply[b"peers"][i:i + 4]) for i in range(0, len(reply[b"peers"]), 6)}
        self.assertEqual(peers, {bytes([127, 0, 60, 1])})
        # The cache: each address was asked once (the start-up check asks 127.0.0.1).
        asked = [ip for ip in self.smdb.asked() if ip != "127.0.0.1"]
        self.assertEqual(sorted(asked), ["127.0.60.1", "127.0.60.2", "127.0.61.1"])
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_lookups_total",
                                     source="smdb", outcome="found"), 3)
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_up", source="smdb"), 1)

    def test_slow_answer_falls_back_then_moves_the_host(self):
        self.smdb.set("127.0.62.1", cabinet="cab-slow", delay=2.0)
        self.smdb.set("127.0.62.2", cabinet="cab-fast")
        t = self.tracker(topology_timeout_ms=5000)
        h = register_new(t)
        # The slow host's first announce is answered at once, placed by the
        # subnet rule while its lookup runs ...
        _, took = self.announce(t, h, "127.0.62.1")
        self.assertLess(took, 1.5)
        self.assertEqual(self.racks(t, h), ["127.0.62.0/24"])
        # ... and other hosts are served meanwhile, from their own answers.
        self.announce(t, h, "127.0.62.2")
        wait_until(lambda: "cab-fast" in self.racks(t, h), what="the fast host's cabinet")
        _, took = self.announce(t, h, "127.0.62.2")
        self.assertLess(took, 1.5)
        # When the slow answer comes the host moves, leaving nothing behind in
        # its /24: no ghost group, counted once.
        wait_until(lambda: self.racks(t, h) == ["cab-fast", "cab-slow"], timeout=10,
                   what="the slow host moved to its cabinet")
        stats = json.loads(t.get("/transfers/%s.torrent" % h.hex()).body)["global"]
        self.assertEqual(stats["leechers"], 2)

    def test_a_host_the_cache_forgot_stays_one_peer(self):
        # The cache drops 127.0.63.1's answer (other addresses took its place);
        # asked again, the inventory is slow, and its announce is placed by the
        # subnet rule meanwhile. It is the same peer, in the cabinet it is in:
        # not a second one in its /24, counted twice and listed twice.
        self.smdb.set("127.0.63.1", cabinet="cab-keep")
        t = self.tracker(topology_cache_size=16)
        h = register_new(t)
        self.announce(t, h, "127.0.63.1", event="started")
        wait_until(lambda: self.racks(t, h) == ["cab-keep"], what="the host in its cabinet")
        other = os.urandom(20)
        for i in range(1, 41):
            t.announce(other, source="127.0.64.%d" % i)
        self.smdb.set("127.0.63.1", cabinet="cab-keep", delay=3.0)
        self.announce(t, h, "127.0.63.1")
        self.assertEqual(self.smdb.asked().count("127.0.63.1"), 2, "the cache did not forget it")
        self.assertEqual(self.racks(t, h), ["cab-keep"])
        stats = json.loads(t.get("/transfers/%s.torrent" % h.hex()).body)["global"]
        self.assertEqual(stats["peers"], 1)
        # Its stop, placed by the subnet rule too, takes it out.
        self.announce(t, h, "127.0.63.1", event="stopped")
        stats = json.loads(t.get("/transfers/%s.torrent" % h.hex()).body)["global"]
        self.assertEqual(stats["peers"], 0)

    def test_first_announce_waits_for_the_answer_while_others_are_served(self):
        self.smdb.set("127.0.68.1", cabinet="cab-known")
        self.smdb.set("127.0.68.2", cabinet="cab-waited", delay=1.0)
        t = self.tracker(topology_wait_ms=5000)
        h = register_new(t)
        self.announce(t, h, "127.0.68.1")
        result = {}

        def slow():
            result["reply"], result["took"] = self.announce(t, h, "127.0.68.2")

        waiting = threading.Thread(target=slow)
        waiting.start()
        time.sleep(0.2)
        # While that announce waits, a known host is answered at once.
        _, took = self.announce(t, h, "127.0.68.1")
        self.assertLess(took, 0.5)
        self.assertTrue(waiting.is_alive())
        waiting.join(10)
        # The waited announce was placed by its answer, never by the subnet rule.
        self.assertGreaterEqual(result["took"], 0.9)
        self.assertEqual(self.racks(t, h), ["cab-known", "cab-waited"])
        self.assertEqual(self.metric(t, "p2ptracker_topology_fallbacks_total"), 0)

    def test_the_wait_is_bounded(self):
        self.smdb.set("127.0.69.1", cabinet="cab-late", delay=2.0)
        t = self.tracker(topology_wait_ms=300, topology_timeout_ms=5000)
        h = register_new(t)
        _, took = self.announce(t, h, "127.0.69.1")
        self.assertGreaterEqual(took, 0.25)
        self.assertLess(took, 1.5)
        self.assertEqual(self.racks(t, h), ["127.0.69.0/24"])
        wait_until(lambda: self.racks(t, h) == ["cab-late"], timeout=10, what="moved later")

    def test_bulk_inventory_places_listed_hosts_without_a_lookup(self):
        self.smdb.set("127.0.59.1", cabinet="cab-bulk-1")
        self.smdb.set("127.0.59.2", cabinet="cab-bulk-2")
        t = self.tracker(smdb_bulk_url=self.smdb.url + "/inventory")
        wait_until(lambda: "inventory of 2 addresses" in t.output(), what="the bulk fetch")
        h = register_new(t)
        for ip in ("127.0.59.1", "127.0.59.2", "127.0.59.3"):
            _, took = self.announce(t, h, ip)
        self.assertEqual(sorted(self.racks(t, h)), ["127.0.59.0/24", "cab-bulk-1", "cab-bulk-2"])
        # Listed hosts were never asked about; the unlisted one was, once.
        asked = self.smdb.asked()
        self.assertNotIn("127.0.59.1", asked)
        self.assertNotIn("127.0.59.2", asked)
        self.assertEqual(asked.count("127.0.59.3"), 1)

    def test_fields_per_level_make_the_rack_path(self):
        self.smdb.set("127.0.58.1", servers={"web1": {"site": {"name": "ams1"},
                                                      "rack": {"name": "r12"}}})
        t = self.tracker(smdb_fields=["/site/name", "/rack/name"])
        h = register_new(t)
        self.announce(t, h, "127.0.58.1")
        wait_until(lambda: self.racks(t, h) == ["ams1/r12"], what="the rack path")

    def test_timeout_is_an_error_and_the_chain_answers(self):
        self.smdb.set("127.0.63.1", cabinet="cab-late", delay=3.0)
        t = self.tracker(topology_timeout_ms=300)
        h = register_new(t)
        self.announce(t, h, "127.0.63.1")
        wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                       source="smdb", outcome="error") == 1,
                   what="the timed-out lookup counted as an error")
        self.assertEqual(self.racks(t, h), ["127.0.63.0/24"])
        health = json.loads(t.get("/health").body)
        self.assertEqual(health["status"], "degraded")
        self.assertEqual(health["components"]["topology"]["smdb"]["state"], "down")
        self.assertIn("within 300 ms", health["components"]["topology"]["smdb"]["error"])

    def test_malformed_answers_fall_through_and_are_logged_once(self):
        self.smdb.set("127.0.64.1", raw="<html>not json</html>")
        self.smdb.set("127.0.64.4", cabinet="cab-ok")
        t = self.tracker()
        h = register_new(t)
        self.announce(t, h, "127.0.64.1")
        wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                       source="smdb", outcome="error") == 1,
                   what="the malformed answer")
        self.assertEqual(self.racks(t, h), ["127.0.64.0/24"])
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_up", source="smdb"), 0)
        # Down is said once, not per lookup; the next good answer says it is back.
        self.announce(t, h, "127.0.64.4")
        wait_until(lambda: "cab-ok" in self.racks(t, h), what="the good answer")
        out = t.logged("topology source smdb answers again")
        self.assertEqual(out.count("topology source smdb is down"), 1, out)
        self.assertEqual(out.count("topology source smdb answers again"), 1, out)
        self.assertIn("malformed answer: not JSON", out)

    def test_a_bad_record_is_not_an_outage(self):
        # The inventory answers, but its record for these hosts is unusable:
        # those hosts go to the next source; the inventory is not down, and
        # the first bad record is warned of (one warning a minute at most).
        self.smdb.set("127.0.65.1", servers={"a": {"cabinet": "bad name with spaces"}})
        self.smdb.set("127.0.65.2", servers={"a": ["not", "an", "object"]})
        self.smdb.set("127.0.65.3", servers={"a": {"cabinet": 7}})
        self.smdb.set("127.0.65.4", cabinet="cab-ok")
        t = self.tracker()
        h = register_new(t)
        for host in (1, 2, 3, 4):
            self.announce(t, h, "127.0.65.%d" % host)
        wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                       source="smdb", outcome="error") == 3,
                   what="three bad records")
        wait_until(lambda: "cab-ok" in self.racks(t, h), what="the good record")
        self.assertEqual(self.racks(t, h), ["127.0.65.0/24", "cab-ok"])
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_up", source="smdb"), 1)
        health = json.loads(t.get("/health").body)
        self.assertEqual(health["status"], "ok", health)
        out = t.output()
        self.assertNotIn("topology source smdb is down", out)
        self.assertEqual(out.count("topology source smdb: unusable record for 127.0.65."), 1, out)

    def test_several_servers_take_the_last_and_count_it(self):
        self.smdb.set("127.0.65.1", servers={"web1": {"cabinet": "cab-first"},
                                             "web2": {"cabinet": "cab-last"}})
        t = self.tracker()
        h = register_new(t)
        self.announce(t, h, "127.0.65.1")
        wait_until(lambda: self.racks(t, h) == ["cab-last"], what="the last server's cabinet")
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_lookups_total",
                                     source="smdb", outcome="ambiguous"), 1)
        line = "several servers have address 127.0.65.1"
        self.assertIn(line, t.logged(line))

    def test_found_racks_are_asked_again_after_their_ttl(self):
        self.smdb.set("127.0.57.1", cabinet="cab-old")
        # An hour, passed by moving the tracker's clock: no step below can outlast it.
        t = self.tracker(topology_cache_ttl=3600, test_clock=True)
        h = register_new(t)
        self.announce(t, h, "127.0.57.1")
        self.assertEqual(self.racks(t, h), ["cab-old"])
        # The inventory moves the host; within the TTL the tracker does not ask.
        self.smdb.set("127.0.57.1", cabinet="cab-new")
        self.announce(t, h, "127.0.57.1")
        self.assertEqual(self.smdb.asked().count("127.0.57.1"), 1)
        t.advance_clock(3601)
        # Past it, the announce is answered from the stale entry at once while
        # the source is asked again; the answer moves the host.
        self.announce(t, h, "127.0.57.1")
        wait_until(lambda: self.racks(t, h) == ["cab-new"], what="the refreshed rack")
        self.assertEqual(self.smdb.asked().count("127.0.57.1"), 2)
        # A move of a host a source had placed is logged where an operator sees
        # it; a first placement after the fallback is not.
        line = ("topology: 127.0.57.1 moved from cab-old to cab-new, as a lookup source now "
                "says: 1 peer(s) moved")
        self.assertIn(line, t.logged(line))
        self.assertNotIn("moved from 127.0.57.0/24", t.output())

    def test_unknown_addresses_are_cached_negatively(self):
        # {} (the service does not know it): the subnet rule, and not asked
        # again at every announce.
        t = self.tracker(topology_negative_ttl=3600)
        h = register_new(t)
        for _ in range(5):
            self.announce(t, h, "127.0.66.1")
        wait_until(lambda: "127.0.66.1" in self.smdb.asked(), what="the lookup")
        time.sleep(0.3)
        self.announce(t, h, "127.0.66.1")
        self.assertEqual(self.smdb.asked().count("127.0.66.1"), 1)
        self.assertEqual(self.racks(t, h), ["127.0.66.0/24"])

    def test_unknown_addresses_are_asked_again_after_the_negative_ttl(self):
        # The inventory learns of the host after it was asked: within
        # topology_negative_ttl the subnet rule stands, past it the host moves.
        t = self.tracker(topology_negative_ttl=3600, test_clock=True)
        h = register_new(t)
        self.announce(t, h, "127.0.67.1")
        wait_until(lambda: "127.0.67.1" in self.smdb.asked(), what="the lookup")
        self.smdb.set("127.0.67.1", cabinet="cab-added")
        t.advance_clock(3500)
        self.announce(t, h, "127.0.67.1")
        self.assertEqual(self.smdb.asked().count("127.0.67.1"), 1)
        self.assertEqual(self.racks(t, h), ["127.0.67.0/24"])
        t.advance_clock(101)
        self.announce(t, h, "127.0.67.1")
        wait_until(lambda: self.racks(t, h) == ["cab-added"], what="the host moved")
        self.assertEqual(self.smdb.asked().count("127.0.67.1"), 2)

    def test_unreachable_at_start_warns_or_refuses_when_strict(self):
        dead = "http://127.0.0.1:%d" % free_port()
        t = Tracker(topology=["smdb", "subnet"], smdb_url=dead)
        self.trackers.append(t)
        t.start()
        line = "topology source smdb: cannot connect 127.0.0.1:"
        self.assertIn(line, t.logged(line))
        self.assertIn("starting anyway", t.logged("starting anyway"))
        h = register_new(t)
        self.announce(t, h, "127.0.67.1")  # served, by the subnet rule
        strict = Tracker(topology=["smdb", "subnet"], smdb_url=dead, topology_strict=True)
        self.trackers.append(strict)
        with self.assertRaises(Exception):
            strict.start(timeout=10)
        line = "topology_strict = true: not starting without it"
        self.assertIn(line, strict.logged(line))


if __name__ == "__main__":
    unittest.main()

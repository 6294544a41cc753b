"""Announce over HTTP against the real binary: the rack policy end to end.

Every peer announces from its own loopback address 127.0.R.H; under the
default /24 rule R is its rack. Each test registers a fresh torrent, so the
tests of one class share a tracker but never a swarm.
"""
import http.client
import socket
import threading
import unittest

from harness import (Tracker, http_request, announce_query, bdecode, compact_peers, loopback,
                     register_new, peers_of, new_torrent, run_tool, wait_until)

PORT = 6881


def ep(rack, host, port=PORT):
    return (loopback(rack, host), port)


class AnnounceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker().start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, info_hash, rack, host, port=PORT, **params):
        r = self.t.announce(info_hash, source=loopback(rack, host), port=port, **params)
        self.assertEqual(r.status, 200, r.body)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply, reply)
        return reply

    # --- the original's scenario --------------------------------------------

    def test_original_two_racks_of_three(self):
        h = register_new(self.t)
        racks = (21, 22)
        # First pass: everyone joins, in order, rack by rack.
        first = {}
        for r in racks:
            for host in (1, 2, 3):
                first[(r, host)] = peers_of(self.announce(h, r, host, event="started"))
        # The very first peer has nobody to meet.
        self.assertEqual(first[(21, 1)], set())
        # The third of rack 21 joins after its two representatives.
        self.assertEqual(first[(21, 3)], {ep(21, 1), ep(21, 2)})

        views = {(r, host): self.announce(h, r, host) for r in racks for host in (1, 2, 3)}
        for r, other in ((21, 22), (22, 21)):
            for host in (1, 2):  # representatives: own rack + other rack's representatives
                expected = {ep(r, x) for x in (1, 2, 3) if x != host} | {ep(other, 1), ep(other, 2)}
                self.assertEqual(peers_of(views[(r, host)]), expected,
                                 "representative %s" % loopback(r, host))
            # The third peer: only its own rack, never a peer outside it.
            self.assertEqual(peers_of(views[(r, 3)]), {ep(r, 1), ep(r, 2)},
                             "non-representative %s" % loopback(r, 3))
        for v in views.values():
            self.assertEqual(v[b"interval"], 45)
            self.assertEqual(v[b"min interval"], 15)
            self.assertEqual(v[b"complete"], 0)
            self.assertEqual(v[b"incomplete"], 6)
            self.assertNotIn(b"warning message", v)

    # --- reply encodings ------------------------------------------------------

    def test_compact_byte_layout(self):
        h = register_new(self.t)
        self.announce(h, 23, 1, port=51413)
        reply = self.announce(h, 23, 2, port=6881)
        blob = reply[b"peers"]
        self.assertIsInstance(blob, bytes)
        # 4 address bytes then the port, both in network order.
        self.assertEqual(blob, bytes([127, 0, 23, 1]) + bytes([0xC8, 0xD5]))
        self.assertNotIn(b"peers6", reply)

    def test_issue11_dicts_unless_compact_1_as_the_original(self):
        h = register_new(self.t)
        pid1 = b"-XX0001-aaaaaaaaaaaa"
        pid2 = b"-XX0001-bbbbbbbbbbbb"
        self.announce(h, 24, 1, peer_id=pid1, port=7001)
        self.announce(h, 24, 2, peer_id=pid2, port=7002)
        # No compact parameter at all: a list of dicts, as the original and
        # BEP 3 (original-behaviour.md: compact only when exactly '1').
        for compact in (None, "yes"):
            r = http_request(self.t.port, "GET", "/announce?" + announce_query(
                h, peer_id=b"-XX0001-cccccccccccc", port=7003, compact=compact),
                source=loopback(24, 3))
            self.assertIsInstance(r.bdecoded()[b"peers"], list)
        r = http_request(self.t.port, "GET", "/announce?" + announce_query(
            h, peer_id=b"-XX0001-cccccccccccc", port=7003, compact=1), source=loopback(24, 3))
        self.assertIsInstance(r.bdecoded()[b"peers"], bytes)

        reply = self.announce(h, 24, 3, peer_id=b"-XX0001-cccccccccccc", port=7003, compact=0)
        peers = reply[b"peers"]
        self.assertIsInstance(peers, list)
        by_ip = {p[b"ip"]: p for p in peers}
        self.assertEqual(set(by_ip), {b"127.0.24.1", b"127.0.24.2"})
        self.assertEqual(by_ip[b"127.0.24.1"][b"peer id"], pid1)
        self.assertEqual(by_ip[b"127.0.24.1"][b"port"], 7001)
        self.assertEqual(by_ip[b"127.0.24.2"][b"peer id"], pid2)
        self.assertEqual(by_ip[b"127.0.24.2"][b"port"], 7002)

        reply = self.announce(h, 24, 3, peer_id=b"-XX0001-cccccccccccc", port=7003, compact=0,
                              no_peer_id=1)
        self.assertEqual(len(reply[b"peers"]), 2)
        for p in reply[b"peers"]:
            self.assertNotIn(b"peer id", p)
            self.assertIn(b"ip", p)
            self.assertIn(b"port", p)

    def test_external_ip_is_source_address(self):
        h = register_new(self.t)
        reply = self.announce(h, 25, 7)
        self.assertEqual(reply[b"external ip"], socket.inet_aton("127.0.25.7"))

    def test_announce_with_trailing_slash(self):
        h = register_new(self.t)
        self.announce(h, 26, 1)
        r = http_request(self.t.port, "GET", "/announce/?" + announce_query(h, port=PORT),
                         source=loopback(26, 2))
        self.assertEqual(r.status, 200)
        reply = r.bdecoded()
        self.assertEqual(reply[b"interval"], 45)
        self.assertEqual(peers_of(reply), {ep(26, 1)})

    # --- who sees whom --------------------------------------------------------

    def test_peer_never_receives_itself(self):
        h = register_new(self.t)
        everyone = [(27, x) for x in (1, 2, 3, 4)] + [(28, x) for x in (1, 2)]
        for _ in range(2):
            for r, host in everyone:
                reply = self.announce(h, r, host)
                self.assertNotIn(ep(r, host), peers_of(reply))
                reply = self.announce(h, r, host, compact=0)
                self.assertNotIn(ep(r, host), peers_of(reply))

    def test_several_ports_on_one_host_are_distinct_peers(self):
        h = register_new(self.t)
        self.announce(h, 29, 1, port=7001)
        reply = self.announce(h, 29, 1, port=7002)
        self.assertEqual(peers_of(reply), {ep(29, 1, 7001)})
        reply = self.announce(h, 29, 1, port=7001)
        self.assertEqual(peers_of(reply), {ep(29, 1, 7002)})
        self.assertEqual(reply[b"incomplete"], 2)

    def test_same_endpoint_with_new_peer_id_is_the_same_peer(self):
        h = register_new(self.t)
        self.announce(h, 30, 1, peer_id=b"-XX0001-000000000001")
        self.announce(h, 30, 1, peer_id=b"-XX0001-000000000002")  # restarted client
        reply = self.announce(h, 30, 2, compact=0)
        self.assertEqual(reply[b"incomplete"], 2)
        self.assertEqual([p[b"peer id"] for p in reply[b"peers"]], [b"-XX0001-000000000002"])

    def test_seeders_never_receive_seeders(self):
        h = register_new(self.t)
        self.announce(h, 31, 1, left=0)  # origin seeders
        self.announce(h, 31, 2, left=0)
        self.announce(h, 31, 3, left=500)
        self.announce(h, 32, 1, left=500)
        self.announce(h, 32, 2, left=0)
        seeders = {ep(31, 1), ep(31, 2), ep(32, 2)}
        for r, host in ((31, 1), (31, 2), (32, 2)):
            reply = self.announce(h, r, host, left=0)
            got = peers_of(reply)
            self.assertFalse(got & seeders, "seeder %s got seeders %s" % (loopback(r, host), got))
            self.assertEqual(reply[b"complete"], 3)
            self.assertEqual(reply[b"incomplete"], 2)
        # The seeders' leechers are there: a seeder's rack-mate, the other rack's reps.
        self.assertEqual(peers_of(self.announce(h, 31, 1, left=0)), {ep(31, 3), ep(32, 1)})
        # A downloading representative gets the origin seeders of other racks.
        self.assertEqual(peers_of(self.announce(h, 32, 1, left=500)),
                         {ep(31, 1), ep(31, 2), ep(32, 2)})

    # --- bounds ---------------------------------------------------------------

    def test_numwant_bounds(self):
        h = register_new(self.t)
        for host in range(1, 9):
            self.announce(h, 33, host)
        # A non-representative asking for 2 gets exactly its rack's representatives.
        self.assertEqual(peers_of(self.announce(h, 33, 8, numwant=2)), {ep(33, 1), ep(33, 2)})
        self.assertEqual(len(peers_of(self.announce(h, 33, 8, numwant=5))), 5)
        self.assertEqual(peers_of(self.announce(h, 33, 8, numwant=0)), set())
        self.assertEqual(len(peers_of(self.announce(h, 33, 8))), 7)  # all, below maxpeers

    def test_unregistered_hash_is_passive(self):
        _, h = new_torrent()
        first = self.announce(h, 34, 1)
        reply = self.announce(h, 34, 2)
        for v in (first, reply):
            self.assertEqual(v[b"interval"], 300)
            self.assertEqual(peers_of(v), set())
            self.assertEqual(v[b"warning message"].decode(),
                             "No active transfer for that info_hash: " + h.hex())
        # Non-compact too: an empty list.
        reply = self.announce(h, 34, 2, compact=0)
        self.assertEqual(reply[b"peers"], [])

    def test_stopped_peer_leaves_and_frees_representative_slot(self):
        h = register_new(self.t)
        for host in (1, 2, 3):
            self.announce(h, 35, host)
        self.announce(h, 36, 1)
        # 35.3 is not a representative: it sees only its rack.
        self.assertEqual(peers_of(self.announce(h, 35, 3)), {ep(35, 1), ep(35, 2)})
        stop = self.announce(h, 35, 1, event="stopped")
        self.assertEqual(peers_of(stop), set())
        # Nobody is told about the stopped peer any more.
        self.assertEqual(peers_of(self.announce(h, 35, 2)), {ep(35, 3), ep(36, 1)})
        # The freed slot goes to the next of the rack to announce: 35.3 now
        # sees the other rack's representative...
        reply = self.announce(h, 35, 3)
        self.assertEqual(peers_of(reply), {ep(35, 2), ep(36, 1)})
        self.assertEqual(reply[b"incomplete"], 3)
        # ...and the other rack sees it as rack 35's representative.
        self.assertEqual(peers_of(self.announce(h, 36, 1)), {ep(35, 2), ep(35, 3)})
        # A peer that comes back after stopping is a newcomer, no longer a representative.
        self.assertEqual(peers_of(self.announce(h, 35, 1)), {ep(35, 2), ep(35, 3)})
        self.assertEqual(peers_of(self.announce(h, 36, 1)), {ep(35, 2), ep(35, 3)})

    def test_representative_that_completes_stays_representative(self):
        h = register_new(self.t)
        for host in (1, 2, 3):
            self.announce(h, 37, host, left=100)
        self.announce(h, 38, 1, left=100)
        done = self.announce(h, 37, 1, left=0, event="completed")
        # Now a seeder: it sees no seeders, and still the other rack.
        self.assertEqual(peers_of(done), {ep(37, 2), ep(37, 3), ep(38, 1)})
        self.assertEqual(done[b"complete"], 1)
        # Its rack-mates and the other rack still get it as a representative.
        self.assertEqual(peers_of(self.announce(h, 37, 3, left=100)), {ep(37, 1), ep(37, 2)})
        self.assertEqual(peers_of(self.announce(h, 38, 1, left=100)), {ep(37, 1), ep(37, 2)})
        # The slot did not move to the third peer.
        self.assertEqual(peers_of(self.announce(h, 37, 3, left=100)), {ep(37, 1), ep(37, 2)})

    def test_origin_seeder_reaches_downloading_representatives(self):
        h = register_new(self.t)
        self.announce(h, 47, 1, left=100)
        self.announce(h, 47, 2, left=100)
        self.announce(h, 47, 3, left=0)  # arrives complete (a build server), not a representative
        self.announce(h, 48, 1, left=100)
        self.announce(h, 48, 2, left=100)
        self.announce(h, 48, 3, left=100)
        # Rack 48's downloading representatives get the origin seeder of rack 47...
        self.assertEqual(peers_of(self.announce(h, 48, 1, left=100)),
                         {ep(48, 2), ep(48, 3), ep(47, 1), ep(47, 2), ep(47, 3)})
        # ...its other peers do not.
        self.assertEqual(peers_of(self.announce(h, 48, 3, left=100)), {ep(48, 1), ep(48, 2)})
        # A peer of rack 48 that finished downloading inside its rack is no
        # source for other racks (it is not a representative: serving other racks
        # would load rack 48's uplink a third time).
        self.announce(h, 48, 3, left=0, event="completed")
        self.assertEqual(peers_of(self.announce(h, 47, 1, left=100)),
                         {ep(47, 2), ep(47, 3), ep(48, 1), ep(48, 2)})
        # A representative that has finished no longer gets seeders.
        self.assertEqual(peers_of(self.announce(h, 48, 1, left=0, event="completed")),
                         {ep(48, 2), ep(47, 1), ep(47, 2)})

    def test_binary_info_hash_is_decoded_byte_by_byte(self):
        raw = b"&=+%?# /\x00\xff\x7fAz09~._-\x80"
        self.assertEqual(len(raw), 20)
        # Unreserved bytes literal, the rest escaped in lower case.
        unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        enc = "".join(chr(b) if b in unreserved else "%%%02x" % b for b in raw)
        q = announce_query(b"x" * 20, port=PORT).replace(
            "info_hash=" + "x" * 20, "info_hash=" + enc)
        r = http_request(self.t.port, "GET", "/announce?" + q, source=loopback(49, 1))
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply, reply)
        self.assertEqual(reply[b"warning message"].decode(),
                         "No active transfer for that info_hash: " + raw.hex())

    def test_numwant_negative_or_junk_means_default(self):
        h = register_new(self.t)
        for host in range(1, 5):
            self.announce(h, 39, host)
        for numwant in ("-1", "lots"):
            self.assertEqual(len(peers_of(self.announce(h, 39, 4, numwant=numwant))), 3,
                             "numwant=%s" % numwant)

    def test_empty_and_paused_events_are_accepted(self):
        h = register_new(self.t)
        self.announce(h, 56, 1, event="started")
        self.announce(h, 56, 2, event="")
        self.announce(h, 56, 3, event="paused")
        self.assertEqual(peers_of(self.announce(h, 56, 4)), {ep(56, 1), ep(56, 2), ep(56, 3)})

    def test_stop_from_unknown_peer_is_harmless(self):
        h = register_new(self.t)
        self.announce(h, 57, 1)
        reply = self.announce(h, 57, 2, event="stopped")
        self.assertEqual(reply[b"incomplete"], 1)
        self.assertEqual(peers_of(self.announce(h, 57, 3)), {ep(57, 1)})


class MaxpeersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(maxpeers=4).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, h, rack, host, **params):
        r = self.t.announce(h, source=loopback(rack, host), port=PORT, **params)
        self.assertEqual(r.status, 200)
        return r.bdecoded()

    def test_maxpeers_caps_replies(self):
        h = register_new(self.t)
        for host in range(1, 11):
            self.announce(h, 40, host)
        for numwant in (None, 4, 50, 1000):
            extra = {} if numwant is None else {"numwant": numwant}
            got = peers_of(self.announce(h, 40, 10, **extra))
            self.assertEqual(len(got), 4, "numwant=%s" % numwant)
            # A non-representative's cut keeps its rack's representatives.
            self.assertTrue({ep(40, 1), ep(40, 2)} <= got, got)
            self.assertTrue(all(ip.startswith("127.0.40.") for ip, _ in got), got)

    def test_cut_reply_of_representative_keeps_other_racks(self):
        h = register_new(self.t)
        for host in range(1, 9):
            self.announce(h, 41, host)
        self.announce(h, 42, 1)
        self.announce(h, 42, 2)
        for _ in range(5):  # the rack-mates are sampled; the outsiders must always be there
            got = peers_of(self.announce(h, 41, 1))
            self.assertEqual(len(got), 4)
            self.assertTrue({ep(42, 1), ep(42, 2)} <= got, got)
            got = peers_of(self.announce(h, 41, 2, numwant=3))
            self.assertEqual(len(got), 3)
            self.assertTrue({ep(42, 1), ep(42, 2)} <= got, got)


class IntervalsAndOpenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(active_interval=30, passive_interval=200, min_interval=10,
                        open=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, h, rack, host, **params):
        r = self.t.announce(h, source=loopback(rack, host), port=PORT, **params)
        self.assertEqual(r.status, 200)
        return r.bdecoded()

    def test_configured_intervals(self):
        h = register_new(self.t)
        reply = self.announce(h, 43, 1)
        self.assertEqual(reply[b"interval"], 30)
        self.assertEqual(reply[b"min interval"], 10)
        self.assertNotIn(b"warning message", reply)

    def test_open_tracks_unregistered_hashes(self):
        _, h = new_torrent()
        self.announce(h, 44, 1)
        reply = self.announce(h, 44, 2)
        self.assertEqual(peers_of(reply), {ep(44, 1)})
        self.assertEqual(reply[b"interval"], 30)
        self.assertNotIn(b"warning message", reply)
        # The rack policy applies to open swarms as well.
        self.announce(h, 44, 3)
        self.announce(h, 45, 1)
        self.assertEqual(peers_of(self.announce(h, 44, 3)), {ep(44, 1), ep(44, 2)})


class PassiveIntervalTest(unittest.TestCase):
    def test_passive_interval_setting(self):
        with Tracker(passive_interval=120, active_interval=20) as t:
            _, h = new_torrent()
            r = t.announce(h, source=loopback(46, 1))
            reply = r.bdecoded()
            self.assertEqual(reply[b"interval"], 120)
            self.assertEqual(reply[b"warning message"].decode(),
                             "No active transfer for that info_hash: " + h.hex())
            self.assertEqual(peers_of(reply), set())


class ExpiryTest(unittest.TestCase):
    """Silent peers stop being handed out past peer_timeout, then leave the
    swarm and free their representative slots; the tracker's clock is moved
    (P2PTRACKER_TEST_CLOCK) rather than waited for. (assumed_announce_gap=0:
    these peers announce once, and by default a peer seen once is kept as long
    as a 300 s libtorrent client's first gap; AssumedGapTest covers that rule.)"""

    PEER_TIMEOUT = 150

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(peer_timeout=cls.PEER_TIMEOUT, active_interval=1, min_interval=1,
                        assumed_announce_gap=0, test_clock=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, h, rack, host, **params):
        r = self.t.announce(h, source=loopback(rack, host), port=PORT, **params)
        self.assertEqual(r.status, 200)
        return r.bdecoded()

    def test_silent_representatives_expire_and_free_their_slots(self):
        h = register_new(self.t)
        for rack, host in ((58, 1), (58, 2), (58, 3), (59, 1)):
            self.announce(h, rack, host)
        self.assertEqual(peers_of(self.announce(h, 58, 3)), {ep(58, 1), ep(58, 2)})
        # 58.1 and 58.2 fall silent; 58.3 and 59.1 keep announcing. Within
        # peer_timeout the silent ones are still its representatives.
        self.t.advance_clock(self.PEER_TIMEOUT - 50)
        self.announce(h, 59, 1)
        self.assertEqual(peers_of(self.announce(h, 58, 3)), {ep(58, 1), ep(58, 2)})
        # Past it for them, not for the two that announced.
        self.t.advance_clock(60)
        views = []

        def promoted():
            self.announce(h, 59, 1)
            view = peers_of(self.announce(h, 58, 3))
            views.append(view)
            return view == {ep(59, 1)}

        wait_until(promoted, timeout=30, interval=0.25,
                   what="58.3 promoted after the representatives expired")
        # Once a silent peer was gone from a view it never came back.
        for silent in (ep(58, 1), ep(58, 2)):
            gone = next(i for i, v in enumerate(views) if silent not in v)
            self.assertTrue(all(silent not in v for v in views[gone:]), (silent, views))
        reply = self.announce(h, 59, 1)
        self.assertEqual(peers_of(reply), {ep(58, 3)})
        self.assertEqual(reply[b"incomplete"], 2)
        self.assertEqual(reply[b"interval"], 1)


class AssumedGapTest(unittest.TestCase):
    """The 300 s floor of libtorrent's clients (qBittorrent, Deluge): a peer
    seen once is kept for assumed_announce_gap plus half a peer_timeout (300 +
    75 s by default), not peer_timeout alone, so its representative slot is not
    handed to a third host before it comes back; once that has passed it is
    gone. Minutes of the tracker's time, moved rather than waited for."""

    def test_a_peer_seen_once_is_kept_through_a_300_s_gap(self):
        with Tracker(active_interval=30, min_interval=30, test_clock=True) as t:
            h = register_new(t)

            def view(host):
                r = t.announce(h, source=loopback(60, host), port=PORT)
                self.assertEqual(r.status, 200)
                return peers_of(r.bdecoded())

            view(1)
            view(2)
            # Past peer_timeout (150 s), within 300 + 75: still there.
            t.advance_clock(200)
            self.assertEqual(view(2), {ep(60, 1)})
            self.assertEqual(view(3), {ep(60, 1), ep(60, 2)})
            # 380 s after its only announce: gone, and its slot is 60.3's.
            t.advance_clock(180)
            self.assertEqual(view(2), {ep(60, 3)})
            self.assertEqual(view(4), {ep(60, 2), ep(60, 3)})


class SlowAnnouncersTest(unittest.TestCase):
    """A downloading host that announces every 300 s (libtorrent's min_announce_interval)
    though asked more often: the stats API counts it under every policy, and under a policy
    that feeds each host from one place ("tree" asks every 10 s) the tracker warns, since a
    failed host would hold the hosts below it until their announces (docs/clients.md)."""

    WARNING = "downloading host(s) announce as far apart as"

    def slow_host(self, policy):
        t = Tracker(policy=policy, test_clock=True).start()
        self.addCleanup(t.cleanup)
        h = register_new(t)
        for left in (40000, 30000):  # 300 s apart, the second a regular announce
            r = t.announce(h, source=loopback(61, 1), port=PORT, left=left,
                           **({"event": "started"} if left == 40000 else {}))
            self.assertEqual(r.status, 200)
            if left == 40000:
                t.advance_clock(300)
        r = t.get("/api/v1/transfers/%s.json" % h.hex())
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["global"]["slow_announcers"], 1)
        return t, h

    def test_the_tree_policy_warns_of_them(self):
        t, h = self.slow_host("tree")
        # The sweep visits every transfer within 10 s of the tracker's own time.
        line = next((l for l in t.logged(self.WARNING, timeout=15).splitlines()
                     if self.WARNING in l), None)
        self.assertIsNotNone(line, t.output())
        self.assertIn("transfer %s: 1 downloading host(s)" % h.hex(), line)
        self.assertIn('policy "tree" asks every 10 s', line)
        self.assertIn("min_announce_interval", line)
        # `status HASH` says so too.
        r = run_tool(["status", h.hex(), "--tracker", "http://127.0.0.1:%d" % t.port])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("slow       1 downloading host announcing over twice the asked interval "
                      "apart", r.stdout)

    def test_the_original_policy_only_counts_them(self):
        t, _ = self.slow_host("original")
        # A full sweep (10 ticks of 1 s) has passed by then, so a warning would be in the log.
        self.assertNotIn(self.WARNING, t.logged(self.WARNING, timeout=12))


class ConcurrencyTest(unittest.TestCase):
    """Many announces at once, spread over the workers: the policy's invariants
    hold whatever the interleaving."""

    def test_concurrent_announces_keep_two_representatives_per_rack(self):
        with Tracker(workers=2) as t:
            h = register_new(t)
            racks, hosts = (100, 101, 102, 103), range(1, 9)
            errors = []

            def run(rack, host):
                try:
                    for event in ("started", None, None):
                        r = t.announce(h, source=loopback(rack, host), port=PORT,
                                       event=event)
                        if r.status != 200 or b"failure reason" in r.bdecoded():
                            errors.append((rack, host, r.status, r.body))
                except Exception as e:  # reported below, not lost in a thread
                    errors.append((rack, host, repr(e)))

            threads = [threading.Thread(target=run, args=(r, x)) for r in racks for x in hosts]
            for th in threads:
                th.start()
            for th in threads:
                th.join(60)
            self.assertEqual(errors, [])
            # An outsider's representative sees exactly max_repr_rack (2) of each rack.
            reply = t.announce(h, source=loopback(104, 1), port=PORT).bdecoded()
            got = peers_of(reply)
            self.assertEqual(reply[b"incomplete"], 33)
            for r in racks:
                mine = {p for p in got if p[0].startswith("127.0.%d." % r)}
                self.assertEqual(len(mine), 2, "rack %d: %s" % (r, sorted(mine)))
            # Inside each rack, the non-representatives see only rack-mates and
            # agree on who the two representatives are.
            for r in racks:
                reps = {p for p in got if p[0].startswith("127.0.%d." % r)}
                for x in hosts:
                    if ep(r, x) in reps:
                        continue
                    view = peers_of(t.announce(h, source=loopback(r, x), port=PORT).bdecoded())
                    self.assertTrue(reps <= view, (r, x, view, reps))
                    self.assertTrue(all(ip.startswith("127.0.%d." % r) for ip, _ in view), view)


class DualStackTest(unittest.TestCase):
    """host = "::": IPv6 peers get peers6; IPv4 clients still count as IPv4."""

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(host="::").start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce6(self, h, port, **params):
        conn = http.client.HTTPConnection("::1", self.t.port, timeout=10,
                                          source_address=("::1", 0))
        try:
            conn.request("GET", "/announce?" + announce_query(h, port=port, **params))
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            return bdecode(r.read())
        finally:
            conn.close()

    def test_ipv4_client_on_dual_stack_listener(self):
        h = register_new(self.t)
        reply = self.t.announce(h, source=loopback(90, 1), port=PORT).bdecoded()
        # Seen as 127.0.90.1, not ::ffff:127.0.90.1.
        self.assertEqual(reply[b"external ip"], socket.inet_aton("127.0.90.1"))
        for host in (2, 3):
            self.t.announce(h, source=loopback(90, host), port=PORT)
        self.t.announce(h, source=loopback(91, 1), port=PORT)
        # The /24 rule still applies: 90.3 is its rack's third peer.
        reply = self.t.announce(h, source=loopback(90, 3), port=PORT).bdecoded()
        self.assertEqual(peers_of(reply), {ep(90, 1), ep(90, 2)})

    def test_ipv6_peers(self):
        h = register_new(self.t)
        self.t.announce(h, source=loopback(92, 1), port=PORT)
        self.announce6(h, 7001)
        reply = self.announce6(h, 7002)
        self.assertEqual(reply[b"external ip"], socket.inet_pton(socket.AF_INET6, "::1"))
        # A rack-mate over IPv6 in peers6, the IPv4 rack's representative in peers.
        self.assertEqual(reply[b"peers6"],
                         socket.inet_pton(socket.AF_INET6, "::1") + (7001).to_bytes(2, "big"))
        self.assertEqual(compact_peers(reply[b"peers"]), {ep(92, 1)})
        reply = self.announce6(h, 7002, compact=0)
        self.assertEqual({(p[b"ip"], p[b"port"]) for p in reply[b"peers"]},
                         {(b"::1", 7001), (b"127.0.92.1", PORT)})
        # IPv4 peers learn of the IPv6 representatives in peers6.
        reply = self.t.announce(h, source=loopback(92, 1), port=PORT).bdecoded()
        self.assertEqual(len(reply[b"peers6"]), 36)


if __name__ == "__main__":
    unittest.main()

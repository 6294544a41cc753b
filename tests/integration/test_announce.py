"""Announce over HTTP against the real binary: the rack policy end to end.

Every peer announces from its own loopback address 127.0.R.H; under the
default /24 rule R is its rack. Each test registers a fresh torrent, so the
tests of one class share a tracker but never a swarm.
"""
import socket
import unittest

from harness import (Tracker, http_request, announce_query, loopback, register_new,
                     peers_of, new_torrent)

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

    def test_compact_is_default_and_compact_0_gives_dicts_with_peer_id(self):
        h = register_new(self.t)
        pid1 = b"-XX0001-aaaaaaaaaaaa"
        pid2 = b"-XX0001-bbbbbbbbbbbb"
        self.announce(h, 24, 1, peer_id=pid1, port=7001)
        self.announce(h, 24, 2, peer_id=pid2, port=7002)
        # No compact parameter at all: compact form.
        r = http_request(self.t.port, "GET", "/announce?" + announce_query(
            h, peer_id=b"-XX0001-cccccccccccc", port=7003, compact=None), source=loopback(24, 3))
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
                             "No active transfer for that info_hash: " + h.hex().upper())
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
                             "No active transfer for that info_hash: " + h.hex().upper())
            self.assertEqual(peers_of(reply), set())


if __name__ == "__main__":
    unittest.main()

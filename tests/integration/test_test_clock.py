"""The test clock (P2PTRACKER_TEST_CLOCK=1, docs/api.md): off unless asked for,
behind the admin API's access rules, and what it moves is the tracker's time,
which the tracker's own answers then show (a peer past peer_timeout is gone)."""
import datetime
import os
import shutil
import socket
import struct
import tempfile
import unittest

from harness import Tracker, http_request, loopback, register_new, wait_until

TOKEN = "dGVzdC1jbG9jay10b2tlbi1mb3ItdGhlLWFkbWluLWFwaS0xMjM0NQ=="
PATH = "/api/v1/test/clock"


def parse(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")


class TestClockTest(unittest.TestCase):

    def test_off_unless_the_environment_asks(self):
        for value in (None, "0", "yes"):
            env = {} if value is None else {"P2PTRACKER_TEST_CLOCK": value}
            with Tracker(env=env) as t:
                self.assertEqual(http_request(t.port, "GET", PATH).status, 404, value)
                r = http_request(t.port, "POST", PATH + "?advance=60")
                self.assertEqual(r.status, 404, value)
                self.assertNotIn("P2PTRACKER_TEST_CLOCK", t.output())

    def test_moves_the_trackers_time(self):
        with Tracker(test_clock=True, peer_timeout=600) as t:
            self.assertIn("for tests only, never in production", t.output())
            h = register_new(t)
            self.assertEqual(t.announce(h, source="127.0.3.1", left=100, event="started").status,
                             200)
            before = t.get(PATH).json()
            self.assertEqual(before["advanced_seconds"], 0)
            # Within peer_timeout the peer is still listed; past it, the sweep drops it.
            after = t.advance_clock(599)
            self.assertGreaterEqual(parse(after) - parse(before["now"]),
                                    datetime.timedelta(seconds=599))
            self.assertEqual(self.peers(t, h), 1)
            # Far past it, whatever extra life a peer that announced once gets.
            t.advance_clock(3600)
            # The sweep passes over every swarm within ten seconds (more under ASan).
            wait_until(lambda: self.peers(t, h) == 0, timeout=30,
                       what="the peer expired by the sweep")

    def peers(self, t, h):
        r = t.get("/api/v1/transfers/%s.json" % h.hex())
        self.assertEqual(r.status, 200, r.body)
        return r.json()["global"]["peers"]

    def test_bad_requests_are_refused_with_a_json_error(self):
        with Tracker(test_clock=True) as t:
            now = t.get(PATH).json()["now"]
            for query in ("", "?advance=", "?advance=-5", "?advance=0", "?advance=1.5",
                          "?advance=%31", "?advance=99999999999999999999999",
                          "?advance=316224001", "?other=5"):
                r = http_request(t.port, "POST", PATH + query)
                self.assertEqual(r.status, 400, query)
                self.assertIn("advance", r.json()["error"], query)
            r = http_request(t.port, "DELETE", PATH)
            self.assertEqual(r.status, 405)
            self.assertIn("POST", r.headers["Allow"])
            # None of them moved it (it also runs on in real time: seconds at most).
            moved = parse(t.get(PATH).json()["now"]) - parse(now)
            self.assertLess(moved, datetime.timedelta(seconds=30))

    def test_behind_the_admin_token(self):
        d = tempfile.mkdtemp(prefix="p2ptracker-clock-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        token_file = os.path.join(d, "admin.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_file, 0o600)
        with Tracker(test_clock=True, admin_token_file=token_file) as t:
            r = http_request(t.port, "POST", PATH + "?advance=60")
            self.assertEqual(r.status, 401, r.body)
            r = http_request(t.port, "POST", PATH + "?advance=60",
                             headers={"Authorization": "Bearer " + TOKEN})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["advanced_seconds"], 60)

    def test_a_udp_connection_id_lives_one_to_two_minutes(self):
        # BEP 15: a client connects again after two minutes. An id from
        # before that is dropped unanswered (an unproven address), and counted.
        with Tracker(test_clock=True) as t:
            h = register_new(t)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            s.bind((loopback(61, 1), 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", t.port))

            def connect():
                s.send(struct.pack(">QII", 0x41727101980, 0, 7))
                action, tid, cid = struct.unpack(">IIQ", s.recv(16))
                self.assertEqual((action, tid), (0, 7))
                return cid

            def announce(cid, tid):
                s.send(struct.pack(">QII", cid, 1, tid) + h + b"-UD0001-000000000061" +
                       struct.pack(">QQQIIIiH", 0, 1000, 0, 0, 0, 0, -1, 6881))

            def dropped():
                body = http_request(t.port, "GET", "/metrics").body.decode()
                for line in body.splitlines():
                    if line.startswith('p2ptracker_udp_packets_total{kind="dropped"} '):
                        return float(line.split()[-1])
                return 0.0

            # Ids are made per minute of the clock: start a second into one.
            second = parse(t.get(PATH).json()["now"]).second
            t.advance_clock(61 - second)
            cid = connect()
            t.advance_clock(60)  # the next minute: still accepted
            announce(cid, 8)
            self.assertEqual(struct.unpack(">II", s.recv(2048)[:8]), (1, 8))
            before = dropped()
            t.advance_clock(120)  # two minutes on: expired
            announce(cid, 9)
            wait_until(lambda: dropped() > before, what="the stale id's announce dropped")
            s.setblocking(False)
            with self.assertRaises(BlockingIOError):
                s.recv(2048)
            s.settimeout(5)
            announce(connect(), 10)
            self.assertEqual(struct.unpack(">II", s.recv(2048)[:8]), (1, 10))


if __name__ == "__main__":
    unittest.main()

"""The test clock (P2PTRACKER_TEST_CLOCK=1, docs/api.md): off unless asked for,
behind the admin API's access rules, and what it moves is the tracker's time,
which the tracker's own answers then show (a peer past peer_timeout is gone)."""
import datetime
import os
import shutil
import tempfile
import unittest

from harness import Tracker, http_request, register_new, wait_until

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
            wait_until(lambda: self.peers(t, h) == 0, what="the peer expired by the sweep")

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


if __name__ == "__main__":
    unittest.main()

"""The deploy-visibility API (issue 3) against a scripted deploy: registration,
starts, partial progress, completions, a stopped peer, deactivation into
/history/, and history kept across a restart. Every value is computed from the
script, not copied from a previous run."""
import json
import os
import shutil
import tempfile
import time
import unittest

from harness import Tracker, http_request, loopback, make_torrent, wait_until

SIZE = 40000


def get_json(t, target):
    r = t.get(target)
    return r.status, (json.loads(r.body) if r.body else None)


class TransfersScenarioTest(unittest.TestCase):

    def test_scripted_deploy(self):
        # Our own directory: it must outlive the first tracker for the restart.
        data_dir = tempfile.mkdtemp(prefix="p2ptracker-transfers-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        with Tracker(data_dir=data_dir, max_repr_rack=2) as t:
            torrent, raw_hash = make_torrent("app.tar", os.urandom(SIZE))
            self.assertEqual(t.register("app.torrent", torrent).status, 201)
            hex_hash = raw_hash.hex()

            status, listing = get_json(t, "/api/v1/transfers/")
            self.assertEqual(status, 200)
            self.assertEqual(listing, {hex_hash: "app.torrent"})

            # Nothing announced yet.
            status, s = get_json(t, "/api/v1/transfers/%s.json" % hex_hash)
            self.assertEqual(status, 200)
            g = s["global"]
            self.assertTrue(g["active"])
            self.assertEqual((g["peers"], g["seeders"], g["leechers"]), (0, 0, 0))
            self.assertIsNone(g["first_start"])
            self.assertFalse(g["complete"])
            self.assertEqual(g["size"], SIZE)
            self.assertNotIn("racks", s)

            # Origin seeder in its own rack; two racks of three downloaders.
            t.announce(raw_hash, source=loopback(9, 1), left=0, event="started")
            lefts = {}
            for rack in (1, 2):
                for host in (1, 2, 3):
                    ip = loopback(rack, host)
                    t.announce(raw_hash, source=ip, left=SIZE, event="started")
                    lefts[ip] = SIZE
            # Partial progress, one completion, one stopped peer.
            for ip, left in ((loopback(1, 1), SIZE // 2), (loopback(1, 2), SIZE // 4),
                             (loopback(2, 1), 0)):
                t.announce(raw_hash, source=ip, left=left,
                           event="completed" if left == 0 else None)
                lefts[ip] = left
            t.announce(raw_hash, source=loopback(2, 3), left=SIZE, event="stopped")
            del lefts[loopback(2, 3)]

            status, s = get_json(t, "/api/v1/transfers/%s.json?racks=1&peers=1" % hex_hash)
            g = s["global"]
            peers = len(lefts) + 1  # + origin
            self.assertEqual(g["peers"], peers)
            self.assertEqual(g["seeders"], 2)  # origin and 127.0.2.1
            self.assertEqual(g["leechers"], peers - 2)
            self.assertEqual(g["completed"], 1)
            self.assertEqual(len(g["completions"]), 1)
            self.assertIsNotNone(g["first_start"])
            self.assertIsNotNone(g["first_complete"])
            self.assertFalse(g["complete"])
            expected = (100.0 + sum(100.0 * (1 - l / SIZE) for l in lefts.values())) / peers
            self.assertAlmostEqual(g["progress"], round(expected, 1), places=1)

            racks = s["racks"]
            self.assertEqual(set(racks), {"127.0.1.0/24", "127.0.2.0/24", "127.0.9.0/24"})
            r1 = racks["127.0.1.0/24"]
            self.assertEqual((r1["N"], r1["R"], r1["S"]), (3, 2, 0))
            r1_expected = sum(100.0 * (1 - lefts[loopback(1, h)] / SIZE) for h in (1, 2, 3)) / 3
            self.assertAlmostEqual(r1["progress"], round(r1_expected, 1), places=1)
            r2 = racks["127.0.2.0/24"]
            self.assertEqual((r2["N"], r2["R"], r2["S"]), (2, 2, 1))
            members = {m["peer"]: m for m in r1["members"]}
            self.assertEqual(set(members), {"127.0.1.%d:6881" % h for h in (1, 2, 3)})
            self.assertTrue(members["127.0.1.1:6881"]["representative"])
            self.assertFalse(members["127.0.1.3:6881"]["representative"])
            self.assertEqual(members["127.0.1.2:6881"]["left"], SIZE // 4)
            self.assertEqual(members["127.0.1.2:6881"]["progress"], 75.0)

            # The original's member lists.
            _, seeders = get_json(t, "/api/v1/transfers/seeders/%s.json" % hex_hash)
            self.assertEqual(sorted(seeders), ["127.0.2.1:6881", "127.0.9.1:6881"])
            _, reps = get_json(t, "/api/v1/transfers/representants/%s.json" % hex_hash)
            self.assertEqual(len(reps), 2 + 2 + 1)
            self.assertNotIn("127.0.1.3:6881", reps)
            _, leechers = get_json(t, "/api/v1/transfers/leechers/%s.json" % hex_hash)
            self.assertEqual(len(leechers), peers - 2)
            _, by_rack = get_json(t, "/api/v1/transfers/racks/%s.json" % hex_hash)
            self.assertEqual(sorted(by_rack["127.0.2.0/24"]), ["127.0.2.1:6881", "127.0.2.2:6881"])
            self.assertEqual(get_json(t, "/api/v1/transfers/bogus/%s.json" % hex_hash)[0], 404)

            # Everyone finishes: complete.
            for ip in list(lefts):
                if lefts[ip] != 0:
                    t.announce(raw_hash, source=ip, left=0, event="completed")
            _, s = get_json(t, "/api/v1/transfers/%s.json" % hex_hash)
            self.assertTrue(s["global"]["complete"])
            self.assertEqual(s["global"]["progress"], 100.0)
            self.assertEqual(s["global"]["completed"], len(lefts))

            # Deactivate: the record moves to /history/, the transfer is gone.
            r = http_request(t.port, "DELETE", "/api/v1/transfers/%s.json" % hex_hash)
            self.assertEqual(r.status, 200, r.body)
            record = json.loads(r.body)
            self.assertEqual(record["info_hash"], hex_hash)
            self.assertEqual(record["peers"], peers)
            self.assertEqual(record["completed"], len(lefts))
            self.assertEqual(record["racks"], 3)
            self.assertEqual(get_json(t, "/api/v1/transfers/%s.json" % hex_hash)[0], 404)
            self.assertEqual(get_json(t, "/api/v1/transfers/")[1], {})
            reply = t.announce(raw_hash, source=loopback(1, 1), left=0).bdecoded()
            self.assertIn(b"warning message", reply)
            _, hist = get_json(t, "/api/v1/history")
            self.assertEqual(len(hist["deploys"]), 1)
            h = hist["deploys"][0]
            self.assertEqual((h["info_hash"], h["file"], h["name"]), (hex_hash, "app.torrent", "app.tar"))
            self.assertIsNotNone(h["duration"])
            self.assertGreaterEqual(h["duration"], 0)

            # Errors a person can act on.
            status, err = get_json(t, "/api/v1/transfers/%s.json" % ("0" * 40))
            self.assertEqual(status, 404)
            self.assertIn("history", err["error"])
            self.assertEqual(get_json(t, "/api/v1/transfers/nothex.json")[0], 400)

        # A restart keeps the history.
        with Tracker(data_dir=data_dir) as t2:
            _, hist = get_json(t2, "/api/v1/history")
            self.assertEqual([d["info_hash"] for d in hist["deploys"]], [hex_hash])
            self.assertEqual(hist["deploys"][0]["completed"], h["completed"])

    def test_history_is_pruned_by_age(self):
        with Tracker(history_days=1) as t:
            torrent, raw_hash = make_torrent("old.tar", os.urandom(SIZE))
            self.assertEqual(t.register("old.torrent", torrent).status, 201)
            self.assertEqual(http_request(t.port, "DELETE", "/api/v1/torrents/old.torrent").status, 200)
            data_dir = t.data_dir
            self.assertEqual(len(get_json(t, "/api/v1/history")[1]["deploys"]), 1)
            t.stop()
            # Age the record by two days, as if the tracker had been down that long.
            path = os.path.join(data_dir, "history.json")
            with open(path) as f:
                doc = json.load(f)
            for d in doc["deploys"]:
                d["t"][1] -= 2 * 86400
            with open(path, "w") as f:
                json.dump(doc, f)
            with Tracker(data_dir=data_dir, history_days=1) as t2:
                self.assertEqual(get_json(t2, "/api/v1/history")[1]["deploys"], [])

    def test_a_damaged_history_file_loses_its_bad_entries_not_the_tracker(self):
        # A value of the wrong type stopped the tracker at start (an uncaught
        # exception); now the entry is left out and the log says so.
        with Tracker() as t:
            torrent, raw_hash = make_torrent("kept.tar", os.urandom(SIZE))
            self.assertEqual(t.register("kept.torrent", torrent).status, 201)
            self.assertEqual(http_request(t.port, "DELETE", "/api/v1/torrents/kept.torrent").status, 200)
            data_dir = t.data_dir
            t.stop()
            path = os.path.join(data_dir, "history.json")
            with open(path) as f:
                doc = json.load(f)
            good = doc["deploys"][0]
            doc["deploys"] = [dict(good, peers="many"), good, dict(good, t=[1, 2, "x", 4, 5, 6])]
            with open(path, "w") as f:
                json.dump(doc, f)
            with Tracker(data_dir=data_dir) as t2:
                hist = get_json(t2, "/api/v1/history")[1]["deploys"]
                self.assertEqual([d["info_hash"] for d in hist], [raw_hash.hex()])
                wait_until(lambda: "history: %s: left out 2 entries" % path in t2.output(),
                           what="the warning naming the file")
            # The file as it was, kept beside it: the next deploy recorded
            # rewrites history.json without the entries left out.
            copies = [n for n in os.listdir(data_dir) if n.startswith("history.json.damaged-")]
            self.assertEqual(len(copies), 1, copies)
            with open(os.path.join(data_dir, copies[0])) as f:
                self.assertEqual(json.load(f), doc)
            self.assertIn("the file as it was is kept as %s" % os.path.join(data_dir, copies[0]),
                          t2.output())
            # Not JSON at all: an error naming the file, not a crash.
            with open(path, "w") as f:
                f.write("{truncated")
            t3 = Tracker(data_dir=data_dir)
            try:
                with self.assertRaises(RuntimeError):
                    t3.start()
            finally:
                t3.cleanup()
            self.assertIn("history.json is not a valid history file", t3.output())
            self.assertNotIn("terminate called", t3.output())


class DeployLifeTest(unittest.TestCase):
    """Issue 14: a deploy's end is logged, every announce is logged at debug,
    and with auto_archive_s the tracker archives a finished deploy itself."""

    def test_complete_is_logged_and_archived_after_auto_archive_s(self):
        # An hour, passed by moving the tracker's clock; the hosts have long
        # left the swarm by then (peer_timeout 150 s), as after a real deploy.
        with Tracker(auto_archive_s=3600, log_level="debug", test_clock=True) as t:
            data, h = make_torrent("auto", os.urandom(4000))
            self.assertIn(t.register("auto.torrent", data).status, (200, 201))
            t.announce(h, source="127.0.8.1", left=0, event="started")  # the origin
            t.announce(h, source="127.0.8.2", left=4000, event="started")
            wait_until(lambda: "announce %s from 127.0.8.2:6881" % h.hex() in t.output(),
                       what="the announce logged at debug")
            # With the peers it was given: here the origin, its only peer.
            self.assertRegex(t.output(), r"announce %s from 127\.0\.8\.2:6881 \(event started, "
                             r"left 4000\): \w+, 1 peer\(s\) given: 127\.0\.8\.1:6881\n"
                             % h.hex())
            self.assertNotIn("transfer %s complete" % h.hex(), t.output())
            t.announce(h, source="127.0.8.2", left=0, event="completed")
            wait_until(lambda: "transfer %s complete: no host is downloading" % h.hex()
                       in t.output(), what="the deploy's end logged")
            self.assertIn(h.hex(), t.get("/transfers/").json())
            t.advance_clock(3000)
            time.sleep(6)  # auto_archive_s is checked every 5 s
            self.assertIn(h.hex(), t.get("/transfers/").json(), "archived too early")
            t.advance_clock(601)
            deadline = time.monotonic() + 15
            while h.hex() in t.get("/transfers/").json() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertNotIn(h.hex(), t.get("/transfers/").json())
            wait_until(lambda: "transfer %s (auto.torrent) archived" % h.hex() in t.output(),
                       what="the archiving logged")
            history = t.get("/api/v1/history").json()
            self.assertIn(h.hex(), json.dumps(history))

    def test_without_auto_archive_s_a_finished_deploy_stays(self):
        with Tracker(test_clock=True) as t:
            data, h = make_torrent("stays", os.urandom(4000))
            self.assertIn(t.register("stays.torrent", data).status, (200, 201))
            t.announce(h, source="127.0.8.1", left=0, event="started")
            t.announce(h, source="127.0.8.2", left=0, event="completed")
            t.advance_clock(30 * 86400)
            time.sleep(6)  # more than the 5 s between checks, were auto_archive_s set
            self.assertIn(h.hex(), t.get("/transfers/").json())


class NotPrivateTest(unittest.TestCase):
    """Issue 14: a registered torrent without the private flag is flagged at
    runtime: the stats API, /metrics and the log at every start."""

    def test_flagged_in_api_metrics_and_start_up_log(self):
        data_dir = tempfile.mkdtemp(prefix="p2ptracker-private-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        with Tracker(data_dir=data_dir) as t:
            for name, private in (("open", False), ("closed", True)):
                data, h = make_torrent(name, os.urandom(3000), private=private)
                self.assertIn(t.register(name + ".torrent", data).status, (200, 201))
                g = t.get("/api/v1/transfers/%s.json" % h.hex()).json()["global"]
                self.assertEqual(g["private"], private)
            metrics = t.get("/metrics").body.decode()
            self.assertIn("\np2ptracker_transfers_not_private 1\n", metrics)
        with Tracker(data_dir=data_dir) as t:
            out = t.output()
            self.assertIn("registered torrent open.torrent is not private", out)
            self.assertNotIn("closed.torrent is not private", out)


if __name__ == "__main__":
    unittest.main()

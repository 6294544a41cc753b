"""rtorrent, aria2c, transmission and qBittorrent in a deploy through p2ptracker, beside libtorrent.

2 racks x 5 hosts on 127.0.R.H, each rack with one python3-libtorrent client, one rtorrent
0.9.8 (headless, its own rtorrent.rc), one aria2c 1.36, one transmission-cli 3.00 and one
qbittorrent-nox 4.5 (driven through its Web API), configured as docs/clients.md documents (bench/deploy/clients.py, the layout of
bench/deploy/run.py --mixed-clients), and an origin seeder on 127.0.0.1. Asserts that every
host completes with the payload's bytes and that the tracker saw each client at its own
address, in its own rack. A missing client is an error (scripts/install-deps.sh --deploy
installs them).
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import clients  # noqa: E402
import swarm  # noqa: E402
import trackers  # noqa: E402

PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 150.0
from run import MIXED_HOSTS, MIXED_KINDS, MIXED_RACKS  # noqa: E402
from run import MIXED_LAYOUT as LAYOUT  # noqa: E402


class MixedClientsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # make test installs them all (install-deps.sh --deploy): a missing
        # one is a broken setup, not a reason to skip.
        missing = [k for k in MIXED_KINDS if not clients.available(k)]
        if missing:
            raise RuntimeError("missing BitTorrent client(s) %s: run 'make test' or "
                               "'scripts/install-deps.sh --deploy'" % ", ".join(missing))
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-mixed-")
        cls.tracker = trackers.P2PTracker("original", max_repr_rack=2)
        cls.deploy = None
        try:
            cls.tracker.start()
            cls.sha256, torrent = swarm.make_payload_torrent(
                cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
                creator="p2ptracker test_mixed_clients")
            cls.info_hash = swarm.info_hash_of(torrent)
            cls.tracker.prepare(torrent, cls.info_hash)

            def other(name, ip):
                kind = LAYOUT[name]
                if kind == "libtorrent":
                    return None
                return clients.KINDS[kind](name, ip, cls.work_dir, torrent, UPLOAD_CAP)

            cls.deploy = swarm.Deploy(cls.work_dir, torrent, MIXED_RACKS, MIXED_HOSTS, UPLOAD_CAP,
                                      os.path.join(cls.work_dir, "origin"), other_client=other)
            cls.complete = cls.deploy.run(COMPLETE_TIMEOUT)
            print("\nmixed clients: %s" % ", ".join(
                "%s(%s) %s" % (n, LAYOUT[n], "%.1f s" % t if t is not None else "INCOMPLETE")
                for n, t in sorted(cls.deploy.completion_times().items())))
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls):
        if cls.deploy is not None and cls.deploy.origin is not None:
            cls.deploy.close()
        cls.tracker.stop()
        shutil.rmtree(cls.work_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def diagnosis(self):
        logs = "".join("--- %s (%s) ---\n%s\n" % (x.name, x.kind, x.log_tail(1500))
                       for x in self.deploy.extra_hosts)
        return "\n--- timeline (tail) ---\n%s%s--- tracker log (tail) ---\n%s" % (
            "".join(self.deploy.timeline().splitlines(True)[-40:]), logs,
            self.tracker.log()[-3000:])

    def test_every_client_completes_with_the_payload(self):
        self.assertTrue(self.complete, "incomplete: %s%s"
                        % (self.deploy.completion_times(), self.diagnosis()))
        for c in self.deploy.clients:
            self.assertEqual(c.file_sha256(), self.sha256, c.name)
        for x in self.deploy.extra_hosts:
            self.assertEqual(swarm_file_sha256(x.file_path()), self.sha256, x.name)

    def test_qbittorrent_seeds_with_the_tracker_as_its_only_source(self):
        # Its own Web API: the torrent is complete and seeding, and the settings the
        # benchmark sent (docs/clients.md) are the ones in force.
        qbs = [x for x in self.deploy.extra_hosts if x.kind == "qbittorrent"]
        self.assertEqual(len(qbs), MIXED_RACKS)
        for x in qbs:
            prefs = x.api("app/preferences")
            for key in ("dht", "pex", "lsd", "upnp", "random_port"):
                self.assertIs(prefs[key], False, (x.name, key))
            self.assertEqual(prefs["current_interface_address"], x.ip)
            self.assertEqual(prefs["listen_port"], x.port)
            [t] = x.torrents()
            self.assertEqual(t["hash"], self.info_hash.hex(), x.name)
            self.assertEqual(t["progress"], 1, (x.name, t["state"]))
            self.assertIn(t["state"], ("uploading", "stalledUP", "forcedUP", "queuedUP"), x.name)

    def test_tracker_sees_each_client_at_its_own_address(self):
        # Announces, listening sockets and (seen by the libtorrent hosts) connections all
        # come from each client's 127.0.R.H, so the tracker puts it in the right rack.
        want = {x.ip for x in self.deploy.extra_hosts} | {c.ip for c in self.deploy.clients}
        deadline = time.monotonic() + 20  # the last completed announces may still be coming
        while True:
            view = self.tracker.transfer(self.info_hash) or {}
            members = {m["peer"].rsplit(":", 1)[0]: m
                       for rack in view.get("racks", {}).values() for m in rack["members"]}
            if (want <= set(members) and all(members[ip]["seeder"] for ip in want)) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertLessEqual(want, set(members), view)
        for ip in want:
            self.assertTrue(members[ip]["seeder"], (ip, members[ip]))
        for rack_name, rack in view["racks"].items():
            for m in rack["members"]:
                self.assertTrue(rack_name.startswith(swarm.rack_of(m["peer"].split(":")[0]) + "."),
                                (rack_name, m))


def swarm_file_sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


if __name__ == "__main__":
    unittest.main()

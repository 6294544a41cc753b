"""The deploy benchmark's short version: rack uplink amplification with real clients.

An origin seeder and 3 racks x 3 python3-libtorrent hosts (127.0.R.H) deploy an 8 MiB payload
through p2ptracker with its default policy ("original", max_repr_rack = 2), exactly as
bench/deploy/run.py does (same code: bench/deploy/swarm.py, bench/deploy/trackers.py). From
the clients' per-connection byte counters it asserts the number the tracker exists for: no
rack receives more than 2.0 copies of the payload from outside itself (one per
representative), while a random-peers tracker approaches one copy per host (3.0 here).
`make bench-deploy` runs the full comparison (4 x 5, 32 MiB, opentracker beside it).
"""
import os
import shutil
import sys
import tempfile
import unittest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import swarm  # noqa: E402
import trackers  # noqa: E402

RACKS = 3
HOSTS_PER_RACK = 3
MAX_REPR_RACK = 2
PAYLOAD_BYTES = 8 * 1024 * 1024
PIECE_BYTES = 64 * 1024
# 1 MiB/s per client: the origin alone needs 8 s to send one copy, so the racks exchange
# pieces while it does and the uplinks are shaped by the tracker, not by the origin.
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 120.0
MAX_AMPLIFICATION = 2.0   # max_repr_rack copies per rack


class DeployAmplificationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-deploy-")
        cls.tracker = trackers.P2PTracker("original", max_repr_rack=MAX_REPR_RACK)
        cls.deploy = None
        try:
            cls.tracker.start()
            cls.sha256, torrent = swarm.make_payload_torrent(
                cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
                creator="p2ptracker test_deploy_amplification")
            cls.tracker.prepare(torrent, swarm.info_hash_of(torrent))
            cls.deploy = swarm.Deploy(cls.work_dir, torrent, RACKS, HOSTS_PER_RACK, UPLOAD_CAP,
                                      os.path.join(cls.work_dir, "origin"))
            cls.complete = cls.deploy.run(COMPLETE_TIMEOUT)
            cls.stats = cls.deploy.rack_stats(PAYLOAD_BYTES)
            cls.seconds = cls.deploy.t_end - cls.deploy.t0
            print("\ndeploy %d x %d, %d MiB, cap %d KiB/s, policy original: %.1f s"
                  % (RACKS, HOSTS_PER_RACK, PAYLOAD_BYTES >> 20, UPLOAD_CAP >> 10, cls.seconds))
            for rack, s in cls.stats.items():
                print("  rack %s.0/24: amplification %.2f, egress %.2f, from outside: %s"
                      % (rack, s["amplification"], s["egress"], " ".join(s["gateways"])))
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls):
        if cls.deploy is not None and cls.deploy.origin is not None:
            cls.diag = cls.deploy.timeline()
            cls.deploy.close()
        cls.tracker.stop()
        shutil.rmtree(cls.work_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def diagnosis(self):
        return "\n--- timeline (tail) ---\n%s--- tracker log (tail) ---\n%s" % (
            "".join(self.deploy.timeline().splitlines(True)[-60:]), self.tracker.log()[-3000:])

    def test_every_host_completes_with_the_payload(self):
        self.assertTrue(self.complete, "not complete after %.0f s%s"
                        % (COMPLETE_TIMEOUT, self.diagnosis()))
        for c in self.deploy.clients:
            self.assertEqual(c.file_sha256(), self.sha256, c.name)

    def test_max_rack_amplification_within_representatives(self):
        amps = {rack: round(s["amplification"], 3) for rack, s in self.stats.items()}
        self.assertEqual(len(amps), RACKS)
        self.assertLessEqual(max(amps.values()), MAX_AMPLIFICATION,
                             "%s%s" % (amps, self.diagnosis()))
        # Every rack got at least one copy from outside (nothing else can have filled it).
        self.assertGreaterEqual(min(amps.values()), 0.99, amps)

    def test_at_most_max_repr_rack_hosts_receive_from_outside(self):
        for rack, s in self.stats.items():
            self.assertLessEqual(len(s["gateways"]), MAX_REPR_RACK, (rack, s["gateways"]))

    def test_byte_counters_agree(self):
        # The measurement itself: the per-connection counters account for (nearly) every
        # downloaded byte, and receivers and senders agree on what crossed each rack's edge.
        for rack, s in self.stats.items():
            self.assertLessEqual(abs(s["unattributed"]), 0.02 * s["downloaded"], (rack, s))
            self.assertLessEqual(abs(s["in_by_senders"] - s["in"]), 0.02 * max(s["in"], 1),
                                 (rack, s))
        for c in self.deploy.clients:
            self.assertEqual(c.peer_sources - {"tracker"}, set(), c.name)
            self.assertEqual(c.wrong_source, set(), c.name)


if __name__ == "__main__":
    unittest.main()

"""Issue 13: a real-client deploy whose racks come from the inventory service and
do not follow the /24s.

The SMDB stand-in (smdb_server.py) puts host H of every /24 in cabinet "cab-H":
3 cabinets x 3 python3-libtorrent hosts, each cabinet spread over three /24s
(127.0.1.H, 127.0.2.H, 127.0.3.H). The tracker runs the original's chain
(topology = ["smdb", "subnet"]) and waits for each host's first answer
(topology_wait_ms), so hosts are grouped by cabinet from their first announce.
The bound the tracker exists for must hold per cabinet: no cabinet receives more
than max_repr_rack copies from outside it. Under the /24 rule the same deploy
would cross every cabinet's uplink once per host.
"""
import os
import shutil
import sys
import tempfile
import unittest

from harness import ROOT, SmdbServer

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import swarm  # noqa: E402
import trackers  # noqa: E402

RACKS = 3
HOSTS_PER_RACK = 3
MAX_REPR_RACK = 2
PAYLOAD_BYTES = 8 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 120.0


class InventoryDeployTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-inventory-deploy-")
        cls.smdb = SmdbServer().start()
        cls.deploy = None
        cls.tracker = None
        try:
            for r in range(1, RACKS + 1):
                for h in range(1, HOSTS_PER_RACK + 1):
                    ip = swarm.host_ip(r, h)
                    cls.smdb.set(ip, cabinet="cab-%d" % h)
                    swarm.RACK_NAMES[ip] = "cab-%d" % h
            cls.tracker = trackers.P2PTracker(
                "original", max_repr_rack=MAX_REPR_RACK, topology=["smdb", "subnet"],
                smdb_url=cls.smdb.url, topology_wait_ms=5000).start()
            cls.sha256, torrent = swarm.make_payload_torrent(
                cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
                creator="p2ptracker test_inventory_deploy")
            cls.info_hash = swarm.info_hash_of(torrent)
            cls.tracker.prepare(torrent, cls.info_hash)
            cls.deploy = swarm.Deploy(cls.work_dir, torrent, RACKS, HOSTS_PER_RACK, UPLOAD_CAP,
                                      os.path.join(cls.work_dir, "origin"))
            cls.complete = cls.deploy.run(COMPLETE_TIMEOUT)
            cls.stats = cls.deploy.rack_stats(PAYLOAD_BYTES)
            print("\ninventory deploy %d cabinets x %d, %d MiB: %.1f s"
                  % (RACKS, HOSTS_PER_RACK, PAYLOAD_BYTES >> 20,
                     cls.deploy.t_end - cls.deploy.t0))
            for rack, s in cls.stats.items():
                print("  %s: amplification %.2f, from outside: %s"
                      % (rack, s["amplification"], " ".join(s["gateways"])))
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls):
        if cls.deploy is not None and cls.deploy.origin is not None:
            cls.deploy.close()
        if cls.tracker is not None:
            cls.tracker.stop()
        cls.smdb.stop()
        swarm.RACK_NAMES.clear()
        shutil.rmtree(cls.work_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def test_every_host_completes_with_the_payload(self):
        self.assertTrue(self.complete, "not complete after %.0f s:\n%s"
                        % (COMPLETE_TIMEOUT, self.tracker.log()[-3000:]))
        for c in self.deploy.clients:
            self.assertEqual(c.file_sha256(), self.sha256, c.name)

    def test_the_tracker_groups_by_cabinet(self):
        transfer = self.tracker.transfer(self.info_hash)
        self.assertIsNotNone(transfer)
        names = set(json_racks(transfer))
        self.assertTrue({"cab-1", "cab-2", "cab-3"} <= names, names)
        self.assertFalse({"127.0.1.0/24", "127.0.2.0/24", "127.0.3.0/24"} & names, names)

    def test_cabinet_amplification_within_representatives(self):
        amps = {rack: round(s["amplification"], 3) for rack, s in self.stats.items()}
        self.assertEqual(sorted(amps), ["cab-1", "cab-2", "cab-3"])
        self.assertLessEqual(max(amps.values()), float(MAX_REPR_RACK),
                             "%s\n%s" % (amps, self.tracker.log()[-3000:]))
        self.assertGreaterEqual(min(amps.values()), 0.99, amps)
        for rack, s in self.stats.items():
            self.assertLessEqual(len(s["gateways"]), MAX_REPR_RACK, (rack, s["gateways"]))


def json_racks(transfer):
    """Rack names in /api/v1/transfers/<hash>.json?racks=1."""
    racks = transfer.get("racks", {})
    return list(racks) if isinstance(racks, dict) else [r.get("name") for r in racks]


if __name__ == "__main__":
    unittest.main()

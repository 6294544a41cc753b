"""Issue 11: the original p2ptracker's client, rtorrent with its etc/rtorrent.rc.erb, completes a
deploy through this tracker and is placed in the rack of the address it connects from.

Two racks on 127.0.R.H, each with one rtorrent configured key for key as the original's puppet
template (bench/deploy/clients.py OriginalRcRTorrentHost: `ip` a host name, `bind` the host's
address, one port, DHT and peer exchange off) and one python3-libtorrent client, and an origin
seeder on 127.0.0.1. The tracker runs on its defaults, so 127.0.R.H is an untrusted network and
its `ip` is not believed.
"""
import hashlib
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

PAYLOAD_BYTES = 2 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 120.0


class OriginalClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not clients.available("rtorrent"):
            raise RuntimeError("rtorrent is missing: run 'make test' or "
                               "'scripts/install-deps.sh --deploy'")
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-original-rc-")
        cls.tracker = trackers.P2PTracker("original", max_repr_rack=1)
        cls.deploy = None
        try:
            cls.tracker.start()
            cls.sha256, torrent = swarm.make_payload_torrent(
                cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
                creator="p2ptracker test_original_client")
            cls.info_hash = swarm.info_hash_of(torrent)
            cls.tracker.prepare(torrent, cls.info_hash)

            def other(name, ip):
                if not name.endswith("h1"):
                    return None
                return clients.OriginalRcRTorrentHost(name, ip, cls.work_dir, torrent, UPLOAD_CAP)

            cls.deploy = swarm.Deploy(cls.work_dir, torrent, 2, 2, UPLOAD_CAP,
                                      os.path.join(cls.work_dir, "origin"), other_client=other)
            cls.complete = cls.deploy.run(COMPLETE_TIMEOUT)
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
        logs = "".join("--- %s ---\n%s\n" % (x.name, x.log_tail(1500))
                       for x in self.deploy.extra_hosts)
        return "\n%s--- tracker log (tail) ---\n%s" % (logs, self.tracker.log()[-3000:])

    def test_rtorrent_with_the_original_rc_completes(self):
        self.assertEqual([x.kind for x in self.deploy.extra_hosts],
                         ["rtorrent-original-rc"] * 2)
        self.assertTrue(self.complete, "incomplete: %s%s"
                        % (self.deploy.completion_times(), self.diagnosis()))
        for x in self.deploy.extra_hosts:
            with open(x.file_path(), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), self.sha256, x.name)

    def test_placed_by_source_address_not_by_its_ip_parameter(self):
        want = {x.ip: x.rack for x in self.deploy.extra_hosts}
        deadline = time.monotonic() + 20
        while True:
            view = self.tracker.transfer(self.info_hash) or {}
            racks_of = {m["peer"].rsplit(":", 1)[0]: rack_name
                        for rack_name, rack in view.get("racks", {}).items()
                        for m in rack["members"]}
            if set(want) <= set(racks_of) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for ip, rack in want.items():
            self.assertIn(ip, racks_of, view)
            # 127.0.R.0/24, the rack of its bind address, not localhost's 127.0.0.0/24
            self.assertTrue(racks_of[ip].startswith(rack + "."), (ip, racks_of[ip]))


if __name__ == "__main__":
    unittest.main()

"""The deploy test_levels_failover and test_tree_failover share: the fleet of test_levels_deploy
(an origin on 127.0.0.1 and 2 datacenters x 2 rows x 2 racks x 2 python3-libtorrent hosts on
127.D.(16 r + k).H), in which host r1h1 (127.1.1.1) joins 3 s before the others and fails as a
subclass's `failure` says: "hung" (libtorrent's upload mode: it announces every interval and
downloads nothing) or "dead" (cut off from peers and tracker right after its first announce,
with no event=stopped)."""
import contextlib
import os
import shutil
import sys
import tempfile

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import levels  # noqa: E402
import swarm  # noqa: E402
import trackers  # noqa: E402

DCS, ROWS, RACKS, HOSTS = 2, 2, 2, 2
PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 120.0
FAILED = "r1h1"
LATE_SECONDS = 3.0
ip_of = levels.level_ip(ROWS, RACKS)
FAILED_IP = ip_of(1, 1)


class DeployFixture:
    """Runs cls.run_deploy() once for the class, in a work directory of its own (work_dir), and
    stops the deploy (cls.deploy) and the tracker (cls.tracker) it started."""

    @classmethod
    def setUpClass(cls):
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-%s-" % cls.__module__)
        cls.tracker = cls.deploy = None
        try:
            cls.run_deploy()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.deploy is not None and cls.deploy.origin is not None:
            cls.deploy.close()
        if cls.tracker is not None:
            cls.tracker.stop()
        shutil.rmtree(cls.work_dir, ignore_errors=True)


class FailedHostDeploy(DeployFixture):
    """Runs the deploy once for the class, with a tracker of `policy` and `settings`; a base
    that is not a TestCase runs nothing. After it: complete, sha256, files (every other host's
    payload digest), failed (the failed client), inflow (levels.inflow_by_level), metrics."""
    failure = None
    policy = "original"
    settings = {}

    @classmethod
    def watching(cls, info_hash):
        """A context the deploy runs in (a subclass may watch the tracker meanwhile)."""
        return contextlib.nullcontext()

    @classmethod
    def run_deploy(cls):
        cls.tracker = trackers.P2PTracker(cls.policy, **cls.settings).start()
        sha256, torrent = swarm.make_payload_torrent(
            cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
            creator="p2ptracker " + cls.__module__)
        info_hash = swarm.info_hash_of(torrent)
        cls.tracker.prepare(torrent, info_hash)
        cls.deploy = swarm.Deploy(cls.work_dir, torrent, DCS * ROWS * RACKS, HOSTS, UPLOAD_CAP,
                                  os.path.join(cls.work_dir, "origin"), ip_of=ip_of)
        others = [c.name for c in cls.deploy.clients if c.name != FAILED]
        with cls.watching(info_hash):
            cls.complete = cls.deploy.run(COMPLETE_TIMEOUT, late=others, late_delay=LATE_SECONDS,
                                          **{cls.failure: [FAILED]})
        cls.sha256 = sha256
        cls.files = {c.name: c.file_sha256() if c.completed_at is not None else None
                     for c in cls.deploy.clients if c.name != FAILED}
        cls.failed = next(c for c in cls.deploy.clients if c.name == FAILED)
        cls.inflow = levels.inflow_by_level(cls.deploy.clients)
        cls.metrics = cls.tracker._tracker.get("/metrics").body.decode()
        print("\n%s, %s %s: %s in %.1f s" % (
            cls.policy, FAILED, cls.failure, "complete" if cls.complete else "INCOMPLETE",
            cls.deploy.t_end - cls.deploy.t0))
        levels.print_inflow(cls.inflow, PAYLOAD_BYTES)

    def test_every_other_host_completes_with_the_payload(self):
        self.assertTrue(self.complete, self.deploy.completion_times())
        self.assertEqual(len(self.files), DCS * ROWS * RACKS * HOSTS - 1)
        for name, digest in self.files.items():
            self.assertEqual(digest, self.sha256, name)

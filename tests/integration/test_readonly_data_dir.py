"""Issue 10: a read-only data_dir (a read-only mount holding the registered
torrents) starts and serves them; registering then fails with an error that
says why, and nothing is written.

The tracker runs in a mount namespace of its own (unshare -m) where data_dir
is bind-mounted read-only; where that is not allowed, a non-root user's
chmod 0555 stands in for it."""
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BINARY, Tracker, make_torrent, multipart_form, register_new


def read_only_mounts_work():
    probe = tempfile.mkdtemp(prefix="p2ptracker-ro-probe-")
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && '
                            '! touch "$0/x" 2>/dev/null', probe], capture_output=True, timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


class ReadOnlyDataDirTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-ro-")
        self.data = os.path.join(self.dir, "data")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def read_only_tracker(self):
        if read_only_mounts_work():
            wrapper = os.path.join(self.dir, "ro-p2ptracker")
            with open(wrapper, "w") as f:
                f.write('#!/bin/sh\nexec unshare -m sh -c \'mount --bind "$0" "$0" && '
                        'mount -o remount,bind,ro "$0" && exec "$@"\' "%s" "%s" "$@"\n'
                        % (self.data, BINARY))
            os.chmod(wrapper, stat.S_IRWXU)
            return Tracker(data_dir=self.data, binary=wrapper)
        if os.geteuid() != 0:
            for root, dirs, _ in os.walk(self.data):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o555)
            os.chmod(self.data, 0o555)
            self.addCleanup(os.chmod, self.data, 0o755)
            return Tracker(data_dir=self.data)
        self.skipTest("needs read-only bind mounts (unshare -m) or a non-root user")

    def test_serves_what_it_holds_and_refuses_to_write(self):
        with Tracker(data_dir=self.data) as t:
            h = register_new(t, file_name="kept.torrent")
        before = sorted(os.listdir(self.data))
        t = self.read_only_tracker()
        with t:
            self.assertIn("read-only", t.output().lower())
            self.assertEqual(t.get("/torrents/").json(), {"kept.torrent": h.hex()})
            r = t.announce(h, source="127.0.5.1")
            self.assertEqual(r.status, 200)
            self.assertNotIn(b"failure reason", r.body)
            torrent, _ = make_torrent("new", os.urandom(1000))
            r = t.register("new.torrent", torrent)
            self.assertGreaterEqual(r.status, 500, r.body)
            self.assertIn("read-only", r.body.decode().lower())
        self.assertEqual(sorted(os.listdir(self.data)), before)


if __name__ == "__main__":
    unittest.main()

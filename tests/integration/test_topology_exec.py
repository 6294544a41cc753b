"""Issue 13: racks from a plugin program (topology source "exec"): run as
`<exec_command> <address>`, killed past the timeout, at most
exec_max_running at once. The plugins are shell scripts the tests write."""
import json
import os
import shutil
import socket
import stat
import struct
import tempfile
import time
import unittest

from harness import Tracker, register_new, wait_until
from test_topology_smdb import SmdbCase

# Answers from a table in the script's directory; logs each run.
PLUGIN = r"""#!/bin/sh
dir=$(dirname "$0")
echo "$1" >> "$dir/runs"
case "$1" in
  127.0.80.1|127.0.81.1) echo "dc=lhr1 row=2 rack=8" ;;
  127.0.80.2) echo "lhr1/row2/rack9" ;;
  127.0.80.3) echo "this is not a location" ;;
  127.0.80.4) exit 3 ;;
  127.0.80.5) echo $$ > "$dir/hung.pid"; exec sleep 60 ;;
  127.0.80.6) sleep 1.5; echo "dc=lhr1 row=2 rack=late" ;;
  127.0.80.7|127.0.80.8) sleep 2; echo "dc=lhr1 row=2 rack=slow" ;;
  127.0.80.10) sleep 0.4; echo "dc=lhr1 row=2 rack=udp-rack" ;;
  127.0.80.11) sleep 60 & echo $! > "$dir/child.pid"; exec sleep 60 ;;
  127.0.80.12) head -c 3000000 /dev/zero | tr '\0' x >&2; echo "no inventory entry for $1" >&2; exit 4 ;;
  127.0.80.13) echo "cannot reach the inventory" >&2; exit 5 ;;
  *) ;;
esac
"""


class ExecTopologyTest(SmdbCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-exec-")
        self.plugin = os.path.join(self.dir, "locate")
        with open(self.plugin, "w") as f:
            f.write(PLUGIN)
        os.chmod(self.plugin, stat.S_IRWXU)

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def exec_tracker(self, **settings):
        base = {"topology": ["exec", "subnet"], "exec_command": self.plugin, "max_repr_rack": 1}
        base.update(settings)
        t = Tracker(**base)
        self.trackers.append(t)
        return t.start()

    def runs(self, ip):
        path = os.path.join(self.dir, "runs")
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return sum(1 for line in f if line.strip() == ip)

    def test_groups_by_what_the_program_prints(self):
        t = self.exec_tracker()
        h = register_new(t)
        for ip in ("127.0.80.1", "127.0.81.1", "127.0.80.2", "127.0.80.9"):
            self.announce(t, h, ip)
        wait_until(lambda: self.racks(t, h) == ["127.0.80.0/24", "lhr1/2/8", "lhr1/row2/rack9"],
                   what="racks from the plugin")
        self.announce(t, h, "127.0.81.1")
        self.assertEqual(self.runs("127.0.81.1"), 1)  # cached
        self.assertEqual(self.runs("127.0.80.9"), 1)  # printed nothing: unknown, cached too

    def test_garbage_and_failures_are_errors(self):
        t = self.exec_tracker()
        h = register_new(t)
        self.announce(t, h, "127.0.80.3")
        self.announce(t, h, "127.0.80.4")
        wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                       source="exec", outcome="error") == 2,
                   what="two failed runs")
        self.assertEqual(self.racks(t, h), ["127.0.80.0/24"])
        self.assertIn("is not key=value", t.logged("is not key=value"))
        health = json.loads(t.get("/health").body)
        self.assertIn("exited with status 3", health["components"]["topology"]["exec"]["error"])

    def test_a_program_that_hangs_is_killed(self):
        t = self.exec_tracker(topology_timeout_ms=500)
        h = register_new(t)
        started = time.monotonic()
        self.announce(t, h, "127.0.80.5")
        self.assertLess(time.monotonic() - started, 1.0)
        wait_until(lambda: "did not answer within 500 ms (killed)" in t.output(),
                   what="the hung plugin killed")
        with open(os.path.join(self.dir, "hung.pid")) as f:
            pid = int(f.read())
        # Killed and reaped: no process, not even a zombie, is left.
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the plugin reaped")
        self.assertEqual(self.racks(t, h), ["127.0.80.0/24"])

    def test_what_a_hung_program_started_is_killed_with_it(self):
        # A hung plugin's own children went to init, alive, one per lookup.
        t = self.exec_tracker(topology_timeout_ms=500)
        h = register_new(t)
        self.announce(t, h, "127.0.80.11")
        wait_until(lambda: os.path.exists(os.path.join(self.dir, "child.pid")),
                   what="the plugin's child started")
        with open(os.path.join(self.dir, "child.pid")) as f:
            child = int(f.read())
        wait_until(lambda: "did not answer within 500 ms (killed)" in t.output(),
                   what="the hung plugin killed")

        def gone(pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().split(")")[-1].split()[0] == "Z"  # a zombie of init's
            except FileNotFoundError:
                return True
        wait_until(lambda: gone(child), what="the plugin's child killed with it")

    def test_stderr_is_bounded_and_its_first_line_told(self):
        t = self.exec_tracker()
        h = register_new(t)
        self.announce(t, h, "127.0.80.13")
        wait_until(lambda: "exited with status 5" in t.output(), what="the failed run")
        health = json.loads(t.get("/health").body)
        self.assertIn('("cannot reach the inventory") exited with status 5',
                      health["components"]["topology"]["exec"]["error"])
        # 3 MB on stderr: not in the tracker's output, and its first line is
        # cut short.
        self.announce(t, h, "127.0.80.12")
        error = lambda: json.loads(t.get("/health").body)["components"]["topology"]["exec"]["error"]
        wait_until(lambda: "exited with status 4" in error(), what="the chatty run")
        self.assertIn('("' + "x" * 200 + '") exited', error())
        self.assertLess(len(t.output()), 100000)

    def test_late_answer_moves_the_host(self):
        t = self.exec_tracker(topology_timeout_ms=5000)
        h = register_new(t)
        self.announce(t, h, "127.0.80.6")
        self.assertEqual(self.racks(t, h), ["127.0.80.0/24"])
        wait_until(lambda: self.racks(t, h) == ["lhr1/2/late"], timeout=10, what="the host moved")

    def udp_announce(self, t, h, source, timeout=5):
        """connect + announce from `source` over UDP; returns the seconds the
        announce took."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((source, 0))
            s.settimeout(timeout)
            s.connect(("127.0.0.1", t.port))
            s.send(struct.pack(">QII", 0x41727101980, 0, 1))
            action, _, cid = struct.unpack(">IIQ", s.recv(16))
            self.assertEqual(action, 0)
            started = time.monotonic()
            s.send(struct.pack(">QII", cid, 1, 2) + h + b"-UD0001-000000000010" +
                   struct.pack(">QQQIIIiH", 0, 1000, 0, 0, 0, 0, -1, 6881))
            action, tid = struct.unpack(">II", s.recv(2048)[:8])
            self.assertEqual((action, tid), (1, 2))
            return time.monotonic() - started
        finally:
            s.close()

    def test_udp_announce_waits_for_the_answer(self):
        # The connect starts the plugin (0.4 s); the announce right after it
        # is parked until the answer is in, then placed by it.
        t = self.exec_tracker(topology_timeout_ms=5000, topology_wait_ms=3000)
        h = register_new(t)
        took = self.udp_announce(t, h, "127.0.80.10")
        self.assertGreater(took, 0.1)
        self.assertEqual(self.racks(t, h), ["lhr1/2/udp-rack"])
        self.assertEqual(self.runs("127.0.80.10"), 1)

    def test_udp_wait_is_bounded(self):
        t = self.exec_tracker(topology_timeout_ms=5000, topology_wait_ms=300)
        h = register_new(t)
        took = self.udp_announce(t, h, "127.0.80.7")  # the plugin takes 2 s
        self.assertLess(took, 1.5)
        self.assertEqual(self.racks(t, h), ["127.0.80.0/24"])
        wait_until(lambda: self.racks(t, h) == ["lhr1/2/slow"], timeout=10, what="moved later")

    def test_at_most_exec_max_running_at_once(self):
        t = self.exec_tracker(exec_max_running=1, topology_timeout_ms=5000)
        h = register_new(t)
        self.announce(t, h, "127.0.80.7")
        self.announce(t, h, "127.0.80.8")  # one is running: not started
        self.assertGreaterEqual(self.metric(t, "p2ptracker_topology_source_lookups_total",
                                            source="exec", outcome="skipped"), 1)
        wait_until(lambda: self.racks(t, h) == ["127.0.80.0/24", "lhr1/2/slow"], timeout=10,
                   what="the first answer")
        self.assertEqual(self.runs("127.0.80.8"), 0)
        self.announce(t, h, "127.0.80.8")  # its next announce asks
        wait_until(lambda: self.racks(t, h) == ["lhr1/2/slow"], timeout=10, what="the second answer")


if __name__ == "__main__":
    unittest.main()

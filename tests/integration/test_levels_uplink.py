"""Every level's uplink shaped, real clients: each carries the payload into its group about once.

bench/deploy/levels.py --uplink, small: it re-executes itself in a fresh network and mount
namespace and builds a switch tree of network namespaces (bench/deploy/fabric.py), 2
datacenters x 2 rows x 2 racks x 2 python3-libtorrent hosts on 10.D.(16 r + k).H, with every
rack's, row's and datacenter's link shaped by HTB both ways. An origin seeder and the tracker
sit above the core switch. A 4 MiB payload is deployed twice: through p2ptracker with
subnet_levels_v4 = [16, 20] and one representative per group at every level, and, the control,
with racks only. What each link carried comes from the kernel (the shaper's byte counters), not
from the clients.

The bound, per group at every level: the frames carrying data into it (IPv4 packets of 128
bytes or more, headers included) are at most 1.2 copies of the payload (issue 12's bar: one
representative's copy plus the blocks libtorrent's end game asks of two peers at once, 3-12 %
measured) times 1.046, what a copy weighs on the wire (14 bytes of Ethernet, 20 of IPv4 and 32
of TCP with timestamps on every 1448-byte segment at MTU 1500). Segments dropped at a full
switch buffer and sent again count again: they crossed the link. The small frames (pure ACKs
for what the group sends out, SYN/FIN, keep-alives) are counted apart and not as copies.

Needs root (network namespaces, tc), unshare and tc; skipped only where those commands are
missing or network namespaces cannot be created (not root, a container without CAP_SYS_ADMIN).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import ROOT

LEVELS_PY = os.path.join(ROOT, "bench", "deploy", "levels.py")
sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import fabric  # noqa: E402  (WIRE_FACTOR: what a copy weighs on the wire)

DCS, ROWS, RACKS, HOSTS = 2, 2, 2, 2
PAYLOAD_MIB = 4
PIECE_KIB = 64
UPLOAD_CAP_KIB = 2048          # links: rack 2 x 2048 / 4 = 1024 KiB/s, row and datacenter too
RUN_TIMEOUT = 240              # the whole levels.py run: two deploys of 10-45 s and the set-up
MAX_COPIES = 1.2
MAX_WIRE = MAX_COPIES * fabric.WIRE_FACTOR
# A link's busiest second, against its rate: HTB lets a burst (16 KiB here) through at once, and
# the sampler's seconds are not exact.
MAX_PEAK = 1.25
LEVELS = ("datacenter", "row", "rack")


class LevelsUplinkTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = [c for c in ("unshare", "tc", "ip") if shutil.which(c) is None]
        if missing:
            raise unittest.SkipTest("needs %s (util-linux, iproute2) for the shaped network "
                                    "namespaces" % ", ".join(missing))
        probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                               text=True)
        if probe.returncode != 0:  # not root, or a container without CAP_SYS_ADMIN
            raise unittest.SkipTest("cannot create network namespaces here (unshare --net: %s); "
                                    "run as root" % probe.stderr.strip())
        cls.dir = tempfile.mkdtemp(prefix="p2ptracker-levels-uplink-test-")
        out = os.path.join(cls.dir, "levels.json")
        args = [sys.executable, LEVELS_PY, "--uplink", "--dcs", str(DCS), "--rows", str(ROWS),
                "--racks", str(RACKS), "--hosts", str(HOSTS), "--payload-mib", str(PAYLOAD_MIB),
                "--piece-kib", str(PIECE_KIB), "--upload-cap-kib", str(UPLOAD_CAP_KIB),
                "--trackers", "levels,racks", "--timeout", "150", "--json", out]
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        try:
            output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # levels.py stops its trackers on SIGTERM
            try:
                output, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise AssertionError("levels.py --uplink did not finish in %d s:\n%s"
                                 % (RUN_TIMEOUT, output[-6000:]))
        print("\n" + output + "(%.0f s)" % (time.monotonic() - started))
        if proc.returncode != 0 or not os.path.exists(out):
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise AssertionError("levels.py --uplink failed (%s):\n%s"
                                 % (proc.returncode, output[-6000:]))
        with open(out) as f:
            cls.report = json.load(f)
        cls.size = cls.report["payload_size"]
        cls.rates = cls.report["rates"]
        cls.runs = {k: rs[0] for k, rs in cls.report["results"].items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "dir", ""), ignore_errors=True)

    def test_every_host_completes_with_the_payload(self):
        for label, r in self.runs.items():
            self.assertTrue(r["complete"], label)
            self.assertEqual(r["hosts"], DCS * ROWS * RACKS * HOSTS, label)
            self.assertEqual(r["hosts_ok"], r["hosts"], "%s: sha256 mismatch" % label)

    def test_the_hosts_are_in_their_racks(self):
        # Each session in its rack's namespace: it could bind its own address (no connection
        # from another one), and the tracker saw the hosts' addresses and no other.
        for label, r in self.runs.items():
            self.assertEqual(r["wrong_source"], [], label)
            self.assertEqual(r["tracker_saw"], {"hosts": r["hosts"], "others": []}, label)

    def test_each_level_carries_about_one_copy_in(self):
        r = self.runs["levels"]
        for level in LEVELS:
            for group, link in r["links"][level].items():
                # The group got the payload through its downlink (no group holds it at first),
                # and at least all that its hosts counted from outside it...
                self.assertGreaterEqual(link["in"], self.size, (level, group))
                self.assertGreaterEqual(link["in"], r["clients_inflow"][level][group],
                                        (level, group))
                # ...about once: one representative per group at every level.
                self.assertLessEqual(link["in"], MAX_WIRE * self.size,
                                     (level, group, link["in"] / self.size))

    def test_without_the_levels_a_datacenter_link_carries_more(self):
        # The control: with racks only, every rack's gateway fetches from any other rack, and a
        # datacenter's downlink carries several copies: the bound above can fail.
        r = self.runs["racks"]
        most = max(link["in"] for link in r["links"]["datacenter"].values()) / self.size
        self.assertGreater(most, MAX_WIRE, r["links"]["datacenter"])

    def test_the_links_are_shaped(self):
        for label, r in self.runs.items():
            for level in LEVELS:
                for group, link in r["links"][level].items():
                    for way in ("peak_in", "peak_out"):
                        self.assertLessEqual(link.get(way, 0), MAX_PEAK * self.rates[level],
                                             (label, level, group, way))
        # And the control's datacenter links were the bottleneck: busy at their rate.
        dcs = self.runs["racks"]["links"]["datacenter"].values()
        busiest = max(link["peak_in"] for link in dcs)
        self.assertGreater(busiest, 0.8 * self.rates["datacenter"])


if __name__ == "__main__":
    unittest.main()

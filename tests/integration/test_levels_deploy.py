"""Swarms in levels with real clients: every level's uplink carries the payload about once.

An origin seeder (127.0.0.1) and 2 datacenters x 2 rows x 2 racks x 2 python3-libtorrent hosts,
host H of rack k of row r of datacenter D on 127.D.(16 r + k).H, deploy a 4 MiB payload through
p2ptracker with subnet_levels_v4 = [16, 20] (each /16 a datacenter, each /20 a row above the /24
racks) and one representative per group at every level (max_repr_rack = 1, max_repr_levels =
[1, 1]). From the clients' per-connection byte counters (bench/deploy/swarm.py) it sums, for
each rack, row and datacenter, the payload its hosts received from outside it, and asserts the
bound each level's representatives set: about one copy per group (at most 1.2, issue 12's bar).
Under policy = "tree" also with hosts that join late (4 a rack, the last two 20 s after the
rest): a host that comes late takes from several hosts of its rack, and every group still
takes one copy.
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import levels  # noqa: E402  (bench/deploy/levels.py: the layout and the counting)
import swarm  # noqa: E402
import trackers  # noqa: E402

LEVELS = levels.LEVELS

DCS, ROWS, RACKS, HOSTS = 2, 2, 2, 2
PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 180.0
# The tree's late joiners: past kTreeMeshAfter (15 s) after their rack's first host.
LATE_HOSTS, LATE_SECONDS = 4, 20.0
# One representative per group: one copy in, plus the blocks libtorrent's end game asks of two
# peers at once (measured: 3-9 % at 4 MiB, 12 % at 2 MiB). The bar is issue 12's: at most 1.2
# copies into every group at every level.
MAX_COPIES = 1.2
ip_of = levels.level_ip(ROWS, RACKS)


class LevelsDeployTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.runs = {}
        try:
            # The same fleet twice: with the levels, and with racks only (the control).
            # And with policy = "chain" (two representatives per rack: the line's head and a
            # standby) and "tree", which hold one copy per group with no representative above
            # racks.
            for label, settings in (("levels", {"max_repr_levels": [1, 1],
                                                "subnet_levels_v4": [16, 20]}),
                                    ("racks only", {}),
                                    ("chain", {"policy": "chain", "max_repr_rack": 2,
                                               "subnet_levels_v4": [16, 20]}),
                                    ("tree", {"policy": "tree", "max_repr_rack": 2,
                                              "subnet_levels_v4": [16, 20]})):
                cls.runs[label] = cls.deploy_once(label, settings)
            late = {"r%dh%d" % (r, h) for r in range(1, DCS * ROWS * RACKS + 1) for h in (3, 4)}
            cls.runs["tree, late hosts"] = cls.deploy_once(
                "tree, late hosts", {"policy": "tree", "max_repr_rack": 2,
                                     "subnet_levels_v4": [16, 20]}, hosts=LATE_HOSTS, late=late)
        except BaseException:
            cls._teardown()
            raise
        cls.inflow = cls.runs["levels"][1]

    @classmethod
    def deploy_once(cls, label, settings, hosts=HOSTS, late=frozenset()):
        work_dir = tempfile.mkdtemp(prefix="p2ptracker-levels-deploy-")
        cls.work_dirs = getattr(cls, "work_dirs", []) + [work_dir]
        settings = dict(settings)
        tracker = trackers.P2PTracker(settings.pop("policy", "original"),
                                      max_repr_rack=settings.pop("max_repr_rack", 1), **settings)
        cls.trackers = getattr(cls, "trackers", []) + [tracker]
        tracker.start()
        sha256, torrent = swarm.make_payload_torrent(
            work_dir, tracker.url, PAYLOAD_BYTES, PIECE_BYTES, creator="p2ptracker test_levels_deploy")
        tracker.prepare(torrent, swarm.info_hash_of(torrent))
        deploy = swarm.Deploy(work_dir, torrent, DCS * ROWS * RACKS, hosts, UPLOAD_CAP,
                              os.path.join(work_dir, "origin"), ip_of=ip_of)
        cls.deploys = getattr(cls, "deploys", []) + [deploy]
        complete = deploy.run(COMPLETE_TIMEOUT, late=late, late_delay=LATE_SECONDS)
        inflow = levels.inflow_by_level(deploy.clients)  # level -> group -> bytes from outside
        print("\n%s: deploy %d x %d x %d x %d, %d MiB: %.1f s" % (
            label, DCS, ROWS, RACKS, hosts, PAYLOAD_BYTES >> 20, deploy.t_end - deploy.t0))
        levels.print_inflow(inflow, PAYLOAD_BYTES)
        # What the tests read of the clients, before their sessions go.
        files = {c.name: c.file_sha256() for c in deploy.clients}
        sources = {c.name: set(c.peer_sources) for c in deploy.clients}
        times = deploy.completion_times()
        # For each late host: the hosts of its rack it received payload from.
        fed_by = {c.name: {ip for ip, n in c.bytes_from().items()
                           if n > 0 and swarm.rack_of(ip) == c.rack}
                  for c in deploy.clients if c.name in late}
        cls.fed_by = getattr(cls, "fed_by", {})
        cls.fed_by[label] = fed_by
        deploy.close()
        tracker.stop()
        return complete, inflow, (files, sources, times), sha256

    @classmethod
    def _teardown(cls):
        for d in getattr(cls, "deploys", []):
            if d.origin is not None:
                d.close()
        for t in getattr(cls, "trackers", []):
            t.stop()
        for w in getattr(cls, "work_dirs", []):
            shutil.rmtree(w, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def test_every_host_completes_with_the_payload(self):
        for label, (complete, _, (files, _, times), sha256) in self.runs.items():
            self.assertTrue(complete, "%s incomplete: %s" % (label, times))
            hosts = LATE_HOSTS if label == "tree, late hosts" else HOSTS
            self.assertEqual(len(files), DCS * ROWS * RACKS * hosts)
            for name, digest in files.items():
                self.assertEqual(digest, sha256, (label, name))

    def test_each_level_pulls_about_one_copy_per_group(self):
        for level, _ in LEVELS:
            for group, n in self.inflow[level].items():
                # Each group got the payload, from outside (no group holds it at first)...
                self.assertGreaterEqual(n, PAYLOAD_BYTES * 0.99, (level, group))
                # ...about once: one representative per group at every level.
                self.assertLessEqual(n, PAYLOAD_BYTES * MAX_COPIES, (level, group, n))

    def test_the_chain_and_the_tree_take_one_copy_into_every_group(self):
        for label in ("chain", "tree", "tree, late hosts"):
            complete, inflow, (files, _, times), sha256 = self.runs[label]
            self.assertTrue(complete, "%s incomplete: %s" % (label, times))
            for name, digest in files.items():
                self.assertEqual(digest, sha256, (label, name))
            for level, _ in LEVELS:
                for group, n in inflow[level].items():
                    self.assertGreaterEqual(n, PAYLOAD_BYTES * 0.99, (label, level, group))
                    self.assertLessEqual(n, PAYLOAD_BYTES * MAX_COPIES, (label, level, group, n))

    def test_a_tree_host_that_comes_late_takes_from_several_hosts_of_its_rack(self):
        # In the tree a host receives from its parent alone; one that comes late is told of
        # its rack's hosts that feed no other rack too. Its rack has two late hosts and one
        # or two such hosts besides, so some late host of the eight racks pulls from two.
        fed_by = self.fed_by["tree, late hosts"]
        self.assertEqual(len(fed_by), DCS * ROWS * RACKS * 2, fed_by)
        self.assertGreaterEqual(max(len(ips) for ips in fed_by.values()), 2, fed_by)

    def test_without_the_levels_a_datacenter_pulls_more(self):
        # The control: with racks only, each rack's representative fetches from every other
        # rack, and a datacenter's uplink carries several copies.
        _, inflow, _, _ = self.runs["racks only"]
        most = max(inflow["datacenter"].values()) / PAYLOAD_BYTES
        self.assertGreater(most, MAX_COPIES, inflow["datacenter"])

    def test_no_host_took_peers_from_elsewhere(self):
        for label, (_, _, (_, sources, _), _) in self.runs.items():
            for name, found in sources.items():
                self.assertEqual(found - {"tracker"}, set(), (label, name))




class LevelsCommandsTest(unittest.TestCase):
    """The benchmark commands docs/policy.md gives, as a user would copy them: levels.py takes
    each one's arguments, and its trackers get the policy and levels they name. (Running them
    takes minutes each and root; test_levels_uplink runs the short shaped version.)"""

    def test_documented_commands_parse_and_name_their_trackers(self):
        with open(os.path.join(ROOT, "docs", "policy.md")) as f:
            text = f.read()
        # Commands wrap inside backquotes; a copied one is the text with its line breaks
        # taken for spaces.
        commands = [" ".join(c.split()) for c in re.findall(r"`([^`]*bench/deploy/levels\.py[^`]*)`",
                                                            text)]
        with_args = [c for c in commands if "levels.py " in c]
        self.assertGreaterEqual(len(with_args), 5, commands)
        work = tempfile.mkdtemp(prefix="p2ptracker-levels-commands-")
        self.addCleanup(shutil.rmtree, work, True)
        for command in with_args:
            argv = command.split("levels.py ", 1)[1].split()
            args = levels.parse_args(argv)
            for kind in args.trackers.split(","):
                tracker = levels.make_tracker(kind, args, work)
                if kind == "opentracker":
                    continue
                # Never started: only the data directory it made is left to remove.
                self.addCleanup(shutil.rmtree, tracker._tracker.data_dir, True)
                settings = tracker._tracker.settings
                shape, _, mode = kind.partition("-")
                self.assertEqual(settings["policy"], mode or "original", command)
                self.assertEqual(settings["max_repr_rack"], args.max_repr, command)
                if shape == "levels":
                    per_group = args.max_repr_levels or args.max_repr
                    self.assertEqual(settings["max_repr_levels"], [per_group] * 2, command)
                    self.assertEqual(settings["subnet_levels_v4"], [16, 20], command)
                else:
                    self.assertNotIn("max_repr_levels", settings, command)

    def test_a_misspelt_tracker_is_refused_before_any_deploy(self):
        for bad in ("level", "levels-", "opentrack", "racks,levls-relay"):
            with self.assertRaises(SystemExit, msg=bad):
                levels.parse_args(["--trackers", bad])


if __name__ == "__main__":
    unittest.main()

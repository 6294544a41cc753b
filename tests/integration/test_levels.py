"""Swarms in levels through the real binary: datacenter -> row -> rack (issue 12).

The fleet is on loopback: 127.D.(16 r + k).H is host H of rack k of row r of datacenter D,
so subnet_levels_v4 = [16, 20] makes each /16 a datacenter and each /20 a row above the /24
racks; the same fleet described by a map file of paths ("127.1.16.0/24 ams1/row1/rack0")
must be shaped the same way. One representative per group at every level
(max_repr_rack = 1, max_repr_levels = [1, 1]), so each view is exact.
"""
import os
import shutil
import tempfile
import unittest

from harness import Tracker, peers_of, register_new, run_tool, write_atomically

PORT = 6881


def host(dc, row, rack, h):
    return "127.%d.%d.%d" % (dc, 16 * row + rack, h)


FLEET = [(dc, row, rack, h) for dc in (1, 2) for row in (0, 1) for rack in (1, 2)
         for h in (1, 2)]


class LevelsTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-levels-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def announce(self, t, h, ip, left=1000, event=None):
        params = {"left": left, "port": PORT, "numwant": 50}
        if event:
            params["event"] = event
        r = t.announce(h, source=ip, **params)
        self.assertEqual(r.status, 200, r.body)
        return {ip for ip, _ in peers_of(r.bdecoded())}

    def check_views(self, t):
        h = register_new(t)
        self.announce(t, h, "127.9.0.1", left=0, event="started")  # the origin, its own dc
        for x in FLEET:
            self.announce(t, h, host(*x), event="started")
        self.assert_views(t, h)
        return h

    def assert_views(self, t, h):
        # A member: its rack-mate only.
        self.assertEqual(self.announce(t, h, host(1, 1, 2, 2)), {host(1, 1, 2, 1)})
        # A rack's representative: its rack and the other rack of its row.
        self.assertEqual(self.announce(t, h, host(1, 1, 2, 1)),
                         {host(1, 1, 2, 2), host(1, 1, 1, 1)})
        # A row's: also the other row's representative in its datacenter.
        self.assertEqual(self.announce(t, h, host(1, 1, 1, 1)),
                         {host(1, 1, 1, 2), host(1, 1, 2, 1), host(1, 0, 1, 1)})
        # A datacenter's: also the other datacenters' (the origin's among them).
        self.assertEqual(self.announce(t, h, host(2, 0, 1, 1)),
                         {host(2, 0, 1, 2), host(2, 0, 2, 1), host(2, 1, 1, 1),
                          host(1, 0, 1, 1), "127.9.0.1"})

    def test_subnet_levels(self):
        with Tracker(max_repr_rack=1, max_repr_levels=[1, 1], subnet_levels_v4=[16, 20]) as t:
            self.check_views(t)

    def test_a_restart_keeps_every_representatives_places(self):
        """A restart (SIGTERM) keeps each representative's places in its rack, row and
        datacenter for it (data_dir/progress.json): the hosts that announce before it are
        members, as they were, and every view is as before the restart. Their clients keep the
        connections outside their groups they were given, so before, each host elected in their
        stead was one more way into its group."""
        settings = dict(data_dir=self.dir, max_repr_rack=1, max_repr_levels=[1, 1],
                        subnet_levels_v4=[16, 20])
        with Tracker(**settings) as t:
            h = self.check_views(t)
        with Tracker(**settings) as t:
            self.assertIn("progress of 1 transfer(s) restored", "".join(t.log))
            # Each rack's second host first, then the representatives.
            for x in sorted(FLEET, key=lambda x: -x[3]):
                self.announce(t, h, host(*x))
            self.announce(t, h, "127.9.0.1", left=0)
            self.assert_views(t, h)

    def test_the_levels_in_the_api_and_status(self):
        path = self.map_of_paths()
        with Tracker(topology="file", topology_file=path, max_repr_rack=1,
                     max_repr_levels=[1, 1]) as t:
            self.check_views(t)
            h = [x for x in t.get("/api/v1/transfers/").json()][0]
            view = t.get("/api/v1/transfers/%s.json?racks=1" % h).json()
            levels = view["levels"]
            self.assertEqual(levels["dc1"], {"level": "dc", "parent": None,
                                             "representatives": [host(1, 0, 1, 1) + ":6881"]})
            self.assertEqual(levels["dc1/row1"], {"level": "row", "parent": "dc1",
                                                  "representatives": [host(1, 1, 1, 1) + ":6881"]})
            self.assertEqual(levels["origin-dc"]["representatives"], ["127.9.0.1:6881"])
            self.assertEqual(view["racks"]["dc2/row1/rack2"]["parent"], "dc2/row1")
            r = run_tool(["status", h, "--tracker", "http://127.0.0.1:%d" % t.port], timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertTrue(any(l.split()[:1] == ["GROUP"] for l in lines), r.stdout)
            row = [l for l in lines if l.split()[:1] == ["dc1/row1"]]
            self.assertEqual(row and row[0].split(), ["dc1/row1", "row", "dc1",
                                                      host(1, 1, 1, 1) + ":6881"], r.stdout)
            # watch, into a pipe: a line per group and its representatives.
            r = run_tool(["watch", h, "--tracker", "http://127.0.0.1:%d" % t.port,
                          "--interval", "0.2", "--timeout", "1"], timeout=20)
            self.assertIn("dc dc2 R %s:6881" % host(2, 0, 1, 1), r.stdout)
            self.assertIn("row dc1/row1 R %s:6881" % host(1, 1, 1, 1), r.stdout)

    def map_of_paths(self):
        lines = ["127.9.0.0/24 origin-dc/row0/rack0"]
        for dc in (1, 2):
            for row in (0, 1):
                for rack in (1, 2):
                    lines.append("127.%d.%d.0/24 dc%d/row%d/rack%d"
                                 % (dc, 16 * row + rack, dc, row, rack))
        path = os.path.join(self.dir, "racks.map")
        write_atomically(path, "\n".join(lines) + "\n")
        return path

    def test_map_file_of_paths(self):
        path = self.map_of_paths()
        with Tracker(topology="file", topology_file=path, max_repr_rack=1,
                     max_repr_levels=[1, 1]) as t:
            self.check_views(t)

    def test_a_map_whose_paths_name_other_levels_is_refused(self):
        """A path missing a level would put its datacenter at the rows' level: with
        "ams1/r12" beside "ams1/row3/r1", whichever came first left the other's representative
        told of nobody, and its rack never got the payload. Such a map is refused, naming the
        line; a single name beside paths is a group of its own."""
        path = os.path.join(self.dir, "racks.map")
        write_atomically(path, "127.9.0.0/24 build\n127.1.2.0/24 ams1/row3/r1\n"
                               "127.1.1.0/24 ams1/r12\n")
        r = run_tool(["serve", "--set", "topology=file", "--set", "topology_file=" + path,
                      "--set", "port=0", "--set", "data_dir=" + self.dir], timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:3: rack name 'ams1/r12' has 2 levels, but the path at %s:2 has 3"
                      % (path, path), r.stderr)

    def test_one_level_by_default(self):
        # No levels above racks: a rack's representative sees every other rack's.
        with Tracker(max_repr_rack=1) as t:
            h = register_new(t)
            for x in FLEET:
                self.announce(t, h, host(*x), event="started")
            reps = {host(*x) for x in FLEET if x[3] == 1}
            self.assertEqual(self.announce(t, h, host(1, 1, 2, 1)),
                             (reps - {host(1, 1, 2, 1)}) | {host(1, 1, 2, 2)})

    def test_levels_that_are_not_wider_than_the_rack_are_refused(self):
        r = run_tool(["serve", "--set", "subnet_levels_v4=[16,24]", "--print-config"],
                     timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("subnet_levels_v4", r.stderr)
        self.assertIn("/24 is not wider than /24", r.stderr)


if __name__ == "__main__":
    unittest.main()

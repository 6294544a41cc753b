"""A failed entry under policy = "tree", with real clients: a hung, then a dead, rack entry.

The fleet of test_levels_deploy (an origin on 127.0.0.1 and 2 datacenters x 2 rows x 2 racks x 2
python3-libtorrent hosts on 127.D.(16 r + k).H, subnet_levels_v4 = [16, 20]) under the tree.
Host r1h1 (127.1.1.1) joins 3 s before the others, so it is the first rack's entry, fed by the
origin, and the racks of its row and datacenter hang below it: it is the one way into all of
them. It fails. The tracker must pass it over, and every other host complete with one copy
into every rack, row and datacenter, as without a failure (docs/policy.md, "Failed hosts").

- Hung: it runs in libtorrent's upload mode (what libtorrent does when it cannot write to its
  disk), announcing every interval and downloading nothing: stuck once it has gone
  stall_intervals (3) x its announce interval (2 s) without progress while the origin had it
  all.
- Hung, at the default intervals: as above, but asked every downloading_interval (10 s).
- Dead: it is cut off from peers and tracker right after its first announce (a crash: no
  event=stopped). Having shown no schedule, it is kept for a libtorrent client's 300 s gap;
  the hosts it feeds, announcing without progress while it is silent, show that it gives
  nothing.
"""
import unittest

from failover import DCS, PAYLOAD_BYTES, RACKS, ROWS, FailedHostDeploy  # bench/deploy on the path
import levels  # noqa: E402

# Issue 12's bar, as test_levels_deploy: the failed host took nothing in, so no group takes in
# again what it had.
MAX_COPIES = 1.2


class FailedTreeEntry(FailedHostDeploy):
    """The deploy with FAILED failing as `failure` says ("hung" or "dead"); the subclasses run
    it (a base that is not a TestCase runs nothing)."""
    policy = "tree"
    settings = {"max_repr_rack": 2, "subnet_levels_v4": [16, 20]}

    def test_every_group_takes_about_one_copy(self):
        for level, _ in levels.LEVELS:
            self.assertEqual(len(self.inflow[level]), {"datacenter": DCS, "row": DCS * ROWS,
                                                       "rack": DCS * ROWS * RACKS}[level])
            for group, n in self.inflow[level].items():
                self.assertLessEqual(n, PAYLOAD_BYTES * MAX_COPIES, (level, group, n))

    def test_the_failed_host_received_nothing(self):
        self.assertIsNone(self.failed.completed_at)
        self.assertEqual(self.failed.downloaded, 0)


class HungTreeEntryTest(FailedTreeEntry, unittest.TestCase):
    failure = "hung"

    def test_the_hung_host_announced_throughout(self):
        # Every 2 s for the whole deploy: passed over for its progress, not dropped for silence.
        self.assertGreaterEqual(self.failed.tracker_replies, 5)


class HungTreeEntryAtTheDefaultIntervalsTest(FailedTreeEntry, unittest.TestCase):
    """The hung entry with the tracker's default intervals (active_interval 45 s,
    downloading_interval 10 s, peer_timeout 150 s): the tree's downloading hosts are asked to
    announce every 10 s, and the hung entry is passed over once it and a host it feeds have
    shown nothing for 30 s (kTreeHangShownAfter): 40.8 s here, at 1.00 copies into every group,
    where 45 s announces took 57.3 s (one run each, 2026-12-06). One CI run took 1.23 copies
    into a rack; two causes were found and fixed (docs/policy.md, "Failed hosts"): TreeTest.
    AHostIsJudgedOnlyOnceItsParentHadSomethingToGiveThoughItHasItAllNow and
    test_tree_late_entry."""
    failure = "hung"
    settings = {**FailedTreeEntry.settings, "active_interval": 45, "peer_timeout": 150}

    def test_the_hung_host_announced_every_downloading_interval(self):
        took = self.deploy.t_end - self.deploy.t0
        self.assertGreaterEqual(took, 30, "passed over before kTreeHangShownAfter")
        # Its first announce, then one every 10 s (45 s would give at most one more).
        self.assertGreaterEqual(self.failed.tracker_replies, int(took // 10) - 1)


class DeadTreeEntryTest(FailedTreeEntry, unittest.TestCase):
    failure = "dead"

    def test_the_dead_host_announced_once(self):
        self.assertEqual(self.failed.tracker_replies, 1)


if __name__ == "__main__":
    unittest.main()

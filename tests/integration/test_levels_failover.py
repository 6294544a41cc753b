"""Fail-over above racks with real clients: a hung, then a dead, representative of a datacenter
and its row.

The fleet of test_levels_deploy (an origin on 127.0.0.1 and 2 datacenters x 2 rows x 2 racks x 2
python3-libtorrent hosts on 127.D.(16 r + k).H, subnet_levels_v4 = [16, 20]), with one
representative per row and datacenter (max_repr_levels = [1, 1]) and two per rack, under the
default policy. Host r1h1 (127.1.1.1) joins 3 s before the others, so it represents its rack,
its row and datacenter 1, and it fails. It held the only way into its row and datacenter; the
tracker must hand both places to another representative of datacenter 1, and the deploy must
complete without it (docs/policy.md, "Levels").

- Hung: it runs in libtorrent's upload mode (what libtorrent does when it cannot write to its
  disk), announcing every interval and downloading nothing. The places pass once it has gone
  stall_intervals (3) x its announce interval (2 s) without progress while the swarm had the
  payload. Before that rule (issue 12) datacenter 1 never received a byte.
- Dead: it is cut off from peers and tracker right after its first announce (a crash: no
  event=stopped). Having shown no schedule, it is kept for a libtorrent client's 300 s gap
  (315 s with peer_timeout 30 s) and judged by its own progress only after two; the places pass
  once the representative below that takes them, and its rack, have gone their stall time
  without progress. Before that rule datacenter 1 waited for the expiry, beyond the 120 s the
  deploy is given.
"""
import contextlib
import threading
import time
import unittest

from failover import FAILED, FAILED_IP, FailedHostDeploy


class FailedRepresentativeAboveRacks(FailedHostDeploy):
    """The deploy with FAILED failing as `failure` says ("hung" or "dead"), and what holds
    either way; the subclasses run it (a base that is not a TestCase runs nothing)."""
    settings = {"max_repr_rack": 2, "max_repr_levels": [1, 1], "subnet_levels_v4": [16, 20]}

    @classmethod
    @contextlib.contextmanager
    def watching(cls, info_hash):
        # Who represents each row and datacenter, as the tracker's API shows it while the
        # deploy runs: {group: [representatives, each time they changed]}, and when (seconds
        # from the first host's start), for the log.
        cls.places, cls.changed_at = {}, {}
        done = threading.Event()
        start = time.monotonic()

        def watch():
            while not done.is_set():
                view = cls.tracker.transfer(info_hash) or {}
                for name, group in (view.get("levels") or {}).items():
                    reps = [r.rsplit(":", 1)[0] for r in group["representatives"]]
                    seen = cls.places.setdefault(name, [])
                    if not seen or seen[-1] != reps:
                        seen.append(reps)
                        cls.changed_at.setdefault(name, []).append(
                            round(time.monotonic() - start, 1))
                done.wait(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join(5)
            print("\nplaces above racks over time: %s at %s" % (cls.places, cls.changed_at))

    def test_the_failed_host_held_its_row_and_datacenter_then_lost_both(self):
        groups = [name for name in self.places if name.startswith("127.1.0.0/")]
        self.assertEqual(sorted(groups), ["127.1.0.0/16", "127.1.0.0/20"], self.places)
        for name in groups:
            history = self.places[name]
            self.assertEqual(history[0], [FAILED_IP], (name, history))
            self.assertNotIn(FAILED_IP, history[-1], (name, history))
            self.assertEqual(len(history[-1]), 1, (name, history))  # one per group, taken over

    def test_the_tracker_counted_the_replacement(self):
        counts = [line.split()[-1] for line in self.metrics.splitlines()
                  if line.startswith("p2ptracker_representatives_replaced_total")]
        self.assertEqual(len(counts), 1, self.metrics)
        self.assertGreaterEqual(float(counts[0]), 1)
        self.assertIn("took a place above its rack from a representative stalled there",
                      self.tracker.log())


class HungRepresentativeAboveRacksTest(FailedRepresentativeAboveRacks, unittest.TestCase):
    failure = "hung"

    def test_the_hung_host_announced_throughout_and_received_nothing(self):
        self.assertIsNone(self.failed.completed_at)
        self.assertEqual(self.failed.downloaded, 0)
        # It went on announcing (every 2 s) for the whole deploy: it was judged by its
        # progress, not dropped for silence.
        self.assertGreaterEqual(self.failed.tracker_replies, 5)


class DeadRepresentativeAboveRacksTest(FailedRepresentativeAboveRacks, unittest.TestCase):
    failure = "dead"

    def test_the_dead_host_announced_once(self):
        self.assertIsNone(self.failed.completed_at)
        self.assertEqual(self.failed.tracker_replies, 1)


if __name__ == "__main__":
    unittest.main()

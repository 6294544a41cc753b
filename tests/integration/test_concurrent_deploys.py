"""Two deploys at once through one tracker, real clients: repr_budget = "per_rack" (issue 12).

Two payloads, each deployed by its own origin to the same 2 racks x 3 hosts (127.0.R.H; every
host runs one python3-libtorrent session per deploy), the second started 2 s after the first and
its hosts in the opposite order, as a second pipeline would. With max_repr_rack = 1:
  - per_transfer (the default): each deploy's first host of a rack represents it, so two hosts
    of each rack pull across its uplink;
  - per_rack: the rack's one representative serves both deploys and the others wait as members.
Every 0.2 s the test reads both transfers' views from the tracker's API and counts, per rack,
the distinct hosts representing it in either. Both deploys must complete either way.
"""
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import swarm  # noqa: E402
import trackers  # noqa: E402

RACKS, HOSTS = 2, 3
PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
UPLOAD_CAP = 1024 * 1024
COMPLETE_TIMEOUT = 150.0
STAGGER = 2.0
# The hosts' racks (the origins, both on 127.0.0.1, are a rack of their own).
HOST_RACKS = {"127.0.%d.0/24" % r for r in range(1, RACKS + 1)}


def run_two_deploys(budget):
    """Returns (both complete, {rack: most distinct representative hosts seen at once},
    {rack: every host that represented it}, diagnosis text)."""
    work = tempfile.mkdtemp(prefix="p2ptracker-concurrent-")
    tracker = trackers.P2PTracker("original", max_repr_rack=1, repr_budget=budget)
    deploys, hashes, results = [], [], {}
    most, ever = {}, {}
    try:
        tracker.start()
        for name in ("first", "second"):
            d = os.path.join(work, name)
            os.makedirs(d)
            _, torrent = swarm.make_payload_torrent(d, tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
                                                    creator="p2ptracker " + name)
            h = swarm.info_hash_of(torrent)
            tracker.prepare(torrent, h, file_name=name + ".torrent")
            deploy = swarm.Deploy(d, torrent, RACKS, HOSTS, UPLOAD_CAP, os.path.join(d, "origin"))
            if name == "second":
                deploy.clients.reverse()  # host 3 of each rack announces first
            deploys.append(deploy)
            hashes.append(h)

        done = threading.Event()

        def watch():
            while not done.is_set():
                reps = {}
                for h in hashes:
                    view = tracker.transfer(h) or {}
                    for rack, r in view.get("racks", {}).items():
                        for m in r["members"]:
                            if m["representative"]:
                                reps.setdefault(rack, set()).add(m["peer"].rsplit(":", 1)[0])
                for rack, hosts in reps.items():
                    most[rack] = max(most.get(rack, 0), len(hosts))
                    ever.setdefault(rack, set()).update(hosts)
                time.sleep(0.2)

        def run(i):
            time.sleep(i * STAGGER)
            results[i] = deploys[i].run(COMPLETE_TIMEOUT)

        watcher = threading.Thread(target=watch)
        watcher.start()
        runners = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in runners:
            t.start()
        for t in runners:
            t.join()
        done.set()
        watcher.join()
        diag = "".join("--- %s ---\n%s" % (i, "".join(d.timeline().splitlines(True)[-30:]))
                       for i, d in enumerate(deploys)) + tracker.log()[-3000:]
        times = [d.deploy_seconds() for d in deploys]
        print("\nrepr_budget %s: deploys %s s; representatives per rack at once, most: %s"
              % (budget, ", ".join("%.1f" % t if t else "INCOMPLETE" for t in times),
                 dict(sorted(most.items()))))
        return all(results.get(i) for i in range(2)), most, ever, diag
    finally:
        for d in deploys:
            if d.origin is not None:
                d.close()
        tracker.stop()
        shutil.rmtree(work, ignore_errors=True)


class ConcurrentDeploysTest(unittest.TestCase):

    def test_per_transfer_budget_lets_each_deploy_pick_its_own(self):
        complete, most, ever, diag = run_two_deploys("per_transfer")
        self.assertTrue(complete, diag)
        self.assertLessEqual(HOST_RACKS, set(most), most)
        # The control: without the shared budget, two hosts of each rack represent it.
        for rack in HOST_RACKS:
            self.assertGreaterEqual(len(ever[rack]), 2, (rack, ever[rack]))

    def test_per_rack_budget_bounds_a_rack_across_deploys(self):
        complete, most, ever, diag = run_two_deploys("per_rack")
        self.assertTrue(complete, diag)
        self.assertLessEqual(HOST_RACKS, set(most), most)
        for rack in HOST_RACKS:
            self.assertEqual(len(ever[rack]), 1, (rack, ever[rack]))


if __name__ == "__main__":
    unittest.main()

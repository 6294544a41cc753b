"""Two deploys at once through one tracker, real clients: repr_budget = "per_rack" (issue 12).

Two payloads, each deployed by its own origin to the same 2 racks x 3 hosts (127.0.R.H; every
host runs one python3-libtorrent session per deploy). The second starts once the first has
chosen each rack's representative, and that host joins it 1.5 s after the rack's other hosts,
as happens when a second pipeline's hosts are not in the same order. With max_repr_rack = 1:
  - per_transfer (the default): one of the rack's other hosts represents it in the second
    deploy, so two hosts of each rack pull across its uplink;
  - per_rack: the rack's other hosts wait as members, and the first deploy's representative
    takes the second deploy's slot when it joins: one host per rack.
Every 0.2 s the test reads both transfers' views from the tracker's API and records, per rack,
the hosts representing it in either. Both deploys must complete either way.
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
LATE = 1.5  # seconds the first deploy's representatives join the second after the others
# The hosts' racks (the origins, both on 127.0.0.1, are a rack of their own).
HOST_RACKS = {"127.0.%d.0/24" % r for r in range(1, RACKS + 1)}


def run_two_deploys(budget):
    """Returns (both complete, {rack: most distinct representative hosts seen at once},
    {rack: every host that represented it in either deploy}, diagnosis text)."""
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
            deploys.append(swarm.Deploy(d, torrent, RACKS, HOSTS, UPLOAD_CAP,
                                        os.path.join(d, "origin")))
            hashes.append(h)

        done = threading.Event()

        def representatives():
            reps = {}
            for h in hashes:
                view = tracker.transfer(h) or {}
                for rack, r in view.get("racks", {}).items():
                    for m in r["members"]:
                        if m["representative"]:
                            reps.setdefault(rack, set()).add(m["peer"].rsplit(":", 1)[0])
            return reps

        def watch():
            while not done.is_set():
                for rack, hosts in representatives().items():
                    most[rack] = max(most.get(rack, 0), len(hosts))
                    ever.setdefault(rack, set()).update(hosts)
                time.sleep(0.2)

        first = threading.Thread(target=lambda: results.__setitem__(0, deploys[0].run(
            COMPLETE_TIMEOUT)))
        first.start()
        # The first deploy's representative in each rack, once it has one.
        deadline = time.monotonic() + 30
        while True:
            reps = representatives()
            if HOST_RACKS <= set(reps) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        first_reps = {ip for rack in HOST_RACKS for ip in reps.get(rack, ())}
        late = {c.name for c in deploys[1].clients if c.ip in first_reps}
        watcher = threading.Thread(target=watch)
        watcher.start()
        second = threading.Thread(target=lambda: results.__setitem__(1, deploys[1].run(
            COMPLETE_TIMEOUT, late=late, late_delay=LATE)))
        second.start()
        first.join()
        second.join()
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

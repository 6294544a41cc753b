#!/usr/bin/env python3
"""Announces that wait for a lookup while the SMDB bulk inventory is fetched and stored.

The inventory (ADDRESSES entries, smdb_bulk_url, fetched every 10 s) is served by a static
HTTP server on loopback; per-address lookups go to tests/integration/smdb_server.py. For
SECONDS, a new host (not in the inventory) announces every 20 ms with topology_wait_ms, so
each announce waits for its lookup, which runs on the topology chain's thread, the thread the
inventory's answers are stored on. Prints the announce round trips (p50, p99, max) over the
bulk fetches of the run: the longest an announce waited behind an inventory.

Usage: bench/topology/bulk.py [--addresses N] [--seconds S]   (make bench-topology-bulk)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import SmdbServer, Tracker, free_port, register_new  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=200000,
                        help="entries in the inventory (default 200000)")
    parser.add_argument("--seconds", type=float, default=32,
                        help="how long hosts announce (default 32: three fetches)")
    return parser.parse_args(argv)


def main():
    args = parse_args()
    work = tempfile.mkdtemp(prefix="p2ptracker-bulk-bench-")
    inventory = {}
    for i in range(args.addresses):
        inventory["10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)] = {
            "cabinet": "cab-%d" % (i // 40), "name": "host%d" % i}
    with open(os.path.join(work, "inventory.json"), "w") as f:
        json.dump(inventory, f)
    print("bulk inventory: %d addresses (%.1f MB), hosts announcing for %.0f s"
          % (args.addresses, os.path.getsize(os.path.join(work, "inventory.json")) / 1e6,
             args.seconds), flush=True)
    port = free_port()
    static = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", work],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    smdb = SmdbServer().start()
    try:
        time.sleep(0.5)
        with Tracker(topology=["smdb", "subnet"], smdb_url=smdb.url,
                     smdb_bulk_url="http://127.0.0.1:%d/inventory.json" % port,
                     smdb_bulk_interval=10, topology_wait_ms=2000, topology_timeout_ms=2000) as t:
            h = register_new(t)
            times = []
            k = 0
            end = time.time() + args.seconds
            while time.time() < end:
                k += 1
                started = time.perf_counter()
                r = t.announce(h, source="127.1.%d.%d" % (k >> 8, (k & 255) or 1), port=6881)
                times.append((time.perf_counter() - started) * 1e3)
                assert r.status == 200, r.body
                time.sleep(0.02)
            fetches = t.output().count("inventory of %d addresses" % args.addresses)
    finally:
        smdb.stop()
        static.kill()
        static.wait()
        shutil.rmtree(work, ignore_errors=True)
    times.sort()
    print("%d inventory fetches, %d announces: round trip p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (fetches, len(times), times[len(times) // 2], times[int(len(times) * 0.99)],
             times[-1]))
    return 0 if fetches > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

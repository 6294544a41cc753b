#!/usr/bin/env python3
"""Soak: minutes of sustained mixed load on the real p2ptracker binary, its RSS
sampled from /proc/<pid>/status, which must stay flat once the swarms are full
(issue 10).

The load, from several threads, each request on its own connection:
  - announces from --peers simulated peers (distinct 127.x source addresses,
    one port and peer id each), every peer in --per-peer of --transfers
    registered transfers: started, left going down, completed, seeding, now
    and then stopped and started again;
  - scrapes of one to five transfers;
  - stats GETs: a transfer with its racks, the torrent list, /metrics, the
    history, /health;
and, from one admin thread at 127.0.0.1 every --rotate-every seconds, a
transfer slot rotated: its transfer deactivated (DELETE /api/v1/transfers/
<hash>) or replaced, and a new .torrent registered in its place
(POST /api/v1/torrents/<name>.torrent).

At the end: the RSS over time as CSV (and a PNG with --plot, gnuplot), RSS at
start, when the swarms are full, and at the end, and a check that RSS grew by
less than --max-growth-mb over the second half. The tracker is stopped with
SIGTERM and its output searched for sanitizer reports, so a run against the
ASan build (make soak runs a short one) fails on any leak LeakSanitizer finds
at exit.

  bench/soak/soak.py --binary build/p2ptracker --seconds 600 --plot docs/soak-rss.png
"""
import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "p2ptracker"),
                   help="the tracker to run (default: build/p2ptracker)")
    p.add_argument("--seconds", type=float, default=600, help="load duration (default 600)")
    p.add_argument("--peers", type=int, default=5000, help="simulated peers (default 5000)")
    p.add_argument("--transfers", type=int, default=300, help="transfer slots (default 300)")
    p.add_argument("--per-peer", type=int, default=3,
                   help="transfers each peer takes part in (default 3)")
    p.add_argument("--threads", type=int, default=8, help="load threads (default 8)")
    p.add_argument("--rotate-every", type=float, default=2.0,
                   help="seconds between slot rotations (deactivate/replace + register; default 2)")
    p.add_argument("--sample-every", type=float, default=1.0,
                   help="seconds between RSS samples (default 1)")
    p.add_argument("--progress-every", type=float, default=10.0,
                   help="seconds between progress lines (default 10)")
    p.add_argument("--max-growth-mb", type=float, default=4.0,
                   help="most RSS growth allowed over the second half (default 4 MB)")
    p.add_argument("--no-rss-check", action="store_true",
                   help="report RSS but do not fail on growth (ASan runs: its quarantine grows)")
    p.add_argument("--max-error-rate", type=float, default=0.001,
                   help="largest share of requests that may fail (default 0.001)")
    p.add_argument("--workers", type=int, default=2, help="tracker worker threads (default 2)")
    p.add_argument("--csv", default=None,
                   help="where to write the RSS samples (default: a temporary directory)")
    p.add_argument("--plot", default=None, help="write a PNG of RSS and peers over time here")
    p.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    return p.parse_args()


ARGS = parse_args()
os.environ["P2PTRACKER_BIN"] = os.path.abspath(ARGS.binary)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (reads P2PTRACKER_BIN at import)

PIECE = 16384


class Slot:
    """One registered transfer; a rotation gives it a new torrent (new hash)."""

    def __init__(self, index):
        self.index = index
        self.generation = 0
        self.info_hash = None
        self.size = 0


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in ("announce", "scrape", "stats", "register", "deactivate")}
        self.errors = 0
        self.error_samples = []

    def count(self, kind):
        with self.lock:
            self.counts[kind] += 1

    def error(self, what):
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(what)

    def total(self):
        with self.lock:
            return sum(self.counts.values())


class Soak:
    def __init__(self, args, tracker, rng):
        self.args = args
        self.t = tracker
        self.rng = rng
        self.stats = Stats()
        self.stop = threading.Event()
        self.slots = [Slot(i) for i in range(args.transfers)]
        self.slots_lock = threading.Lock()
        # Peer i: source 127.(1 + i / 65024).(i / 254 % 256).(i % 254 + 1), never 127.0.0.x.
        self.peers = []
        for i in range(args.peers):
            addr = "127.%d.%d.%d" % (1 + i // 65024, (i // 254) % 256, i % 254 + 1)
            slots = rng.sample(range(args.transfers), min(args.per_peer, args.transfers))
            peer_id = b"-SK0001-" + b"%012d" % i
            self.peers.append((addr, 10000 + i % 50000, peer_id, slots))
        # (peer, slot) -> (generation, left), the peer's state in that transfer; one lock each
        # peer would be finer, one for all is plenty for Python's speed.
        self.state = {}
        self.state_lock = threading.Lock()
        self.peers_gauge = 0
        self.samples = []  # (seconds, rss_kb, requests, peers)

    # --- admin: registrations and deactivations, from the local host ------------------------

    def register(self, slot):
        slot_gen = slot.generation + 1
        size = PIECE * self.rng.randint(2, 64)
        name = "soak-%d.torrent" % slot.index
        # Payload content only matters for the piece hashes; vary it by generation.
        payload = (b"%d/%d " % (slot.index, slot_gen)) * (size // 8)
        payload = payload[:size].ljust(size, b".")
        torrent, info_hash = harness.make_torrent(name[:-8], payload, announce=self.t.url)
        r = harness.http_request(self.t.port, "POST", "/api/v1/torrents/" + name, body=torrent,
                                 headers={"Content-Type": "application/x-bittorrent"},
                                 source="127.0.0.1", timeout=30)
        self.stats.count("register")
        if r.status not in (200, 201):
            self.stats.error("register %s: %d %r" % (name, r.status, r.body[:200]))
            return
        with self.slots_lock:
            slot.generation, slot.info_hash, slot.size = slot_gen, info_hash, size

    def deactivate(self, slot):
        with self.slots_lock:
            h = slot.info_hash
        r = harness.http_request(self.t.port, "DELETE", "/api/v1/transfers/" + h.hex(),
                                 source="127.0.0.1", timeout=30)
        self.stats.count("deactivate")
        if r.status != 200:
            self.stats.error("deactivate %s: %d %r" % (h.hex(), r.status, r.body[:200]))

    def admin_loop(self):
        while not self.stop.wait(self.args.rotate_every):
            slot = self.rng.choice(self.slots)
            try:
                # Half the rotations deactivate first, half replace by registering new content
                # under the same name (which deactivates the old transfer into the history).
                if self.rng.random() < 0.5:
                    self.deactivate(slot)
                self.register(slot)
            except Exception as e:  # a refused connection, a timeout
                self.stats.error("admin: %r" % e)

    # --- load --------------------------------------------------------------------------------

    def announce(self, rng):
        addr, port, peer_id, slots = self.peers[rng.randrange(len(self.peers))]
        slot = self.slots[slots[rng.randrange(len(slots))]]
        with self.slots_lock:
            gen, info_hash, size = slot.generation, slot.info_hash, slot.size
        key = (peer_id, slot.index)
        with self.state_lock:
            g, left = self.state.get(key, (None, None))
            if g != gen:
                left = None
            event = None
            if left is None:
                event, left = "started", size
            elif rng.random() < 0.02:
                event = "stopped"
            elif left > 0:
                left = max(0, left - size // 4)
                if left == 0:
                    event = "completed"
            self.state[key] = (gen, None if event == "stopped" else left)
        q = harness.announce_query(info_hash, peer_id=peer_id, port=port, left=left,
                                   downloaded=size - left, event=event)
        r = harness.http_request(self.t.port, "GET", "/announce?" + q, source=addr, timeout=30)
        self.stats.count("announce")
        if r.status != 200 or b"failure reason" in r.body:
            self.stats.error("announce from %s: %d %r" % (addr, r.status, r.body[:200]))

    def scrape(self, rng):
        with self.slots_lock:
            hashes = [s.info_hash for s in rng.sample(self.slots, min(len(self.slots),
                                                                      rng.randint(1, 5)))]
        r = harness.http_request(self.t.port, "GET", "/scrape?" + harness.scrape_query(*hashes),
                                 source=self.peers[rng.randrange(len(self.peers))][0], timeout=30)
        self.stats.count("scrape")
        if r.status != 200 or b"failure reason" in r.body:
            self.stats.error("scrape: %d %r" % (r.status, r.body[:200]))

    def stats_get(self, rng):
        with self.slots_lock:
            h = rng.choice(self.slots).info_hash.hex()
        target = rng.choice(["/api/v1/transfers/%s?racks=1" % h, "/api/v1/transfers/%s" % h,
                             "/api/v1/torrents/", "/metrics", "/api/v1/history", "/health",
                             "/api/v1/transfers/"])
        r = harness.http_request(self.t.port, "GET", target, source="127.0.0.1", timeout=30)
        self.stats.count("stats")
        # A transfer the admin thread deactivated a moment ago is a 404 until it is registered
        # again: an answer, not an error.
        if r.status != 200 and not (r.status == 404 and target.startswith("/api/v1/transfers/")):
            self.stats.error("GET %s: %d %r" % (target, r.status, r.body[:200]))

    def load_loop(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            x = rng.random()
            try:
                if x < 0.88:
                    self.announce(rng)
                elif x < 0.94:
                    self.scrape(rng)
                else:
                    self.stats_get(rng)
            except Exception as e:
                self.stats.error("%r" % e)

    # --- sampling ------------------------------------------------------------------------------

    def rss_kb(self):
        with open("/proc/%d/status" % self.t.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def read_peers(self):
        try:
            r = harness.http_request(self.t.port, "GET", "/metrics", timeout=30)
            m = re.search(rb"^p2ptracker_peers (\d+)", r.body, re.M)
            if m:
                self.peers_gauge = int(m.group(1))
        except Exception:
            pass

    def sample_loop(self, start):
        next_peers = 0
        while not self.stop.is_set():
            now = time.time() - start
            if now >= next_peers:
                self.read_peers()
                next_peers = now + 5
            self.samples.append((now, self.rss_kb(), self.stats.total(), self.peers_gauge))
            self.stop.wait(self.args.sample_every)


def mb(kb):
    return kb / 1024.0


def median_rss(samples, t0, t1):
    values = [s[1] for s in samples if t0 <= s[0] <= t1]
    return statistics.median(values) if values else float("nan")


def plot(csv_path, png_path, title):
    script = """
set terminal pngcairo size 900,450 font ",10"
set output '%s'
set title '%s'
set datafile separator ','
set key bottom right
set xlabel 'seconds'
set ylabel 'tracker RSS (MB)'
set y2label 'peers in all swarms'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
plot '%s' using 1:($2/1024) skip 1 with lines lw 2 title 'RSS (MB)', \\
     '' using 1:4 skip 1 axes x1y2 with lines dt 2 title 'peers'
""" % (png_path, title.replace("'", ""), csv_path)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def main():
    args = ARGS
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("soak: %s, %ds, %d peers over %d transfers (%d each), %d threads, seed %d"
          % (args.binary, args.seconds, args.peers, args.transfers, args.per_peer, args.threads,
             seed), flush=True)
    rng = random.Random(seed)
    # A soak of the default configuration (as an operator runs it), on loopback.
    tracker = harness.Tracker(workers=args.workers).start(timeout=60)
    soak = Soak(args, tracker, rng)
    failed = []
    try:
        start = time.time()
        rss_at_start = soak.rss_kb()
        for slot in soak.slots:
            soak.register(slot)
        if soak.stats.errors:
            raise SystemExit("soak: registering failed: %s" % soak.stats.error_samples)
        print("soak: %d transfers registered in %.1fs, RSS %.1f MB (%.1f MB before)"
              % (len(soak.slots), time.time() - start, mb(soak.rss_kb()), mb(rss_at_start)),
              flush=True)

        start = time.time()
        threads = [threading.Thread(target=soak.sample_loop, args=(start,), daemon=True),
                   threading.Thread(target=soak.admin_loop, daemon=True)]
        threads += [threading.Thread(target=soak.load_loop, args=(rng.randrange(1 << 30),),
                                     daemon=True) for _ in range(args.threads)]
        for th in threads:
            th.start()
        next_progress = args.progress_every
        last_total, last_t = 0, 0.0
        while True:
            now = time.time() - start
            if now >= args.seconds:
                break
            if tracker.proc.poll() is not None:
                failed.append("the tracker exited with %s" % tracker.proc.returncode)
                break
            if now >= next_progress:
                total = soak.stats.total()
                c = soak.stats.counts
                print("[%4ds] %8d requests (%4.0f/s): announce %d, scrape %d, stats %d, "
                      "register %d, deactivate %d | errors %d | peers %d | RSS %.1f MB"
                      % (now, total, (total - last_total) / (now - last_t), c["announce"],
                         c["scrape"], c["stats"], c["register"], c["deactivate"],
                         soak.stats.errors, soak.peers_gauge, mb(soak.rss_kb())), flush=True)
                last_total, last_t = total, now
                next_progress += args.progress_every
            time.sleep(0.2)
        soak.stop.set()
        for th in threads:
            th.join(60)
        duration = time.time() - start
    finally:
        soak.stop.set()
        tracker.stop(timeout=60)
        sanitizer_report = None
        try:
            tracker.cleanup()  # reads the output to its end, then looks for sanitizer reports
        except AssertionError as e:
            sanitizer_report = str(e)

    samples = soak.samples
    csv_path = args.csv or os.path.join(tempfile.mkdtemp(prefix="p2ptracker-soak-"), "rss.csv")
    with open(csv_path, "w") as f:
        f.write("seconds,rss_kb,requests,peers\n")
        for s in samples:
            f.write("%.1f,%d,%d,%d\n" % s)

    total = soak.stats.total()
    c = soak.stats.counts
    print("soak: %d requests in %.0fs (%.0f/s): announce %d, scrape %d, stats %d, register %d "
          "(plus %d at start), deactivate %d; %d errors"
          % (total, duration, total / duration, c["announce"], c["scrape"], c["stats"],
             c["register"] - args.transfers, args.transfers, c["deactivate"], soak.stats.errors))
    for e in soak.stats.error_samples:
        print("  error: %s" % e)
    if total and soak.stats.errors > args.max_error_rate * total:
        failed.append("%d of %d requests failed" % (soak.stats.errors, total))

    if samples:
        half = duration / 2
        peak_peers = max(s[3] for s in samples)
        full = next((s for s in samples if s[3] >= 0.95 * peak_peers), samples[-1])
        window = max(5 * args.sample_every, duration / 20)
        rss_mid = median_rss(samples, half - window / 2, half + window / 2)
        rss_end = median_rss(samples, duration - window, duration)
        growth = mb(rss_end - rss_mid)
        print("soak: RSS %.1f MB at start of load, %.1f MB when the swarms were full (%ds, %d "
              "peers), %.1f MB at half time, %.1f MB at the end, peak %.1f MB; second-half "
              "growth %+.2f MB (bound %.1f MB)"
              % (mb(samples[0][1]), mb(full[1]), full[0], full[3], mb(rss_mid), mb(rss_end),
                 mb(max(s[1] for s in samples)), growth, args.max_growth_mb))
        if growth > args.max_growth_mb:
            msg = "RSS grew %.2f MB over the second half (bound %.1f MB)" % (growth,
                                                                           args.max_growth_mb)
            if args.no_rss_check:
                print("soak: (not checked) " + msg)
            else:
                failed.append(msg)
    print("soak: samples in %s" % csv_path)
    if args.plot and samples:
        plot(csv_path, args.plot, "p2ptracker RSS under mixed load: %d peers, %d transfers, "
             "%.0f req/s" % (args.peers, args.transfers, total / duration))
        print("soak: plot in %s" % args.plot)

    if sanitizer_report:
        failed.append(sanitizer_report)
    else:
        print("soak: no sanitizer report in the tracker's output (exit code %s)"
              % tracker.proc.returncode)
    if failed:
        for f in failed:
            print("soak: FAILED: %s" % f, file=sys.stderr)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

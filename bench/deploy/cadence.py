"""How each real client announces over minutes, and what the tracker makes of it.

One rack of hosts, one of each client (python3-libtorrent on libtorrent's own defaults,
qbittorrent-nox, rtorrent, aria2c, transmission-cli), download a payload that the origin
serves slowly, so every host stays a leecher that makes progress for the whole run: the
situation in which a tracker can take a slow announcer for stuck or gone. Each tracker under
comparison gets its own swarm at the same time, on its embedded defaults (interval, min
interval, peer_timeout 150 s, max_repr_rack 2): the build under test on 127.0.1.H and, with
--before BINARY (for example a build of an earlier commit), another binary on 127.0.2.H.

Every 2 s the script reads each tracker's view of its swarm (/api/v1/transfers/<hash>.json)
and, per host, adds up the time it was missing from the swarm while it was running, the time
it was shown stuck, and the hosts that held a representative slot. The build under test logs
every announce at debug level: from that log come each client's announces and its gaps between
regular announces (no event).

Usage: /usr/bin/python3 bench/deploy/cadence.py [--minutes 11] [--before BINARY]
       (make bench-cadence BEFORE=... builds the tracker first)
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clients  # noqa: E402
import swarm  # noqa: E402
from harness import Tracker  # noqa: E402  (clients put tests/integration on the path)

KIB = 1 << 10
KINDS = ("libtorrent", "qbittorrent", "rtorrent", "aria2c", "transmission")
POLL_SECONDS = 2.0
ANNOUNCE_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\] \[debug\] announce "
                           r"[0-9a-f]{40} from ([0-9.]+):\d+ \(event (\d)")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--minutes", type=float, default=11.0,
                   help="how long the hosts run (libtorrent's 300 s cadence needs 10+)")
    p.add_argument("--before", metavar="BINARY",
                   help="a second p2ptracker binary to compare, in its own swarm")
    p.add_argument("--payload-mib", type=float, default=16)
    p.add_argument("--origin-cap-kib", type=int, default=16,
                   help="the origin's upload cap: low, so the hosts are leechers all along")
    p.add_argument("--kinds", default=",".join(KINDS), help="clients, one host each")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args(argv)


class Swarm:
    """One tracker, its origin and one host per client kind in rack 127.0.RACK.0/24."""

    def __init__(self, label, binary, rack, kinds, args, work):
        self.label, self.rack, self.kinds = label, rack, kinds
        self.dir = os.path.join(work, "rack%d" % rack)
        os.makedirs(self.dir)
        self.tracker = Tracker(binary=binary, log_level="debug", data_dir=os.path.join(
            self.dir, "data"))
        self.args = args
        self.hosts = {}      # ip -> (kind, host)
        self.present = {}    # ip -> seconds seen in the swarm
        self.absent = {}     # ip -> seconds missing while running
        self.stuck = {}      # ip -> seconds shown stuck
        self.reps = set()    # every ip that held a representative slot
        self.max_reps = 0
        self.polls = 0

    def start(self):
        self.tracker.start()
        payload = int(self.args.payload_mib * (1 << 20))
        _, self.torrent = swarm.make_payload_torrent(self.dir, self.tracker.url, payload,
                                                     64 * KIB, creator="p2ptracker cadence")
        self.info_hash = swarm.info_hash_of(self.torrent)
        reply = self.tracker.register("payload.torrent", self.torrent)
        if reply.status not in (200, 201):
            raise RuntimeError("register: %s %r" % (reply.status, reply.body))
        self.origin = swarm.Client("origin", swarm.ORIGIN_IP, os.path.join(self.dir, "origin"),
                                   self.args.origin_cap_kib * KIB)
        self.origin.add(self.torrent)
        deadline = time.monotonic() + 60
        while self.origin.completed_at is None:
            if time.monotonic() > deadline:
                raise RuntimeError("%s: the origin never started seeding" % self.label)
            self.origin.poll()
            time.sleep(0.2)
        for h, kind in enumerate(self.kinds, start=1):
            ip, name = swarm.host_ip(self.rack, h), "%s-%s" % (kind, self.rack)
            cap = 4 << 20  # hosts are not the limit here
            if kind == "libtorrent":
                # libtorrent's own min_announce_interval (300 s), as qBittorrent and Deluge.
                host = swarm.Client(name, ip, os.path.join(self.dir, name), cap,
                                    min_announce_interval=300)
                host.add(self.torrent)
            else:
                host = clients.KINDS[kind](name, ip, self.dir, self.torrent, cap)
                host.start()
            self.hosts[ip] = (kind, host)

    def poll(self, dt):
        self.origin.poll()
        for kind, host in self.hosts.values():
            host.poll()
        reply = self.tracker.get("/api/v1/transfers/%s.json?racks=1&peers=1"
                                 % self.info_hash.hex())
        if reply.status != 200:
            return
        members = {}
        for rack in reply.json().get("racks", {}).values():
            for m in rack["members"]:
                members[m["peer"].rsplit(":", 1)[0]] = m
        reps = [ip for ip, m in members.items() if m["representative"] and ip in self.hosts]
        self.reps.update(reps)
        self.max_reps = max(self.max_reps, len(reps))
        self.polls += 1
        for ip in self.hosts:
            m = members.get(ip)
            if m is None:
                if ip in self.present:  # missing after it had joined
                    self.absent[ip] = self.absent.get(ip, 0.0) + dt
                continue
            self.present[ip] = self.present.get(ip, 0.0) + dt
            if m["stuck"]:
                self.stuck[ip] = self.stuck.get(ip, 0.0) + dt

    def announces(self):
        """ip -> [(seconds since the first line, event)] from the tracker's debug log."""
        out, t0 = {}, None
        for line in self.tracker.output().splitlines():
            m = ANNOUNCE_LINE.match(line)
            if not m:
                continue
            t = datetime.datetime.fromisoformat(m.group(1)).timestamp()
            t0 = t if t0 is None else t0
            out.setdefault(m.group(2), []).append((t - t0, int(m.group(3))))
        return out

    def stop(self):
        for kind, host in self.hosts.values():
            if kind == "libtorrent":
                host.close()
            else:
                host.stop()
        self.origin.close()
        self.tracker.cleanup()


def gap_text(events):
    regular = [t for t, e in events if e == 0]
    times = [t for t, _ in events]
    gaps = [b - a for a, b in zip(times, times[1:])]
    reg_gaps = [b - a for a, b in zip(regular, regular[1:])]
    if not reg_gaps:
        return "%d" % len(events), "–", "%.0f" % max(gaps) if gaps else "–"
    return ("%d" % len(events), "%.0f" % statistics.median(reg_gaps), "%.0f" % max(gaps))


def report(swarms, minutes):
    lines = ["Each client's announces over %.0f minutes (one rack of %d hosts, 2 representatives,"
             " the trackers' defaults):" % (minutes, len(swarms[0].kinds)), ""]
    log = swarms[0].announces()
    lines += ["| client | announces | regular gap, median (s) | longest gap (s) | " +
              " | ".join("%s: missing / shown stuck (s)" % s.label for s in swarms) +
              " |", "|---|---|---|---|" + "---|" * len(swarms)]
    for h, kind in enumerate(swarms[0].kinds, start=1):
        n, med, longest = gap_text(log.get(swarm.host_ip(swarms[0].rack, h), []))
        cells = []
        for s in swarms:
            ip = swarm.host_ip(s.rack, h)
            cells.append("%.0f / %.0f" % (s.absent.get(ip, 0.0), s.stuck.get(ip, 0.0)))
        lines.append("| %s | %s | %s | %s | %s |" % (kind, n, med, longest, " | ".join(cells)))
    lines.append("")
    for s in swarms:
        names = sorted(s.hosts[ip][0] for ip in s.reps)
        lines.append("%s: %d distinct hosts held a representative slot (%s); at most %d at once."
                     % (s.label, len(s.reps), ", ".join(names), s.max_reps))
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k != "libtorrent" and not clients.available(k):
            sys.exit("cadence.py: %s is not installed (scripts/install-deps.sh --deploy)" % k)
    work = tempfile.mkdtemp(prefix="p2ptracker-cadence-")
    swarms = [Swarm("this build", None, 1, kinds, args, work)]
    if args.before:
        swarms.append(Swarm("--before", os.path.abspath(args.before), 2, kinds, args, work))
    try:
        for s in swarms:
            s.start()
        print("cadence: %d swarm(s) of %d hosts running for %.1f minutes (work dir %s)"
              % (len(swarms), len(kinds), args.minutes, work), flush=True)
        start = last = time.monotonic()
        end = start + args.minutes * 60
        next_progress = start + 60
        while time.monotonic() < end:
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            for s in swarms:
                s.poll(now - last)
            last = now
            if now >= next_progress:
                next_progress += 60
                print("  %3.0f s: %s" % (now - start, "; ".join(
                    "%s missing %s" % (s.label, sorted(s.hosts[ip][0] for ip in s.hosts
                                                       if s.absent.get(ip))) for s in swarms)),
                      flush=True)
        print("\n" + report(swarms, args.minutes))
    finally:
        for s in swarms:
            s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Real-client deploy in levels: copies of the payload into each datacenter, row and rack.

An origin seeder (127.0.0.1) and datacenters x rows x racks x hosts python3-libtorrent clients,
host H of rack k of row r of datacenter D on 127.D.(16 r + k).H (bench/deploy/swarm.py), deploy
one payload through each tracker in turn, in the same invocation:
  - "levels": p2ptracker with subnet_levels_v4 = [16, 20] (each /16 a datacenter, each /20 a
    row above the /24 racks) and --max-repr representatives per group at every level;
  - "racks": p2ptracker with the rack level only (the same max_repr_rack);
  - "opentracker": Debian's opentracker, random peers (the baseline).
From the clients' per-connection byte counters it sums, for every group at every level, the
payload its hosts received from outside it, and prints the copies per group (median and max)
and the deploy time, with each tracker's ratio to opentracker. Traffic is loopback only; the
uplinks are not shaped (make bench-deploy-uplink shapes rack uplinks; per-level shaping is not
built yet).

Usage: /usr/bin/python3 bench/deploy/levels.py [--hosts 3] [--payload-mib 16] [--runs 1]
       (make bench-levels builds the tracker and installs opentracker)
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import swarm  # noqa: E402
import trackers  # noqa: E402

KIB, MIB = 1 << 10, 1 << 20
LEVELS = (("datacenter", 16), ("row", 20), ("rack", 24))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dcs", type=int, default=2)
    p.add_argument("--rows", type=int, default=2, help="rows per datacenter")
    p.add_argument("--racks", type=int, default=2, help="racks per row")
    p.add_argument("--hosts", type=int, default=3, help="hosts per rack")
    p.add_argument("--payload-mib", type=float, default=16)
    p.add_argument("--piece-kib", type=int, default=256)
    p.add_argument("--upload-cap-kib", type=int, default=2048)
    p.add_argument("--max-repr", type=int, default=1,
                   help="representatives per group at every level")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--trackers", default="levels,racks,opentracker")
    p.add_argument("--timeout", type=float, default=300)
    return p.parse_args(argv)


def group_of(ip, prefix):
    a, b, c, _ = (int(x) for x in ip.split("."))
    value = (a << 24 | b << 16 | c << 8) >> (32 - prefix) << (32 - prefix)
    return "%d.%d.%d.%d/%d" % (value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255,
                                prefix)


def level_ip(rows, racks):
    """ip_of(rack, host) for swarm.Deploy: rack r (1-based, datacenter by datacenter, row by
    row) and host h on 127.D.(16 row + rack).H."""
    def ip_of(r, h):
        i = r - 1
        dc, row, rack = i // (rows * racks) + 1, (i // racks) % rows, i % racks + 1
        return "127.%d.%d.%d" % (dc, 16 * row + rack, h)
    return ip_of


def inflow_by_level(clients):
    """{level: {group: payload bytes its hosts received from outside it}}, from the clients'
    per-connection counters."""
    out = {}
    for level, prefix in LEVELS:
        inflow = out.setdefault(level, {})
        for c in clients:
            mine = group_of(c.ip, prefix)
            inflow.setdefault(mine, 0)
            for ip, n in c.bytes_from().items():
                if group_of(ip, prefix) != mine:
                    inflow[mine] += n
    return out


def make_tracker(kind, args, work_dir):
    if kind == "opentracker":
        return trackers.OpenTracker(work_dir)
    extra = {}
    if kind == "levels":
        extra = {"subnet_levels_v4": [16, 20], "max_repr_levels": [args.max_repr] * 2}
    return trackers.P2PTracker("original", max_repr_rack=args.max_repr, **extra)


def one_deploy(kind, args, work, base_torrent, payload_dir, size):
    work_dir = tempfile.mkdtemp(prefix=kind + "-", dir=work)
    tracker = make_tracker(kind, args, work_dir)
    deploy = None
    try:
        tracker.start()
        torrent = swarm.with_announce(base_torrent, tracker.url)
        tracker.prepare(torrent, swarm.info_hash_of(torrent))
        deploy = swarm.Deploy(work_dir, torrent, args.dcs * args.rows * args.racks, args.hosts,
                              args.upload_cap_kib * KIB, payload_dir,
                              ip_of=level_ip(args.rows, args.racks))
        complete = deploy.run(args.timeout)
        copies = {level: [n / size for n in by_group.values()]
                  for level, by_group in inflow_by_level(deploy.clients).items()}
        return {"complete": complete, "seconds": deploy.deploy_seconds(), "copies": copies}
    finally:
        if deploy is not None and deploy.origin is not None:
            deploy.close()
        tracker.stop()


def main(argv=None):
    args = parse_args(argv)
    kinds = [k for k in args.trackers.split(",") if k]
    work = tempfile.mkdtemp(prefix="p2ptracker-levels-bench-")
    try:
        size = int(args.payload_mib * MIB)
        _, base = swarm.make_payload_torrent(work, "http://127.0.0.1:1/announce", size,
                                             args.piece_kib * KIB, creator="p2ptracker levels")
        payload_dir = os.path.join(work, "origin")
        results = {k: [] for k in kinds}
        for run in range(args.runs):
            for k in kinds:
                r = one_deploy(k, args, work, base, payload_dir, size)
                results[k].append(r)
                print("run %d %-12s %s in %s s; max copies in: %s" % (
                    run + 1, k, "complete" if r["complete"] else "INCOMPLETE",
                    "%.1f" % r["seconds"] if r["seconds"] else "-",
                    ", ".join("%s %.2f" % (lv, max(r["copies"][lv])) for lv, _ in LEVELS)),
                      flush=True)
        print("\n%d datacenters x %d rows x %d racks x %d hosts, %g MiB, %d KiB/s per host, "
              "%d representative(s) per group, %d run(s) (medians over runs)\n"
              % (args.dcs, args.rows, args.racks, args.hosts, args.payload_mib,
                 args.upload_cap_kib, args.max_repr, args.runs))
        print("| tracker | deploy (s) | " + " | ".join(
            "%s copies in: median / max" % lv for lv, _ in LEVELS) + " |")
        print("|---|---|" + "---|" * len(LEVELS))
        for k in kinds:
            rs = results[k]
            secs = [r["seconds"] for r in rs if r["seconds"]]
            cells = []
            for lv, _ in LEVELS:
                med = statistics.median(statistics.median(r["copies"][lv]) for r in rs)
                mx = statistics.median(max(r["copies"][lv]) for r in rs)
                cells.append("%.2f / %.2f" % (med, mx))
            print("| %s | %s | %s |" % (k, "%.1f" % statistics.median(secs) if secs else "-",
                                        " | ".join(cells)))
        if "opentracker" in results:
            base_rs = results["opentracker"]
            print()
            for k in kinds:
                if k == "opentracker":
                    continue
                ratios = []
                for lv, _ in LEVELS:
                    ours = statistics.median(max(r["copies"][lv]) for r in results[k])
                    theirs = statistics.median(max(r["copies"][lv]) for r in base_rs)
                    ratios.append("%s %.2fx" % (lv, ours / theirs if theirs else float("nan")))
                print("%s against opentracker (max copies in): %s" % (k, ", ".join(ratios)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

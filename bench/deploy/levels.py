"""Real-client deploy in levels: copies of the payload into each datacenter, row and rack.

An origin seeder (127.0.0.1) and datacenters x rows x racks x hosts python3-libtorrent clients,
host H of rack k of row r of datacenter D on 127.D.(16 r + k).H (bench/deploy/swarm.py), deploy
one payload through each tracker in turn, in the same invocation:
  - "levels": p2ptracker with subnet_levels_v4 = [16, 20] (each /16 a datacenter, each /20 a
    row above the /24 racks) and --max-repr representatives per group at every level;
  - "racks": p2ptracker with the rack level only (the same max_repr_rack);
  - "levels-MODE", "racks-MODE" (e.g. "levels-relay"): the same with the rack policy MODE
    instead of the default "original";
  - "opentracker": Debian's opentracker, random peers (the baseline).
From the clients' per-connection byte counters it sums, for every group at every level, the
payload its hosts received from outside it, and prints the copies per group (median and max)
and the deploy time, with each tracker's ratio to opentracker. Traffic is loopback only and
nothing limits an uplink but the hosts' own upload caps.

--uplink: every level's uplink real and shaped. The benchmark re-executes itself in a fresh
network and mount namespace (unshare --net --mount) and builds a switch tree of network
namespaces in it (bench/deploy/fabric.py): one per rack, row and datacenter and a core switch,
joined by veth pairs (rack <-> row, row <-> datacenter, datacenter <-> core), each end's egress
shaped by HTB at the level's rate (--rack-uplink-kib, --row-uplink-kib, --dc-uplink-kib), so
each link is a group's uplink one way and its downlink the other. Host H of rack k of row r of
datacenter D is 10.D.(16 r + k).H in its rack's namespace (traffic inside a rack crosses no
shaped link); the tracker and the origin seeder are 10.0.0.1, outside every group, one link
above the core. It then counts what every uplink carried from the kernel's own counters (the
shaper's leaves, frames with their headers): copies of the payload into and out of each group,
per level, median and max, and the peak rate through the busiest downlink of each level, with
the deploy time and each tracker's ratio to opentracker. Nothing outside the new namespaces is
touched (it refuses to shape unless its namespace is fresh: lo its only interface), and they
vanish with the process. Needs root, unshare and tc.

Usage: /usr/bin/python3 bench/deploy/levels.py [--hosts 3] [--payload-mib 16] [--runs 1]
       /usr/bin/python3 bench/deploy/levels.py --uplink [--dc-uplink-kib 1536] [--json FILE]
       (make bench-levels, make bench-levels-uplink: they build the tracker and install
       opentracker)
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import helpfmt  # noqa: E402
import fabric  # noqa: E402
import swarm  # noqa: E402
import trackers  # noqa: E402

KIB, MIB = 1 << 10, 1 << 20
LEVELS = (("datacenter", 16), ("row", 20), ("rack", 24))


# The config key `policy`'s values (src/config/config.cc; test_docs_bench_commands checks them
# against docs/configuration.md, which is made from it).
POLICIES = ("original", "standby", "progress", "relay", "chain", "tree")


def parse_args(argv=None):
    paragraphs = __doc__.split("\n\n")
    p = argparse.ArgumentParser(description=paragraphs[0],
                                formatter_class=helpfmt.HelpFormatter,
                                epilog="\n\n".join(x for x in paragraphs
                                                    if x.startswith(("--uplink", "Usage"))))
    p.add_argument("--dcs", type=int, default=2)
    p.add_argument("--rows", type=int, default=2, help="rows per datacenter")
    p.add_argument("--racks", type=int, default=2, help="racks per row")
    p.add_argument("--hosts", type=int, default=3, help="hosts per rack")
    p.add_argument("--payload-mib", type=float, default=16)
    p.add_argument("--piece-kib", type=int, default=256)
    p.add_argument("--upload-cap-kib", type=int, default=2048)
    p.add_argument("--max-repr", type=int, default=1,
                   help="representatives per group at every level")
    p.add_argument("--max-repr-levels", type=int, default=None,
                   help="representatives per row and datacenter with levels (default: "
                   "--max-repr)")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--trackers", default="levels,racks,opentracker",
                   help="comma-separated, deployed in turn: levels, racks, levels-MODE, "
                   "racks-MODE (MODE a policy: relay, standby, progress, chain, tree), opentracker "
                   "(default: %(default)s)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--uplink", action="store_true",
                   help="shape every level's uplink (a switch tree of network namespaces, "
                        "fabric.py) and count its bytes from the kernel (root)")
    p.add_argument("--rack-uplink-kib", type=int, default=None,
                   help="--uplink: a rack's link each way, KiB/s (default: a quarter of the "
                        "sum of its hosts' upload caps)")
    p.add_argument("--row-uplink-kib", type=int, default=None,
                   help="--uplink: a row's link each way, KiB/s (default: half the sum of its "
                        "racks' links)")
    p.add_argument("--dc-uplink-kib", type=int, default=None,
                   help="--uplink: a datacenter's link each way, KiB/s (default: half the sum "
                        "of its rows' links)")
    p.add_argument("--json", default=None, help="--uplink: also write every deploy's numbers "
                                                "to this file")
    args = p.parse_args(argv)
    # Checked here, not when its turn comes: a misspelt tracker would otherwise end the run
    # after the deploys before it.
    for kind in args.trackers.split(","):
        shape, dash, mode = kind.partition("-")
        if kind != "opentracker" and (shape not in ("levels", "racks") or
                                      (dash and mode not in POLICIES)):
            p.error("unknown tracker %r: levels, racks, levels-MODE, racks-MODE (MODE one of %s), "
                    "opentracker" % (kind, ", ".join(POLICIES)))
    return args


def group_of(ip, prefix):
    a, b, c, _ = (int(x) for x in ip.split("."))
    value = (a << 24 | b << 16 | c << 8) >> (32 - prefix) << (32 - prefix)
    return "%d.%d.%d.%d/%d" % (value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255,
                                prefix)


def level_ip(rows, racks, net=127):
    """ip_of(rack, host) for swarm.Deploy: rack r (1-based, datacenter by datacenter, row by
    row) and host h on 127.D.(16 row + rack).H (with net=10: 10.D.(16 row + rack).H)."""
    def ip_of(r, h):
        i = r - 1
        dc, row, rack = i // (rows * racks) + 1, (i // racks) % rows, i % racks + 1
        return "%d.%d.%d.%d" % (net, dc, 16 * row + rack, h)
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


def print_inflow(inflow, payload_bytes):
    """Prints inflow_by_level's copies into each group, level by level, sorted."""
    for level, _ in LEVELS:
        copies = sorted(n / payload_bytes for n in inflow[level].values())
        print("  %-10s copies in per group: %s" % (level, " ".join("%.2f" % x for x in copies)))


def representatives(args):
    """How many representatives each group has, as the reports say it."""
    if args.max_repr_levels is None or args.max_repr_levels == args.max_repr:
        return "%d representative(s) per group" % args.max_repr
    return "%d representative(s) per rack, %d per row and datacenter" % (
        args.max_repr, args.max_repr_levels)


def make_tracker(kind, args, work_dir, announce_host=None):
    if kind == "opentracker":
        return trackers.OpenTracker(work_dir, **({"announce_host": announce_host}
                                                 if announce_host else {}))
    shape, _, mode = kind.partition("-")  # parse_args checked it
    extra = {}
    if shape == "levels":
        per_group = args.max_repr if args.max_repr_levels is None else args.max_repr_levels
        extra = {"subnet_levels_v4": [16, 20], "max_repr_levels": [per_group] * 2}
    return trackers.P2PTracker(mode or "original", max_repr_rack=args.max_repr,
                               announce_host=announce_host, **extra)


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
    if args.uplink:
        return uplink_main(args, sys.argv[1:] if argv is None else argv)
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
              "%s, %d run(s) (medians over runs)\n"
              % (args.dcs, args.rows, args.racks, args.hosts, args.payload_mib,
                 args.upload_cap_kib, representatives(args), args.runs))
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



# --- --uplink: every level's uplink shaped, bytes from the kernel --------------------------

def uplink_rates(args):
    """Each level's link rate, bytes/s each way: a rack's a quarter of its hosts' upload caps
    (as bench/deploy/run.py --uplink), a row's and a datacenter's half of what the links
    below them add up to (2:1 oversubscription at each level above the rack)."""
    rack = (args.rack_uplink_kib * KIB if args.rack_uplink_kib
            else args.hosts * args.upload_cap_kib * KIB // 4)
    row = args.row_uplink_kib * KIB if args.row_uplink_kib else args.racks * rack // 2
    dc = args.dc_uplink_kib * KIB if args.dc_uplink_kib else args.rows * row // 2
    return {"datacenter": dc, "row": row, "rack": rack}


def shaped_deploy(kind, args, fab, work, base_torrent, payload_dir, size, sha256):
    """One deploy through the fabric; its numbers from the shaped links' counters."""
    work_dir = tempfile.mkdtemp(prefix=kind + "-", dir=work)
    tracker = make_tracker(kind, args, work_dir, announce_host=fabric.SERVERS_IP)
    deploy = sampler = None
    try:
        tracker.start()
        torrent = swarm.with_announce(base_torrent, tracker.url)
        info_hash = swarm.info_hash_of(torrent)
        tracker.prepare(torrent, info_hash)
        deploy = swarm.Deploy(work_dir, torrent, args.dcs * args.rows * args.racks, args.hosts,
                              args.upload_cap_kib * KIB, payload_dir,
                              ip_of=level_ip(args.rows, args.racks, net=10),
                              origin_ip=fabric.SERVERS_IP, enter=fab.enter)
        before = fab.counters()
        total = len(deploy.clients)

        def status():
            done = sum(c.completed_at is not None for c in deploy.clients)
            return "%d/%d hosts done" % (done, total)
        sampler = fabric.Sampler(fab, status=status, label=kind).start()
        complete = deploy.run(args.timeout)
        sampler.stop()
        links = fab.by_group(before, fab.counters())
        for (level, prefix), peak in sampler.peaks.items():
            links[level][prefix].update({"peak_in": peak["in"], "peak_out": peak["out"]})
        seen = tracker.peer_ips(info_hash) if hasattr(tracker, "peer_ips") else None
        hosts = {c.ip for c in deploy.clients}
        return {
            "tracker": kind, "complete": complete, "seconds": deploy.deploy_seconds(),
            "completion": {c.ip: (None if c.completed_at is None else c.completed_at - deploy.t0)
                           for c in deploy.clients},
            "links": links,
            "series": sampler.series,
            "clients_inflow": inflow_by_level(deploy.clients),
            "hosts": len(deploy.clients),
            "hosts_ok": sum(c.completed_at is not None and c.file_sha256() == sha256
                            for c in deploy.clients),
            "wrong_source": sorted({ip for c in deploy.clients for ip in c.wrong_source}),
            # The tracker saw the hosts' own addresses (p2ptracker only: opentracker has no API).
            "tracker_saw": None if seen is None else {
                "hosts": len(seen & hosts), "others": sorted(seen - hosts - {fabric.SERVERS_IP})},
        }
    finally:
        if sampler is not None:
            sampler.stop()
        if deploy is not None and deploy.origin is not None:
            deploy.close()
        tracker.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


def copies(r, level, field, size):
    return [g[field] / size for g in r["links"][level].values()]


def uplink_report(args, results, size, rates, started):
    """The tables of an --uplink run (markdown)."""
    kinds = list(results)
    out = ["", "%d datacenters x %d rows x %d racks x %d hosts, %g MiB, %d KiB/s per host, "
           "%s, %d run(s) (medians over runs); links each way: "
           "datacenter %d, row %d, rack %d KiB/s; %s" % (
               args.dcs, args.rows, args.racks, args.hosts, args.payload_mib,
               args.upload_cap_kib, representatives(args), args.runs, rates["datacenter"] // KIB,
               rates["row"] // KIB, rates["rack"] // KIB, started), ""]

    def med(k, fn):
        xs = [fn(r) for r in results[k]]
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    out.append("Copies of the payload through each group's links, from the shaper's counters "
               "(frames carrying data, headers included: one copy on the wire is %.3f "
               "payloads), median / max over the groups of each level:" % fabric.WIRE_FACTOR)
    out.append("")
    out.append("| tracker | deploy (s) | " + " | ".join(
        "%s in" % lv for lv, _ in LEVELS) + " | " + " | ".join(
        "%s out" % lv for lv, _ in LEVELS) + " |")
    out.append("|---|---|" + "---|" * 2 * len(LEVELS))
    for k in kinds:
        cells = []
        for field in ("in", "out"):
            for lv, _ in LEVELS:
                cells.append("%.2f / %.2f" % (
                    med(k, lambda r: statistics.median(copies(r, lv, field, size))),
                    med(k, lambda r: max(copies(r, lv, field, size)))))
        secs = med(k, lambda r: r["seconds"])
        done = sum(r["complete"] for r in results[k])
        out.append("| %s | %s | %s |" % (
            k, ("%.1f" % secs if secs else "-") + ("" if done == len(results[k])
                                                    else " (%d/%d complete)" % (
                                                        done, len(results[k]))),
            " | ".join(cells)))
    out.append("")
    out.append("Peak rate into the busiest group of each level (1 s samples, %% of its link), "
               "control frames into a group (ACKs and other frames under %d bytes, %% of the "
               "payload, max over groups), and the clients' own count of the payload from "
               "outside each group against the data frames that carried it (median ratio):"
               % fabric.SMALL_FRAME)
    out.append("")
    out.append("| tracker | " + " | ".join("%s peak in" % lv for lv, _ in LEVELS)
               + " | control in (dc / row / rack) | data frames / clients' payload |")
    out.append("|---|" + "---|" * (len(LEVELS) + 2))
    for k in kinds:
        peaks = [med(k, lambda r: 100 * max(g.get("peak_in", 0) for g in
                                            r["links"][lv].values()) / rates[lv])
                 for lv, _ in LEVELS]
        ctrl = [med(k, lambda r: 100 * max(copies(r, lv, "in_control", size)))
                for lv, _ in LEVELS]

        def wire_ratio(r, lv):
            xs = [g["in"] / r["clients_inflow"][lv][p]
                  for p, g in r["links"][lv].items() if r["clients_inflow"][lv].get(p)]
            return statistics.median(xs) if xs else None
        ratios = [med(k, lambda r: wire_ratio(r, lv)) for lv, _ in LEVELS]
        out.append("| %s | %s | %s | %s |" % (
            k, " | ".join("%.0f%%" % p for p in peaks),
            " / ".join("%.1f%%" % c for c in ctrl),
            " / ".join("-" if x is None else "%.3f" % x for x in ratios)))
    if "opentracker" in results:
        out.append("")
        for k in kinds:
            if k == "opentracker":
                continue
            ratios = []
            for lv, _ in LEVELS:
                ours = med(k, lambda r: max(copies(r, lv, "in", size)))
                theirs = med("opentracker", lambda r: max(copies(r, lv, "in", size)))
                ratios.append("%s %.2fx" % (lv, ours / theirs if theirs else float("nan")))
            ours = med(k, lambda r: r["seconds"])
            theirs = med("opentracker", lambda r: r["seconds"])
            out.append("%s against opentracker: max copies in: %s; deploy time %s" % (
                k, ", ".join(ratios),
                "%.2fx" % (ours / theirs) if ours and theirs else "-"))
    return "\n".join(out)


def uplink_main(args, argv):
    """--uplink: re-executed in fresh namespaces, builds the fabric, deploys through it."""
    fabric.reexec(os.path.abspath(__file__), argv)  # returns only in the re-executed run
    fabric.enter_private_namespace()
    # A SIGTERM (a test's timeout, a Ctrl-C'd make) unwinds through the finally blocks below,
    # so the trackers stop; the namespaces go with the process anyway.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = [k for k in args.trackers.split(",") if k]
    rates = uplink_rates(args)
    fab = fabric.Fabric(args.dcs, args.rows, args.racks, args.hosts, rates)
    work = tempfile.mkdtemp(prefix="p2ptracker-levels-uplink-")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        print("building the fabric: %d namespaces, %d shaped links (each way: datacenter %d, "
              "row %d, rack %d KiB/s)" % (len(fab.namespaces()), len(fab.groups),
                                          rates["datacenter"] // KIB, rates["row"] // KIB,
                                          rates["rack"] // KIB), flush=True)
        fab.build()
        size = int(args.payload_mib * MIB)
        sha256, base = swarm.make_payload_torrent(work, "http://127.0.0.1:1/announce", size,
                                                  args.piece_kib * KIB,
                                                  creator="p2ptracker levels")
        payload_dir = os.path.join(work, "origin")
        results = {k: [] for k in kinds}
        for run in range(args.runs):
            for k in kinds:
                print("run %d %s: deploying %g MiB to %d hosts" % (
                    run + 1, k, args.payload_mib,
                    args.dcs * args.rows * args.racks * args.hosts), flush=True)
                r = shaped_deploy(k, args, fab, work, base, payload_dir, size, sha256)
                results[k].append(r)
                print("run %d %-12s %s in %s s, %d/%d hosts with the payload; max copies in: %s"
                      % (run + 1, k, "complete" if r["complete"] else "INCOMPLETE",
                         "%.1f" % r["seconds"] if r["seconds"] else "-", r["hosts_ok"],
                         r["hosts"], ", ".join("%s %.2f" % (lv, max(copies(r, lv, "in", size)))
                                               for lv, _ in LEVELS)), flush=True)
                if r["wrong_source"] or (r["tracker_saw"] and r["tracker_saw"]["others"]):
                    print("  WARNING: traffic from unexpected addresses: %s %s" % (
                        r["wrong_source"], r["tracker_saw"]), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "rates": rates, "payload_size": size,
                           "started": started, "results": results}, f, indent=1)
        print(uplink_report(args, results, size, rates, started), flush=True)
    finally:
        fab.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Two deploys at once through one tracker: what crosses each rack's uplink, with and without
repr_budget = "per_rack".

Two payloads, each seeded by its own origin on 127.0.0.1, go to the same R racks x H hosts of
python3-libtorrent clients (host H of rack R on 127.0.R.H runs one session per deploy;
swarm.py), through one tracker per pair of deploys:
  - p2ptracker, policy original, repr_budget = "per_transfer" (the default: each deploy picks
    its own max_repr_rack representatives per rack) and "per_rack" (at most max_repr_rack
    distinct hosts represent a rack across both), for each --max-repr-rack;
  - opentracker: random peers, the baseline.
Two ways to start (--starts):
  - staggered: the second deploy starts once the first has a representative in every rack (and
    at least --stagger s after it), and the first deploy's representatives join the second
    --late s after the rack's other hosts, as when a second pipeline's hosts are not in the
    same order (tests/integration/test_concurrent_deploys.py); opentracker has no
    representatives, so there host 1 of each rack joins late;
  - together: both start at the same moment, every host at once.
Per rack it reports the bytes into the rack from outside it for both deploys together, as
copies of ONE payload (ideal 2.0: one host per rack pulls each deploy once), the peak 1 s rate
into the rack, the distinct hosts that represented the rack in either deploy (the tracker's
view, polled every 0.5 s) and that pulled at least a piece from outside it (the clients'
counters), and each deploy's time; then a summary table with the ratios to opentracker.

--uplink: every rack's edge shaped and counted by tc, as run.py --uplink (uplink.py): the
benchmark re-executes itself in a new network namespace (unshare --net) whose own lo carries
everything, shapes each rack's uplink and downlink with HTB (--uplink-kib each way) and reads
the bytes into a rack from the downlink class's counter (IP packets with their headers, so one
payload on the wire is a little over 1.00; ACKs and announces count too). It refuses to shape
unless lo is the namespace's only interface, and the namespace goes with the process. Needs
root. Without --uplink, nothing limits a rack's edge but its hosts' upload caps and the bytes
come from the clients' per-connection payload counters (as run.py without --uplink); those
are printed with --uplink too, as a cross-check.

Usage: /usr/bin/python3 bench/deploy/concurrent.py [--racks 4 --hosts 4] [--runs 1]
       /usr/bin/python3 bench/deploy/concurrent.py --uplink [--max-repr-rack 1,2] [--json FILE]
       (make bench-concurrent; CONCURRENT_ARGS="--uplink --runs 2")
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import helpfmt  # noqa: E402

KIB, MIB = 1 << 10, 1 << 20
STARTS = ("staggered", "together")
BUDGETS = ("per_transfer", "per_rack")


def parse_args(argv=None):
    paragraphs = __doc__.split("\n\n")
    p = argparse.ArgumentParser(description=paragraphs[0],
                                formatter_class=helpfmt.HelpFormatter,
                                epilog="\n\n".join(paragraphs[1:]))
    p.add_argument("--racks", type=int, default=4, help="racks (127.0.R.0/24)")
    p.add_argument("--hosts", type=int, default=4, help="hosts per rack")
    p.add_argument("--payload-mib", type=float, default=16, help="each deploy's payload")
    p.add_argument("--piece-kib", type=int, default=256, help="piece size, KiB")
    p.add_argument("--upload-cap-kib", type=int, default=2048,
                   help="upload rate cap of every client and origin, KiB/s")
    p.add_argument("--max-repr-rack", default="1,2",
                   help="comma-separated: p2ptracker's max_repr_rack, one pair of deploys each")
    p.add_argument("--trackers", default="per_transfer,per_rack,opentracker",
                   help="comma-separated: per_transfer, per_rack (p2ptracker's repr_budget), "
                        "opentracker")
    p.add_argument("--starts", default=",".join(STARTS),
                   help="comma-separated: staggered, together")
    p.add_argument("--stagger", type=float, default=2.0,
                   help="staggered: the second deploy starts at least this many s after the "
                        "first")
    p.add_argument("--late", type=float, default=1.5,
                   help="staggered: the first deploy's representatives join the second this "
                        "many s after the rack's other hosts")
    p.add_argument("--runs", type=int, default=1,
                   help="runs, each every start x set-up once (interleaved)")
    p.add_argument("--timeout", type=float, default=240, help="seconds per deploy")
    p.add_argument("--uplink", action="store_true",
                   help="shape every rack's edge with tc in a private network namespace and "
                        "count its bytes there (root)")
    p.add_argument("--uplink-kib", type=int, default=None,
                   help="--uplink: a rack's edge each way, KiB/s (default: a quarter of the "
                        "sum of its hosts' upload caps)")
    p.add_argument("--binary", default=None,
                   help="p2ptracker binary (default: $P2PTRACKER_BIN, else build/p2ptracker)")
    p.add_argument("--json", default=None, help="also write every pair's numbers to this file")
    p.add_argument("--command", default=None, help="the command line the report names")
    p.add_argument("--from-json", default=None, metavar="FILE",
                   help="no deploy: print the report of a --json file")
    args = p.parse_args(argv)
    args.max_reprs = [int(x) for x in args.max_repr_rack.split(",") if x]
    args.kinds = [k for k in args.trackers.split(",") if k]
    args.start_modes = [s for s in args.starts.split(",") if s]
    for k in args.kinds:
        if k not in BUDGETS + ("opentracker",):
            p.error("unknown tracker %r (per_transfer, per_rack, opentracker)" % k)
    for s in args.start_modes:
        if s not in STARTS:
            p.error("unknown start %r (staggered, together)" % s)
    return args


def uplink_rate(args):
    return (args.uplink_kib * KIB if args.uplink_kib
            else args.hosts * args.upload_cap_kib * KIB // 4)


def configs(args):
    """Every tracker set-up of one run: (label, kind, max_repr_rack); opentracker once."""
    out = []
    for m in args.max_reprs:
        out += [("%s, max_repr_rack %d" % (k, m), k, m) for k in args.kinds if k != "opentracker"]
    if "opentracker" in args.kinds:
        out.append(("opentracker", "opentracker", None))
    return out


# --- one pair of deploys -------------------------------------------------------------------

def rack_prefixes(args):
    return ["127.0.%d" % r for r in range(1, args.racks + 1)]


def inflow(deploys, rack):
    """Payload bytes the rack's hosts received from outside it, both deploys (clients' count).

    Read from another thread than the deploys' own: a counter dict may change while it is
    copied, so a failed read is tried again."""
    import swarm
    for _ in range(20):
        try:
            return sum(n for d in deploys for c in list(d.clients) if c.rack == rack
                       for ip, n in c.bytes_from().items() if swarm.rack_of(ip) != rack)
        except RuntimeError:
            time.sleep(0.01)
    return None


class Sampler:
    """Every second: the bytes into each rack (tc's downlink counters with --uplink, else the
    clients' counters), the peak 1 s rate so far, and a progress line every 5 s."""

    def __init__(self, args, deploys, label, t0):
        self.args, self.deploys, self.label, self.t0 = args, deploys, label, t0
        self.peaks = {rk: 0.0 for rk in rack_prefixes(args)}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _read(self):
        if self.args.uplink:
            import uplink
            return {rk: c["down"] for rk, c in uplink.counters(self.args.racks).items()}
        return {rk: inflow(self.deploys, rk) for rk in rack_prefixes(self.args)}

    def _loop(self):
        last, t_last = self._read(), time.monotonic()
        next_report = t_last + 5
        while not self._stop.wait(1.0):
            now, t = self._read(), time.monotonic()
            rates = {rk: (now[rk] - last[rk]) / (t - t_last) for rk in now
                     if now[rk] is not None and last.get(rk) is not None}
            for rk, rate in rates.items():
                self.peaks[rk] = max(self.peaks[rk], rate)
            last, t_last = {rk: now[rk] if now[rk] is not None else last.get(rk)
                            for rk in now}, t
            if t >= next_report:
                next_report += 5
                done = ["%d/%d" % (sum(c.completed_at is not None for c in d.clients),
                                   len(d.clients)) for d in self.deploys]
                print("  %-40s %4.0f s  hosts done: %s; into the busiest rack now %.0f KiB/s"
                      % (self.label, t - self.t0, " and ".join(done),
                         max(rates.values(), default=0) / KIB), flush=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def watch_representatives(tracker, hashes, reps, stop):
    """Polls the tracker's view of both transfers every 0.5 s until `stop`: reps[i][rack] gets
    every host that represented the rack in deploy i."""
    import swarm
    while True:
        for i, h in enumerate(hashes):
            try:
                view = tracker.transfer(h) or {}
            except (OSError, ValueError):  # a reply cut short: the next poll will do
                continue
            for r in view.get("racks", {}).values():
                for m in r.get("members", []):
                    if m.get("representative"):
                        ip = m["peer"].rsplit(":", 1)[0]
                        if ip != swarm.ORIGIN_IP:
                            reps[i].setdefault(swarm.rack_of(ip), set()).add(ip)
        if stop.wait(0.5):
            return


def run_pair(args, label, kind, max_repr, start, work, payloads):
    """Both deploys through one fresh tracker. Returns their numbers (a dict).

    The deploys run on threads of their own; whatever ends this function (an exception, a
    SIGTERM turned into SystemExit) stops them before their sessions and the tracker go."""
    import swarm
    import trackers
    run_dir = tempfile.mkdtemp(prefix="pair-", dir=work)
    if kind == "opentracker":
        tracker = trackers.OpenTracker(run_dir)
    else:
        tracker = trackers.P2PTracker("original", max_repr_rack=max_repr, repr_budget=kind)
    deploys, threads, results, errors = [], [], {}, []
    reps = [{}, {}]
    stop, watch_stop = threading.Event(), threading.Event()
    watcher = sampler = None
    size = payloads[0]["size"]
    try:
        tracker.start()
        torrents = [swarm.with_announce(p["torrent"], tracker.url) for p in payloads]
        hashes = [swarm.info_hash_of(t) for t in torrents]
        if kind == "opentracker":
            tracker.prepare(torrents[0], hashes[0], also=hashes[1:])
        else:
            for i, (t, h) in enumerate(zip(torrents, hashes)):
                tracker.prepare(t, h, file_name="deploy%d.torrent" % (i + 1))
        for i, (t, p) in enumerate(zip(torrents, payloads)):
            d = os.path.join(run_dir, "deploy%d" % (i + 1))
            os.makedirs(d)
            deploys.append(swarm.Deploy(d, t, args.racks, args.hosts, args.upload_cap_kib * KIB,
                                        p["origin_dir"]))
        if kind != "opentracker":
            watcher = threading.Thread(target=watch_representatives,
                                       args=(tracker, hashes, reps, watch_stop), daemon=True)
            watcher.start()

        def deploy_thread(i, **kw):
            def body():
                try:
                    results[i] = deploys[i].run(args.timeout, stop=stop, **kw)
                except Exception as e:  # noqa: BLE001  (reported with the pair's numbers)
                    errors.append("deploy %d: %r" % (i + 1, e))
                    results[i] = False
            th = threading.Thread(target=body, daemon=True)
            th.start()
            threads.append(th)

        before = counters(args)
        t0 = time.monotonic()
        sampler = Sampler(args, deploys, label + " " + start, t0).start()
        late = set()
        if start == "together":
            deploy_thread(0)
            deploy_thread(1)
        else:
            deploy_thread(0)
            # The first deploy's representatives in every rack, once it has them.
            deadline = time.monotonic() + 30
            while True:
                waited = deploys[0].t0 is not None and time.monotonic() >= deploys[0].t0 + \
                    args.stagger
                if waited and (kind == "opentracker"
                               or set(rack_prefixes(args)) <= set(reps[0])):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if kind == "opentracker":
                late = {"r%dh1" % r for r in range(1, args.racks + 1)}
            else:
                first = {ip for hosts in reps[0].values() for ip in hosts}
                late = {c.name for c in deploys[1].clients if c.ip in first}
            deploy_thread(1, late=late, late_delay=args.late)
        for th in threads:
            while th.is_alive():
                th.join(0.5)
        sampler.stop()
        after = counters(args)
        watch_stop.set()
        if watcher is not None:
            watcher.join()
        racks = {}
        piece = args.piece_kib * KIB
        for rk in rack_prefixes(args):
            stats = [d.rack_stats(size)[rk] for d in deploys]
            pullers = [sorted(c.name for c in d.clients if c.rack == rk and
                              sum(n for ip, n in c.bytes_from().items()
                                  if swarm.rack_of(ip) != rk) >= piece) for d in deploys]
            racks[rk] = {
                "clients_in": sum(s["in"] for s in stats) / size,
                "edge_in": ((after[rk]["down"] - before[rk]["down"]) / size
                            if after is not None else None),
                "edge_out": ((after[rk]["up"] - before[rk]["up"]) / size
                             if after is not None else None),
                "peak_in": sampler.peaks[rk],
                "representatives": [sorted(r.get(rk, ())) for r in reps],
                "pullers": pullers,
            }
        names = {c.ip: c.name for c in deploys[0].clients}
        for r in racks.values():
            r["representatives"] = [[names.get(ip, ip) for ip in x] for x in r["representatives"]]
        return {
            "label": label, "tracker": kind, "max_repr_rack": max_repr, "start": start,
            "complete": [bool(results.get(i)) for i in range(2)],
            "seconds": [d.deploy_seconds() for d in deploys],
            # From the first deploy's start to the last completion in either.
            "both_seconds": (max(d.t0 + d.deploy_seconds() for d in deploys) - deploys[0].t0
                             if all(d.deploy_seconds() for d in deploys) else None),
            "second_after": (deploys[1].t0 - deploys[0].t0
                             if deploys[0].t0 and deploys[1].t0 else None),
            "late": sorted(late),
            "racks": racks, "errors": errors,
            "bad_files": sorted("deploy%d %s" % (i + 1, c.name) for i, d in enumerate(deploys)
                                for c in d.clients if c.completed_at is not None
                                and c.file_sha256() != payloads[i]["sha256"]),
        }
    finally:
        stop.set()  # ends any deploy still running (an exception above)
        for th in threads:
            th.join(30)
        if sampler is not None:
            sampler.stop()
        watch_stop.set()
        if watcher is not None:
            watcher.join(5)
        for d in deploys:
            if d.origin is not None:
                d.close()
        tracker.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def counters(args):
    if not args.uplink:
        return None
    import uplink
    return uplink.counters(args.racks)


# --- the report ----------------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.2f"):
    return "—" if x is None else spec % x


def report(args, results, started, seconds, argv=None):
    """The markdown tables of a run: per set-up, then per rack."""
    copies = "edge_in" if args.uplink else "clients_in"
    out = []
    cmd = args.command or "/usr/bin/python3 bench/deploy/concurrent.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    out += ["Command: `%s`  " % cmd,
            "Date: %s UTC, %s s in all  " % (started.strftime("%Y-%m-%d %H:%M"),
                                             fmt(seconds, "%.0f")),
            "Two deploys of %g MiB (%d KiB pieces) each into %d racks × %d hosts, %d KiB/s "
            "upload cap per client and per origin; %s; staggered: the second %g s or more "
            "after the first, its late hosts %g s late; %d run(s), medians shown."
            % (args.payload_mib, args.piece_kib, args.racks, args.hosts, args.upload_cap_kib,
               ("rack edges shaped to %d KiB/s each way (`--uplink`), bytes from tc's counters"
                % (uplink_rate(args) // KIB)) if args.uplink else
               "rack edges not shaped, bytes from the clients' counters",
               args.stagger, args.late, args.runs), ""]

    def per(label, start):
        return [r for r in results if r["label"] == label and r["start"] == start]

    def summary(rs):
        """Each run's mean and max over the racks, then the median over runs."""
        def over_runs(fn):
            return median([fn(r["racks"].values()) for r in rs])

        def distinct(field):
            return lambda racks: max(len(set().union(*map(set, x[field]))) for x in racks)
        return {
            "copies_mean": over_runs(lambda racks: statistics.mean(x[copies] for x in racks)),
            "copies_max": over_runs(lambda racks: max(x[copies] for x in racks)),
            "clients_mean": over_runs(lambda racks: statistics.mean(x["clients_in"]
                                                                    for x in racks)),
            "peak": over_runs(lambda racks: max(x["peak_in"] for x in racks)),
            "reps": over_runs(distinct("representatives")),
            "pull": over_runs(distinct("pullers")),
            "first": median([r["seconds"][0] for r in rs]),
            "second": median([r["seconds"][1] for r in rs]),
            "both": median([r["both_seconds"] for r in rs]),
            "incomplete": sum(not all(r["complete"]) for r in rs),
        }

    what = ("copies into a rack (tc), mean / max" if args.uplink
            else "copies into a rack (clients), mean / max")
    out += ["| start | tracker | %s | clients' count, mean | peak 1 s into a rack, KiB/s "
            "| hosts representing a rack | hosts pulling from outside a rack | deploy 1 / 2 "
            "(s) | both done (s) | copies vs opentracker | both done vs opentracker |" % what,
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for start in args.start_modes:
        base = summary(per("opentracker", start)) if "opentracker" in args.kinds else None
        for label, kind, _ in configs(args):
            rs = per(label, start)
            if not rs:
                continue
            s = summary(rs)

            def ratio(field):
                if not base or not base[field] or s[field] is None:
                    return "—"
                return "%.2f×" % (s[field] / base[field])
            out.append("| %s | %s%s | %s / %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |" % (
                start, label, " (%d incomplete)" % s["incomplete"] if s["incomplete"] else "",
                fmt(s["copies_mean"]), fmt(s["copies_max"]), fmt(s["clients_mean"]),
                fmt(s["peak"] / KIB if s["peak"] is not None else None, "%.0f"),
                "—" if kind == "opentracker" else fmt(s["reps"], "%g"), fmt(s["pull"], "%g"),
                fmt(s["first"], "%.1f"), fmt(s["second"], "%.1f"), fmt(s["both"], "%.1f"),
                ratio("copies_mean"), ratio("both")))
    out += ["",
            "Copies: bytes into a rack from outside it during both deploys, divided by ONE "
            "payload's size (ideal 2.0: one host per rack pulls each deploy once)%s. Clients' "
            "count: the payload its hosts' sessions received from peers outside the rack, both "
            "deploys. Hosts representing / pulling: distinct hosts of a rack that the tracker "
            "made a representative in either deploy / that received at least a piece from "
            "outside the rack in either, max over racks (a median over runs may be a half). Deploy time: a deploy's first start to "
            "its last completion; both done: the first deploy's start to the last completion."
            % ("; tc counts IP packets with headers, ACKs and announces included"
               if args.uplink else ""),
            "", "Per rack (last run): copies in%s; peak 1 s KiB/s; representatives per deploy; "
            "hosts pulling per deploy:" % (" (tc / clients)" if args.uplink else ""), "",
            "| start | tracker | " + " | ".join("rack %s.0/24" % rk
                                               for rk in rack_prefixes(args)) + " |",
            "|---|---|" + "---|" * args.racks]
    for start in args.start_modes:
        for label, kind, _ in configs(args):
            rs = per(label, start)
            if not rs:
                continue
            r = rs[-1]
            cells = []
            for rk in rack_prefixes(args):
                x = r["racks"][rk]
                cp = ("%s / %s" % (fmt(x["edge_in"]), fmt(x["clients_in"])) if args.uplink
                      else fmt(x["clients_in"]))
                reps = " + ".join(",".join(h) or "none" for h in x["representatives"])
                pull = " + ".join(",".join(h) or "none" for h in x["pullers"])
                cells.append("%s; %.0f; %s; %s" % (
                    cp, x["peak_in"] / KIB, "—" if kind == "opentracker" else reps, pull))
            out.append("| %s | %s | %s |" % (start, label, " | ".join(cells)))
    late = [(label, per(label, "staggered")) for label, _, _ in configs(args)]
    late = [(label, rs) for label, rs in late if rs]
    if late:
        out += ["", "Staggered, the second deploy's late hosts (last run) and its start after "
                "the first (median): " + "; ".join(
                    "%s: %s, %s s" % (label, ",".join(rs[-1]["late"]) or "none", fmt(median(
                        [r["second_after"] for r in rs]), "%.1f"))
                    for label, rs in late)]
    problems = ["%s %s: %s" % (r["start"], r["label"], "; ".join(r["errors"] + r["bad_files"]))
                for r in results if r["errors"] or r["bad_files"]]
    if problems:
        out += ["", "**Problems**: " + " | ".join(problems)]
    return "\n".join(out) + "\n"


# --- main ----------------------------------------------------------------------------------

def rerender(path):
    """The report of a previous run's --json file, with that run's own options."""
    with open(path) as f:
        saved = json.load(f)
    args = argparse.Namespace(**saved["args"])
    started = datetime.datetime.fromisoformat(saved["started"])
    print(report(args, saved["results"], started, saved.get("seconds"), saved.get("argv")),
          end="")
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.from_json:
        return rerender(args.from_json)
    if args.uplink and os.environ.get("P2P_CONCURRENT_NETNS") != "1":
        # Everything (trackers, origins, clients) moves to a new network namespace whose own
        # lo is shaped; it disappears with this process.
        if os.geteuid() != 0:
            sys.exit("concurrent.py: --uplink needs root (unshare --net, tc)")
        os.environ["P2P_CONCURRENT_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable,
                              os.path.abspath(__file__)] + (sys.argv[1:] if argv is None
                                                            else argv))
    # A SIGTERM or SIGHUP (a test's timeout, a closed terminal) unwinds through the finally
    # blocks as Ctrl-C does: the deploys stop, then every tracker; the namespace goes with
    # the process.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(143))
    if args.uplink:
        import uplink
        uplink.setup(args.racks, uplink_rate(args))  # refuses unless in a fresh namespace
    if args.binary:
        os.environ["P2PTRACKER_BIN"] = os.path.abspath(args.binary)
    import swarm  # after P2PTRACKER_BIN is set: trackers reads it on import
    if "opentracker" in args.kinds and not shutil.which("opentracker"):
        sys.exit("concurrent.py: opentracker is not installed (scripts/install-deps.sh --deploy)")
    work = tempfile.mkdtemp(prefix="p2ptracker-concurrent-")
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    results = []
    try:
        size = int(args.payload_mib * MIB)
        payloads = []
        for i in (1, 2):
            d = os.path.join(work, "payload%d" % i)
            sha, torrent = swarm.make_payload_torrent(d, "http://127.0.0.1:1/announce", size,
                                                      args.piece_kib * KIB,
                                                      creator="p2ptracker concurrent %d" % i)
            payloads.append({"size": size, "sha256": sha, "torrent": torrent,
                             "origin_dir": os.path.join(d, "origin")})
        setups = configs(args)
        print("%d run(s) x %d start(s) x %d tracker set-ups, two %g MiB deploys into %d x %d "
              "hosts each%s" % (args.runs, len(args.start_modes), len(setups), args.payload_mib,
                                args.racks, args.hosts,
                                ", rack edges %d KiB/s" % (uplink_rate(args) // KIB)
                                if args.uplink else ""), flush=True)
        for run in range(1, args.runs + 1):
            for start in args.start_modes:
                for label, kind, max_repr in setups:
                    print("run %d %s %s: deploying" % (run, start, label), flush=True)
                    t = time.monotonic()
                    r = run_pair(args, label, kind, max_repr, start, work, payloads)
                    r["run"] = run
                    results.append(r)
                    key = "edge_in" if args.uplink else "clients_in"
                    cp = [x[key] for x in r["racks"].values()]
                    print("run %d %s %s: %s; deploys %s s; copies into a rack mean %.2f max "
                          "%.2f; hosts representing a rack %s, pulling %s (%.0f s wall)%s" % (
                              run, start, label,
                              "complete" if all(r["complete"]) else "INCOMPLETE",
                              " and ".join(fmt(s, "%.1f") for s in r["seconds"]),
                              statistics.mean(cp), max(cp),
                              max(len(set().union(*map(set, x["representatives"])))
                                  for x in r["racks"].values()) if kind != "opentracker"
                              else "—",
                              max(len(set().union(*map(set, x["pullers"])))
                                  for x in r["racks"].values()),
                              time.monotonic() - t,
                              "; " + "; ".join(r["errors"] + r["bad_files"])
                              if r["errors"] or r["bad_files"] else ""), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, results, started, time.monotonic() - t_start)
    print()
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "argv": sys.argv[1:], "started": started.isoformat(),
                       "seconds": time.monotonic() - t_start, "results": results}, f, indent=1)
    return 0 if all(all(r["complete"]) and not r["bad_files"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

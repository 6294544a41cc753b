#!/usr/bin/python3
"""The real-client deploy benchmark: how many times does each rack's uplink carry the payload?

An origin seeder (127.0.0.1) and R racks x H hosts of Debian's python3-libtorrent clients,
host H of rack R on 127.0.R.H (swarm.py says how each is set up, and why), deploy one payload
through a tracker. From the clients' own per-connection byte counters the benchmark computes,
per rack, the payload bytes received from outside the rack and sent outside it; the rack's
**uplink amplification** is the first divided by the payload size (ideal 1.0, a tracker
handing out random peers approaches one copy per host). It also reports the deploy time
(first start to last completion) and every host's completion time.

The same deploy runs, in the same invocation and interleaved run by run, against p2ptracker
with policy = "original" and policy = "standby" and against Debian's opentracker (the
random-peers baseline); medians over --runs. Results go to stdout and, between the markers
<!-- deploy:begin --> and <!-- deploy:end -->, to docs/performance.md.

--mixed-clients runs a smaller deploy (2 racks x 5 hosts) in which rtorrent, aria2c,
transmission-cli and qbittorrent-nox (clients.py) take part beside libtorrent, against p2ptracker, and checks that every host
completes with the right bytes and that the tracker saw each at its own address.

Usage: /usr/bin/python3 bench/deploy/run.py [--runs 3] [--racks 4 --hosts 5] [--payload-mib 32]
       (make bench-deploy builds the tracker and installs opentracker, rtorrent and aria2)
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
MIB = 1 << 20
KIB = 1 << 10
BEGIN, END = "<!-- deploy:begin -->", "<!-- deploy:end -->"
# The mixed-clients deploy: 2 racks x 5 hosts, each rack with all five clients, started in a
# different order in each rack (the first to announce tend to become the representatives).
MIXED_LAYOUT = {"r1h1": "libtorrent", "r1h2": "rtorrent", "r1h3": "aria2c",
                "r1h4": "transmission", "r1h5": "qbittorrent",
                "r2h1": "qbittorrent", "r2h2": "transmission", "r2h3": "aria2c",
                "r2h4": "rtorrent", "r2h5": "libtorrent"}
MIXED_RACKS, MIXED_HOSTS = 2, 5
MIXED_KINDS = ("rtorrent", "aria2c", "transmission", "qbittorrent")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--racks", type=int, default=4)
    p.add_argument("--hosts", type=int, default=5, help="hosts per rack")
    p.add_argument("--payload-mib", type=float, default=32)
    p.add_argument("--piece-kib", type=int, default=256)
    p.add_argument("--upload-cap-kib", type=int, default=2048,
                   help="upload rate cap of every client, KiB/s")
    p.add_argument("--origin-cap-kib", type=int, default=None,
                   help="upload cap of the origin seeder, KiB/s (default: --upload-cap-kib)")
    p.add_argument("--max-repr-rack", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--trackers", default="original,standby,opentracker",
                   help="comma-separated: original, standby, progress, relay (p2ptracker "
                        "policies; progress:N sets grant_percent = N), opentracker")
    p.add_argument("--timeout", type=float, default=300, help="seconds per deploy")
    p.add_argument("--uplink", action="store_true",
                   help="shape each rack's edge (uplink and downlink) with tc in a private "
                        "network namespace (uplink.py); per-edge bytes from tc's counters")
    p.add_argument("--uplink-kib", type=int, default=None,
                   help="rack edge rate each way, KiB/s (default: a quarter of the sum of "
                        "the rack's hosts' upload caps)")
    p.add_argument("--mixed-clients", action="store_true",
                   help="also run the 2 x 4 deploy with rtorrent, aria2c and transmission")
    p.add_argument("--mixed-only", action="store_true", help="only the mixed-clients deploy")
    p.add_argument("--binary", default=None,
                   help="p2ptracker binary (default: $P2PTRACKER_BIN, else build/p2ptracker)")
    p.add_argument("--command", default=None, help="the command line recorded in the docs")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    p.add_argument("--docs", default=os.path.join(ROOT, "docs", "performance.md"))
    p.add_argument("--json", default=None, help="also write every run's numbers to this file")
    p.add_argument("--log-dir", default=None,
                   help="write each deploy's client timeline and tracker log here")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--from-json", default=None, metavar="FILE",
                   help="no deploy: print (and write to the docs) the report of a --json file")
    args = p.parse_args(argv)
    # Checked here, not when its turn comes: a misspelt tracker would otherwise end the run
    # after the deploys before it.
    for k in args.trackers.split(","):
        if tracker_label(k) is None:
            p.error("unknown tracker %r (original, standby, progress[:N], relay, opentracker)"
                    % k)
    return args


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.2f", none="—"):
    return none if x is None else spec % x


# --- one deploy ----------------------------------------------------------------------------

def make_tracker(kind, args, work_dir):
    import trackers
    if kind == "opentracker":
        return trackers.OpenTracker(work_dir)
    policy, _, grant = kind.partition(":")
    extra = {"grant_percent": int(grant)} if grant else {}
    return trackers.P2PTracker(policy, max_repr_rack=args.max_repr_rack, **extra)


def run_deploy(kind, args, work_dir, base_torrent, payload, label, other_client=None,
               racks=None, hosts=None):
    """One deploy against a fresh tracker of `kind`. Returns its numbers (a dict)."""
    import swarm
    racks = racks or args.racks
    hosts = hosts or args.hosts
    os.makedirs(work_dir)
    tracker = make_tracker(kind, args, work_dir)
    deploy = None
    try:
        tracker.start()
        torrent = swarm.with_announce(base_torrent, tracker.url)
        info_hash = swarm.info_hash_of(torrent)
        tracker.prepare(torrent, info_hash)
        cap = args.upload_cap_kib * KIB
        origin_cap = (args.origin_cap_kib or args.upload_cap_kib) * KIB
        deploy = swarm.Deploy(work_dir, torrent, racks, hosts, cap, payload["origin_dir"],
                              origin_cap=origin_cap,
                              other_client=(lambda n, ip: other_client(n, ip, work_dir, torrent))
                              if other_client else None)
        edge_before = uplink_counters(args)
        complete = deploy.run(args.timeout)
        edge_after = uplink_counters(args)
        result = {
            "tracker": kind, "label": label, "complete": complete,
            "deploy_seconds": deploy.deploy_seconds(),
            "completion": deploy.completion_times(),
            "racks": deploy.rack_stats(payload["size"]),
            "payload_size": payload["size"],
            "origin_sent": sum(deploy.origin.bytes_to().values()),
            "origin_uploaded": deploy.origin.uploaded,
            "bad_files": [],
        }
        if edge_before is not None:
            result["edges"] = {rk: {d: edge_after[rk][d] - edge_before[rk][d]
                                    for d in ("up", "down")} for rk in edge_after}
        hosts_done = [c for c in deploy.clients if c.completed_at is not None]
        for c in hosts_done:
            if c.file_sha256() != payload["sha256"]:
                result["bad_files"].append(c.name)
        for x in deploy.extra_hosts:
            if x.completed_at is not None and _sha256(x.file_path()) != payload["sha256"]:
                result["bad_files"].append(x.name)
        result["wrong_source"] = sorted(c.name for c in deploy.everyone() if c.wrong_source)
        result["peer_sources"] = sorted(set().union(*(c.peer_sources
                                                      for c in deploy.everyone())))
        result["kinds"] = {c.name: "libtorrent" for c in deploy.clients}
        result["kinds"].update({x.name: x.kind for x in deploy.extra_hosts})
        result["ips"] = {c.name: c.ip for c in deploy.clients + deploy.extra_hosts}
        if hasattr(tracker, "transfer"):
            # The last hosts' completed announces may still be on their way.
            deadline = time.monotonic() + 10
            while True:
                view = tracker.transfer(info_hash) or {}
                members = [m for rk in view.get("racks", {}).values()
                           for m in rk.get("members", [])]
                if (members and all(m.get("seeder") for m in members)) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            result["tracker_view"] = view
        if args.log_dir:
            os.makedirs(args.log_dir, exist_ok=True)
            with open(os.path.join(args.log_dir, label + ".timeline"), "w") as f:
                f.write(deploy.timeline())
            with open(os.path.join(args.log_dir, label + ".tracker.log"), "w") as f:
                f.write(tracker.log())
            for x in deploy.extra_hosts:
                with open(os.path.join(args.log_dir, "%s.%s.log" % (label, x.name)), "w") as f:
                    f.write(x.log_tail(100000))
        return result
    finally:
        if deploy is not None:
            deploy.close()
        deploy = None
        tracker.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


def uplink_counters(args):
    if not args.uplink:
        return None
    import uplink
    return uplink.counters(args.racks)


def uplink_rate(args):
    return (args.uplink_kib * KIB if args.uplink_kib
            else args.hosts * args.upload_cap_kib * KIB // 4)


def _sha256(path):
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def summarize_run(r):
    racks = r["racks"]
    amps = [s["amplification"] for s in racks.values()]
    egress = [s["egress"] for s in racks.values()]
    done = [t for t in r["completion"].values() if t is not None]
    rx = sum(s["in"] for s in racks.values())
    rx_senders = sum(s["in_by_senders"] for s in racks.values())
    downloaded = sum(s["downloaded"] for s in racks.values())
    unattributed = sum(s["unattributed"] for s in racks.values())
    edges = r.get("edges") or {}
    size = r.get("payload_size")
    edge_in = [e["down"] / size for rk, e in edges.items() if rk in racks] if size else []
    edge_out = [e["up"] / size for rk, e in edges.items() if rk in racks] if size else []
    return {
        "edge_in_mean": statistics.mean(edge_in) if edge_in else None,
        "edge_in_max": max(edge_in) if edge_in else None,
        "edge_out_mean": statistics.mean(edge_out) if edge_out else None,
        "mean_amp": statistics.mean(amps), "max_amp": max(amps),
        "mean_egress": statistics.mean(egress),
        "deploy_seconds": r["deploy_seconds"],
        "p50_host": statistics.median(done) if done else None,
        "first_host": min(done) if done else None,
        # Cross-checks: the rack inflow as the senders counted it, and the share of the
        # hosts' own download totals that no per-connection counter saw.
        "sender_gap": (rx_senders - rx) / rx if rx else 0.0,
        "unattributed": unattributed / downloaded if downloaded else 0.0,
    }


# --- the report ----------------------------------------------------------------------------

LABELS = {"original": "p2ptracker, policy original", "standby": "p2ptracker, policy standby",
          "progress": "p2ptracker, policy progress", "relay": "p2ptracker, policy relay",
          "opentracker": "opentracker (random peers)"}


def tracker_label(kind):
    """The report's name for a --trackers entry; None if it names no tracker."""
    policy, _, grant = kind.partition(":")
    if policy == "progress" and grant.isdigit() and int(grant) <= 100:
        return "%s, grant_percent %s" % (LABELS[policy], grant)
    return None if grant else LABELS.get(kind)


def run_facts():
    """What the report says about the run that must be taken when it ends, not later."""
    return {"load": " ".join("%.2f" % x for x in os.getloadavg()), "commit": _commit()}


def report(args, results, payload, started, finished, mixed, facts=None):
    facts = facts or run_facts()
    kinds = [k for k in args.trackers.split(",")]
    per = {k: [summarize_run(r) for r in results if r["tracker"] == k] for k in kinds}
    med = {k: {f: median([s[f] for s in per[k]]) for f in
               ("mean_amp", "max_amp", "mean_egress", "deploy_seconds", "p50_host",
                "first_host", "sender_gap", "unattributed", "edge_in_mean", "edge_in_max",
                "edge_out_mean")} for k in kinds}
    worst = {k: max((s["max_amp"] for s in per[k]), default=None) for k in kinds}
    incomplete = {k: sum(1 for r in results if r["tracker"] == k and not r["complete"])
                  for k in kinds}
    base = med.get("opentracker")

    def ratio(k, field):
        if not base or base[field] in (None, 0) or med[k][field] is None:
            return "—"
        return "%.2f×" % (med[k][field] / base[field])

    lines = []
    cmd = args.command or "/usr/bin/python3 bench/deploy/run.py " + " ".join(sys.argv[1:])
    cap = args.upload_cap_kib
    lines += [
        "Command: `%s`  " % cmd,
        "Date: %s UTC, %.0f s in all  " % (started.strftime("%Y-%m-%d %H:%M"),
                                          (finished - started).total_seconds()),
        "Machine: %d CPUs, %s, Linux %s; load average %s at the end  "
        % (os.cpu_count(), _cpu_model(), platform.release(), facts["load"]),
        "Software: p2ptracker %s, opentracker %s, python3-libtorrent %s  "
        % (facts["commit"], _dpkg_version("opentracker"), _dpkg_version("python3-libtorrent")),
        "Deploy: %d racks × %d hosts (127.0.R.H, racks by /24) + 1 origin seeder on 127.0.0.1; "
        "payload %s MiB in %d KiB pieces (private, v1); upload cap %d KiB/s per client, "
        "origin %d KiB/s; max_repr_rack = %d, active_interval = 2 s; %d run(s) per tracker, "
        "interleaved; medians shown."
        % (args.racks, args.hosts, ("%g" % args.payload_mib), args.piece_kib, cap,
           args.origin_cap_kib or cap, args.max_repr_rack, args.runs),
    ]
    if getattr(args, "uplink", False):
        lines.append("Rack edges shaped (`--uplink`, bench/deploy/uplink.py): %d KiB/s each way "
                     "per rack (HTB on a private network namespace's lo; a rack's traffic to "
                     "and from every address outside its /24 crosses them)."
                     % (uplink_rate(args) // KIB))
    lines += [
        "",
        "| tracker | uplink amplification, mean over racks | max over racks (worst run) "
        "| egress per rack | deploy time | median host done | amplification vs opentracker "
        "| time vs opentracker |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in kinds:
        m = med[k]
        note = " (%d incomplete)" % incomplete[k] if incomplete[k] else ""
        lines.append("| %s%s | %s | %s (%s) | %s | %s | %s | %s | %s |" % (
            tracker_label(k), note, fmt(m["mean_amp"]), fmt(m["max_amp"]), fmt(worst[k]),
            fmt(m["mean_egress"]), fmt(m["deploy_seconds"], "%.1f s"),
            fmt(m["p50_host"], "%.1f s"), ratio(k, "mean_amp"), ratio(k, "deploy_seconds")))
    if any(med[k]["edge_in_mean"] is not None for k in kinds):
        lines += ["", "Measured at the shaped rack edges (tc class counters, IP bytes with "
                  "headers, divided by the payload size). tc counts packets as they pass a "
                  "class, so a packet dropped at a congested downlink and resent by TCP counts "
                  "twice on its sender's uplink: \"out of a rack\" exceeds the clients' own "
                  "egress most where downlinks are congested.", "",
                  "| tracker | into a rack, mean | into a rack, max | out of a rack, mean |",
                  "|---|---|---|---|"]
        for k in kinds:
            m = med[k]
            lines.append("| %s | %s | %s | %s |" % (tracker_label(k), fmt(m["edge_in_mean"]),
                                                    fmt(m["edge_in_max"]),
                                                    fmt(m["edge_out_mean"])))
    lines += ["",
              "Amplification: payload bytes a rack's hosts received from peers outside the rack "
              "(other racks and the origin), divided by the payload size; 1.00 is the ideal, "
              "one copy per rack. Egress: bytes the rack's hosts sent outside it, divided by "
              "the payload size. Deploy time: from the moment every host started to the last "
              "completion.",
              "",
              "Per run (mean / max amplification, deploy time):", ""]
    for k in kinds:
        cells = ["%s / %s, %s" % (fmt(s["mean_amp"]), fmt(s["max_amp"]),
                                  fmt(s["deploy_seconds"], "%.1f s")) for s in per[k]]
        lines.append("- %s: %s" % (tracker_label(k), "; ".join(cells)))
    lines += ["", "Per rack, median over runs (amplification in / egress out; hosts that "
              "received bytes from outside the rack, in the last run):", ""]
    racks = sorted({rk for r in results for rk in r["racks"]},
                   key=lambda x: int(x.rsplit(".", 1)[1]))
    lines.append("| tracker | " + " | ".join("rack %s.0/24" % rk for rk in racks) + " |")
    lines.append("|---|" + "---|" * len(racks))
    for k in kinds:
        runs = [r for r in results if r["tracker"] == k]
        if not runs:
            continue
        cells = []
        for rk in racks:
            a = median([r["racks"][rk]["amplification"] for r in runs if rk in r["racks"]])
            e = median([r["racks"][rk]["egress"] for r in runs if rk in r["racks"]])
            gw = runs[-1]["racks"].get(rk, {}).get("gateways", [])
            cells.append("%s / %s (%s)" % (fmt(a), fmt(e), " ".join(gw) or "none"))
        lines.append("| %s | %s |" % (tracker_label(k), " | ".join(cells)))
    lines += ["", "Per-host completion times, seconds from the start, median over runs:", ""]
    names = sorted({n for r in results for n in r["completion"]},
                   key=lambda n: tuple(int(x) for x in n[1:].split("h")))
    for k in kinds:
        runs = [r for r in results if r["tracker"] == k]
        cells = ["%s %s" % (n, fmt(median([r["completion"].get(n) for r in runs]), "%.1f"))
                 for n in names]
        lines.append("- %s: %s" % (tracker_label(k), ", ".join(cells)))
    gaps = ", ".join("%s %.1f%% / %.1f%%" % (k, 100 * med[k]["sender_gap"],
                                             100 * med[k]["unattributed"])
                     for k in kinds if med[k]["sender_gap"] is not None)
    lines += ["",
              "Cross-checks (median): rack inflow as counted by the senders minus as counted by "
              "the receivers, relative; and the share of the hosts' own download totals "
              "(torrent_status.total_payload_download) that no per-connection counter saw "
              "(bytes moved in the last poll interval before a disconnection): %s." % gaps]
    bad = sorted({n for r in results for n in r["bad_files"]})
    if bad:
        lines.append("**Files that did not match the payload**: %s." % ", ".join(bad))
    src = sorted({s for r in results for s in r["peer_sources"]})
    lines.append("Peer sources seen by the clients: %s (the tracker only, as required)."
                 % ", ".join(src) if src == ["tracker"] else
                 "Peer sources seen by the clients: %s." % ", ".join(src))
    if mixed:
        lines += [""] + mixed_report(mixed)
        if getattr(args, "mixed_command", None):  # merged from a separate invocation
            lines += ["(These mixed-clients results: `%s`.)" % args.mixed_command, ""]
    return "\n".join(lines) + "\n"


def mixed_report(mixed):
    lines = ["### Mixed clients: libtorrent, rtorrent, aria2c and transmission in one deploy",
             ""]
    for r in mixed:
        seconds = r["deploy_seconds"]
        lines.append("Against %s: %s, deploy time %s." % (
            tracker_label(r["tracker"]), "every host completed with the payload's bytes"
            if r["complete"] and not r["bad_files"] else
            "**incomplete or wrong bytes** (%s)" % ", ".join(
                r["bad_files"] or [n for n, t in r["completion"].items() if t is None]),
            fmt(seconds, "%.1f s")))
        lines += ["", "| host | address | client | done at | seen by the tracker as | "
                  "representative |", "|---|---|---|---|---|---|"]
        members = {}
        for rk in (r.get("tracker_view") or {}).get("racks", {}).values():
            for m in rk.get("members", []):
                members[m["peer"].rsplit(":", 1)[0]] = m
        for name in sorted(r["completion"], key=lambda n: tuple(int(x) for x in
                                                                 n[1:].split("h"))):
            ip = r["ips"][name]
            m = members.get(ip)
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                name, ip, r["kinds"][name], fmt(r["completion"][name], "%.1f s"),
                ("%s, %s" % (m["peer"], "seeder" if m.get("seeder") else
                             "progress %s%%" % m.get("progress"))) if m else "not seen",
                ("yes" if m.get("representative") else "no") if m else "—"))
        lines.append("")
    return lines


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _dpkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                              text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def _commit():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        return out + (" (src/ with uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


# Written under the results in docs/performance.md: what the benchmark does and does not do.
DOCS_NOTES = """
### Reading the results

- Without `--uplink` nothing limits a rack's edge, only each host's upload cap. The
  random-peers tracker lets every host pull from outside, so all hosts' caps serve cross-rack
  traffic: it is the fastest there, at nearly one copy per host (about 4 for racks of 5: some
  pieces come from rack-mates). The original's rule (2 representatives) carries
  about 1.7-1.9 copies per rack: both representatives pull nearly a full copy each.
- `standby` gets each rack to about 1.0 copy, but the deploy is slower: one gateway per rack
  must feed its rack-mates and the other racks' gateways from one host's upload cap, and
  rack-mates cannot help with the outside. Its clients' timelines show where the cap goes:
  libtorrent shares it among the peers a host uploads to, so the gateway sends each new piece
  to several rack-mates and has little left for other racks' gateways, whose intake (and so
  every rack's) is then slow; the rack-mates lag the gateway and finish well after it.
- `relay` keeps one copy per rack and removes most of that: the downloading gateway meets its
  rack only through the standby, which passes its pieces on, so the gateway's cap goes mostly
  to other racks. It is the fastest one-copy policy here, though not yet as fast as
  `original` (whose second gateway doubles each rack's intake, at nearly a second copy).
- `progress` (a standby also leaves the rack once it holds `grant_percent` of the payload)
  trades copies for time between `standby` and `original`. With real clients the standby
  reaches 50% late (rack-mates lag the gateway), so the default saves less time than the
  simulator predicts. The benchmark measures; it does not change the policy (`original`
  stays the default, as [policy.md](policy.md) says, until a variant is as fast).
- With shaped rack edges (`--uplink`, below) the random-peers deploy is no longer the fastest:
  its hosts compete for the rack's edge, libtorrent's choker then favours the faster in-rack
  peers, so it carries fewer copies than without shaping but still the most.
- opentracker answers with its compiled-in interval (about 30 min, randomised): its clients
  announce when they start and when they finish. Since all start together and connections go
  both ways, each still meets most of the swarm.

### How it is measured

`bench/deploy/run.py` (shared code in `bench/deploy/swarm.py`, also used by
`tests/integration/test_real_clients.py` and `test_deploy_amplification.py`) runs every client
as a python3-libtorrent session in one process, host H of rack R bound to 127.0.R.H (listen
socket, outgoing connections and announces), the origin on 127.0.0.1, DHT, LSD, PEX, UPnP
off and a private torrent ([clients.md](clients.md) lists the settings and why). Every 0.1 s
it reads each client's per-connection payload counters (`peer_info.total_download`,
`total_upload`), keyed by peer address and port and summed over reconnections, and
attributes them to racks by the peers' /24. Two cross-checks are printed with the table: the
same rack inflow counted by the senders, and the share of each host's own
`total_payload_download` no per-connection counter saw. The short version
(`tests/integration/test_deploy_amplification.py`: 3 × 3, 8 MiB, policy original) runs in
`make test` and asserts a maximum amplification over racks of at most 2.0 (two
representatives); `tests/integration/test_mixed_clients.py` runs the mixed-clients deploy
(libtorrent, rtorrent, aria2c, transmission-cli and qbittorrent-nox, 2 racks × 5 hosts,
4 MiB).

Options: `--racks`, `--hosts`, `--payload-mib`, `--piece-kib`, `--upload-cap-kib`,
`--origin-cap-kib`, `--max-repr-rack`, `--runs`, `--trackers original,standby,opentracker`,
`--mixed-clients`, `--json FILE`, `--log-dir DIR` (every client's timeline and the tracker's
log per deploy); `make bench-deploy DEPLOY_ARGS="--runs 5"`.

### Rack uplinks for real (`--uplink`)

`--uplink` re-runs the benchmark inside a new network namespace (`unshare --net`) whose own
`lo` carries all of it (still 127.0.R.H; nothing outside the namespace is touched, and it
disappears with the process) and shapes every rack's edge with `tc` (`bench/deploy/uplink.py`):
an HTB class per rack on `lo`'s egress for packets leaving 127.0.R.0/24 (the uplink), and one
per rack on an ifb device fed by `lo`'s ingress for packets entering it (the downlink), each
`--uplink-kib` KiB/s (default: a quarter of the sum of the rack's hosts' upload caps, as the
original's racks were). Traffic inside a rack is not limited. Per-edge bytes come from the
classes' counters. This differs from the issue's first design (a namespace and a veth pair
per rack): one shared `lo` with per-rack classes shapes and counts the same edges with far
less set-up, and keeps every client in one process with its byte counters. The benchmark
refuses to shape unless `lo` is the namespace's only interface. One side effect outside the
namespace: the first use of an ifb device loads the `ifb` kernel module, which creates two
idle devices, `ifb0` and `ifb1`, in the machine's own namespace (`ip link del ifb0` removes
them; the benchmark uses neither).

### Datacenters and rows

Racks here are the default /24s, one level. Deploys in datacenters, rows and racks, with every
level's uplink shaped in a tree of network namespaces, are `bench/deploy/levels.py` (`make
bench-levels`, `make bench-levels-uplink`; [policy.md](policy.md#levels-datacenter--row--rack)).
"""


UPLINK_BEGIN, UPLINK_END = "<!-- deploy-uplink:begin -->", "<!-- deploy-uplink:end -->"


def write_docs(path, text, uplink=False):
    """Writes `text` to the Deploy benchmark section of `path` (between BEGIN and END, added at
    the end of the file if absent), leaving the rest of the file alone.

    An --uplink run replaces only its own part (UPLINK_BEGIN..UPLINK_END) inside the section;
    a run without --uplink rewrites the section but keeps that part."""
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = "# Performance\n"
    if BEGIN not in doc or END not in doc:
        doc = doc.rstrip("\n") + "\n\n%s\n## Deploy benchmark\n\n%s\n" % (BEGIN, END)
    section = doc[doc.index(BEGIN):doc.index(END) + len(END)]
    old_part = ""
    if UPLINK_BEGIN in section and UPLINK_END in section:
        old_part = section[section.index(UPLINK_BEGIN):section.index(UPLINK_END) + len(UPLINK_END)]
    if uplink:
        part = "%s\n### With shaped rack uplinks (`--uplink`)\n\n%s%s" % (
            UPLINK_BEGIN, text, UPLINK_END)
        new = (section.replace(old_part, part) if old_part
               else section.replace(END, part + "\n" + END))
    else:
        new = "%s\n## Deploy benchmark\n\n%s%s%s%s" % (
            BEGIN, text, DOCS_NOTES, ("\n" + old_part + "\n") if old_part else "", END)
    doc = doc.replace(section, new)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def rerender(args):
    """The report of a previous run's --json file (its own options, times and results)."""
    with open(args.from_json) as f:
        saved = json.load(f)
    run_args = argparse.Namespace(**{**vars(args), **saved["args"], "from_json": None})
    sys.argv[1:] = saved.get("argv", [])
    text = report(run_args, saved["results"], None,
                  datetime.datetime.fromisoformat(saved["started"]),
                  datetime.datetime.fromisoformat(saved["finished"]), saved["mixed"],
                  saved.get("facts"))
    print(text)
    if not args.no_docs:
        write_docs(args.docs, text, uplink=getattr(run_args, "uplink", False))
        print("wrote the Deploy benchmark section of %s" % args.docs)
    return 0


# --- main ----------------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv)
    if args.from_json:
        return rerender(args)
    if args.uplink:
        import uplink
        if os.environ.get("P2P_DEPLOY_NETNS") != "1":
            # Everything (tracker, origin, clients) moves to a new network namespace whose own
            # lo is shaped; it disappears with this process.
            os.environ["P2P_DEPLOY_NETNS"] = "1"
            os.execvp("unshare", ["unshare", "--net", "--", sys.executable,
                                  os.path.abspath(__file__)] + sys.argv[1:])
        uplink.setup(args.racks, uplink_rate(args))  # refuses unless in a fresh namespace
    if args.binary:
        os.environ["P2PTRACKER_BIN"] = os.path.abspath(args.binary)
    import swarm  # noqa: F401  (after P2PTRACKER_BIN is set: trackers reads it on import)
    import clients
    kinds = args.trackers.split(",")
    if "opentracker" in kinds and not shutil.which("opentracker"):
        sys.exit("run.py: opentracker is not installed (scripts/install-deps.sh --deploy)")
    work = tempfile.mkdtemp(prefix="p2ptracker-deploy-")
    started = datetime.datetime.now(datetime.timezone.utc)
    results, mixed = [], []
    try:
        size = int(args.payload_mib * MIB)
        sha, base = swarm.make_payload_torrent(work, "http://127.0.0.1:1/announce", size,
                                               args.piece_kib * KIB, creator="p2ptracker bench")
        payload = {"size": size, "sha256": sha, "origin_dir": os.path.join(work, "origin")}
        if not args.mixed_only:
            for i in range(1, args.runs + 1):
                for k in kinds:
                    label = "run%d-%s" % (i, k)
                    t = time.monotonic()
                    r = run_deploy(k, args, os.path.join(work, label), base, payload, label)
                    results.append(r)
                    s = summarize_run(r)
                    print("%-18s amplification mean %.2f max %.2f, egress %.2f, deploy %s "
                          "(%.0f s wall)%s" % (label, s["mean_amp"], s["max_amp"],
                                               s["mean_egress"],
                                               fmt(s["deploy_seconds"], "%.1f s"),
                                               time.monotonic() - t,
                                               "" if r["complete"] else " INCOMPLETE"),
                          flush=True)
        if args.mixed_clients or args.mixed_only:
            for kind in MIXED_KINDS:
                if not clients.available(kind):
                    sys.exit("run.py: %s is not installed (scripts/install-deps.sh --deploy)"
                             % kind)

            def other(name, ip, run_dir, torrent):
                kind = MIXED_LAYOUT[name]
                if kind == "libtorrent":
                    return None
                return clients.KINDS[kind](name, ip, run_dir, torrent,
                                           args.upload_cap_kib * KIB)

            for k in [k for k in kinds if k != "opentracker"] or ["original"]:
                label = "mixed-%s" % k
                r = run_deploy(k, args, os.path.join(work, label), base, payload, label,
                               other_client=other, racks=MIXED_RACKS, hosts=MIXED_HOSTS)
                mixed.append(r)
                print("%-18s %s, deploy %s; %s" % (
                    label, "complete" if r["complete"] and not r["bad_files"] else "FAILED",
                    fmt(r["deploy_seconds"], "%.1f s"),
                    ", ".join("%s(%s) %s" % (n, r["kinds"][n], fmt(t, "%.1f s"))
                              for n, t in sorted(r["completion"].items()))), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    finished = datetime.datetime.now(datetime.timezone.utc)
    facts = run_facts()
    if results or mixed:
        if results:
            text = report(args, results, payload, started, finished, mixed, facts)
        else:
            text = "\n".join(mixed_report(mixed)) + "\n"
        print()
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"results": results, "mixed": mixed, "args": vars(args),
                           "argv": sys.argv[1:], "facts": facts,
                           "started": started.isoformat(),
                           "finished": finished.isoformat()}, f, indent=1, default=str)
        if not args.no_docs and results:
            write_docs(args.docs, text, uplink=args.uplink)
            print("wrote the Deploy benchmark section of %s" % args.docs)
    failed = [r["label"] for r in results + mixed if not r["complete"] or r["bad_files"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

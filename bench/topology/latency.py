#!/usr/bin/env python3
"""Latency of each topology lookup source, uncached and cached (issue 13).

For each source (smdb: tests/integration/smdb_server.py; dns: dnsmasq; exec: a
shell plugin; and subnet alone for reference), all on loopback:
  - uncached: HOSTS new hosts announce once, with topology_wait_ms so each
    announce waits for its lookup; prints the announce round trip (p50, p99)
    and the lookup time the tracker measured (its histogram's mean);
  - cached: the same hosts announce again; prints the round trip.

Usage: bench/topology/latency.py [--hosts N]   (make bench-topology)
Prints one table; numbers vary with the machine, compare rows of one run.
"""
import argparse
import os
import shutil
import stat
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import DnsServer, SmdbServer, Tracker, register_new  # noqa: E402

PLUGIN = """#!/bin/sh
echo "dc=ams1 row=1 rack=cab-$(echo "$1" | cut -d. -f4)"
"""


def host(i):
    return "127.0.%d.%d" % (100 + i // 200, 1 + i % 200)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100.0 * len(values)))]


def announce_times(t, h, hosts):
    times = []
    for ip in hosts:
        started = time.perf_counter()
        r = t.announce(h, source=ip)
        times.append(time.perf_counter() - started)
        assert r.status == 200 and b"failure" not in r.body, r.body
    return times


def lookup_mean(t, source):
    text = t.get("/metrics").body.decode()
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith('p2ptracker_topology_source_lookup_seconds_sum{source="%s"}' % source):
            total = float(line.split()[-1])
        if line.startswith('p2ptracker_topology_source_lookup_seconds_count{source="%s"}'
                           % source):
            count = float(line.split()[-1])
    return total / count if count else float("nan")


def measure(name, settings, hosts):
    t = Tracker(workers=2, topology_wait_ms=5000, **settings)
    t.start()
    try:
        h = register_new(t)
        uncached = announce_times(t, h, hosts)
        cached = announce_times(t, h, hosts)
        source = settings.get("topology", ["subnet"])[0]
        mean = lookup_mean(t, source) if source != "subnet" else 0.0
        return name, uncached, cached, mean
    finally:
        t.cleanup()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=300)
    return parser.parse_args(argv)


def main():
    args = parse_args()
    hosts = [host(i) for i in range(args.hosts)]
    work = tempfile.mkdtemp(prefix="p2ptracker-topology-bench-")
    smdb = SmdbServer().start()
    dns = DnsServer({"%s.topology.test" % ".".join(reversed(ip.split("."))):
                     ["dc=ams1 row=1 rack=cab-%s" % ip.split(".")[3]] for ip in hosts}).start()
    plugin = os.path.join(work, "locate")
    with open(plugin, "w") as f:
        f.write(PLUGIN)
    os.chmod(plugin, stat.S_IRWXU)
    for ip in hosts:
        smdb.set(ip, cabinet="cab-" + ip.split(".")[3])
    rows = []
    try:
        print("topology latency: %d hosts, each announcing twice, on loopback" % len(hosts),
              flush=True)
        for name, settings in (
                ("subnet", {"topology": ["subnet"]}),
                ("smdb", {"topology": ["smdb", "subnet"], "smdb_url": smdb.url}),
                ("dns", {"topology": ["dns", "subnet"], "dns_name": "{reverse}.topology.test.",
                         "dns_server": dns.server}),
                ("exec", {"topology": ["exec", "subnet"], "exec_command": plugin}),
        ):
            rows.append(measure(name, settings, hosts))
            print("  %s done" % name, file=sys.stderr, flush=True)
    finally:
        smdb.stop()
        dns.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("%-8s %22s %22s %18s" % ("source", "uncached p50 / p99 ms", "cached p50 / p99 ms",
                                   "lookup mean ms"))
    for name, uncached, cached, mean in rows:
        print("%-8s %10.2f / %8.2f %10.2f / %8.2f %18.2f" % (
            name, percentile(uncached, 50) * 1e3, percentile(uncached, 99) * 1e3,
            percentile(cached, 50) * 1e3, percentile(cached, 99) * 1e3, mean * 1e3))


if __name__ == "__main__":
    sys.exit(main())

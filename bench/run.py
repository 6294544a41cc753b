#!/usr/bin/python3
"""The p2ptracker benchmark suite: p2ptracker against Debian's opentracker (and,
for HTTP, nginx answering a fixed bencoded body: the ceiling of a tiny HTTP
responder on this machine), side by side, on loopback.

    make bench          # 3 repetitions of 10 s per measurement, memory, micro
    make bench-quick    # 1 repetition of 3 s, for development
    /usr/bin/python3 bench/run.py --help

Builds nothing: `make bench` builds build/p2ptracker, build/bench/udp_load and
build/bench/policy_bench first. Every server is pinned to CPU 0 (`taskset -c
0`), every load generator to CPU 1; targets alternate within each repetition
and the table shows medians. Prints one markdown table and writes it, with the
command, the date and the machine, into docs/performance.md between the
`bench:begin` / `bench:end` markers (text outside them, such as the profile
notes, is kept).

Everything started here binds 127.0.0.1 only, runs under a time limit, and is
stopped in a `finally`, whatever happens. Standard library only (Debian's
/usr/bin/python3).
"""
import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Bencode comes from the integration tests' harness: one codec for tests and bench.
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import bdecode, bencode  # noqa: E402
BENCH = os.path.join(ROOT, "bench")
SERVER_CPU = "0"
LOAD_CPU = "1"
PORT_BASE = 20000  # peer j of every torrent announces port PORT_BASE + j
NUMWANT = 35       # the default maxpeers: both trackers answer 35 peers

# The targets (issue 4), as ratios measured in the same run.
TARGETS = {
    "http_announce_close": [("opentracker", 1.5)],
    "http_announce_keepalive": [("opentracker", 2.0), ("nginx", 0.8)],
    "udp_announce": [("opentracker", 1.5)],
}

# --- small helpers -----------------------------------------------------------


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def make_torrent(name, announce):
    """A tiny v1 single-file .torrent (private). Returns (bytes, info_hash).
    The pieces are hashes of made-up data: trackers never read the payload."""
    piece_length = 16384
    pieces = b"".join(hashlib.sha1(b"%s/%d" % (name.encode(), i)).digest() for i in range(4))
    info = {"length": 4 * piece_length, "name": name, "piece length": piece_length,
            "pieces": pieces, "private": 1}
    return bencode({"announce": announce, "info": info}), hashlib.sha1(bencode(info)).digest()


def free_port():
    """A loopback port free for both TCP and UDP (the trackers serve both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port")


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def tree_cpu_seconds(pid):
    """CPU seconds (user + system) used so far by `pid` and its direct children
    (nginx's worker is a child of its master)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" closing the command name: state, ppid, ... utime is
        # field 14 of stat(5), stime field 15.
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def http_get(port, target, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, target), timeout=timeout) as r:
        return r.read()


def announce_target(info_hash, j, numwant=NUMWANT, event=None):
    params = {"info_hash": info_hash, "peer_id": b"-BN0001-%012d" % j, "port": PORT_BASE + j,
              "uploaded": 0, "downloaded": 0, "left": 0 if j % 10 == 0 else 1000000,
              "numwant": numwant, "compact": 1}
    if event:
        params["event"] = event
    return "/announce?" + urllib.parse.urlencode(params)


def pinned(cpu, argv, enabled):
    return (["taskset", "-c", cpu] if enabled else []) + argv


# --- the servers -------------------------------------------------------------


class Server:
    """A server process: started pinned, stopped with SIGTERM then SIGKILL."""
    name = "?"

    def __init__(self, workdir, pin):
        self.workdir = workdir
        self.pin = pin
        self.proc = None
        self.port = None
        self.logfile = None

    def _spawn(self, argv):
        self.logfile = open(os.path.join(self.workdir, self.name + ".log"), "wb")
        # taskset execs the server, so proc.pid is the server's own pid.
        self.proc = subprocess.Popen(pinned(SERVER_CPU, argv, self.pin), stdout=self.logfile,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir)

    def log_text(self):
        with open(os.path.join(self.workdir, self.name + ".log"), "rb") as f:
            return f.read().decode(errors="replace")

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode,
                                                             self.log_text()[-3000:]))

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.logfile:
            self.logfile.close()


class P2PTracker(Server):
    name = "p2ptracker"

    def __init__(self, workdir, pin, binary, torrents, overrides=()):
        super().__init__(workdir, pin)
        self.binary = binary
        self.torrents = torrents  # [(file name, bytes)]
        self.overrides = list(overrides)  # extra "key=value" for --set (--p2p-set)

    def start(self, timeout=300):
        data_dir = os.path.join(self.workdir, "data")
        os.makedirs(os.path.join(data_dir, "torrents"), exist_ok=True)
        for fname, data in self.torrents:
            with open(os.path.join(data_dir, "torrents", fname), "wb") as f:
                f.write(data)
        self._spawn([self.binary, "serve",
                     "--set", "host=127.0.0.1", "--set", "port=0", "--set", "workers=1",
                     "--set", "data_dir=" + data_dir,
                     # opentracker keeps a peer 45 minutes; so do we here, so
                     # both swarms keep their 100,000 / 1,000,000 peers for
                     # the whole run whatever the order of the works.
                     "--set", "peer_timeout=2700", "--set", "peer_timeout_max=2700",
                     "--set", "log_level=info",
                     # The whole load comes from one address with thousands of
                     # ports and connections: what the per-source bounds exist
                     # to stop. Off, as opentracker has none.
                     "--set", "rate_limit_announces=0", "--set", "rate_limit_scrapes=0",
                     "--set", "max_connections_per_source=0",
                     "--set", "max_peers_per_address=0"] +
                    [a for kv in self.overrides for a in ("--set", kv)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            m = re.search(r"listening on 127\.0\.0\.1:(\d+) \((\d+) workers?; UDP (\d+)\)",
                          self.log_text())
            if m:
                self.port = int(m.group(1))
                if int(m.group(3)) != self.port:
                    raise RuntimeError("p2ptracker: UDP port %s is not the HTTP port"
                                       % m.group(3))
                return
            time.sleep(0.1)
        raise RuntimeError("p2ptracker did not report listening within %d s" % timeout)


class OpenTracker(Server):
    name = "opentracker"

    def __init__(self, workdir, pin, hashes):
        super().__init__(workdir, pin)
        self.hashes = hashes

    def start(self, timeout=120):
        # Debian's opentracker is built whitelist-only. Run as root it chroots
        # to -d and drops to "nobody", so the whitelist is named relative to
        # the chroot and the directory must be readable by nobody.
        root = os.path.join(self.workdir, "opentracker-root")
        os.makedirs(root, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        os.chmod(root, 0o755)
        with open(os.path.join(root, "whitelist.txt"), "w") as f:
            f.writelines(h.hex() + "\n" for h in self.hashes)
        conf = os.path.join(root, "opentracker.conf")
        with open(conf, "w") as f:
            f.write("access.whitelist whitelist.txt\n")
        self.port = free_port()
        self._spawn(["opentracker", "-i", "127.0.0.1", "-p", str(self.port), "-P",
                     str(self.port), "-d", root, "-f", conf])
        # Ready once the whitelist is loaded (its thread reads it after start):
        # an announce for a listed hash no longer fails. A stop, so the probe
        # leaves no peer behind.
        probe = announce_target(self.hashes[0], 0, numwant=0, event="stopped")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if b"failure reason" not in http_get(self.port, probe, timeout=2):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("opentracker not ready within %d s:\n%s" % (timeout,
                                                                        self.log_text()))


def nginx_bodies():
    """Fixed bencoded bodies for nginx: an announce reply with 35 compact peers
    and a scrape reply with 10 files, as p2ptracker and opentracker send. The
    binary fields use letters and digits only, so they sit in an nginx string
    as they are (no quote, backslash or '$')."""
    peers = b"".join(bytes([65 + i % 26, 66, 67, 97 + i % 26, 0x4A, 0x61 + i // 26])
                     for i in range(NUMWANT))
    announce = bencode({"complete": 10, "incomplete": 90, "interval": 45,
                        "min interval": 15, "peers": peers})
    files = {}
    for i in range(10):
        files[b"HASH%016d" % i] = {"complete": 10, "downloaded": 0, "incomplete": 90}
    scrape = bencode({"files": files})
    for body in (announce, scrape):
        assert re.fullmatch(rb"[A-Za-z0-9: ]+", body), body
    return announce, scrape


class Nginx(Server):
    name = "nginx"

    def start(self, timeout=30):
        self.port = free_port()
        announce, scrape = nginx_bodies()
        d = self.workdir
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""\
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  client_body_temp_path {d}/nginx-body;
  proxy_temp_path {d}/nginx-proxy;
  fastcgi_temp_path {d}/nginx-fastcgi;
  uwsgi_temp_path {d}/nginx-uwsgi;
  scgi_temp_path {d}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    location /announce {{ return 200 "{announce}"; }}
    location /scrape {{ return 200 "{scrape}"; }}
  }}
}}
""".format(d=d, port=self.port, announce=announce.decode(), scrape=scrape.decode()))
        self._spawn(["nginx", "-p", d, "-e", os.path.join(d, "nginx-error.log"), "-c", conf])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if http_get(self.port, "/announce", timeout=2) == announce:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx not ready within %d s" % timeout)


# --- the load generators -----------------------------------------------------


class Load:
    def __init__(self, args, udp_load, hashes_file):
        self.args = args
        self.udp_load = udp_load
        self.hashes_file = hashes_file
        self.pin = args.pin

    def wrk(self, port, script, script_args, close):
        argv = ["wrk", "-t1", "-c%d" % self.args.connections, "-d%ds" % self.args.duration,
                "--timeout", "5s", "-s", os.path.join(BENCH, script)]
        if close:
            argv += ["-H", "Connection: close"]
        argv += ["http://127.0.0.1:%d" % port, "--"] + [str(a) for a in script_args]
        out = subprocess.run(pinned(LOAD_CPU, argv, self.pin), capture_output=True, text=True,
                             timeout=self.args.duration + 60, check=True).stdout
        lines = [line for line in out.splitlines() if line.startswith("JSON ")]
        if not lines:
            raise RuntimeError("wrk printed no result:\n" + out)
        r = json.loads(lines[-1][5:])
        # A read error is also what wrk counts when the server closes the
        # connection after a complete reply without saying "Connection:
        # close" (opentracker does, having no keep-alive): counted apart.
        errors = r["connect_errors"] + r["write_errors"] + r["status_errors"] + r["timeouts"]
        good = r["requests"] - r["status_errors"]
        return {"rate": good / (r["duration_us"] / 1e6), "p50_us": r["p50_us"],
                "p99_us": r["p99_us"], "errors": errors, "closed": r["read_errors"],
                "dropped": 0, "requests": r["requests"]}

    def udp(self, port, mode, extra=(), duration=None, sockets=None, window=None):
        duration = self.args.duration if duration is None else duration
        argv = [self.udp_load, "--server", "127.0.0.1:%d" % port, "--mode", mode,
                "--hashes", self.hashes_file, "--duration", str(duration),
                "--sockets", str(sockets or self.args.udp_sockets),
                "--window", str(window or self.args.udp_window),
                "--peers-per-torrent", str(self.args.peers_per_torrent),
                "--port-base", str(PORT_BASE), "--numwant", str(NUMWANT)] + list(extra)
        out = subprocess.run(pinned(LOAD_CPU, argv, self.pin), capture_output=True, text=True,
                             timeout=duration + 120)
        if out.returncode != 0:
            raise RuntimeError("udp_load %s failed (%d): %s %s" % (mode, out.returncode,
                                                                   out.stdout, out.stderr))
        r = json.loads(out.stdout.strip().splitlines()[-1])
        # Lost requests are the server's drops (its receive buffer full):
        # udp_load's window backs off on them, like TCP. Counted apart.
        r["errors"] = r["errors"] + r["bad_tid"] + r["malformed"]
        r["closed"] = 0
        r["dropped"] = r["lost"]
        return r


# --- the works ---------------------------------------------------------------

WORKS = [
    # (key, label, kind, targets)
    ("http_announce_close", "HTTP announce, new connection per request", "http",
     ("p2ptracker", "opentracker", "nginx")),
    ("http_announce_keepalive", "HTTP announce, keep-alive", "http",
     ("p2ptracker", "opentracker", "nginx")),
    ("http_scrape", "HTTP scrape, 10 hashes (keep-alive)", "http",
     ("p2ptracker", "opentracker", "nginx")),
    ("udp_announce", "UDP announce", "udp", ("p2ptracker", "opentracker")),
    ("udp_scrape", "UDP scrape, 10 hashes", "udp", ("p2ptracker", "opentracker")),
]


def run_work(load, key, server, args, rep):
    """One measurement, with the CPU the server and the load generator used
    (fractions of one CPU): a server below 1.0 was not the bottleneck."""
    server_before, load_before, t0 = (tree_cpu_seconds(server.pid), children_cpu_seconds(),
                                      time.monotonic())
    r = _run_work(load, key, server, args, rep)
    wall = time.monotonic() - t0
    r["server_cpu"] = (tree_cpu_seconds(server.pid) - server_before) / args.duration
    r["load_cpu"] = (children_cpu_seconds() - load_before) / wall
    return r


def _run_work(load, key, server, args, rep):
    seed = 1000 * rep + 7
    if key == "http_announce_close":
        return load.wrk(server.port, "announce.lua",
                        [load.hashes_file, args.peers_per_torrent, PORT_BASE, seed], close=True)
    if key == "http_announce_keepalive":
        return load.wrk(server.port, "announce.lua",
                        [load.hashes_file, args.peers_per_torrent, PORT_BASE, seed], close=False)
    if key == "http_scrape":
        return load.wrk(server.port, "scrape.lua", [load.hashes_file, 10, seed], close=False)
    if key == "udp_announce":
        return load.udp(server.port, "announce", ["--seed", str(seed)])
    if key == "udp_scrape":
        return load.udp(server.port, "scrape", ["--seed", str(seed), "--scrape-hashes", "10"])
    raise KeyError(key)


def sanity_check(server, hashes, expect_peers):
    """One announce and one scrape by hand: the reply must be what the
    benchmark thinks it measures (35 peers, no failure, 10 files)."""
    body = http_get(server.port, announce_target(hashes[1], 1))
    if server.name == "nginx":
        return
    reply = bdecode(body)
    if b"failure reason" in reply:
        raise RuntimeError("%s refused an announce: %r" % (server.name, reply))
    n = len(reply.get(b"peers", b"")) // 6
    if n < expect_peers:
        raise RuntimeError("%s answered %d peers, expected %d: %r" % (server.name, n,
                                                                      expect_peers, reply))
    q = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in hashes[:10])
    files = bdecode(http_get(server.port, "/scrape?" + q)).get(b"files", {})
    if len(files) != 10:
        raise RuntimeError("%s scrape answered %d files, expected 10" % (server.name,
                                                                        len(files)))


def throughput(args, tmp, binary, udp_load, stack):
    """Starts the three servers with the pool's torrents, fills both trackers'
    swarms, runs every work `reps` times (targets alternating) and returns
    {work: {target: [result, ...]}} plus facts about the fill."""
    names = ["bench-%05d" % i for i in range(args.torrents)]
    torrents, hashes = [], []
    for n in names:
        data, h = make_torrent(n, "http://127.0.0.1:6969/announce")
        torrents.append((n + ".torrent", data))
        hashes.append(h)
    hashes_file = os.path.join(tmp, "hashes.txt")
    with open(hashes_file, "w") as f:
        f.writelines(h.hex() + "\n" for h in hashes)
    servers = {}
    for cls, extra in ((P2PTracker, (binary, torrents, args.p2p_set)), (OpenTracker, (hashes,)),
                       (Nginx, ())):
        d = os.path.join(tmp, cls.name)
        os.makedirs(d)
        s = cls(d, args.pin, *extra)
        stack.callback(s.stop)
        log("starting %s" % cls.name)
        s.start()
        servers[cls.name] = s
    load = Load(args, udp_load, hashes_file)

    # Fill both swarms with the whole pool once (every torrent, every peer),
    # so each measured announce lands in a full swarm.
    fill = {}
    for name in ("p2ptracker", "opentracker"):
        log("filling %s: %d torrents x %d peers" % (name, args.torrents, args.peers_per_torrent))
        r = load.udp(servers[name].port, "prime", duration=120)
        fill[name] = r["peers_held"]
        log("  %d peers held (%.0f announces/s)" % (r["peers_held"], r["rate"]))
        sanity_check(servers[name], hashes, min(NUMWANT, args.peers_per_torrent - 1))
    sanity_check(servers["nginx"], hashes, 0)

    results = {key: {t: [] for t in targets} for key, _, _, targets in WORKS}
    for rep in range(args.reps):
        for key, label, _, targets in WORKS:
            if args.works and key not in args.works:
                continue
            # Alternate the order of targets between repetitions too.
            order = list(targets) if rep % 2 == 0 else list(reversed(targets))
            for t in order:
                servers[t].check_alive()
                r = run_work(load, key, servers[t], args, rep)
                results[key][t].append(r)
                log("rep %d %-23s %-11s %9.0f/s  p50 %6d us  p99 %6d us  cpu server %.2f "
                    "load %.2f  errors %d closed %d dropped %d" % (
                        rep + 1, key, t, r["rate"], r["p50_us"], r["p99_us"], r["server_cpu"],
                        r["load_cpu"], r["errors"], r["closed"], r["dropped"]))
    for s in servers.values():
        s.check_alive()
    return results, fill


def memory(args, tmp, binary, udp_load, stack):
    """Resident bytes per peer with mem_sockets x mem_torrents peers: each of
    mem_sockets UDP sockets, bound to its own 127.0.R.H address (20 hosts per
    /24 rack), announces once into every torrent. One fresh server at a time."""
    names = ["mem-%05d" % i for i in range(args.mem_torrents)]
    torrents, hashes = [], []
    for n in names:
        data, h = make_torrent(n, "http://127.0.0.1:6969/announce")
        torrents.append((n + ".torrent", data))
        hashes.append(h)
    hashes_file = os.path.join(tmp, "mem-hashes.txt")
    with open(hashes_file, "w") as f:
        f.writelines(h.hex() + "\n" for h in hashes)
    load = Load(args, udp_load, hashes_file)
    out = {}
    for cls, extra in ((P2PTracker, (binary, torrents, args.p2p_set)), (OpenTracker, (hashes,))):
        d = os.path.join(tmp, "mem-" + cls.name)
        os.makedirs(d)
        s = cls(d, args.pin, *extra)
        with contextlib.ExitStack() as one:
            one.callback(s.stop)
            log("memory: starting %s with %d torrents" % (cls.name, args.mem_torrents))
            s.start()
            time.sleep(1)
            before = vm_rss(s.pid)
            r = load.udp(s.port, "fill", ["--rack-size", "20", "--rate", str(args.mem_rate)],
                         duration=args.mem_time_limit, sockets=args.mem_sockets, window=32)
            time.sleep(2)
            s.check_alive()
            after = vm_rss(s.pid)
            peers = r["peers_held"]
            # p2ptracker's write-behind store drops records when its queue is
            # full (and says so in its log): a store that dropped some would
            # look smaller than it is, so the count goes into the report.
            dropped = sum(int(n) for n in re.findall(r"store: (\d+) write\(s\) dropped",
                                                     s.log_text()))
            out[cls.name] = {"before": before, "after": after, "peers": peers,
                             "torrents": args.mem_torrents, "store_dropped": dropped,
                             "per_peer": (after - before) / peers if peers else float("nan"),
                             "fill_rate": r["rate"], "gave_up": r["gave_up"]}
            log("memory: %s RSS %.1f -> %.1f MiB, %d peers, %.1f bytes/peer" % (
                cls.name, before / 2**20, after / 2**20, peers, out[cls.name]["per_peer"]))
    return out


def micro(args, binary_dir):
    exe = os.path.join(binary_dir, "bench", "policy_bench")
    if not os.path.exists(exe):
        log("policy_bench not built (libbenchmark-dev missing?): micro-benchmarks skipped")
        return None
    log("micro-benchmarks (policy_bench)")
    out = subprocess.run(pinned(SERVER_CPU, [exe, "--benchmark_format=json",
                                             "--benchmark_min_time=%s" % args.micro_min_time],
                                args.pin),
                         capture_output=True, text=True, timeout=600, check=True).stdout
    rows = []
    for b in json.loads(out)["benchmarks"]:
        rows.append((b["name"], b["cpu_time"], b["time_unit"], b["iterations"]))
    return rows


# --- the report --------------------------------------------------------------


def median_of(runs, field):
    return statistics.median(r[field] for r in runs) if runs else None


def fmt_rate(v):
    return "%s/s" % format(int(round(v)), ",")


def fmt_us(us):
    return "%.2f ms" % (us / 1000) if us >= 1000 else "%d µs" % us


def load_bound(runs):
    """The load generator, not the server, set the pace: it used (nearly) its
    whole CPU while the server had time to spare."""
    return bool(runs) and median_of(runs, "load_cpu") >= 0.9 and median_of(runs,
                                                                           "server_cpu") < 0.9


def cell(runs):
    if not runs:
        return "—"
    return "%s%s (p50 %s, p99 %s)" % (fmt_rate(median_of(runs, "rate")),
                                       " †" if load_bound(runs) else "",
                                       fmt_us(median_of(runs, "p50_us")),
                                       fmt_us(median_of(runs, "p99_us")))


def build_table(results, mem):
    lines = ["| work | p2ptracker | opentracker | ratio | ratio to nginx | target | |",
             "|---|---|---|---|---|---|---|"]
    verdicts = []
    for key, label, kind, targets in WORKS:
        runs = results.get(key, {}) if results else {}
        if not runs or not runs.get("p2ptracker"):
            continue
        p2p = median_of(runs["p2ptracker"], "rate")
        ot = median_of(runs.get("opentracker", []), "rate")
        ng = median_of(runs.get("nginx", []), "rate")
        ratio_ot = p2p / ot if ot else None
        ratio_ng = p2p / ng if ng else None
        ratios = {"opentracker": ratio_ot, "nginx": ratio_ng}
        goals, met = [], True
        for against, want in TARGETS.get(key, []):
            goals.append("≥ %.1f× %s" % (want, against))
            if ratios[against] is None or ratios[against] < want:
                met = False
        status = ("met" if met else "**missed**") if goals else ""
        if goals:
            verdicts.append((label, met))
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, cell(runs["p2ptracker"]), cell(runs.get("opentracker")),
            "%.2f×" % ratio_ot if ratio_ot else "—",
            "%.2f× (nginx %s)" % (ratio_ng, fmt_rate(ng)) if ratio_ng else "—",
            ", ".join(goals) or "—", status))
    if mem:
        p, o = mem.get("p2ptracker"), mem.get("opentracker")
        ratio = p["per_peer"] / o["per_peer"] if p and o and o["per_peer"] > 0 else None
        met = ratio is not None and ratio <= 1.0
        verdicts.append(("memory per peer", met))

        def mcell(m):
            return "%.1f B/peer (%s peers, RSS %.0f → %.0f MiB)" % (
                m["per_peer"], format(m["peers"], ","), m["before"] / 2**20,
                m["after"] / 2**20) if m else "—"
        lines.append("| memory, %s peers over %s torrents | %s | %s | %s | — | ≤ 1.0× opentracker "
                     "| %s |" % (format(p["peers"] if p else 0, ","),
                                 format(p["torrents"] if p else 0, ","), mcell(p), mcell(o),
                                 "%.2f×" % ratio if ratio else "—",
                                 "met" if met else "**missed**"))
    return "\n".join(lines), verdicts


def cpu_table(results):
    """Median CPU use per measurement, as fractions of one CPU: the server
    (all its threads, pinned to one CPU) and the load generator."""
    lines = ["| work | " + " | ".join("%s server / load" % t for t in
                                      ("p2ptracker", "opentracker", "nginx")) + " |",
             "|---|---|---|---|"]
    for key, label, _, targets in WORKS:
        runs = results.get(key, {})
        if not runs.get("p2ptracker"):
            continue
        cells = []
        for t in ("p2ptracker", "opentracker", "nginx"):
            rr = runs.get(t)
            if not rr:
                cells.append("—")
                continue
            # Requests per second of server CPU: what each answer costs the
            # server, whatever else the machine was doing.
            per_cpu = statistics.median(r["rate"] / r["server_cpu"] for r in rr
                                        if r["server_cpu"] > 0) if any(
                                            r["server_cpu"] > 0 for r in rr) else 0
            cells.append("%.2f / %.2f (%s per CPU-s)" % (
                median_of(rr, "server_cpu"), median_of(rr, "load_cpu"),
                format(int(per_cpu), ",")))
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    return "\n".join(lines)


def micro_table(rows):
    lines = ["| benchmark | time per operation (CPU) | iterations |", "|---|---|---|"]
    for name, t, unit, iters in rows:
        lines.append("| `%s` | %.1f %s | %s |" % (name, t, unit, format(iters, ",")))
    return "\n".join(lines)


def machine_facts():
    model = "unknown"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    mem = "?"
    with contextlib.suppress(OSError):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB" % (int(line.split()[1]) / 2**20)

    def version(argv, pattern):
        with contextlib.suppress(Exception):
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            m = re.search(pattern, out.stdout + out.stderr)
            if m:
                return m.group(1)
        return "?"
    commit = version(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], r"(\w+)")
    dirty = version(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                    r"(\S)")
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "memory": mem,
        "load": "%.2f %.2f %.2f" % os.getloadavg(),
        "opentracker": version(["dpkg-query", "-W", "-f=${Version}", "opentracker"], r"(\S+)"),
        "nginx": version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": version(["dpkg-query", "-W", "-f=${Version}", "wrk"], r"(\S+)"),
        "commit": commit + (" (with uncommitted changes)" if dirty != "?" else ""),
    }


def write_report(path, text):
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    old = ""
    with contextlib.suppress(FileNotFoundError):
        with open(path) as f:
            old = f.read()
    block = begin + "\n" + text.rstrip() + "\n" + end
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = ("# Performance\n\nWritten by `make bench` (bench/run.py) between the markers "
               "below; the notes after them are written by hand.\n\n" + block + "\n" + old)
    with open(path, "w") as f:
        f.write(new)


# --- main --------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                   help="where p2ptracker and bench/ are built (default: build/)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each measurement")
    p.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    p.add_argument("--torrents", type=int, default=1000, help="registered torrents in the pool")
    p.add_argument("--swarm-peers", type=int, default=100000,
                   help="peers in all swarms together (pool size)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (-c)")
    p.add_argument("--udp-sockets", type=int, default=4, help="udp_load sockets")
    p.add_argument("--udp-window", type=int, default=64,
                   help="udp_load's most requests in flight per socket (its congestion "
                        "window stays below this)")
    p.add_argument("--mem-torrents", type=int, default=10000)
    p.add_argument("--mem-sockets", type=int, default=100,
                   help="memory fill: peers per torrent (one socket, one address each)")
    p.add_argument("--mem-time-limit", type=int, default=300)
    p.add_argument("--mem-rate", type=int, default=20000,
                   help="memory fill: announces per second (1,000,000 peers announcing "
                        "every 45-50 s send about 20,000/s)")
    p.add_argument("--micro-min-time", default="0.2",
                   help="policy_bench --benchmark_min_time (seconds)")
    p.add_argument("--works", nargs="*", help="only these works (keys: %s)"
                   % ", ".join(w[0] for w in WORKS))
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--p2p-set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra p2ptracker setting (--set), e.g. store=redis; repeatable")
    p.add_argument("--no-pin", dest="pin", action="store_false",
                   help="do not pin servers to CPU 0 and load to CPU 1")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "performance.md"),
                   help="markdown file to update ('-' for none)")
    p.add_argument("--command", default=None,
                   help="the command to record in the report (make passes its own)")
    a = p.parse_args()
    keys = [w[0] for w in WORKS]
    for key in a.works or []:
        if key not in keys:
            p.error("unknown work %r (%s)" % (key, ", ".join(keys)))
    a.peers_per_torrent = max(1, a.swarm_peers // a.torrents)
    a.build_dir = os.path.abspath(a.build_dir)
    return a


def main():
    args = parse_args()
    # SIGTERM (a supervisor, a timeout) must run the finally blocks too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = os.path.join(args.build_dir, "p2ptracker")
    udp_load = os.path.join(args.build_dir, "bench", "udp_load")
    need = [binary, udp_load]
    missing = [p for p in need if not os.access(p, os.X_OK)]
    tools = ["wrk", "opentracker", "nginx"] + (["taskset"] if args.pin else [])
    missing += [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit("bench: missing %s (run `make bench`, which installs and builds them)"
                 % ", ".join(missing))
    if args.pin and (os.cpu_count() or 1) < 2:
        log("fewer than 2 CPUs: not pinning")
        args.pin = False
    facts = machine_facts()
    started = datetime.datetime.now(datetime.timezone.utc)
    log("load average at start: %s (nproc %s)" % (facts["load"], facts["nproc"]))

    results = fill = mem = micro_rows = None
    tmp = tempfile.mkdtemp(prefix="p2p-bench-")
    try:
        with contextlib.ExitStack() as stack:
            if not args.skip_throughput:
                results, fill = throughput(args, tmp, binary, udp_load, stack)
            stack.close()  # throughput servers down before the memory ones start
            if not args.skip_memory:
                mem = memory(args, tmp, binary, udp_load, stack)
            if not args.skip_micro:
                micro_rows = micro(args, args.build_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    table, verdicts = build_table(results, mem)
    end_load = "%.2f %.2f %.2f" % os.getloadavg()
    command = args.command or " ".join(["/usr/bin/python3"] + sys.argv)
    parts = [
        "## Latest results",
        "",
        "Command: `%s`  " % command,
        "Date: %s  " % started.strftime("%Y-%m-%d %H:%M UTC"),
        "Machine: %s CPUs (`nproc`), %s, Linux %s, %s RAM; load average %s at the start, "
        "%s at the end  " % (facts["nproc"], facts["cpu"], facts["kernel"], facts["memory"],
                             facts["load"], end_load),
        "Software: p2ptracker %s (workers=1%s), opentracker %s (Debian), nginx %s, wrk %s  "
        % (facts["commit"], "".join(", " + kv for kv in args.p2p_set), facts["opentracker"],
           facts["nginx"], facts["wrk"]),
        "Setup: servers pinned to CPU 0, load generators to CPU 1%s; %d repetition(s) of %d s "
        "per measurement, targets alternating, medians shown. HTTP: wrk -t1 -c%d; UDP: "
        "udp_load, %d sockets, at most %d requests in flight each. Pool: %s registered torrents, %s "
        "peers (%d per torrent), numwant=35."
        % ("" if args.pin else " (NOT pinned)", args.reps, args.duration, args.connections,
           args.udp_sockets, args.udp_window, format(args.torrents, ","),
           format(args.torrents * args.peers_per_torrent, ","), args.peers_per_torrent),
        "",
        table,
        "",
    ]
    if mem:
        parts.append("Memory fill: %s announces/s offered; %s. " % (
            format(args.mem_rate, ","), "; ".join(
                "%s answered %s/s%s" % (
                    k, format(int(v["fill_rate"]), ","),
                    ", its store dropped %s writes" % format(v["store_dropped"], ",")
                    if k == "p2ptracker" else "")
                for k, v in mem.items())))
    if results and any(load_bound(rr) for runs in results.values() for rr in runs.values()):
        parts.append("† The load generator used ≥ 0.9 of its CPU while the server used "
                     "< 0.9 of its own: that number is the load generator's ceiling, not the "
                     "server's; compare the servers by requests per CPU-second (below).")
    if fill:
        parts.append("Swarm peers after the fill: %s. " % ", ".join(
            "%s %s" % (k, format(v, ",")) for k, v in fill.items()))
    if results:
        errs = []
        for key, _, _, targets in WORKS:
            for t in targets:
                n = sum(r["errors"] for r in results.get(key, {}).get(t, []))
                if n:
                    errs.append("%s/%s %d" % (key, t, n))
        def totals(field):
            out = []
            for key, _, _, targets in WORKS:
                for t in targets:
                    n = sum(r[field] for r in results.get(key, {}).get(t, []))
                    if n:
                        out.append("%s/%s %s" % (key, t, format(n, ",")))
            return out
        closed, dropped = totals("closed"), totals("dropped")
        parts.append("Errors (socket errors, timeouts, non-2xx; UDP: bad transaction id, "
                     "malformed replies, error packets), all repetitions: %s."
                     % (", ".join(errs) or "none"))
        if closed:
            parts.append("Connections the server closed after a reply (wrk's read errors: "
                         "opentracker has no keep-alive), all repetitions: %s."
                         % ", ".join(closed))
        ppr = ["%s %.1f" % (t, median_of(rr, "peers_per_reply"))
               for t, rr in results.get("udp_announce", {}).items() if rr]
        if ppr:
            parts.append("Peers per UDP announce reply (median): %s." % ", ".join(ppr))
        if dropped:
            parts.append("UDP requests the server dropped (receive buffer full; udp_load's "
                         "window backs off), all repetitions: %s." % ", ".join(dropped))
        parts += ["", "CPU used during the measurements (medians; 1.00 = one CPU busy the "
                  "whole time; a server well below 1.00 was held back by something else):", "",
                  cpu_table(results), ""]
    if verdicts:
        parts.append("Targets: " + "; ".join("%s %s" % (label, "met" if ok else "MISSED")
                                             for label, ok in verdicts) + ".")
        parts.append("")
    if micro_rows:
        parts += ["### Micro-benchmarks (bench/micro/policy_bench.cc)", "",
                  micro_table(micro_rows), ""]
    report = "\n".join(parts)
    print(report)
    if args.output != "-":
        write_report(args.output, report)
        log("wrote %s" % args.output)


if __name__ == "__main__":
    main()

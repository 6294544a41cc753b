"""Every level's uplink for real (levels.py --uplink): a switch tree of network namespaces.

levels.py re-executes itself under `unshare --net --mount` (reexec()) and, in that fresh
namespace, mounts a private tmpfs on /run (so `ip netns add` names live and die with the run)
and builds (Fabric.build()):

  the servers (the namespace levels.py re-executed into): the tracker and the origin seeder,
  │   10.0.0.1 on its one veth, unshaped (the origin's own upload cap is its limit)
  core switch (netns "core")
  ├── datacenter D (netns "dcD"), its uplink: veth dcD:uplink <-> core:dcD, shaped both ways
  │   ├── row r (netns "dcD-row<r>"), uplink <-> dcD:row<r>, shaped both ways
  │   │   ├── rack k (netns "dcD-row<r>-rack<k>"), uplink <-> dcD-row<r>:rack<k>, shaped
  │   │   │     hosts 10.D.(16 r + k).H, the rack's libtorrent sessions (swarm.py)

so a datacenter is 10.D.0.0/16, a row 10.D.16r.0/20 and a rack 10.D.(16r+k).0/24: the groups
subnet_levels_v4 = [16, 20] makes of them. The switches forward (ip_forward), route each child's
prefix down its link and everything else up (link addresses from 10.255.0.0/16, which no host
is in). Nothing here touches an interface this module did not create:
enter_private_namespace() refuses to go on unless both namespaces are new and the network one
fresh (lo its only interface), build() checks the latter again, and everything vanishes with
the process.

Where the hosts' addresses are. libtorrent binds every socket to the device that holds its
address (SO_BINDTODEVICE: `ss` shows 10.1.1.1%lo), and a socket bound to lo does not accept a
connection that arrives on a veth. So each rack's hosts' addresses are on the rack's uplink
device itself: traffic from outside arrives on it, and traffic between two hosts of the rack is
local, looped through lo by the kernel while still matching the device binding, so it never
crosses a shaped link. For the same reason the origin has a namespace of its own (the servers)
with one link, rather than sitting in the core switch whose datacenter links it would need all
at once.

Where the sessions are. A socket belongs to the network namespace of the thread that creates
it, and a new thread starts in its creator's. Each lt.session starts its network thread in its
constructor, and every socket of the session is made there; so levels.py creates each host's
session after setns() into its rack's namespace (Fabric.enter(), ctypes: Python 3.11 has no
os.setns) and switches back at once. That it worked is visible three ways: a session in the
wrong namespace could not bind its address at all, the tracker sees the hosts' own 10.D.x.H
addresses, and every group's downlink counters carry the payload into it.

Shaping and counting. Every veth end has an HTB root on its egress: class 1:1 at the level's
rate (`--rack-uplink-kib`, ...), and under it 1:10 for frames carrying data and 1:20 for the
small ones (IP total length under 128 bytes: pure ACKs, SYN/FIN, keep-alives; and anything not
IPv4), both able to borrow the whole rate. Each leaf is a bfifo of 100 ms at the link's rate
(at least 64 KiB): a switch's buffer, not the 1000 packets a veth queues by default. Every veth
has gso_max_segs 1, so the stack hands it frames of at most the MTU, as a NIC puts them on a
wire: with GSO on (a veth's default) TCP sends super-packets of up to 64 KiB through it, one of
which nearly fills such a buffer and is dropped whole (measured, 2 x 2 x 2 x 2 hosts and 512
KiB/s links: hundreds of them dropped at a busy rack's uplink, rates stop-and-go, the levels
deploy in 44 s instead of 21 s). The child end's egress is the group's uplink direction (out of
the group), the parent end's its downlink (into it). The leaves' byte counters (`tc -s -j qdisc
show`) count every frame as it left, Ethernet, IP and TCP headers included. A frame dropped at
a full buffer is not counted there: at a rack's own uplink it never left (the sender's TCP is
told at once and sends it later); dropped further up, it crossed the links below it and its
resend counts there again, as it would on real links.
"""
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from uplink import in_private_namespace  # noqa: E402

CLONE_NEWNET = 0x40000000
SERVERS_IP = "10.0.0.1"   # the tracker and the origin: outside every datacenter (10.0.0.0/16)
LINK_NET = (10, 255)      # /30 link networks: 10.255.x.y
MTU = 1500
# Frame bytes per full segment over the payload it carries: 14 Ethernet + 20 IPv4 + 32 TCP
# (with timestamps, Linux's default) on MSS 1448 at MTU 1500.
WIRE_FACTOR = (MTU + 14) / (MTU - 20 - 32)
# Every veth: a wire's MTU, and one segment per packet (no GSO super-packets).
VETH = "mtu %d gso_max_segs 1" % MTU
SMALL_FRAME = 128         # IP total length below which a frame counts as control
ENV = "P2P_LEVELS_NETNS"  # set by reexec(): the namespaces it started from

_libc = ctypes.CDLL(None, use_errno=True)


def _ns_ids():
    return "%s,%s" % (os.readlink("/proc/self/ns/net"), os.readlink("/proc/self/ns/mnt"))


def reexec(script, argv):
    """Runs `script argv` again under `unshare --net --mount` (this call does not return),
    unless this process already is that run; returns then."""
    if ENV in os.environ:
        return
    os.environ[ENV] = _ns_ids()
    sys.stdout.flush()
    os.execvp("unshare", ["unshare", "--net", "--mount", "--propagation", "private", "--",
                          sys.executable, script] + list(argv))


def enter_private_namespace():
    """In the re-executed run: checks that both namespaces are new and the network one fresh,
    then mounts a tmpfs on /run (private to this mount namespace) for `ip netns`."""
    started_from = os.environ.pop(ENV, "")
    net, mnt = _ns_ids().split(",")
    old = started_from.split(",")
    if len(old) != 2 or net == old[0] or mnt == old[1] or not in_private_namespace():
        raise RuntimeError("fabric: not in a fresh network and mount namespace of our own "
                           "(unshare --net --mount); refusing to touch any interface or /run")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=4m", "p2ptracker-levels",
                    "/run"], check=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


@contextlib.contextmanager
def netns(name):
    """The calling thread in network namespace `name` (None: where it was), and back."""
    if name is None:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        setns(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(target)
        os.close(home)


def _sysctl(key, value):
    path = "/proc/sys/" + key.replace(".", "/")
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(value))


def _run(args, lines):
    """ip or tc with `lines` as a -batch (one process per namespace, not one per command)."""
    if not lines:
        return
    r = subprocess.run(args + ["-batch", "-"], input="\n".join(lines) + "\n", text=True,
                       capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                   (r.stderr or r.stdout).strip()))


def _ns_args(ns):
    return ["-n", ns] if ns else []


class Group:
    """A datacenter, row or rack: its namespace, prefix and the link to its parent."""

    def __init__(self, level, prefix, ns, parent_ns, down_dev, link, rate, hosts=()):
        self.level, self.prefix, self.ns = level, prefix, ns
        self.parent_ns, self.down_dev = parent_ns, down_dev  # the link's parent end
        self.link, self.rate, self.hosts = link, rate, list(hosts)


def host_ip(dc, row, rack, host):
    """Host `host` of rack `rack` (1-based) of row `row` (0-based) of datacenter `dc`."""
    return "10.%d.%d.%d" % (dc, 16 * row + rack, host)


def _link_addrs(i):
    """(parent end, child end) addresses of link i's /30."""
    base = (i // 64, 4 * (i % 64))
    return ("%d.%d.%d.%d" % (LINK_NET + (base[0], base[1] + 1)),
            "%d.%d.%d.%d" % (LINK_NET + (base[0], base[1] + 2)))


class Fabric:
    """The switch tree of datacenters x rows x racks, each rack with `hosts` addresses;
    rates: {"datacenter": bytes/s, "row": ..., "rack": ...} each way per link."""

    LEVELS = ("datacenter", "row", "rack")

    def __init__(self, dcs, rows, racks, hosts, rates):
        self.rates = dict(rates)
        self.groups = []
        link = 1  # link 0: the servers' own
        for d in range(1, dcs + 1):
            dc_ns = "dc%d" % d
            self.groups.append(Group("datacenter", "10.%d.0.0/16" % d, dc_ns, "core",
                                     dc_ns, link, rates["datacenter"]))
            link += 1
            for r in range(rows):
                row_ns = "%s-row%d" % (dc_ns, r)
                self.groups.append(Group("row", "10.%d.%d.0/20" % (d, 16 * r), row_ns, dc_ns,
                                         "row%d" % r, link, rates["row"]))
                link += 1
                for k in range(1, racks + 1):
                    self.groups.append(Group(
                        "rack", "10.%d.%d.0/24" % (d, 16 * r + k), "%s-rack%d" % (row_ns, k),
                        row_ns, "rack%d" % k, link, rates["rack"],
                        [host_ip(d, r, k, h) for h in range(1, hosts + 1)]))
                    link += 1
        self.rack_ns = {h.rsplit(".", 1)[0]: g.ns for g in self.groups for h in g.hosts}
        self.built = False

    def namespaces(self):
        return ["core"] + [g.ns for g in self.groups]

    def build(self):
        if not in_private_namespace():
            raise RuntimeError("fabric: this namespace has interfaces besides lo; refusing")
        self.built = True  # from here on close() has something to remove
        _run(["ip"], ["netns add %s" % ns for ns in self.namespaces()])
        # IPv6 off everywhere (before any veth exists, so none gets a link-local address and
        # sends router solicitations into the counters); forwarding on in the switches.
        for ns in [None] + self.namespaces():
            with netns(ns):
                _sysctl("net.ipv6.conf.all.disable_ipv6", 1)
                _sysctl("net.ipv6.conf.default.disable_ipv6", 1)
                _sysctl("net.ipv4.ip_forward", 0 if ns is None or "rack" in ns else 1)
        ip = {ns: ["link set lo up"] for ns in [None] + self.namespaces()}
        tc = {ns: [] for ns in self.namespaces()}
        # The servers: one unshaped link to the core switch.
        parent, child = _link_addrs(0)
        _run(["ip"], ["link add uplink %s type veth peer name servers %s netns core"
                      % (VETH, VETH)])
        ip[None] += ["addr add %s/30 dev uplink" % child, "addr add %s/32 dev uplink" % SERVERS_IP,
                     "link set uplink up", "route add default via %s" % parent]
        ip["core"] += ["addr add %s/30 dev servers" % parent, "link set servers up",
                       "route add %s/32 via %s" % (SERVERS_IP, child)]
        links = {}
        for g in self.groups:
            links.setdefault(g.parent_ns, []).append(
                "link add %s %s type veth peer name uplink %s netns %s"
                % (g.down_dev, VETH, VETH, g.ns))
        for ns in self.namespaces():
            _run(["ip"] + _ns_args(ns), links.get(ns, []))
        for g in self.groups:
            parent, child = _link_addrs(g.link)
            ip[g.parent_ns] += ["addr add %s/30 dev %s" % (parent, g.down_dev),
                                "link set %s up" % g.down_dev,
                                "route add %s via %s" % (g.prefix, child)]
            ip[g.ns] += ["addr add %s/30 dev uplink" % child]
            ip[g.ns] += ["addr add %s/32 dev uplink" % h for h in g.hosts]
            ip[g.ns] += ["link set uplink up", "route add default via %s" % parent]
            tc[g.parent_ns] += self._shape(g.down_dev, g.rate)
            tc[g.ns] += self._shape("uplink", g.rate)
        for ns, lines in ip.items():
            _run(["ip"] + _ns_args(ns), lines)
        for ns, lines in tc.items():
            _run(["tc"] + _ns_args(ns), lines)

    @staticmethod
    def _shape(dev, rate):
        """tc batch lines: HTB at `rate` bytes/s on dev's egress, data and control leaves."""
        bits = "%dbit" % (rate * 8)
        burst = max(16 * 1024, rate // 50)
        limit = max(64 * 1024, rate // 10)

        def htb(share):  # guaranteed `share` of the rate, may borrow all of it
            return "htb rate %dbit ceil %s burst %d cburst %d" % (rate * 8 * share // 10, bits,
                                                                  burst, burst)
        return [
            "qdisc add dev %s root handle 1: htb default 20" % dev,
            "class add dev %s parent 1: classid 1:1 %s" % (dev, htb(10)),
            "class add dev %s parent 1:1 classid 1:10 %s prio 1" % (dev, htb(9)),
            "class add dev %s parent 1:1 classid 1:20 %s prio 0" % (dev, htb(1)),
            "qdisc add dev %s parent 1:10 handle 10: bfifo limit %d" % (dev, limit),
            "qdisc add dev %s parent 1:20 handle 20: bfifo limit %d" % (dev, limit),
            # IPv4 total length < 128 (the top 9 bits of the 16-bit field clear): control.
            "filter add dev %s parent 1: protocol ip prio 1 u32 match u16 0 0x%04x at 2 "
            "flowid 1:20" % (dev, 0xffff & ~(SMALL_FRAME - 1)),
            "filter add dev %s parent 1: protocol ip prio 2 u32 match u32 0 0 at 0 flowid 1:10"
            % dev,
        ]

    def enter(self, ip):
        """A context manager: the calling thread in the namespace of host `ip`'s rack."""
        return netns(self.rack_ns[ip.rsplit(".", 1)[0]])

    def counters(self):
        """{(ns, dev): {"data": bytes, "control": bytes, "drops": frames, "t": when read}},
        every shaped end. One `tc` per namespace, so each has its own time: a rate is the
        difference over the time between two reads of that namespace, not of the whole loop
        (which a busy machine stretches: 1 s windows then read as 150 % of a link)."""
        out = {}
        for ns in self.namespaces():
            r = subprocess.run(["tc", "-n", ns, "-s", "-j", "qdisc", "show"], check=True,
                               capture_output=True, text=True)
            t = time.monotonic()
            for q in json.loads(r.stdout or "[]"):
                key = {"10:": "data", "20:": "control"}.get(q.get("handle"))
                if key and q.get("kind") == "bfifo":
                    c = out.setdefault((ns, q["dev"]), {"data": 0, "control": 0, "drops": 0,
                                                        "t": t})
                    c[key] += q.get("bytes", 0)
                    c["drops"] += q.get("drops", 0)
        return out

    def by_group(self, before, after):
        """{level: {prefix: {"in", "in_control", "out", "out_control", "drops_in",
        "drops_out"}}}: bytes between two counters() readings."""
        zero = {"data": 0, "control": 0, "drops": 0}

        def delta(key, field):
            return after.get(key, zero)[field] - before.get(key, zero)[field]

        out = {lv: {} for lv in self.LEVELS}
        for g in self.groups:
            down, up = (g.parent_ns, g.down_dev), (g.ns, "uplink")
            out[g.level][g.prefix] = {
                "in": delta(down, "data"), "in_control": delta(down, "control"),
                "drops_in": delta(down, "drops"),
                "out": delta(up, "data"), "out_control": delta(up, "control"),
                "drops_out": delta(up, "drops")}
        return out

    def close(self):
        if self.built:
            subprocess.run(["ip", "-all", "netns", "delete"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "link", "del", "uplink"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.built = False


class Sampler:
    """Reads the fabric's counters every `period` s on a thread while a deploy runs: the peak
    rate into and out of every group, and a progress line every `report_every` s."""

    def __init__(self, fabric, period=1.0, report_every=5.0, status=None, label=""):
        self.fabric, self.period, self.report_every = fabric, period, report_every
        self.status, self.label = status, label
        self.peaks = {}    # (level, prefix) -> {"in": bytes/s, "out": bytes/s}
        self.series = []   # [seconds since start, {prefix: [bytes/s in, bytes/s out]}]
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self):
        t0 = time.monotonic()
        last = self.fabric.counters()
        next_report = t0 + self.report_every
        while not self._stop.wait(self.period):
            now_c = self.fabric.counters()
            busiest = {}
            sample = {}
            self.series.append([round(time.monotonic() - t0, 2), sample])
            for g in self.fabric.groups:
                rates = []
                for key in ((g.parent_ns, g.down_dev), (g.ns, "uplink")):
                    a, b = last.get(key), now_c.get(key)
                    dt = b["t"] - a["t"] if a and b else 0
                    rates.append((b["data"] + b["control"] - a["data"] - a["control"]) / dt
                                 if dt > 0 else 0.0)
                peak = self.peaks.setdefault((g.level, g.prefix), {"in": 0.0, "out": 0.0})
                peak["in"], peak["out"] = max(peak["in"], rates[0]), max(peak["out"], rates[1])
                sample[g.prefix] = [round(rates[0]), round(rates[1])]
                busiest[g.level] = max(busiest.get(g.level, 0.0), rates[0])
            last = now_c
            if time.monotonic() >= next_report:
                next_report += self.report_every
                print("  %-12s %4.0f s  %s; busiest downlink now: %s" % (
                    self.label, time.monotonic() - t0, self.status() if self.status else "",
                    ", ".join("%s %.0f%%" % (lv, 100 * busiest.get(lv, 0) / self.fabric.rates[lv])
                              for lv in Fabric.LEVELS)), flush=True)

"""Rack uplinks for real (run.py --uplink): rate-limited rack edges on a private loopback.

run.py re-executes itself in a new network namespace (`unshare --net`), so everything here
touches only that namespace's own `lo`, which nothing but the benchmark uses, and vanishes
with the process. Every address stays on loopback (127.0.R.H, as without --uplink).

On a single `lo` every packet crosses one egress queue, so the two directions of each rack's
edge are shaped at two points:
  * uplink (leaving rack R): lo's root HTB, class 1:(100+R), for packets whose source is in
    127.0.R.0/24 and whose destination is not;
  * downlink (entering rack R): lo's ingress redirected (mirred) to ifb device p2pifb0, whose
    root HTB has class 2:(100+R) for packets whose destination is in 127.0.R.0/24 and whose
    source is not.
So a packet from rack R to rack S is charged to R's uplink and to S's downlink, as with a
real switch fabric; packets inside a rack match a prior filter into an unlimited class, and
so does everything between addresses outside every rack (the tracker and the origin on
127.0.0.1). Announces cross the rack edge, as they would. Per-uplink bytes (IP packets,
headers included) are read from the class counters (`tc -s class show`).
"""
import re
import subprocess

IFB = "p2pifb0"
UNLIMITED = "10gbit"


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def in_private_namespace():
    """True only in a fresh network namespace: its only interface is lo.

    (Comparing /proc/self/ns/net with /proc/1/ns/net is not enough: in a container the link
    of pid 1 may be unreadable, and a wrong answer here would shape the machine's own lo.)"""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    names = [line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines()
             if line.strip()]
    return out.returncode == 0 and names == ["lo"]


def _u32(dev, parent, prio, matches, flowid):
    args = ["tc", "filter", "add", "dev", dev, "parent", parent, "protocol", "ip", "prio",
            str(prio), "u32"]
    for field, prefix in matches:
        args += ["match", "ip", field, prefix]
    args += ["flowid", flowid]
    sh(*args)


def setup(racks, rate_bytes, tracker_port=None):
    """Shapes the private namespace's lo: `racks` rack edges of `rate_bytes`/s each way."""
    if not in_private_namespace():
        raise RuntimeError("uplink.setup(): not in a fresh network namespace (only lo); "
                           "refusing to shape this machine's lo")
    sh("ip", "link", "set", "lo", "up")
    rate = "%dbit" % (rate_bytes * 8)
    burst = "%d" % max(16 * 1024, rate_bytes // 50)
    sh("ip", "link", "add", IFB, "type", "ifb")
    sh("ip", "link", "set", IFB, "up")
    for dev, major in (("lo", "1"), (IFB, "2")):
        sh("tc", "qdisc", "add", "dev", dev, "root", "handle", major + ":", "htb", "default", "1")
        sh("tc", "class", "add", "dev", dev, "parent", major + ":", "classid", major + ":1",
           "htb", "rate", UNLIMITED)
        for r in range(1, racks + 1):
            sh("tc", "class", "add", "dev", dev, "parent", major + ":", "classid",
               "%s:%d" % (major, 100 + r), "htb", "rate", rate, "ceil", rate, "burst", burst,
               "cburst", burst)
    sh("tc", "qdisc", "add", "dev", "lo", "handle", "ffff:", "ingress")
    sh("tc", "filter", "add", "dev", "lo", "parent", "ffff:", "protocol", "ip", "u32",
       "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", IFB)
    for r in range(1, racks + 1):
        rack = "127.0.%d.0/24" % r
        # Inside the rack: unlimited (prio 1 wins over prio 2).
        _u32("lo", "1:", 1, [("src", rack), ("dst", rack)], "1:1")
        _u32("lo", "1:", 2, [("src", rack)], "1:%d" % (100 + r))
        _u32(IFB, "2:", 1, [("src", rack), ("dst", rack)], "2:1")
        _u32(IFB, "2:", 2, [("dst", rack)], "2:%d" % (100 + r))


CLASS_STATS = re.compile(r"class htb (\d+):(\d+) .*?\n\s*Sent (\d+) bytes", re.S)


def counters(racks):
    """{rack prefix "127.0.R": {"up": bytes sent by rack R's edge, "down": bytes received}}."""
    out = {"127.0.%d" % r: {"up": 0, "down": 0} for r in range(1, racks + 1)}
    for dev, major, key in (("lo", 1, "up"), (IFB, 2, "down")):
        text = subprocess.run(["tc", "-s", "class", "show", "dev", dev], check=True,
                              capture_output=True, text=True).stdout
        for mj, mn, sent in CLASS_STATS.findall(text):
            if int(mj) == major and 100 < int(mn) <= 100 + racks:
                out["127.0.%d" % (int(mn) - 100)][key] = int(sent)
    return out

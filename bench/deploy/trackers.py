"""The trackers a deploy runs against: p2ptracker (tests/integration/harness.py's Tracker, the
real binary) and Debian's opentracker, the random-peers baseline.

Both listen on 127.0.0.1 on a free port (or, given announce_host, on that address for the
clients: levels.py --uplink, where the clients reach the tracker through switch namespaces) and
are told about the torrent before the deploy: p2ptracker by registering the .torrent (POST
/api/v1/torrents/), opentracker by its whitelist.
"""
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Tracker, file_tail, free_port, stop_process  # noqa: E402

# Announce every 2 s so a rack's non-representatives learn of their rack-mates quickly, and a
# short peer_timeout so a stopped client frees its representative slot within a deploy.
P2P_SETTINGS = {"active_interval": 2, "min_interval": 1, "peer_timeout": 30, "workers": 1}


class P2PTracker:
    """p2ptracker serve with `policy` and `max_repr_rack`, on a free loopback port."""

    def __init__(self, policy, max_repr_rack=2, announce_host=None, **settings):
        """announce_host: the address the clients announce to; the tracker then listens on
        every address (the API calls here still go to 127.0.0.1)."""
        # The binary: $P2PTRACKER_BIN, else build/p2ptracker (harness.BINARY).
        self.label = "p2ptracker %s" % policy
        self.announce_host = announce_host
        if announce_host:
            settings = {"host": "0.0.0.0", **settings}
        self._tracker = Tracker(policy=policy, max_repr_rack=max_repr_rack,
                                **{**P2P_SETTINGS, **settings})

    def start(self):
        self._tracker.start()
        return self

    @property
    def url(self):
        if self.announce_host:
            return "http://%s:%d/announce" % (self.announce_host, self._tracker.port)
        return self._tracker.url

    def prepare(self, torrent_bytes, info_hash, file_name="payload.torrent"):
        # A second file of the same name would replace the first (as in the original).
        reply = self._tracker.register(file_name, torrent_bytes)
        if reply.status not in (200, 201):
            raise RuntimeError("register: %s %r" % (reply.status, reply.body))

    def transfer(self, info_hash):
        """The tracker's view of the transfer: GET /api/v1/transfers/<hash>.json?racks=1&peers=1."""
        reply = self._tracker.get("/api/v1/transfers/%s.json?racks=1&peers=1" % info_hash.hex())
        return reply.json() if reply.status == 200 else None

    def peer_ips(self, info_hash):
        """The addresses of the peers the tracker holds for the transfer (None: unknown)."""
        reply = self._tracker.get("/api/v1/transfers/peers/%s" % info_hash.hex())
        if reply.status != 200:
            return None
        return {p.rsplit(":", 1)[0] for p in reply.json()}

    def log(self):
        return self._tracker.output()

    def stop(self):
        self._tracker.cleanup()


class OpenTracker:
    """Debian's opentracker (built whitelist-only): -i HOST -p PORT -P PORT -d DIR -f CONF.

    Run as root it chroots to DIR and drops to "nobody", so the whitelist is named relative
    to DIR and DIR must be readable by nobody. Its announce interval is compiled in (30 min):
    clients announce once when they start (and when they finish); as everyone starts together
    and connections go both ways, every host still meets most of the swarm."""

    label = "opentracker"

    def __init__(self, work_dir, announce_host="127.0.0.1"):
        self.host = announce_host
        self.root = os.path.join(work_dir, "opentracker-root")
        self.port = None
        self.proc = None
        self.log_path = os.path.join(work_dir, "opentracker.log")

    def start(self):
        return self  # started by prepare(): the whitelist must exist first

    @property
    def url(self):
        if self.port is None:
            self.port = free_port()
        return "http://%s:%d/announce" % (self.host, self.port)

    def prepare(self, torrent_bytes, info_hash, timeout=30, also=()):
        """Starts opentracker with `info_hash` and the hashes in `also` whitelisted: it reads
        the whitelist once, so every torrent of a run is named here (concurrent.py: two)."""
        os.makedirs(self.root, exist_ok=True)
        os.chmod(os.path.dirname(self.root), 0o755)  # mkdtemp makes it 0700
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "whitelist.txt"), "w") as f:
            f.write("".join(h.hex() + "\n" for h in (info_hash, *also)))
        conf = os.path.join(self.root, "opentracker.conf")
        with open(conf, "w") as f:
            f.write("access.whitelist whitelist.txt\n")
        port = self.url and self.port
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["opentracker", "-i", self.host, "-p", str(port),
                                      "-P", str(port), "-d", self.root, "-f", conf],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        # Ready once the whitelist is loaded (a thread reads it after start-up): an announce
        # for the hash no longer fails. event=stopped, so the probe leaves no peer behind.
        query = urllib.parse.urlencode({"info_hash": info_hash, "peer_id": b"-PROBE-0000000000000",
                                        "port": 1, "uploaded": 0, "downloaded": 0, "left": 0,
                                        "numwant": 0, "event": "stopped", "compact": 1})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("opentracker exited: %s" % self.log())
            try:
                with urllib.request.urlopen(self.url + "?" + query, timeout=2) as r:
                    if b"failure reason" not in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("opentracker not ready within %d s: %s" % (timeout, self.log()))

    def log(self):
        return file_tail(self.log_path)

    def stop(self):
        stop_process(self.proc)
        if self.proc is not None:
            self._log.close()

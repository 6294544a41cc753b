"""One real-client test: libtorrent clients in three racks download through the tracker.

Debian's python3-libtorrent (libtorrent-rasterbar 2.0.8) runs an origin seeder on
127.0.0.1 and 3 racks x 3 hosts: host H of rack R binds 127.0.R.H, so under the
tracker's default topology (the IPv4 /24) each R is one rack. Every client is its
own lt.session in this process, with DHT, local peer discovery, UPnP/NAT-PMP and
peer exchange off, so the tracker is the only way a client learns of a peer.

The test asserts what the rack policy exists for (the seed README: rack uplinks):
  * every client completes, and its file matches the payload;
  * per rack, at most max_repr_rack (2) hosts ever connected (or tried to) to a
    peer outside their /24; the origin on 127.0.0.1 is outside every rack;
  * per rack, at least one host completed without ever leaving its rack, so the
    data really did spread inside the rack;
  * and, guarding the setup itself: connections leave from each host's own
    address, peers come from the tracker only, the upload cap holds.

The clients, their libtorrent 2.0.8 settings for loopback (and why each is needed) and
their per-connection byte counters are in bench/deploy/swarm.py, shared with the deploy
benchmark (bench/deploy/run.py) and tests/integration/test_deploy_amplification.py.

P2PTRACKER_REAL_CLIENTS_LOG=FILE writes every client's timeline (connections,
disconnections with reasons, tracker replies, progress) to FILE.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

from harness import ROOT, Tracker, bdecode

sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
import swarm  # noqa: E402  (bench/deploy/swarm.py: the clients, shared with the benchmark)

RACKS = 3
HOSTS_PER_RACK = 3
MAX_REPR_RACK = 2
PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
# Bytes per second each client may upload: the origin alone needs 8 s to send
# the payload once, so the swarm forms and the racks matter before it is done.
UPLOAD_CAP = 512 * 1024
COMPLETE_TIMEOUT = 120.0
TRACKER_SETTINGS = {"active_interval": 2, "min_interval": 1, "peer_timeout": 30,
                    "max_repr_rack": MAX_REPR_RACK}


class RealClientsTest(unittest.TestCase):
    """Three racks of libtorrent clients and an origin seeder, shaped by the tracker.

    setUpClass runs the whole swarm once; each test checks one property of the run."""

    @classmethod
    def setUpClass(cls):
        cls.work_dir = tempfile.mkdtemp(prefix="p2ptracker-real-")
        cls.tracker = Tracker(**TRACKER_SETTINGS)
        cls.clients = []
        cls.origin = None
        try:
            cls.tracker.start()
            cls._run_swarm()
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _run_swarm(cls):
        cls.payload_sha256, torrent = swarm.make_payload_torrent(
            cls.work_dir, cls.tracker.url, PAYLOAD_BYTES, PIECE_BYTES,
            creator="p2ptracker test_real_clients")
        reply = cls.tracker.register("payload.torrent", torrent)
        assert reply.status in (200, 201), "register: %s %r" % (reply.status, reply.body)
        cls.info_hash = swarm.info_hash_of(torrent)
        cls.deploy = swarm.Deploy(cls.work_dir, torrent, RACKS, HOSTS_PER_RACK, UPLOAD_CAP,
                                  os.path.join(cls.work_dir, "origin"))
        cls.origin, cls.clients = cls.deploy.origin, cls.deploy.clients
        cls.deploy.run(COMPLETE_TIMEOUT)
        cls.t0 = cls.deploy.t0
        cls.elapsed = cls.deploy.t_end - cls.t0
        cls._print_summary()
        log = os.environ.get("P2PTRACKER_REAL_CLIENTS_LOG")
        if log:
            with open(log, "w") as f:
                f.write(cls.timeline())

    @classmethod
    def timeline(cls):
        """Every client's connections, tracker replies and progress, by time since the start."""
        return cls.deploy.timeline()

    @classmethod
    def _print_summary(cls):
        print("\nreal clients: %d racks x %d hosts, %d KiB payload, upload cap %d KiB/s each: "
              "%.1f s" % (RACKS, HOSTS_PER_RACK, PAYLOAD_BYTES // 1024, UPLOAD_CAP // 1024,
                          cls.elapsed))
        for r in range(1, RACKS + 1):
            hosts = [c for c in cls.clients if c.rack == "127.0.%d" % r]
            out = [c for c in hosts if c.outside()]
            went = ", ".join("%s -> %s" % (c.name, " ".join(sorted(c.outside()))) for c in out)
            done = ", ".join("%s %s" % (c.name, "%.1fs" % (c.completed_at - c.started_at)
                                        if c.completed_at else "INCOMPLETE") for c in hosts)
            print("  rack 127.0.%d.0/24: %d host(s) left the rack (%s); completed: %s"
                  % (r, len(out), went or "none", done))
        print("  origin 127.0.0.1 served: %s" % " ".join(sorted(cls.origin.peers)))

    @classmethod
    def _teardown(cls):
        # Dropping the sessions sends event=stopped (bounded by stop_tracker_timeout)
        # while the tracker still runs.
        if getattr(cls, "deploy", None) is not None and cls.deploy.origin is not None:
            cls.deploy.close()
        cls.clients = []
        cls.origin = None
        cls.tracker.cleanup()
        shutil.rmtree(cls.work_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def diagnosis(self):
        return "\n--- timeline (tail) ---\n%s--- tracker log (tail) ---\n%s" % (
            "".join(self.timeline().splitlines(True)[-60:]), self.tracker.output()[-3000:])

    # --- the rack policy, seen from real clients ------------------------------

    def test_every_client_completes_with_the_payload(self):
        late = [c.name for c in self.clients if c.completed_at is None]
        self.assertEqual(late, [], "not complete after %.0f s%s"
                         % (COMPLETE_TIMEOUT, self.diagnosis()))
        for c in self.clients:
            self.assertEqual(c.file_sha256(), self.payload_sha256, c.name)

    def test_at_most_max_repr_rack_hosts_per_rack_leave_the_rack(self):
        for r in range(1, RACKS + 1):
            rack = "127.0.%d" % r
            out = {c.name: sorted(c.outside()) for c in self.clients
                   if c.rack == rack and c.outside()}
            self.assertLessEqual(len(out), MAX_REPR_RACK,
                                 "rack %s: hosts that connected outside it: %s%s"
                                 % (rack, out, self.diagnosis()))

    def test_each_rack_has_a_host_that_completed_inside_its_rack(self):
        for r in range(1, RACKS + 1):
            rack = "127.0.%d" % r
            local = [c.name for c in self.clients
                     if c.rack == rack and not c.outside() and c.completed_at is not None]
            self.assertTrue(local, "rack %s: no host completed without leaving the rack%s"
                            % (rack, self.diagnosis()))

    def test_tracker_counts_every_client_complete(self):
        target = "/scrape?info_hash=" + urllib.parse.quote_from_bytes(self.info_hash, safe="")
        expected = 1 + len(self.clients)
        deadline = time.monotonic() + 10
        while True:
            files = bdecode(self.tracker.get(target).body).get(b"files", {})
            stats = files.get(self.info_hash, {})
            if stats.get(b"complete") == expected or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(stats.get(b"complete"), expected, stats)
        self.assertEqual(stats.get(b"incomplete"), 0, stats)

    # --- the setup, so that the checks above mean something --------------------

    def test_connections_leave_from_the_hosts_own_address(self):
        # If connections left from 127.0.0.1, the other clients would see every
        # host as the origin and racks would mean nothing.
        for c in [self.origin] + self.clients:
            self.assertEqual(c.wrong_source, set(), "%s (%s)" % (c.name, c.ip))

    def test_peers_come_from_the_tracker_only(self):
        for c in [self.origin] + self.clients:
            self.assertLessEqual(c.peer_sources, {"tracker"}, c.name)
            self.assertEqual(c.tracker_errors, [], c.name)
            self.assertEqual(c.tracker_warnings, [], c.name)
            self.assertGreater(c.tracker_replies, 0, c.name)

    def test_upload_cap_applies_to_loopback_peers(self):
        # Were loopback still in libtorrent's unlimited "local" peer class, the
        # origin would send at memory speed and the swarm would have no shape.
        now = time.monotonic()
        for c in [self.origin] + self.clients:
            limit = UPLOAD_CAP * (now - c.started_at) * 1.25 + PIECE_BYTES
            self.assertLessEqual(c.uploaded, limit, c.name)
        self.assertGreaterEqual(self.origin.uploaded, PAYLOAD_BYTES)


class RealClientsOverUdpTest(unittest.TestCase):
    """Real libtorrent clients that announce over UDP (BEP 15) and complete a
    download: one swarm, two front doors.

    Every client here binds 127.0.0.1 (distinct ports): libtorrent 2.0.8 sends a
    UDP tracker request only from a listen socket whose address is an interface
    address, and 127.0.R.H aliases are not: clients bound there time out
    without sending a packet (seen with a packet capture on lo; HTTP announces
    are not affected). The rack policy over UDP is the same code as over HTTP
    and is covered by the HTTP swarm above and by tests/net/udp_server_test.cc."""

    CLIENTS = 3

    def test_clients_complete_announcing_over_udp(self):
        work_dir = tempfile.mkdtemp(prefix="p2ptracker-real-udp-")
        self.addCleanup(shutil.rmtree, work_dir, True)
        with Tracker(**TRACKER_SETTINGS) as tracker:
            url = "udp://127.0.0.1:%d/announce" % tracker.port
            sha256, torrent = swarm.make_payload_torrent(
                work_dir, url, PAYLOAD_BYTES // 4, PIECE_BYTES, creator="p2ptracker udp test")
            self.assertEqual(tracker.register("payload.torrent", torrent).status, 201)
            # One address for everyone: libtorrent must accept several peers on it.
            same_ip = {"allow_multiple_connections_per_ip": True}
            origin = swarm.Client("origin", "127.0.0.1", os.path.join(work_dir, "origin"),
                                  UPLOAD_CAP, **same_ip)
            clients = []
            for i in range(self.CLIENTS):
                path = os.path.join(work_dir, "u%d" % i)
                os.makedirs(path, exist_ok=True)
                clients.append(swarm.Client("u%d" % i, "127.0.0.1", path, UPLOAD_CAP, **same_ip))
            everyone = [origin] + clients
            try:
                origin.add(torrent)
                for c in clients:
                    c.add(torrent)
                deadline = time.monotonic() + COMPLETE_TIMEOUT
                while time.monotonic() < deadline:
                    for c in everyone:
                        c.poll()
                    if all(c.completed_at is not None for c in clients):
                        break
                    time.sleep(0.1)
                for c in clients:
                    self.assertIsNotNone(c.completed_at, "%s did not complete: %s" % (
                        c.name, [e[2] for e in c.events[-8:]]))
                    self.assertEqual(c.file_sha256(), sha256)
                    self.assertEqual(c.tracker_errors, [])
                    self.assertGreater(c.tracker_replies, 0)
                metrics = tracker.get("/metrics").body.decode()
                counts = {}
                for line in metrics.splitlines():
                    if line.startswith("p2ptracker_announces_total{"):
                        labels, value = line.rsplit(" ", 1)
                        counts[labels] = float(value)
                udp = counts.get('p2ptracker_announces_total{protocol="udp",result="ok"}', 0)
                http = counts.get('p2ptracker_announces_total{protocol="http",result="ok"}', 0)
                self.assertGreaterEqual(udp, len(everyone))
                self.assertEqual(http, 0)
            finally:
                for c in everyone:
                    c.close()


if __name__ == "__main__":
    unittest.main()

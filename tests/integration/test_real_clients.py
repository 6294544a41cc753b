"""One real-client test: libtorrent clients in three racks download through the tracker.

Debian's python3-libtorrent (libtorrent-rasterbar 2.0.8) runs an origin seeder on
127.0.0.1 and 3 racks x 3 hosts: host H of rack R binds 127.0.R.H, so under the
tracker's default topology (the IPv4 /24) each R is one rack. Every client is its
own lt.session in this process, with DHT, local peer discovery, UPnP/NAT-PMP and
peer exchange off, so the tracker is the only way a client learns of a peer.

The test asserts what the rack policy exists for (the seed README: rack uplinks):
  * every client completes, and its file matches the payload;
  * per rack, at most max_repr_rack (2) hosts ever had a connection to a peer
    outside their /24 (the origin on 127.0.0.1 is outside every rack);
  * per rack, at least one host completed without ever leaving its rack, so
    the data really did spread inside the rack.

libtorrent 2.0.8 on loopback, and what each setting below is for:
  * listen_interfaces AND outgoing_interfaces = the host's address. Without
    outgoing_interfaces, peer connections leave from 127.0.0.1 (the kernel's
    choice for loopback), so other clients would see every host as 127.0.0.1.
    The HTTP announce itself is bound to the listen socket's address, which is
    what the tracker takes as the peer's address and rack.
  * 127.0.0.0/8 moved out of the "local" peer class: by default libtorrent puts
    loopback and private addresses in a class with no rate limit that ignores
    unchoke slots, so the upload cap would not apply and the swarm would
    finish before it had a shape.
  * ssrf_mitigation off (the tracker is on loopback), min_announce_interval
    lowered (its default of 300 s overrides a tracker's shorter interval, so
    clients would never re-announce during the test), close_redundant_connections
    off (with small in-rack peer sets it drops fresh seeds and waits
    min_reconnect_time, 60 s, before reconnecting).
  * v1-only torrent: a hybrid v1+v2 torrent announces twice (once per
    info-hash) and the tracker knows only the v1 hash.
  * sessions are created without the default plugins (no ut_pex, ut_metadata,
    smart_ban); the torrent is private as well, which also disables pex.
  * uTP is off: TCP only, so every connection is visible as one TCP peer and
    bound to outgoing_interfaces.
"""
import hashlib
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse

import libtorrent as lt

from harness import Tracker, bdecode

RACKS = 3
HOSTS_PER_RACK = 3
MAX_REPR_RACK = 2
PAYLOAD_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 64 * 1024
# Bytes per second each client may upload: 4 MiB at 512 KiB/s from the origin
# alone is 8 s, so the swarm has time to form and reshape before it is done.
UPLOAD_CAP = 512 * 1024
COMPLETE_TIMEOUT = 120.0
POLL_SECONDS = 0.1
TRACKER_SETTINGS = {"active_interval": 2, "min_interval": 1, "peer_timeout": 30,
                    "max_repr_rack": MAX_REPR_RACK}

ALERT_MASK = (lt.alert_category.error | lt.alert_category.connect | lt.alert_category.peer
              | lt.alert_category.status | lt.alert_category.tracker)


def rack_of(ip):
    """The tracker's default rule: a rack is an IPv4 /24."""
    return ip.rsplit(".", 1)[0]


def make_payload_torrent(work_dir, announce_url):
    """Writes random bytes to work_dir/origin/payload.bin; returns (payload, .torrent bytes)."""
    origin_dir = os.path.join(work_dir, "origin")
    os.makedirs(origin_dir)
    payload = os.urandom(PAYLOAD_BYTES)
    with open(os.path.join(origin_dir, "payload.bin"), "wb") as f:
        f.write(payload)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(origin_dir, "payload.bin"))
    ct = lt.create_torrent(fs, PIECE_BYTES, lt.create_torrent.v1_only)
    ct.add_tracker(announce_url)
    ct.set_priv(True)
    ct.set_creator("p2ptracker test_real_clients")
    lt.set_piece_hashes(ct, origin_dir)
    return payload, lt.bencode(ct.generate())


class Client:
    """One lt.session bound to one loopback address, with one torrent."""

    def __init__(self, name, ip, save_path, **overrides):
        self.name, self.ip, self.rack = name, ip, rack_of(ip)
        self.save_path = save_path
        self.peers = set()             # every peer IP this host was ever connected to
        self.attempted = set()         # peer IPs it tried to reach (alerts), connected or not
        self.wrong_source = set()      # local addresses other than self.ip seen on connections
        self.peer_sources = set()      # where peers came from (tracker, pex, dht, lsd, incoming)
        self.tracker_errors = []
        self.tracker_replies = 0
        self.events = []               # (time, host, text): the timeline, for diagnosis
        self.last_decile = -1
        self.started_at = None
        self.completed_at = None
        self.handle = None
        self.session = lt.session({
            "listen_interfaces": "%s:0" % ip,
            "outgoing_interfaces": ip,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_ip_notifier": False,
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "ssrf_mitigation": False,
            "close_redundant_connections": False,
            "allow_multiple_connections_per_ip": True,
            "announce_to_all_trackers": True,
            "announce_to_all_tiers": True,
            "min_announce_interval": 1,
            "upload_rate_limit": UPLOAD_CAP,
            "stop_tracker_timeout": 2,
            "aio_threads": 2,
            "hashing_threads": 1,
            "alert_mask": ALERT_MASK,
            "user_agent": "p2ptracker-test/" + name,
            **overrides,
        }, 0)  # flags 0: no default plugins (ut_pex, ut_metadata, smart_ban)
        # Every IPv4 address, loopback included, in the global peer class only, so
        # the upload cap and the choker apply to loopback peers.
        classes = lt.ip_filter()
        classes.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        self.session.set_peer_class_filter(classes)

    def add(self, torrent_bytes, seed=False):
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_bytes)
        atp.save_path = self.save_path
        atp.flags = (atp.flags | lt.torrent_flags.disable_pex | lt.torrent_flags.disable_dht
                     | lt.torrent_flags.disable_lsd) & ~lt.torrent_flags.auto_managed \
            & ~lt.torrent_flags.paused  # not queued: each session has its one torrent
        self.started_at = time.monotonic()
        self.handle = self.session.add_torrent(atp)
        self.seed = seed

    def _saw(self, ip):
        self.attempted.add(ip)

    def _event(self, text):
        self.events.append((time.monotonic(), self.name, text))

    def poll(self):
        for a in self.session.pop_alerts():
            if isinstance(a, lt.peer_connect_alert):
                self.peers.add(a.endpoint[0])
                self._saw(a.endpoint[0])
                self._event("connect %s:%d" % a.endpoint)
            elif isinstance(a, lt.incoming_connection_alert):
                self.peers.add(a.endpoint[0])
                self._saw(a.endpoint[0])
                self._event("incoming %s:%d" % a.endpoint)
            elif isinstance(a, lt.peer_disconnected_alert):
                self._saw(a.endpoint[0])
                self._event("disconnect %s:%d (%s: %s)" % (a.endpoint + (a.op, a.error.message())))
            elif isinstance(a, lt.peer_alert):
                self._saw(a.endpoint[0])
            elif isinstance(a, lt.tracker_error_alert):
                self.tracker_errors.append(a.message())
                self._event("tracker error: " + a.message())
            elif isinstance(a, lt.tracker_reply_alert):
                self.tracker_replies += 1
                self._event("tracker reply: %d peers" % a.num_peers)
            elif isinstance(a, lt.tracker_warning_alert):
                self._event("tracker warning: " + a.message())
        if self.handle is None:
            return
        for p in self.handle.get_peer_info():
            self.peers.add(p.ip[0])
            if p.local_endpoint[0] != self.ip:
                self.wrong_source.add(p.local_endpoint[0])
            for flag, label in ((lt.peer_info.tracker, "tracker"), (lt.peer_info.pex, "pex"),
                                (lt.peer_info.dht, "dht"), (lt.peer_info.lsd, "lsd")):
                if p.source & flag:
                    self.peer_sources.add(label)
        st = self.handle.status()
        if int(st.progress * 10) != self.last_decile:
            self.last_decile = int(st.progress * 10)
            self._event("progress %d%% (%d peers, %d unchoked us? down %d KiB/s, up %d KiB/s)"
                        % (st.progress * 100, st.num_peers, st.num_uploads,
                           st.download_payload_rate // 1024, st.upload_payload_rate // 1024))
        if self.completed_at is None and st.is_seeding and st.progress >= 1.0:
            self.completed_at = time.monotonic()
            self._event("completed")

    def outside(self):
        return {ip for ip in self.peers | self.attempted if rack_of(ip) != self.rack}

    def file_sha256(self):
        with open(os.path.join(self.save_path, "payload.bin"), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


class RealClientsTest(unittest.TestCase):
    """Three racks of libtorrent clients and an origin seeder, shaped by the tracker."""

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
        cls.payload, torrent = make_payload_torrent(cls.work_dir, cls.tracker.url)
        cls.payload_sha256 = hashlib.sha256(cls.payload).hexdigest()
        reply = cls.tracker.register("payload.torrent", torrent)
        assert reply.status in (200, 201), "register: %s %r" % (reply.status, reply.body)
        cls.info_hash = lt.torrent_info(torrent).info_hash().to_bytes()

        cls.origin = Client("origin", "127.0.0.1", os.path.join(cls.work_dir, "origin"))
        cls.origin.add(torrent, seed=True)
        deadline = time.monotonic() + 30
        while cls.origin.completed_at is None:  # checks the payload, then seeds
            assert time.monotonic() < deadline, "the origin never started seeding: %s" % (
                cls.origin.handle.status().state,)
            cls.origin.poll()
            time.sleep(POLL_SECONDS)

        for r in range(1, RACKS + 1):
            for h in range(1, HOSTS_PER_RACK + 1):
                name = "r%dh%d" % (r, h)
                path = os.path.join(cls.work_dir, name)
                os.makedirs(path)
                cls.clients.append(Client(name, "127.0.%d.%d" % (r, h), path))
        cls.t0 = time.monotonic()
        for c in cls.clients:
            c.add(torrent)
        deadline = cls.t0 + COMPLETE_TIMEOUT
        everyone = [cls.origin] + cls.clients
        while time.monotonic() < deadline:
            for c in everyone:
                c.poll()
            if all(c.completed_at is not None for c in cls.clients):
                break
            time.sleep(POLL_SECONDS)
        # A last look: connections made in the final 100 ms count too.
        for c in everyone:
            c.poll()
        cls.elapsed = time.monotonic() - cls.t0
        cls._print_summary()
        log = os.environ.get("P2PTRACKER_REAL_CLIENTS_LOG")
        if log:
            with open(log, "w") as f:
                f.write(cls.timeline())

    @classmethod
    def timeline(cls):
        """Every client's connections, tracker replies and progress, by time since the start."""
        events = sorted(e for c in [cls.origin] + cls.clients for e in c.events)
        return "".join("%7.2f %-6s %s\n" % (t - cls.t0, who, text) for t, who, text in events)

    @classmethod
    def _print_summary(cls):
        print("\nreal clients: %d racks x %d hosts, %d KiB payload, upload cap %d KiB/s, "
              "%.1f s" % (RACKS, HOSTS_PER_RACK, PAYLOAD_BYTES // 1024, UPLOAD_CAP // 1024,
                          cls.elapsed))
        for r in range(1, RACKS + 1):
            rack = "127.0.%d" % r
            hosts = [c for c in cls.clients if c.rack == rack]
            out = [c for c in hosts if c.outside()]
            times = ", ".join(
                "%s %s" % (c.name, "%.1fs" % (c.completed_at - c.started_at)
                           if c.completed_at else "incomplete")
                for c in hosts)
            print("  rack %s.0/24: %d host(s) went outside the rack (%s); completed: %s"
                  % (rack, len(out), ", ".join(
                      "%s->%s" % (c.name, "/".join(sorted(c.outside()))) for c in out) or "none",
                     times))
        print("  origin 127.0.0.1 connected to: %s" % ", ".join(sorted(cls.origin.peers)))

    @classmethod
    def _teardown(cls):
        for c in cls.clients + ([cls.origin] if cls.origin else []):
            if c.handle is not None:
                c.session.remove_torrent(c.handle)
        # Dropping the sessions sends event=stopped (bounded by stop_tracker_timeout)
        # while the tracker still runs.
        cls.clients = []
        cls.origin = None
        cls.tracker.cleanup()
        shutil.rmtree(cls.work_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    # --- assertions --------------------------------------------------------

    def test_every_client_completes_with_the_payload(self):
        late = [c.name for c in self.clients if c.completed_at is None]
        self.assertEqual(late, [], "not complete after %.0f s: %s\ntracker log:\n%s"
                         % (COMPLETE_TIMEOUT, late, self.tracker.output()[-4000:]))
        for c in self.clients:
            self.assertEqual(c.file_sha256(), self.payload_sha256, c.name)

    def test_connections_leave_from_the_hosts_own_address(self):
        # Guards the setup: if connections left from 127.0.0.1, every host would
        # look like the same peer to the others and the racks would mean nothing.
        for c in [self.origin] + self.clients:
            self.assertEqual(c.wrong_source, set(), "%s (%s)" % (c.name, c.ip))

    def test_peers_come_from_the_tracker_only(self):
        for c in [self.origin] + self.clients:
            self.assertLessEqual(c.peer_sources, {"tracker"}, c.name)
            self.assertEqual(c.tracker_errors, [], c.name)
            self.assertGreater(c.tracker_replies, 0, c.name)

    def test_at_most_max_repr_rack_hosts_per_rack_leave_the_rack(self):
        for r in range(1, RACKS + 1):
            rack = "127.0.%d" % r
            out = {c.name: sorted(c.outside()) for c in self.clients
                   if c.rack == rack and c.outside()}
            self.assertLessEqual(len(out), MAX_REPR_RACK,
                                 "rack %s: hosts that connected outside it: %s" % (rack, out))

    def test_each_rack_has_a_host_that_completed_inside_its_rack(self):
        for r in range(1, RACKS + 1):
            rack = "127.0.%d" % r
            local = [c.name for c in self.clients
                     if c.rack == rack and not c.outside() and c.completed_at is not None]
            self.assertTrue(local, "rack %s: no host completed without leaving the rack" % rack)

    def test_tracker_counts_every_client_complete(self):
        target = "/scrape?info_hash=" + urllib.parse.quote_from_bytes(self.info_hash, safe="")
        deadline = time.monotonic() + 10
        while True:
            files = bdecode(self.tracker.get(target).body).get(b"files", {})
            stats = files.get(self.info_hash, {})
            if stats.get(b"complete") == 1 + len(self.clients) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(stats.get(b"complete"), 1 + len(self.clients), stats)
        self.assertEqual(stats.get(b"incomplete"), 0, stats)


if __name__ == "__main__":
    unittest.main()

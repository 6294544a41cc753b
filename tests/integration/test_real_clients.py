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

libtorrent 2.0.8 on loopback, and what the settings below are for:
  * listen_interfaces AND outgoing_interfaces = the host's address. Without
    outgoing_interfaces, peer connections leave from 127.0.0.1 (the kernel's
    choice for loopback). The HTTP announce is bound to the listen socket's
    address, which is what the tracker takes as the peer's address and rack.
  * 127.0.0.0/8 moved out of the "local" peer class: by default libtorrent puts
    loopback and private addresses in a class with no rate limit that ignores
    unchoke slots, so the upload cap would not apply.
  * ssrf_mitigation off (the tracker is on loopback). min_announce_interval
    lowered: its default of 300 s overrides a tracker's shorter interval, so
    clients would not re-announce during the test.
  * close_redundant_connections off: with small in-rack peer sets it drops
    fresh seeds and waits min_reconnect_time (60 s) to reconnect.
  * allow_multiple_connections_per_ip OFF (libtorrent's default; every host has
    its own address anyway). With it on, two clients that connect to each other
    at the same moment (common here: everyone announces at once and the tracker
    hands each side the other) each close their INCOMING connection as
    "duplicate peer-id" once the extension handshake tells them the other's
    listen port, so both connections die; the pair then waits
    min_reconnect_time (60 s) before trying again. Observed: 98 such
    disconnects in one run, two racks stalled for 60 s, 65 s instead of 15 s.
  * v1-only torrent: a hybrid v1+v2 torrent announces twice (once per hash).
  * sessions are created without the default plugins (no ut_pex, ut_metadata,
    smart_ban); the torrent is private as well, which also disables pex.
  * uTP off: TCP only, so every connection is bound to outgoing_interfaces.

P2PTRACKER_REAL_CLIENTS_LOG=FILE writes every client's timeline (connections,
disconnections with reasons, tracker replies, progress) to FILE.
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
# Bytes per second each client may upload: the origin alone needs 8 s to send
# the payload once, so the swarm forms and the racks matter before it is done.
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
    """Random bytes in work_dir/origin/payload.bin and a private v1-only .torrent for them.

    Returns (sha256 hex of the payload, .torrent bytes)."""
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
    return hashlib.sha256(payload).hexdigest(), lt.bencode(ct.generate())


class Client:
    """One lt.session bound to one loopback address, with one torrent."""

    def __init__(self, name, ip, save_path, **overrides):
        self.name, self.ip, self.rack = name, ip, rack_of(ip)
        self.save_path = save_path
        self.peers = set()             # peer IPs this host was connected to
        self.contacts = set()          # peer IPs in any peer alert: connected, tried, refused
        self.wrong_source = set()      # local addresses other than self.ip on its connections
        self.peer_sources = set()      # how it learned its peers: tracker, pex, dht, lsd
        self.tracker_errors = []
        self.tracker_warnings = []
        self.tracker_replies = 0
        self.events = []               # (time, host, text): the timeline, for diagnosis
        self.last_decile = -1
        self.started_at = None
        self.completed_at = None
        self.uploaded = 0
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
            "allow_multiple_connections_per_ip": False,
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
        }, 0)  # session flags 0: no default plugins (ut_pex, ut_metadata, smart_ban)
        # Every IPv4 address, loopback included, in the global peer class only, so
        # the upload cap and the unchoke slots apply to loopback peers too.
        classes = lt.ip_filter()
        classes.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        self.session.set_peer_class_filter(classes)

    def add(self, torrent_bytes):
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_bytes)
        atp.save_path = self.save_path
        # Started at once, not queued (each session has just this torrent).
        atp.flags = ((atp.flags | lt.torrent_flags.disable_pex | lt.torrent_flags.disable_dht
                      | lt.torrent_flags.disable_lsd)
                     & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused)
        self.started_at = time.monotonic()
        self.handle = self.session.add_torrent(atp)

    def _event(self, text):
        self.events.append((time.monotonic(), self.name, text))

    def poll(self):
        """Drains alerts and samples peers and progress; called every POLL_SECONDS."""
        for a in self.session.pop_alerts():
            if isinstance(a, lt.peer_connect_alert):
                self.peers.add(a.endpoint[0])
                self.contacts.add(a.endpoint[0])
                self._event("connect %s:%d" % a.endpoint)
            elif isinstance(a, lt.incoming_connection_alert):
                self.peers.add(a.endpoint[0])
                self.contacts.add(a.endpoint[0])
                self._event("incoming %s:%d" % a.endpoint)
            elif isinstance(a, lt.peer_disconnected_alert):
                self.contacts.add(a.endpoint[0])
                self._event("disconnect %s:%d (%s: %s)"
                            % (a.endpoint + (a.op, a.error.message())))
            elif isinstance(a, lt.peer_alert):
                self.contacts.add(a.endpoint[0])
            elif isinstance(a, lt.tracker_error_alert):
                self.tracker_errors.append(a.message())
                self._event("tracker error: " + a.message())
            elif isinstance(a, lt.tracker_warning_alert):
                self.tracker_warnings.append(a.message())
                self._event("tracker warning: " + a.message())
            elif isinstance(a, lt.tracker_reply_alert):
                self.tracker_replies += 1
                self._event("tracker reply: %d peers" % a.num_peers)
        if self.handle is None:
            return
        for p in self.handle.get_peer_info():
            self.peers.add(p.ip[0])
            local = p.local_endpoint[0]
            if local not in (self.ip, "0.0.0.0"):  # 0.0.0.0: still connecting
                self.wrong_source.add(local)
            for flag, label in ((lt.peer_info.tracker, "tracker"), (lt.peer_info.pex, "pex"),
                                (lt.peer_info.dht, "dht"), (lt.peer_info.lsd, "lsd")):
                if p.source & flag:
                    self.peer_sources.add(label)
        st = self.handle.status()
        self.uploaded = st.total_payload_upload
        if int(st.progress * 10) != self.last_decile:
            self.last_decile = int(st.progress * 10)
            self._event("progress %d%% (%d peers, uploading to %d, down %d KiB/s, up %d KiB/s)"
                        % (st.progress * 100, st.num_peers, st.num_uploads,
                           st.download_payload_rate // 1024, st.upload_payload_rate // 1024))
        if self.completed_at is None and st.is_seeding and st.progress >= 1.0:
            self.completed_at = time.monotonic()
            self._event("completed")

    def outside(self):
        """Peers outside this host's rack it was ever connected to or tried to reach."""
        return {ip for ip in self.peers | self.contacts if rack_of(ip) != self.rack}

    def file_sha256(self):
        with open(os.path.join(self.save_path, "payload.bin"), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


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
        cls.payload_sha256, torrent = make_payload_torrent(cls.work_dir, cls.tracker.url)
        reply = cls.tracker.register("payload.torrent", torrent)
        assert reply.status in (200, 201), "register: %s %r" % (reply.status, reply.body)
        cls.info_hash = lt.torrent_info(torrent).info_hash().to_bytes()

        cls.origin = Client("origin", "127.0.0.1", os.path.join(cls.work_dir, "origin"))
        cls.t0 = time.monotonic()
        cls.origin.add(torrent)
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
        for c in everyone:  # a last look: what happened in the final 100 ms counts too
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


if __name__ == "__main__":
    unittest.main()

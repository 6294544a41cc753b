"""Real BitTorrent clients on loopback aliases: what the deploy benchmark and the real-client
tests share.

Debian's python3-libtorrent (libtorrent-rasterbar 2.0.8) runs an origin seeder on 127.0.0.1
and R racks x H hosts: host H of rack R binds 127.0.R.H, so under the tracker's default
topology (the IPv4 /24) each R is one rack and the origin is outside every rack. Every client
is its own lt.session in this process, with DHT, local peer discovery, UPnP/NAT-PMP and peer
exchange off, so the tracker is the only way a client learns of a peer.

libtorrent 2.0.8 on loopback, and what the session settings below are for:
  * listen_interfaces AND outgoing_interfaces = the host's address. Without
    outgoing_interfaces, peer connections leave from 127.0.0.1 (the kernel's
    choice for loopback). The HTTP announce is bound to the listen socket's
    address, which is what the tracker takes as the peer's address and rack.
  * 127.0.0.0/8 moved out of the "local" peer class: by default libtorrent puts
    loopback and private addresses in a class with no rate limit that ignores
    unchoke slots, so the upload cap would not apply.
  * ssrf_mitigation off (the tracker is on loopback). min_announce_interval
    lowered: its default of 300 s overrides a tracker's shorter interval, so
    clients would not re-announce during a short deploy.
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

Byte accounting (Client.poll): libtorrent's peer_info.total_download/total_upload are
payload bytes of ONE connection and restart at 0 when a peer reconnects. poll() keeps the last
value seen per connection (peer ip:port) and folds it into a per-peer-IP total when the
connection disappears or its counters go backwards (a new connection on the same endpoint).
Bytes moved between the last poll and a disconnection are not seen; Client.unattributed()
is the gap to the torrent's own total_payload_download, the cross-check the benchmark
reports.
"""
import collections
import contextlib
import hashlib
import os
import time

import libtorrent as lt

ALERT_MASK = (lt.alert_category.error | lt.alert_category.connect | lt.alert_category.peer
              | lt.alert_category.status | lt.alert_category.tracker)
POLL_SECONDS = 0.1
ORIGIN_IP = "127.0.0.1"


# Racks that are not /24s (an inventory's cabinets), as ip -> rack name; the
# tracker learns them from the same source (tests/integration/
# test_inventory_deploy.py). Empty: the tracker's default rule.
RACK_NAMES = {}


def rack_of(ip):
    """The rack of `ip`: RACK_NAMES' name for it, else the tracker's default rule, a
    rack is an IPv4 /24."""
    return RACK_NAMES.get(ip) or ip.rsplit(".", 1)[0]


def host_ip(rack, host):
    """Host `host` (1-based) of rack `rack` (1-based): 127.0.R.H."""
    assert 1 <= rack <= 254 and 1 <= host <= 254
    return "127.0.%d.%d" % (rack, host)


def make_payload_torrent(work_dir, announce_url, size, piece_bytes, creator="p2ptracker bench"):
    """Random bytes in work_dir/origin/payload.bin and a private v1-only .torrent for them.

    Returns (sha256 hex of the payload, .torrent bytes)."""
    origin_dir = os.path.join(work_dir, "origin")
    os.makedirs(origin_dir, exist_ok=True)
    digest = hashlib.sha256()
    with open(os.path.join(origin_dir, "payload.bin"), "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(origin_dir, "payload.bin"))
    ct = lt.create_torrent(fs, piece_bytes, lt.create_torrent.v1_only)
    ct.add_tracker(announce_url)
    ct.set_priv(True)
    ct.set_creator(creator)
    lt.set_piece_hashes(ct, origin_dir)
    return digest.hexdigest(), lt.bencode(ct.generate())


def with_announce(torrent_bytes, announce_url):
    """The same torrent (same info-hash: the info dict is untouched) announcing elsewhere."""
    meta = lt.bdecode(torrent_bytes)
    meta[b"announce"] = announce_url.encode()
    meta.pop(b"announce-list", None)
    return lt.bencode(meta)


def info_hash_of(torrent_bytes):
    return lt.torrent_info(torrent_bytes).info_hash().to_bytes()


def session_settings(name, ip, upload_cap, **overrides):
    """The lt.session settings every client here runs with (see the module docstring)."""
    return {
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
        "upload_rate_limit": upload_cap,
        "stop_tracker_timeout": 2,
        "aio_threads": 2,
        "hashing_threads": 1,
        "alert_mask": ALERT_MASK,
        "user_agent": "p2ptracker-bench/" + name,
        **overrides,
    }


class Client:
    """One lt.session bound to one loopback address, with one torrent."""

    def __init__(self, name, ip, save_path, upload_cap, **overrides):
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
        self.uploaded = 0              # the torrent's total_payload_upload
        self.downloaded = 0            # the torrent's total_payload_download
        # Per-connection payload counters, see the module docstring.
        self._conn_last = {}                            # (ip, port) -> [down, up]
        self._closed_down = collections.Counter()       # peer ip -> bytes, closed connections
        self._closed_up = collections.Counter()
        self.handle = None
        self.session = lt.session(session_settings(name, ip, upload_cap, **overrides), 0)
        # session flags 0: no default plugins (ut_pex, ut_metadata, smart_ban).
        # Every IPv4 address, loopback included, in the global peer class only, so
        # the upload cap and the unchoke slots apply to loopback peers too.
        classes = lt.ip_filter()
        classes.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        self.session.set_peer_class_filter(classes)

    def add(self, torrent_bytes, hung=False):
        """hung: in libtorrent's upload mode, where it goes when it cannot write to its disk:
        it announces as usual and downloads nothing (a hung client, for fail-over tests)."""
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_bytes)
        atp.save_path = self.save_path
        # Started at once, not queued (each session has just this torrent).
        atp.flags = ((atp.flags | lt.torrent_flags.disable_pex | lt.torrent_flags.disable_dht
                      | lt.torrent_flags.disable_lsd)
                     & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused)
        if hung:
            atp.flags |= lt.torrent_flags.upload_mode
        self.started_at = time.monotonic()
        self.handle = self.session.add_torrent(atp)

    def _event(self, text):
        self.events.append((time.monotonic(), self.name, text))

    def poll(self):
        """Drains alerts, samples peers, byte counters and progress; call every POLL_SECONDS."""
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
        seen = set()
        for p in self.handle.get_peer_info():
            self.peers.add(p.ip[0])
            local = p.local_endpoint[0]
            if local not in (self.ip, "0.0.0.0"):  # 0.0.0.0: still connecting
                self.wrong_source.add(local)
            for flag, label in ((lt.peer_info.tracker, "tracker"), (lt.peer_info.pex, "pex"),
                                (lt.peer_info.dht, "dht"), (lt.peer_info.lsd, "lsd")):
                if p.source & flag:
                    self.peer_sources.add(label)
            key = (p.ip[0], p.ip[1])
            seen.add(key)
            down, up = p.total_download, p.total_upload
            last = self._conn_last.get(key)
            if last is not None and (down < last[0] or up < last[1]):
                self._fold(key)  # a new connection on the same endpoint
            self._conn_last[key] = [down, up]
        for key in [k for k in self._conn_last if k not in seen]:
            self._fold(key)
        st = self.handle.status()
        self.uploaded = st.total_payload_upload
        self.downloaded = st.total_payload_download
        if int(st.progress * 10) != self.last_decile:
            self.last_decile = int(st.progress * 10)
            self._event("progress %d%% (%d peers, uploading to %d, down %d KiB/s, up %d KiB/s)"
                        % (st.progress * 100, st.num_peers, st.num_uploads,
                           st.download_payload_rate // 1024, st.upload_payload_rate // 1024))
        if self.completed_at is None and st.is_seeding and st.progress >= 1.0:
            self.completed_at = time.monotonic()
            self._event("completed")

    def _fold(self, key):
        down, up = self._conn_last.pop(key)
        self._closed_down[key[0]] += down
        self._closed_up[key[0]] += up

    def bytes_from(self):
        """Payload bytes received, by peer IP, over every connection seen so far."""
        out = collections.Counter(self._closed_down)
        for (ip, _), (down, _) in self._conn_last.items():
            out[ip] += down
        return out

    def bytes_to(self):
        """Payload bytes sent, by peer IP, over every connection seen so far."""
        out = collections.Counter(self._closed_up)
        for (ip, _), (_, up) in self._conn_last.items():
            out[ip] += up
        return out

    def unattributed(self):
        """Downloaded bytes no per-connection counter saw (moved just before a disconnection)."""
        return self.downloaded - sum(self.bytes_from().values())

    def outside(self):
        """Peers outside this host's rack it was ever connected to or tried to reach."""
        return {ip for ip in self.peers | self.contacts if rack_of(ip) != self.rack}

    def file_sha256(self, name="payload.bin"):
        digest = hashlib.sha256()
        with open(os.path.join(self.save_path, name), "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def die(self):
        """Cuts this host off from every peer and from the tracker, as a crash or a lost link
        does: no event=stopped, no more announces (libtorrent applies its IP filter to trackers
        too: apply_ip_filter_to_trackers)."""
        cut = lt.ip_filter()
        cut.add_rule("0.0.0.0", "255.255.255.255", 1)
        self.session.set_ip_filter(cut)
        self._event("died")

    def close(self):
        """Removes the torrent; dropping the session afterwards sends event=stopped."""
        if self.handle is not None:
            self.session.remove_torrent(self.handle)
            self.handle = None


class Deploy:
    """One deploy: an origin seeder and racks x hosts clients fetching one torrent.

    run() starts the origin, waits until it seeds, starts every host at once and polls until
    every host completed or `timeout` passed. The numbers come from rack_stats() and
    completion_times(); close() stops every session (while the tracker still runs)."""

    def __init__(self, work_dir, torrent, racks, hosts, upload_cap, origin_dir,
                 origin_cap=None, other_client=None, ip_of=host_ip, origin_ip=ORIGIN_IP,
                 enter=None, **overrides):
        """other_client(name, ip) may return a host that is not a libtorrent session
        (clients.py: rtorrent, aria2c) for that slot, or None. ip_of(rack, host) places
        the hosts (default 127.0.R.H). enter(ip), if given, returns a context manager in
        which host ip's session is created: the session's threads, and so its sockets, are in
        the network namespace of the thread that creates it (levels.py --uplink: its rack's)."""
        self.torrent = torrent
        self.origin = Client("origin", origin_ip, origin_dir,
                             upload_cap if origin_cap is None else origin_cap, **overrides)
        self.clients = []
        self.extra_hosts = []  # other clients (rtorrent, aria2c): see clients.py
        for r in range(1, racks + 1):
            for h in range(1, hosts + 1):
                name, ip = "r%dh%d" % (r, h), ip_of(r, h)
                other = other_client(name, ip) if other_client else None
                if other is not None:
                    self.extra_hosts.append(other)
                    continue
                path = os.path.join(work_dir, name)
                os.makedirs(path, exist_ok=True)
                with enter(ip) if enter else contextlib.nullcontext():
                    self.clients.append(Client(name, ip, path, upload_cap, **overrides))
        self.t0 = None
        self.t_end = None
        self.failed = set()  # run(hung=..., dead=...): hosts left out of complete()

    def everyone(self):
        return [self.origin] + self.clients

    def run(self, timeout, origin_timeout=60, late=(), late_delay=0.0, stop=None, hung=(),
            dead=()):
        """`late`: names of hosts that join `late_delay` seconds after the others. `stop`, a
        threading.Event, ends the run early once set (a deploy on its own thread that must
        not outlive an interrupted benchmark: concurrent.py). `hung`: names of hosts that go
        on announcing but never download (Client.add); `dead`: names of hosts that die
        (Client.die) once the tracker answered their first announce. The deploy is complete
        without either."""
        self.failed = set(hung) | set(dead)
        dying = [c for c in self.clients if c.name in dead]
        self.origin.add(self.torrent)
        deadline = time.monotonic() + origin_timeout
        while self.origin.completed_at is None:  # checks the payload, then seeds
            if stop is not None and stop.is_set():
                return False
            if time.monotonic() > deadline:
                raise RuntimeError("the origin never started seeding: %s"
                                   % self.origin.handle.status().state)
            self.origin.poll()
            time.sleep(POLL_SECONDS)
        self.t0 = time.monotonic()
        pending = [c for c in self.clients if c.name in late]
        for c in self.clients:
            if c.name not in late:
                c.add(self.torrent, hung=c.name in hung)
        for x in self.extra_hosts:
            x.start()
        deadline = self.t0 + timeout
        while time.monotonic() < deadline:
            if pending and time.monotonic() >= self.t0 + late_delay:
                for c in pending:
                    c.add(self.torrent, hung=c.name in hung)
                pending = []
            for c in self.everyone():
                c.poll()
            for c in [c for c in dying if c.tracker_replies > 0]:
                c.die()
                dying.remove(c)
            for x in self.extra_hosts:
                x.poll()
            if self.complete() or (stop is not None and stop.is_set()):
                break
            time.sleep(POLL_SECONDS)
        for c in self.everyone():  # a last look: what happened in the final poll interval
            c.poll()
        self.t_end = time.monotonic()
        return self.complete()

    def complete(self):
        return (all(c.completed_at is not None for c in self.clients if c.name not in self.failed)
                and all(x.completed_at is not None for x in self.extra_hosts))

    def racks(self):
        def order(rack):  # /24s by number, then names
            tail = rack.rsplit(".", 1)[-1]
            return (0, int(tail), "") if tail.isdigit() else (1, 0, rack)
        return sorted({c.rack for c in self.clients}, key=order)

    def deploy_seconds(self):
        """First start to last completion (None if a host did not complete)."""
        done = [c.completed_at for c in self.clients] + [x.completed_at
                                                         for x in self.extra_hosts]
        if any(t is None for t in done):
            return None
        return max(done) - self.t0

    def completion_times(self):
        """{host name: seconds from the deploy's start, or None}."""
        out = {c.name: (c.completed_at - self.t0 if c.completed_at else None)
               for c in self.clients}
        out.update({x.name: (x.completed_at - self.t0 if x.completed_at else None)
                    for x in self.extra_hosts})
        return out

    def rack_stats(self, payload_bytes):
        """Per rack: bytes received from / sent to peers outside it, as its hosts counted them.

        Also the gap between those counters and the torrent totals (unattributed) and the
        same inflow counted from the other side (by the senders outside the rack): the
        cross-check."""
        stats = {}
        for rack in self.racks():
            hosts = [c for c in self.clients if c.rack == rack]
            rx = sum(n for c in hosts for ip, n in c.bytes_from().items() if rack_of(ip) != rack)
            tx = sum(n for c in hosts for ip, n in c.bytes_to().items() if rack_of(ip) != rack)
            # The same inflow, as counted by every sender outside the rack.
            rx_seen_by_senders = sum(n for c in self.everyone() if c.rack != rack
                                     for ip, n in c.bytes_to().items() if rack_of(ip) == rack)
            stats[rack] = {
                "in": rx, "out": tx, "in_by_senders": rx_seen_by_senders,
                "amplification": rx / payload_bytes,
                "egress": tx / payload_bytes,
                "downloaded": sum(c.downloaded for c in hosts),
                "unattributed": sum(c.unattributed() for c in hosts),
                "gateways": sorted(c.name for c in hosts
                                   if any(rack_of(ip) != rack and n > 0
                                          for ip, n in c.bytes_from().items())),
            }
        return stats

    def timeline(self):
        """Every client's connections, tracker replies and progress, by time since the start."""
        events = sorted(e for c in self.everyone() for e in c.events)
        t0 = self.t0 if self.t0 is not None else (events[0][0] if events else 0)
        return "".join("%7.2f %-6s %s\n" % (t - t0, who, text) for t, who, text in events)

    def close(self):
        for x in self.extra_hosts:
            x.stop()
        for c in self.everyone():
            c.close()
        # Dropping the sessions sends event=stopped (bounded by stop_tracker_timeout).
        self.clients = []
        self.origin = None

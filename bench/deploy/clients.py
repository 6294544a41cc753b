"""Other BitTorrent clients in a deploy: Debian's rtorrent 0.9.8, aria2c 1.36, transmission-cli
3.00 and qbittorrent-nox 4.5, each as its own process bound to its own loopback address
(127.0.R.H), configured as docs/clients.md says.

They join a swarm.Deploy as `extra_hosts`: start() launches the process, poll() notices
completion (each client runs a hook on completion that creates a marker file), stop() ends
the process. They expose no per-connection byte counters; the libtorrent hosts of the same
deploy still count what they exchanged with them.
"""
import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

from swarm import rack_of

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "integration"))
from harness import file_tail, stop_process  # noqa: E402


def free_port(ip):
    """A free TCP port on `ip` (the client re-binds it a moment later)."""
    with contextlib.closing(socket.socket()) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


class ProcessHost:
    """A client process with one torrent; completion is a marker file its hook creates."""

    kind = "?"

    def __init__(self, name, ip, work_dir, torrent_bytes, upload_cap):
        self.name, self.ip, self.rack = name, ip, rack_of(ip)
        self.dir = os.path.join(work_dir, name)
        self.save_path = os.path.join(self.dir, "download")
        os.makedirs(self.save_path, exist_ok=True)
        self.torrent_path = os.path.join(self.dir, "payload.torrent")
        with open(self.torrent_path, "wb") as f:
            f.write(torrent_bytes)
        self.done_file = os.path.join(self.dir, "done")
        self.log_path = os.path.join(self.dir, "client.log")
        self.upload_cap = upload_cap
        self.port = free_port(ip)
        self.proc = None
        self.started_at = None
        self.completed_at = None

    def command(self):
        raise NotImplementedError

    def start(self):
        self.started_at = time.monotonic()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     start_new_session=True)

    def poll(self):
        if self.completed_at is None and os.path.exists(self.done_file):
            self.completed_at = time.monotonic()
        if self.proc is not None and self.proc.poll() is not None and self.completed_at is None:
            raise RuntimeError("%s (%s) exited with %s:\n%s"
                               % (self.name, self.kind, self.proc.returncode, self.log_tail()))

    def log_tail(self, n=3000):
        return file_tail(self.log_path, n)

    def stop(self):
        stop_process(self.proc)
        if self.proc is not None:
            self._log.close()

    def file_path(self, name="payload.bin"):
        return os.path.join(self.save_path, name)


class RTorrentHost(ProcessHost):
    """rtorrent 0.9.8 headless (system.daemon.set), its own rc, no ~/.rtorrent.rc."""

    kind = "rtorrent"

    def rc_lines(self):
        return [
            "directory.default.set = %s" % self.save_path,
            "session.path.set = %s" % os.path.join(self.dir, "session"),
            # Listen on, connect from and announce from the host's own address.
            "network.bind_address.set = %s" % self.ip,
            "network.local_address.set = %s" % self.ip,
            "network.port_range.set = %d-%d" % (self.port, self.port),
            "network.port_random.set = no",
            # The tracker must be the only source of peers (the original's rtorrent.rc
            # disabled peer exchange for this reason).
            "dht.mode.set = disable",
            "protocol.pex.set = no",
            "trackers.use_udp.set = no",
            "protocol.encryption.set = allow_incoming,try_outgoing,enable_retry",
            "throttle.global_up.max_rate.set_kb = %d" % max(1, self.upload_cap // 1024),
            "pieces.hash.on_completion.set = no",
            # Completion: a marker file for the benchmark (any deploy hook goes here).
            'method.set_key = event.download.finished, p2p_done, '
            '"execute.nothrow = touch, %s"' % self.done_file,
            "system.daemon.set = true",
            "load.start = %s" % self.torrent_path,
        ]

    def command(self):
        os.makedirs(os.path.join(self.dir, "session"), exist_ok=True)
        rc = os.path.join(self.dir, "rtorrent.rc")
        with open(rc, "w") as f:
            f.write("\n".join(self.rc_lines()) + "\n")
        return ["rtorrent", "-n", "-o", "import=%s" % rc]


class OriginalRcRTorrentHost(RTorrentHost):
    """rtorrent set up as the original p2ptracker's fleet was: its etc/rtorrent.rc.erb, key for
    key (original-behaviour.md, section (f)), in the old syntax that rtorrent 0.9.8 still reads
    with -D (deprecated commands). `ip` is the host's name, as the template's fqdn; the tracker
    ignores it from an untrusted network and places the client by the address it connects from,
    `bind`. Three keys of the template no longer exist in 0.9.8 and are spelled anew:
    peer_exchange (protocol.pex.set), hash_read_ahead and hash_interval (gone with the old hash
    checker: nothing to set)."""

    kind = "rtorrent-original-rc"
    FQDN = "localhost"  # a host name that resolves without DNS (/etc/hosts)

    def rc_lines(self):
        return [
            "min_peers = 1",
            "max_peers = 60",
            "min_peers_seed = 10",
            "max_peers_seed = 50",
            "max_uploads = 3000",
            "download_rate = 12288",
            "upload_rate = %d" % max(1, self.upload_cap // 1024),  # the benchmark's cap
            "directory = %s" % self.save_path,
            "session = %s" % os.path.join(self.dir, "session"),
            "ip = %s" % self.FQDN,
            "bind = %s" % self.ip,
            "port_range = %d-%d" % (self.port, self.port),
            "port_random = no",
            "check_hash = no",
            "encryption = allow_incoming,enable_retry,prefer_plaintext",
            "dht = disable",
            "protocol.pex.set = no",  # peer_exchange = no
            'method.set_key = event.download.finished, p2p_done, '
            '"execute.nothrow = touch, %s"' % self.done_file,
            "system.daemon.set = true",
            "load.start = %s" % self.torrent_path,
        ]

    def command(self):
        return ["rtorrent", "-D"] + super().command()[1:]


class Aria2Host(ProcessHost):
    """aria2c 1.36: --interface binds its listening socket, its peer connections and its
    HTTP announces to the host's address."""

    kind = "aria2c"

    def flags(self):
        return [
            "--dir=%s" % self.save_path,
            "--interface=%s" % self.ip,
            "--listen-port=%d" % self.port,
            "--enable-dht=false", "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--disable-ipv6=true",
            "--max-overall-upload-limit=%d" % self.upload_cap,
            # Keep seeding after completion (the benchmark stops it); 0.0: whatever the ratio.
            "--seed-time=60", "--seed-ratio=0.0",
            "--file-allocation=none",
            "--bt-hash-check-seed=false",
            "--summary-interval=0",
            "--console-log-level=warn",
            "--log=%s" % os.path.join(self.dir, "aria2.log"), "--log-level=info",
            "--on-bt-download-complete=%s" % self._hook(),
        ]

    def _hook(self):
        # aria2 runs the hook with (gid, file count, path); it only has to mark completion.
        hook = os.path.join(self.dir, "on-complete.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % shlex.quote(self.done_file))
        os.chmod(hook, 0o755)
        return hook

    def command(self):
        return ["aria2c"] + self.flags() + [self.torrent_path]


class TransmissionHost(ProcessHost):
    """transmission-cli 3.00: settings.json in its own config dir (-g), which is where
    transmission-daemon reads the same keys from."""

    kind = "transmission"

    def settings(self):
        return {
            "dht-enabled": False,
            "pex-enabled": False,
            "lpd-enabled": False,
            "utp-enabled": False,
            "port-forwarding-enabled": False,
            # Listen on, connect from and announce from the host's address.
            "bind-address-ipv4": self.ip,
            "peer-port": self.port,
            "peer-port-random-on-start": False,
            "speed-limit-up-enabled": True,
            "speed-limit-up": max(1, self.upload_cap // 1000),  # kB/s, 1 kB = 1000 bytes
            "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False,
            "rpc-enabled": False,
            "blocklist-enabled": False,
            "message-level": 2,
        }

    def command(self):
        import json
        conf = os.path.join(self.dir, "config")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump(self.settings(), f, indent=1)
        hook = os.path.join(self.dir, "on-complete.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % shlex.quote(self.done_file))
        os.chmod(hook, 0o755)
        return ["transmission-cli", "-g", conf, "-w", self.save_path, "-p", str(self.port),
                "-u", str(max(1, self.upload_cap // 1000)), "-M", "-f", hook, self.torrent_path]


class QBittorrentHost(ProcessHost):
    """qbittorrent-nox 4.5 (libtorrent-rasterbar 2.0), driven through its Web API as an operator's
    automation would: the process starts on a profile whose qBittorrent.conf holds only what
    must be off before the first packet (DHT, local peer discovery, peer exchange, UPnP, the
    GeoIP download) and where the Web API listens; the host's address, port and limits are
    set with /api/v2/app/setPreferences, and the torrent is added with /api/v2/torrents/add."""

    kind = "qbittorrent"
    API_TIMEOUT = 30.0

    # Set before start, in qBittorrent.conf: the Web API cannot turn these off before the
    # client has already bootstrapped DHT or asked for a GeoIP database.
    CONF = """[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\InterfaceAddress={ip}
Session\\Port={port}

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\ResolvePeerCountries=false
Connection\\UPnP=false
WebUI\\Address={ip}
WebUI\\Port={web_port}
WebUI\\LocalHostAuth=false
WebUI\\UseUPnP=false
"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.web_port = free_port(self.ip)

    def preferences(self):
        """What the benchmark sets through the Web API (its key names, docs/clients.md)."""
        return {
            # Listen on, connect from and announce from the host's address.
            "current_network_interface": "",
            "current_interface_address": self.ip,
            "listen_port": self.port,
            "random_port": False,
            "upnp": False,
            # The tracker must be the only source of peers.
            "dht": False, "pex": False, "lsd": False,
            "bittorrent_protocol": 1,  # TCP only, as the other clients of the deploy
            "up_limit": self.upload_cap,  # bytes/s
            "limit_lan_peers": True,  # the cap also applies to loopback peers
            "max_ratio_enabled": False, "max_seeding_time_enabled": False,
            "resolve_peer_countries": False,
            # Completion: a marker file for the benchmark (any deploy hook goes here).
            "autorun_enabled": True,
            "autorun_program": "touch %s" % shlex.quote(self.done_file),
        }

    def api(self, path, form=None, files=None, timeout=10.0):
        url = "http://%s:%d/api/v2/%s" % (self.ip, self.web_port, path)
        data, headers = None, {}
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in (form or {}).items():
                parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                             % (boundary.encode(), k.encode(), str(v).encode()))
            for k, (fname, content) in files.items():
                parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"; '
                             b'filename="%s"\r\nContent-Type: application/x-bittorrent\r\n\r\n'
                             % (boundary.encode(), k.encode(), fname.encode()) + content + b"\r\n")
            data = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
            headers["Content-Type"] = "multipart/form-data; boundary=%s" % boundary
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers),
                                    timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body[:1] in (b"{", b"[") else body.decode()

    def command(self):
        conf = os.path.join(self.dir, "profile", "qBittorrent", "config")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "qBittorrent.conf"), "w") as f:
            f.write(self.CONF.format(ip=self.ip, port=self.port, web_port=self.web_port))
        return ["qbittorrent-nox", "--profile=%s" % os.path.join(self.dir, "profile")]

    def start(self):
        super().start()
        deadline = time.monotonic() + self.API_TIMEOUT
        while True:
            try:
                self.version = self.api("app/version", timeout=2.0)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("qbittorrent-nox %s: no Web API on %s:%d:\n%s"
                                       % (self.name, self.ip, self.web_port, self.log_tail()))
                time.sleep(0.1)
        self.api("app/setPreferences", {"json": json.dumps(self.preferences())})
        with open(self.torrent_path, "rb") as f:
            answer = self.api("torrents/add", {"savepath": self.save_path, "paused": "false"},
                              files={"torrents": ("payload.torrent", f.read())})
        if answer != "Ok.":
            raise RuntimeError("qbittorrent-nox %s refused the torrent: %r" % (self.name, answer))

    def torrents(self):
        """/api/v2/torrents/info: the client's own view of its torrents."""
        return self.api("torrents/info")


KINDS = {"rtorrent": RTorrentHost, "aria2c": Aria2Host, "transmission": TransmissionHost,
         "qbittorrent": QBittorrentHost}
PROGRAMS = {"rtorrent": "rtorrent", "aria2c": "aria2c", "transmission": "transmission-cli",
            "qbittorrent": "qbittorrent-nox"}


def available(kind):
    return shutil.which(PROGRAMS[kind]) is not None

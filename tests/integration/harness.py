"""Test support for integration tests: run the real p2ptracker binary, talk to it.

Everything here uses only Debian's python3 standard library (the real-client
test adds python3-libtorrent). Servers bind loopback port 0 and report the
port they got, so tests run in parallel without clashing.
"""
import contextlib
import hashlib
import http.client
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("P2PTRACKER_BIN", os.path.join(ROOT, "build", "p2ptracker"))


# --- bencode ---------------------------------------------------------------

def bencode(v):
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError(type(v))


def bdecode(data):
    def parse(i):
        c = data[i:i + 1]
        if c == b"i":
            end = data.index(b"e", i)
            return int(data[i + 1:end]), end + 1
        if c == b"l":
            i += 1
            out = []
            while data[i:i + 1] != b"e":
                v, i = parse(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            i += 1
            out = {}
            while data[i:i + 1] != b"e":
                k, i = parse(i)
                v, i = parse(i)
                out[k] = v
            return out, i + 1
        colon = data.index(b":", i)
        n = int(data[i:colon])
        return data[colon + 1:colon + 1 + n], colon + 1 + n

    value, end = parse(0)
    if end != len(data):
        raise ValueError("trailing bytes after bencoded value")
    return value


# --- torrents --------------------------------------------------------------

def make_torrent(name, payload, announce="http://127.0.0.1:6969/announce", piece_length=16384,
                 private=True):
    """A v1 single-file .torrent for `payload` (bytes). Returns (bytes, info_hash bytes)."""
    pieces = b"".join(hashlib.sha1(payload[i:i + piece_length]).digest()
                      for i in range(0, len(payload), piece_length))
    info = {"name": name, "piece length": piece_length, "pieces": pieces, "length": len(payload)}
    if private:
        info["private"] = 1
    meta = {"announce": announce, "info": info}
    return bencode(meta), hashlib.sha1(bencode(info)).digest()


# --- HTTP ------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def bdecoded(self):
        return bdecode(self.body)

    def json(self):
        import json
        return json.loads(self.body)


def http_request(port, method, target, body=None, headers=None, source="127.0.0.1", timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


def announce_query(info_hash, peer_id=None, port=6881, uploaded=0, downloaded=0, left=1000,
                   event=None, compact=1, **extra):
    """The query string of an announce; binary values percent-encoded byte by byte."""
    if peer_id is None:
        peer_id = b"-PT0001-" + os.urandom(6).hex().encode()[:12]
    params = [("info_hash", info_hash), ("peer_id", peer_id), ("port", str(port)),
              ("uploaded", str(uploaded)), ("downloaded", str(downloaded)), ("left", str(left))]
    if compact is not None:
        params.append(("compact", str(compact)))
    if event:
        params.append(("event", event))
    for k, v in extra.items():
        params.append((k, v if isinstance(v, (bytes, str)) else str(v)))
    return "&".join("%s=%s" % (k, urllib.parse.quote_from_bytes(v if isinstance(v, bytes) else v.encode(), safe=""))
                    for k, v in params)


def compact_peers(blob):
    """Decodes a compact IPv4 peer string into a set of (ip, port)."""
    out = set()
    for i in range(0, len(blob), 6):
        ip = socket.inet_ntoa(blob[i:i + 4])
        out.add((ip, int.from_bytes(blob[i + 4:i + 6], "big")))
    return out


# --- the tracker process ---------------------------------------------------


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Sends proc `sig`, kills it if it is still running after `timeout` s;
    returns its exit code (None when there is no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# What AddressSanitizer, LeakSanitizer and UBSan print when the binary was built
# with them (make test-asan): a report anywhere in the tracker's output fails the
# test that ran it, even one printed at exit (LeakSanitizer) after the test's
# own checks passed.
SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |"
                              r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")


def check_sanitizer_report(output, what="p2ptracker"):
    m = SANITIZER_REPORT.search(output or "")
    if m:
        start = output.rfind("\n", 0, max(0, m.start() - 2000)) + 1
        raise AssertionError("%s: sanitizer report:\n%s" % (what, output[start:start + 12000]))


def file_tail(path, n=3000):
    """The last n bytes of a log file as text ("" when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")
    except OSError:
        return ""


class Tracker:
    """Runs build/p2ptracker with `settings` (--set key=value) on a free port.

    config_file is passed as --config FILE, or as `serve FILE` with
    positional=True; cwd is the process's working directory (default: ours)."""

    LISTENING = re.compile(r"listening on (\S+):(\d+)")

    def __init__(self, data_dir=None, config_file=None, env=None, positional=False, cwd=None,
                 binary=None, test_clock=False, **settings):
        self.binary = binary or BINARY
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="p2ptracker-test-")
        self.settings = {"host": "127.0.0.1", "port": 0, "data_dir": self.data_dir,
                         "workers": 2}
        self.settings.update(settings)
        self.config_file = config_file
        self.positional = positional
        self.cwd = cwd
        self.env = dict(env or {})
        if test_clock:  # advance_clock() moves the tracker's time (docs/api.md)
            self.env["P2PTRACKER_TEST_CLOCK"] = "1"
        self.proc = None
        self.port = None
        self.log = []
        self._log_lock = threading.Lock()

    def args(self):
        args = [self.binary, "serve"]
        if self.config_file:
            args += [self.config_file] if self.positional else ["--config", self.config_file]
        for k, v in self.settings.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, list):
                v = "[" + ",".join('"%s"' % x if isinstance(x, str) else str(x) for x in v) + "]"
            args += ["--set", "%s=%s" % (k, v)]
        return args

    def start(self, timeout=15):
        env = dict(os.environ)
        env.pop("P2PTRACKERCONFIG", None)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.cwd)
        found = threading.Event()

        def pump():
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                with self._log_lock:
                    self.log.append(line)
                m = self.LISTENING.search(line)
                if m and not found.is_set():
                    self.port = int(m.group(2))
                    found.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if found.wait(0.05):
                return self
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError("p2ptracker exited with %s:\n%s" % (self.proc.returncode,
                                                                        self.output()))
        self.stop()
        raise RuntimeError("p2ptracker did not report its port in %ss:\n%s" % (timeout, self.output()))

    def output(self):
        with self._log_lock:
            return "".join(self.log)

    def logged(self, text, timeout=10):
        """The output once it holds text, or (after timeout) as it is. The log pump
        reads the pipe on its own thread, so a line written before a reply was sent
        may reach self.log only after the reply has been read."""
        deadline = time.time() + timeout
        while text not in self.output() and time.time() < deadline:
            if self.proc.poll() is not None:
                self._pump.join(2)
                break
            time.sleep(0.02)
        return self.output()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        return stop_process(self.proc, sig, timeout)

    def cleanup(self):
        self.stop()
        # The log pump reads to EOF once the process is gone; then the pipe can close.
        pump = getattr(self, "_pump", None)
        if pump is not None:
            pump.join(5)
            if not pump.is_alive() and self.proc.stdout:
                self.proc.stdout.close()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        check_sanitizer_report(self.output())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # Conveniences
    def get(self, target, **kw):
        return http_request(self.port, "GET", target, **kw)

    def advance_clock(self, seconds):
        """Moves the tracker's clock `seconds` forward (Tracker(test_clock=True)):
        for a TTL or a stall window a test would otherwise sleep through."""
        r = http_request(self.port, "POST", "/api/v1/test/clock?advance=%d" % seconds)
        if r.status != 200:
            raise AssertionError("advancing the clock: %d %s" % (r.status, r.body))
        return r.json()["now"]

    def announce(self, info_hash, source="127.0.0.1", **params):
        return http_request(self.port, "GET", "/announce?" + announce_query(info_hash, **params),
                            source=source)

    def register(self, file_name, torrent_bytes):
        return http_request(self.port, "POST", "/api/v1/torrents/" + urllib.parse.quote(file_name),
                            body=torrent_bytes,
                            headers={"Content-Type": "application/x-bittorrent"})

    @property
    def url(self):
        return "http://127.0.0.1:%d/announce" % self.port


def run_tool(args, **kw):
    result = subprocess.run([BINARY] + args, capture_output=True, text=True, **kw)
    check_sanitizer_report(result.stderr, "p2ptracker " + " ".join(args[:1]))
    return result


# --- Redis -------------------------------------------------------------------

def _ephemeral_floor():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    """Whether nothing holds `port` on any IPv4 or IPv6 address (TCP and UDP)."""
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            try:
                with contextlib.closing(socket.socket(family, kind)) as s:
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, port))
            except OSError:
                return False
    return True


_port_rng = random.Random(os.getpid() ^ int(time.time() * 1000))


def free_port():
    """A port nothing listens on, for a server a test starts. Chosen below the kernel's
    ephemeral range: a port the kernel handed out (bind to port 0) goes back to the pool, and
    another test's outgoing connection may take it as its local port before the server
    binds it (seen: `make run` refused its port in CI)."""
    floor = _ephemeral_floor()
    if floor > 11000:
        for _ in range(200):
            port = _port_rng.randrange(10000, floor)
            if _bindable(port):
                return port
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-redis-")
        self.proc = None

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer on port %d" % self.port)

    def command(self, *args):
        """One RESP command; returns str, int, list or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            req = b"*%d\r\n" % len(args) + b"".join(
                b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() if isinstance(x, str) else x for x in args))
            s.sendall(req)
            f = s.makefile("rb")
            return _read_resp(f)

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SmdbServer:
    """tests/integration/smdb_server.py on a free loopback port: the original's
    inventory service, answering as each test tells it (set())."""

    def __init__(self):
        self.proc = None
        self.port = None

    def start(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smdb_server.py")
        self.proc = subprocess.Popen([sys.executable, script, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError("smdb_server.py did not start: %r" % line)
        self.port = int(line.split()[1])
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def set(self, ip, **entry):
        """What the service answers for `ip` (see smdb_server.py)."""
        r = http_request(self.port, "PUT", "/_control/" + ip, body=json.dumps(entry).encode())
        assert r.status == 200, r.body

    def asked(self):
        """Addresses looked up so far, in order."""
        return json.loads(http_request(self.port, "GET", "/_asked").body)

    def stop(self):
        stop_process(self.proc)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class DnsServer:
    """dnsmasq on a free loopback port serving TXT records: `records` maps a
    name to its records, each a string (one TXT record per string). Names
    under `domain` it has no record for get NXDOMAIN; nothing is forwarded
    anywhere (--no-resolv). Queries are logged to `log_path` (queries())."""

    def __init__(self, records, domain="topology.test"):
        self.records = records
        self.domain = domain
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-dns-")
        self.log_path = os.path.join(self.dir, "dnsmasq.log")
        self.proc = None

    def start(self):
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        args = [exe, "--keep-in-foreground", "--port=%d" % self.port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--pid-file=", "--user=%s" % pwd.getpwuid(os.getuid())[0],
                "--local=/%s/" % self.domain, "--log-queries", "--log-facility=" + self.log_path]
        for name, texts in self.records.items():
            for text in texts:
                args.append("--txt-record=%s,%s" % (name, text))  # no shell: no quotes
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        wait_until(lambda: "started" in self.log() or self.proc.poll() is not None,
                   what="dnsmasq to start")
        if self.proc.poll() is not None:
            raise RuntimeError("dnsmasq did not start: %s" % self.proc.stderr.read())
        return self

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path) as f:
            return f.read()

    def queries(self, name):
        """How many times `name` was asked for its TXT record."""
        return sum(1 for line in self.log().splitlines() if "query[TXT] %s from" % name in line)

    def stop(self):
        stop_process(self.proc)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SilentUdpServer:
    """A loopback UDP port that takes queries and never answers: a DNS server
    that is down or too slow."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def _read_resp(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise RuntimeError("bad RESP reply %r" % line)


def wait_until(predicate, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


# --- additions for the integration suites ------------------------------------

def loopback(rack, host):
    """127.0.<rack>.<host>: a distinct source address; under the default /24 rule
    every <rack> is its own rack."""
    return "127.0.%d.%d" % (rack, host)


def new_torrent(name="payload", size=40000):
    """A fresh torrent with random content: (bytes, info_hash bytes)."""
    return make_torrent(name, os.urandom(size))


def register_new(tracker, file_name=None, size=40000):
    """Registers a fresh random torrent; returns its info-hash (raw bytes).
    Raises AssertionError (with the reply) when the tracker refuses it."""
    file_name = file_name or "t-%s.torrent" % os.urandom(6).hex()
    data, info_hash = make_torrent(file_name[:-len(".torrent")], os.urandom(size))
    r = tracker.register(file_name, data)
    if r.status not in (200, 201):
        raise AssertionError("registering %s: HTTP %d %r" % (file_name, r.status, r.body))
    return info_hash


def multipart_form(field, filename, data, boundary=None):
    """A multipart/form-data body with one file part, as `curl -F field=@filename`
    sends it. Returns (body bytes, Content-Type header value)."""
    boundary = boundary or "------------------------" + os.urandom(8).hex()
    body = (b"--" + boundary.encode() + b"\r\n"
            b'Content-Disposition: form-data; name="' + field.encode() + b'"; filename="'
            + filename.encode() + b'"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n"
            + data + b"\r\n--" + boundary.encode() + b"--\r\n")
    return body, "multipart/form-data; boundary=" + boundary


def raw_connect(port, source="127.0.0.1", timeout=10):
    """A plain TCP connection to the tracker from `source`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


class RawResponse:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def bdecoded(self):
        return bdecode(self.body)


def read_raw_response(sock, buf=b""):
    """Reads one HTTP/1.1 response (Content-Length framed) from `sock`.
    Returns (RawResponse, bytes read past it). Raises OSError/ConnectionError
    when the connection closes before a whole response arrived."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a response header; got %r" % buf)
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside a response body")
        rest += chunk
    return RawResponse(status, headers, rest[:n]), rest[n:]


def wait_closed(sock, timeout):
    """True when the peer closes `sock` (EOF or reset) within `timeout` seconds;
    data that arrives meanwhile is discarded."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def scrape_query(*info_hashes):
    return "&".join("info_hash=" + urllib.parse.quote_from_bytes(h, safe="") for h in info_hashes)


def peers_of(reply):
    """The (ip, port) set of a decoded announce reply, compact or not."""
    peers = reply[b"peers"]
    if isinstance(peers, bytes):
        return compact_peers(peers)
    return {(p[b"ip"].decode(), p[b"port"]) for p in peers}


def write_atomically(path, text):
    """Replaces `path` in one rename, so a reader never sees half a file."""
    tmp = path + ".tmp-%s" % os.urandom(4).hex()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

"""Per-source bounds under attack (issue 10): each abuse runs from one loopback
address while a well-behaved client on other addresses keeps announcing, and
every one of its announces must succeed within GOOD_BOUND seconds.

- one address announcing thousands of ports joins a transfer as
  max_peers_per_address peers (default 64), the rest get a failure reason;
- a flood of HTTP announces and of UDP announces from one source gets failure
  reasons / error packets beyond its token bucket (the defaults: 50 a second,
  bursts of 500), while another source is served;
- one source opening many idle connections holds max_connections_per_source
  of them, and another source's announces are still served.

Loopback only; every loop is bounded.
"""
import os
import socket
import struct
import threading
import time
import unittest

from harness import (Tracker, announce_query, http_request, raw_connect, read_raw_response,
                     register_new)

# The stated bound for a good client's announce while an attack runs. Loose,
# because the test machine is shared (2 cores, builds beside us): what it
# catches is the before (closed connections, failure reasons, 10 s stalls),
# not milliseconds.
GOOD_BOUND = 2.0

ATTACKER = "127.0.9.9"


def metric(tracker, name_and_labels):
    """The value of one series on /metrics (0 when absent)."""
    body = http_request(tracker.port, "GET", "/metrics").body.decode()
    for line in body.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.split()[-1])
    return 0.0


class GoodClient:
    """Announces from its own addresses (127.0.2.<n>) in a thread until
    stopped, recording each announce's latency and any failure."""

    def __init__(self, tracker, info_hash, hosts=8):
        self.tracker, self.info_hash, self.hosts = tracker, info_hash, hosts
        self.latencies, self.failures = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        i = 0
        while not self._stop.is_set() and i < 2000:
            source = "127.0.2.%d" % (1 + i % self.hosts)
            start = time.monotonic()
            try:
                r = http_request(self.tracker.port, "GET",
                                 "/announce?" + announce_query(self.info_hash, port=6881),
                                 source=source, timeout=10)
                reply = r.bdecoded()
                if r.status != 200 or b"failure reason" in reply:
                    self.failures.append((source, r.status, reply))
            except OSError as e:
                self.failures.append((source, "error", repr(e)))
            self.latencies.append(time.monotonic() - start)
            i += 1
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        # Enough announces to judge by, even when the attack was quick.
        deadline = time.monotonic() + 20
        while len(self.latencies) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join(30)

    def check(self, test):
        test.assertGreaterEqual(len(self.latencies), 10, "the good client hardly ran")
        test.assertEqual(self.failures, [], "good announces failed during the attack")
        test.assertLess(max(self.latencies), GOOD_BOUND,
                        "a good announce took %.2f s during the attack" % max(self.latencies))


def udp_connect(port):
    """A UDP socket from ATTACKER to the tracker, and the connection id its
    BEP 15 connect got."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ATTACKER, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.send(struct.pack(">QII", 0x41727101980, 0, 1))
    _, _, cid = struct.unpack(">IIQ", s.recv(16))
    return s, cid


def keepalive_announces(port, source, queries):
    """Sends each query as an announce on one keep-alive connection; returns the
    decoded replies."""
    replies = []
    s = raw_connect(port, source=source)
    try:
        rest = b""
        for q in queries:
            s.sendall(("GET /announce?%s HTTP/1.1\r\nHost: t\r\n\r\n" % q).encode())
            r, rest = read_raw_response(s, rest)
            replies.append(r.bdecoded())
    finally:
        s.close()
    return replies


class PortsPerAddressTest(unittest.TestCase):
    """One address announcing 2,000 ports: 64 join (the default), the rest are
    refused; the transfer's counts stay what the real hosts make them."""

    def test_one_address_with_thousands_of_ports_is_capped(self):
        # The rate limit is off here so the peers cap alone is under test
        # (the flood below would otherwise be rate limited first).
        with Tracker(rate_limit_announces=0) as t:
            h = register_new(t)
            with GoodClient(t, h) as good:
                replies = []
                for base in range(10000, 12000, 500):
                    replies += keepalive_announces(
                        t.port, ATTACKER,
                        [announce_query(h, port=p, peer_id=b"-AT0001-%012d" % p)
                         for p in range(base, base + 500)])
            good.check(self)
            refused = [r for r in replies if b"failure reason" in r]
            self.assertEqual(len(refused), 2000 - 64)
            self.assertIn(b"max_peers_per_address", refused[0][b"failure reason"])
            # The attacker's joined ports keep announcing.
            again = keepalive_announces(t.port, ATTACKER, [announce_query(h, port=10005)])
            self.assertNotIn(b"failure reason", again[0])
            r = http_request(t.port, "GET", "/announce?" + announce_query(h, port=7000),
                             source="127.0.3.1").bdecoded()
            self.assertEqual(r[b"incomplete"], 64 + good.hosts + 1)
            self.assertEqual(metric(t, 'p2ptracker_peers_refused_total{limit="address"}'),
                             2000 - 64)


class AnnounceFloodTest(unittest.TestCase):
    """Default rate limits: one source flooding HTTP and UDP announces is cut to
    its bucket; other sources are served."""

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker().start()
        cls.h = register_new(cls.t)

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def test_http_flood_gets_failure_reasons(self):
        n = 3000
        with GoodClient(self.t, self.h) as good:
            start = time.monotonic()
            replies = []
            for base in range(0, n, 500):
                replies += keepalive_announces(
                    self.t.port, ATTACKER,
                    [announce_query(self.h, port=20000) for _ in range(500)])
            elapsed = time.monotonic() - start
        good.check(self)
        ok = [r for r in replies if b"failure reason" not in r]
        limited = [r for r in replies if b"too many announces" in r.get(b"failure reason", b"")]
        self.assertEqual(len(ok) + len(limited), n)
        # A burst of 500, then 50 a second; each keep-alive connection stays on
        # one of the 2 workers, whose buckets are their own.
        self.assertLessEqual(len(ok), 2 * (500 + 50 * elapsed) + 1)
        self.assertGreaterEqual(len(limited), 1)
        self.assertEqual(
            metric(self.t, 'p2ptracker_rate_limited_total{protocol="http",request="announce"}'),
            len(limited))

    def test_udp_flood_gets_error_packets(self):
        def udp_client(source):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((source, 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", self.t.port))
            s.send(struct.pack(">QII", 0x41727101980, 0, 1))
            action, tid, cid = struct.unpack(">IIQ", s.recv(16))
            self.assertEqual(action, 0)
            return s, cid

        def announce_packet(cid, tid, port):
            return (struct.pack(">QII", cid, 1, tid) + self.h + b"-UD0001-%012d" % port +
                    struct.pack(">QQQIIIiH", 0, 1000, 0, 0, 0, 0, -1, port))

        flood, cid = udp_client(ATTACKER)
        good, good_cid = udp_client("127.0.4.1")
        n, ok, limited = 2000, 0, 0
        start = time.monotonic()
        # Lock-step (send, wait for the answer) so no reply is lost to a full
        # socket buffer and every request is accounted for.
        for i in range(n):
            flood.send(announce_packet(cid, i, 30000))
            reply = flood.recv(2048)
            action, tid = struct.unpack(">II", reply[:8])
            self.assertEqual(tid, i)
            if action == 1:
                ok += 1
            else:
                self.assertEqual(action, 3)
                self.assertIn(b"too many announces", reply[8:])
                limited += 1
            if i % 100 == 0:
                t0 = time.monotonic()
                good.send(announce_packet(good_cid, 10**6 + i, 30001))
                action, _ = struct.unpack(">II", good.recv(2048)[:8])
                self.assertEqual(action, 1, "a good UDP announce was refused")
                self.assertLess(time.monotonic() - t0, GOOD_BOUND)
        elapsed = time.monotonic() - start
        flood.close()
        good.close()
        self.assertLessEqual(ok, 500 + 50 * elapsed + 1)
        self.assertEqual(ok + limited, n)
        self.assertGreater(limited, 0)
        self.assertEqual(
            metric(self.t, 'p2ptracker_rate_limited_total{protocol="udp",request="announce"}'),
            limited)


class UdpScrapeBurstTest(unittest.TestCase):
    """The remote heap overflow of issue 10 (1): after one connect, a burst of
    UDP scrapes of 74 info-hashes each, the largest a packet holds, whose
    replies did not fit a reply slot. Every reply must now be a whole scrape
    reply (8 + 12 x 74 bytes, the registered transfer's counts in its place)
    or, past the scrape token bucket, an error packet, while a good client's
    HTTP announces are served; the tracker stays up (and under the ASan build
    of `make test` reports nothing)."""

    def test_burst_of_full_udp_scrapes(self):
        with Tracker() as t:
            h = register_new(t)
            http_request(t.port, "GET", "/announce?" + announce_query(h, left=0),
                         source="127.0.3.1")
            hashes = [h] + [os.urandom(20) for _ in range(73)]
            s, cid = udp_connect(t.port)
            whole = errors = 0
            with GoodClient(t, h) as good:
                for i in range(1500):
                    s.send(struct.pack(">QII", cid, 2, i) + b"".join(hashes))
                    reply = s.recv(4096)
                    action, tid = struct.unpack(">II", reply[:8])
                    self.assertEqual(tid, i)
                    if action == 2:
                        self.assertEqual(len(reply), 8 + 12 * 74)
                        # The registered transfer: its one seeder, and the
                        # good client's leechers as they join.
                        seeders, completed, leechers = struct.unpack(">III", reply[8:20])
                        self.assertEqual((seeders, completed), (1, 0))
                        self.assertLessEqual(leechers, 8)
                        self.assertEqual(reply[20:], bytes(12 * 73))
                        whole += 1
                    else:
                        self.assertEqual(action, 3)
                        self.assertIn(b"too many scrapes", reply[8:])
                        errors += 1
            good.check(self)
            s.close()
            self.assertGreaterEqual(whole, 100)  # the burst (rate_limit_scrape_burst)
            self.assertGreater(errors, 0)
            self.assertTrue(t.get("/health").status == 200)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class SharedFullScrapeTest(unittest.TestCase):
    """An open tracker with 20,000 transfers answers a full scrape with about
    1 MB. 100 connections that ask for one each and never read the reply held
    100 copies (each built on a worker, 50-470 ms at 50,000 transfers); now
    they share one reply, built at most once per 5 s."""

    def test_full_scrapes_left_unread_share_one_reply(self):
        with Tracker(open=True, rate_limit_announces=0, rate_limit_scrapes=0) as t:
            s, cid = udp_connect(t.port)
            transfers = 20000
            for i in range(transfers):
                s.send(struct.pack(">QII20s20sQQQIIIiH", cid, 1, i, struct.pack(">I", i) * 5,
                                   b"-PT0001-abcdefghijkl", 0, 1000, 0, 0, 0, 0, -1, 6881))
                if i % 100 == 99:  # let the replies drain: none may be dropped
                    for _ in range(100):
                        s.recv(4096)
            s.close()
            first = http_request(t.port, "GET", "/scrape", source="127.0.3.1")
            self.assertEqual(first.status, 200)
            self.assertEqual(len(first.bdecoded()[b"files"]), transfers)
            reply_bytes = len(first.body)
            before = rss_kib(t.proc.pid)
            held = []
            for i in range(100):
                c = raw_connect(t.port, source="127.0.4.%d" % (1 + i % 50))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c.sendall(b"GET /scrape HTTP/1.1\r\nHost: t\r\n\r\n")
                held.append(c)
            deadline = time.monotonic() + 10
            while (metric(t, 'p2ptracker_scrapes_total{protocol="http",result="ok"}') < 101
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            grown = rss_kib(t.proc.pid) - before
            for c in held:
                c.close()
            # 100 copies would be about 100 x reply_bytes; one shared is one.
            self.assertLess(grown * 1024, 20 * reply_bytes,
                            "RSS grew by %d KiB for 100 unread %d-byte full scrapes"
                            % (grown, reply_bytes))
            self.assertEqual(t.get("/health").status, 200)


class UnreadStatsPagesTest(unittest.TestCase):
    """A transfer's stats page with racks and peers is megabytes at fleet
    size, built per request. Clients that ask for it and never read it held
    what the kernel's send buffer (about 4 MB on loopback) did not take,
    until request_timeout (150 connections, 800 MB); past
    max_reply_bytes_in_flight the next get 503 instead."""

    def test_unread_stats_pages_are_bounded(self):
        bound = 12 << 20
        # request_timeout cuts a held write off and frees its bytes: longer than
        # the test, so every page asked for is held till the end (a page is
        # built per request, seconds under ASan).
        # Under AddressSanitizer (make test-asan sets ASAN_OPTIONS) a freed
        # buffer would stay resident in its quarantine (256 MB by default, 315
        # MB of RSS in one run), and RSS would tell nothing: none for this run.
        env = {}
        if "ASAN_OPTIONS" in os.environ:
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=0"
        with Tracker(max_peers_per_address=0, rate_limit_announces=0, request_timeout=600,
                     max_reply_bytes_in_flight=bound, env=env) as t:
            h = register_new(t)
            s, cid = udp_connect(t.port)
            peers = 30000
            for i in range(peers):
                s.send(struct.pack(">QII20s20sQQQIIIiH", cid, 1, i, h,
                                   b"-PT0001-" + b"%012d" % i, 0, 1000, 0, 2, 0, 0, -1,
                                   10000 + i))
                if i % 100 == 99:
                    for _ in range(100):
                        s.recv(4096)
            s.close()
            path = "/api/v1/transfers/%s?racks=1&peers=1" % h.hex()
            page = t.get(path)
            self.assertEqual(page.status, 200)
            page_bytes = len(page.body)
            self.assertGreater(page_bytes, 6 << 20)  # more than a send buffer takes
            before = rss_kib(t.proc.pid)
            held, statuses = [], []
            for i in range(20):
                c = raw_connect(t.port, source="127.0.4.%d" % (1 + i % 20))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
                statuses.append(c.recv(12))
                held.append(c)
            grown = rss_kib(t.proc.pid) - before
            refused = metric(t, "p2ptracker_http_replies_refused_total")
            for c in held:
                c.close()
            served = statuses.count(b"HTTP/1.1 200")
            self.assertEqual(served + statuses.count(b"HTTP/1.1 503"), 20, statuses)
            self.assertLessEqual(served * page_bytes, bound + 4 * page_bytes)
            self.assertEqual(refused, 20 - served)
            self.assertLess(grown * 1024, 3 * bound,
                            "RSS grew by %d KiB for 20 unread %d-byte pages"
                            % (grown, page_bytes))
            self.assertEqual(t.get(path).status, 200)


class ConnectionsPerSourceTest(unittest.TestCase):
    """One source opening 400 idle connections against max_connections = 300:
    it holds max_connections_per_source (100 here) and another source's
    announces are served. Without the cap the attacker holds all 300 and every
    other connection is closed at once until request_timeout frees them."""

    def test_one_source_holding_connections_does_not_starve_another(self):
        with Tracker(max_connections=300, max_connections_per_source=100,
                     request_timeout=60) as t:
            h = register_new(t)
            held = []
            try:
                for _ in range(400):
                    held.append(raw_connect(t.port, source=ATTACKER))
                with GoodClient(t, h) as good:
                    time.sleep(1.0)
                good.check(self)
                # The attacker's 300 extra connections were closed at once.
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    rejected = metric(t, "p2ptracker_http_source_connections_rejected_total")
                    if rejected >= 300:
                        break
                    time.sleep(0.1)
                self.assertEqual(rejected, 300)
                self.assertEqual(metric(t, "p2ptracker_http_connections_rejected_total"), 0)
            finally:
                for s in held:
                    s.close()


if __name__ == "__main__":
    unittest.main()

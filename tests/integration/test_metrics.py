"""GET /metrics against the real binary: exact counter values after a scripted
scenario, the swarm gauges, the bounded labels, and the text checked by a real
Prometheus parser (`promtool check metrics`, from Debian's prometheus package;
`make test` installs it through scripts/install-deps.sh --test)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (RedisServer, Tracker, bdecode, http_request, loopback, raw_connect, read_raw_response, register_new,
                     scrape_query, new_torrent, wait_until)

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

# The latency buckets the tracker promises (docs/metrics.md): 50 us to 1 s.
LATENCY_BOUNDS = ["0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                  "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"]


def parse(text):
    """The exposition text as {(name, frozenset(labels)): float}, plus the
    TYPE of each family. Raises AssertionError on a line it cannot read."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("unreadable sample line %r" % line)
        name, labels, value = m.groups()
        key = (name, frozenset(LABEL.findall(labels or "")))
        if key in samples:
            raise AssertionError("duplicate series %r" % line)
        samples[key] = float(value)
    return samples, types


def promtool_check(test, text):
    """Fails `test` unless Prometheus's own parser and linter accept `text`."""
    if not os.path.exists(PROMTOOL):
        test.fail("promtool not found: install Debian's prometheus package "
                  "(scripts/install-deps.sh --test, which `make test` runs)")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    test.assertEqual(p.returncode, 0, "promtool check metrics:\n%s%s\n--- text ---\n%s"
                     % (p.stdout, p.stderr, text))


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples, self.types = parse(text)

    def get(self, name, **labels):
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            raise AssertionError("no series %s%r in:\n%s" % (name, labels, self.text))
        return self.samples[key]

    def series(self, name):
        """{frozenset(labels): value} of one family."""
        return {labels: v for (n, labels), v in self.samples.items() if n == name}


class MetricsTest(unittest.TestCase):
    def setUp(self):
        # A real Redis, so the store's write counters have writes to count (the
        # default store = "memory" mirrors nothing).
        self.redis = RedisServer().start()
        self.addCleanup(self.redis.stop)
        self.t = Tracker(store="redis", redishost="127.0.0.1", redisport=self.redis.port).start()
        self.addCleanup(self.t.cleanup)
        self.requests = 0  # HTTP requests this test made, to check the server's count

    def get(self, target, **kw):
        self.requests += 1
        return self.t.get(target, **kw)

    def announce(self, h, rack, host, **params):
        self.requests += 1
        r = self.t.announce(h, source=loopback(rack, host), **params)
        self.assertEqual(r.status, 200)
        return r.bdecoded()

    def metrics(self):
        r = self.get("/metrics")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                        r.headers)
        return Metrics(r.body.decode())

    def test_scenario_counts_exactly_and_parses(self):
        t = self.t
        h = register_new(t, size=40000)
        self.requests += 1
        _, unknown = new_torrent()

        # Rack 127.0.1.0/24: an origin seeder and a starting leecher.
        self.assertNotIn(b"failure reason", self.announce(h, 1, 1, left=0))
        self.announce(h, 1, 2, left=40000, event="started")
        # Rack 127.0.2.0/24: one half done, one that finishes.
        self.announce(h, 2, 1, left=20000, event="started")
        self.announce(h, 2, 2, left=40000, event="started")
        self.announce(h, 2, 2, left=0, event="completed")
        # An unknown transfer: answered, inactive.
        reply = self.announce(unknown, 3, 1)
        self.assertIn(b"warning message", reply)
        # Malformed: no info_hash; port 0; an unknown event.
        for target in ["/announce?peer_id=x&port=1",
                       "/announce?" + "&".join(["info_hash=" + "%41" * 20, "peer_id=" + "B" * 20,
                                                "port=0", "uploaded=0", "downloaded=0", "left=0"]),
                       "/announce?" + "&".join(["info_hash=" + "%41" * 20, "peer_id=" + "B" * 20,
                                                "port=1", "uploaded=0", "downloaded=0", "left=0",
                                                "event=bogus"])]:
            r = self.get(target, source=loopback(4, 1))
            self.assertIn(b"failure reason", bdecode(r.body), target)
        # Scrapes: one hash, a full scrape, a malformed one.
        self.assertEqual(self.get("/scrape?" + scrape_query(h)).status, 200)
        self.assertEqual(self.get("/scrape").status, 200)
        self.assertIn(b"failure reason", bdecode(self.get("/scrape?info_hash=short").body))
        # Garbage that is not HTTP: refused by the server before any handler.
        s = raw_connect(t.port)
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        resp, _ = read_raw_response(s)
        s.close()
        self.assertEqual(resp.status, 400)

        # The store writes behind: registration, 5 peer records, 1 unknown seen.
        wait_until(lambda: self.metrics().get("p2ptracker_store_writes_total") == 7,
                   what="7 store writes")
        # Earlier connections are closed once the server has read their EOF;
        # the scrape that sees none open but its own is the one checked (the
        # one after it may find the one before still closing).
        scraped = {}

        def settled():
            scraped["m"] = self.metrics()
            return scraped["m"].get("p2ptracker_http_connections_open") == 1

        wait_until(settled, what="only the scrape's own connection open")
        m = scraped["m"]

        http = dict(protocol="http")
        self.assertEqual(m.get("p2ptracker_announces_total", result="ok", **http), 5)
        self.assertEqual(m.get("p2ptracker_announces_total", result="inactive", **http), 1)
        self.assertEqual(m.get("p2ptracker_announces_total", result="failure", **http), 3)
        for result in ("ok", "inactive", "failure"):
            self.assertEqual(m.get("p2ptracker_announces_total", protocol="udp", result=result), 0)
        expected_reasons = {"info_hash": 1, "peer_id": 0, "port": 1, "counters": 0, "event": 1,
                            "other": 0}
        for reason, n in expected_reasons.items():
            self.assertEqual(m.get("p2ptracker_announce_failures_total", reason=reason, **http), n,
                             reason)
            self.assertEqual(
                m.get("p2ptracker_announce_failures_total", protocol="udp", reason=reason), 0)
        self.assertEqual(len(m.series("p2ptracker_announce_failures_total")), 12)
        self.assertEqual(m.get("p2ptracker_scrapes_total", result="ok", **http), 2)
        self.assertEqual(m.get("p2ptracker_scrapes_total", result="failure", **http), 1)

        # Every request so far, this one included (counted when dispatched);
        # one new connection each, plus the garbage one.
        self.assertEqual(m.get("p2ptracker_http_requests_total"), self.requests)
        self.assertEqual(m.get("p2ptracker_http_connections_accepted_total"), self.requests + 1)
        self.assertEqual(m.get("p2ptracker_http_connections_rejected_total"), 0)
        self.assertEqual(m.get("p2ptracker_http_bad_requests_total"), 1)
        self.assertEqual(m.get("p2ptracker_http_connections_open"), 1)

        # Rack lookups: one per announce that reached the swarm; the subnet
        # rule has no map to fall back from.
        self.assertEqual(m.get("p2ptracker_topology_lookups_total"), 6)
        self.assertEqual(m.get("p2ptracker_topology_fallbacks_total"), 0)

        self.assertEqual(m.get("p2ptracker_transfers_active"), 1)
        self.assertEqual(m.get("p2ptracker_peers"), 4)
        self.assertEqual(m.get("p2ptracker_seeders"), 2)
        self.assertEqual(m.get("p2ptracker_leechers"), 2)
        self.assertEqual(m.get("p2ptracker_representatives"), 4)  # 2 per rack
        # (1 + 0 + 0.5 + 1) / 4 peers
        self.assertAlmostEqual(m.get("p2ptracker_transfer_progress_ratio", info_hash=h.hex()),
                               0.625)
        self.assertEqual(len(m.series("p2ptracker_transfer_progress_ratio")), 1)
        # The origin seeder is a source, not a completion.
        self.assertEqual(m.series("p2ptracker_rack_completed_hosts"),
                         {frozenset({("rack", "127.0.1.0/24")}): 0,
                          frozenset({("rack", "127.0.2.0/24")}): 1})

        self.assertEqual(m.get("p2ptracker_store_writes_total"), 7)
        self.assertEqual(m.get("p2ptracker_store_dropped_total"), 0)
        self.assertEqual(m.get("p2ptracker_store_errors_total"), 0)
        self.assertEqual(m.get("p2ptracker_store_connected"), 1)

        expected_types = {
            "p2ptracker_announces_total": "counter", "p2ptracker_scrapes_total": "counter",
            "p2ptracker_http_response_seconds": "histogram", "p2ptracker_peers": "gauge",
            "p2ptracker_transfer_progress_ratio": "gauge",
            "p2ptracker_rack_completed_hosts": "gauge", "p2ptracker_store_errors_total": "counter",
        }
        for name, kind in expected_types.items():
            self.assertEqual(m.types.get(name), kind, name)

        self.check_latency_histogram()
        promtool_check(self, m.text)

    def check_latency_histogram(self):
        # Each response is observed once written; the scrape's own is not yet.
        def settled():
            m = self.metrics()
            count = m.get("p2ptracker_http_response_seconds_count")
            return m if count == m.get("p2ptracker_http_requests_total") - 1 else None

        m = wait_until(settled, what="every earlier response in the latency histogram")
        buckets = m.series("p2ptracker_http_response_seconds_bucket")
        les = sorted((dict(labels)["le"] for labels in buckets),
                     key=lambda le: float("inf") if le == "+Inf" else float(le))
        self.assertEqual(les, LATENCY_BOUNDS)
        values = [buckets[frozenset({("le", le)})] for le in les]
        self.assertEqual(values, sorted(values), "buckets must be cumulative")
        count = m.get("p2ptracker_http_response_seconds_count")
        self.assertEqual(values[-1], count)
        self.assertGreater(count, 10)
        self.assertGreater(m.get("p2ptracker_http_response_seconds_sum"), 0)
        # Loopback answers well under a second.
        self.assertEqual(buckets[frozenset({("le", "1")})], count)

    def test_empty_tracker_parses_and_methods(self):
        m = self.metrics()
        promtool_check(self, m.text)
        self.assertEqual(m.get("p2ptracker_peers"), 0)
        self.assertEqual(m.series("p2ptracker_transfer_progress_ratio"), {})
        head = http_request(self.t.port, "HEAD", "/metrics")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(http_request(self.t.port, "POST", "/metrics").status, 405)


class StaticTopologyMetricsTest(unittest.TestCase):
    """topology = static: lookups the map answers are named racks; the others
    fall back to the subnet rule and are counted as fallbacks."""

    def test_fallbacks_and_named_racks(self):
        d = tempfile.mkdtemp(prefix="p2ptracker-metrics-map-")
        self.addCleanup(shutil.rmtree, d, True)
        map_file = os.path.join(d, "racks.map")
        with open(map_file, "w") as f:
            f.write("127.0.5.0/24 dc1/rack-a\n")
        t = Tracker(topology="static", topology_file=map_file).start()
        self.addCleanup(t.cleanup)
        h = register_new(t)
        for source, left in [(loopback(5, 1), 100), (loopback(5, 2), 0), (loopback(6, 1), 100)]:
            r = t.announce(h, source=source, left=left)
            self.assertNotIn(b"failure reason", r.bdecoded())
        t.announce(h, source=loopback(5, 1), left=0, event="completed")
        m = Metrics(t.get("/metrics").body.decode())
        self.assertEqual(m.get("p2ptracker_topology_lookups_total"), 4)
        self.assertEqual(m.get("p2ptracker_topology_fallbacks_total"), 1)
        self.assertEqual(m.series("p2ptracker_rack_completed_hosts"),
                         {frozenset({("rack", "dc1/rack-a")}): 1,
                          frozenset({("rack", "127.0.6.0/24")}): 0})
        promtool_check(self, m.text)


if __name__ == "__main__":
    unittest.main()

"""The throughput and memory benchmark (`make bench`, bench/run.py) starts the tracker with
settings of its own (opentracker's 45-minute peer timeout, the per-source bounds off). A setting
the tracker refuses stops the benchmark before it measures anything, and nothing else in
`make test` runs them: this starts the server exactly as bench/run.py does, announces to it and
checks that its bounds on one source are off."""
import importlib.util
import os
import shutil
import tempfile
import unittest
import urllib.parse
import urllib.request

from harness import BINARY, ROOT, bdecode


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(ROOT, "bench", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BenchServerTest(unittest.TestCase):

    def setUp(self):
        self.bench = load_bench()
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-bench-server-")
        torrent, self.info_hash = self.bench.make_torrent("bench-0", "http://127.0.0.1/announce")
        # Not pinned: the test shares the machine with other tests.
        self.server = self.bench.P2PTracker(self.dir, False, BINARY, [("bench-0.torrent", torrent)])

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def announce(self, port):
        q = urllib.parse.urlencode({"info_hash": self.info_hash, "peer_id": b"-BT0001-bench0000000",
                                    "port": port, "uploaded": 0, "downloaded": 0, "left": 100,
                                    "compact": 1, "numwant": 50})
        with urllib.request.urlopen("http://127.0.0.1:%d/announce?%s" % (self.server.port, q),
                                    timeout=10) as r:
            return bdecode(r.read())

    def test_the_benchmarks_server_starts_and_keeps_its_settings(self):
        self.server.start(timeout=60)
        self.assertIsNotNone(self.server.port)
        # 300 peers from one address: max_peers_per_address and the announce rate limit are off,
        # as the benchmark needs (its whole load comes from 127.0.0.1).
        for port in range(20000, 20300):
            reply = self.announce(port)
            self.assertNotIn(b"failure reason", reply)
        self.assertEqual(reply[b"incomplete"], 300)
        log = self.server.log_text()
        self.assertIn("listening on 127.0.0.1:%d" % self.server.port, log)
        self.server.check_alive()


if __name__ == "__main__":
    unittest.main()

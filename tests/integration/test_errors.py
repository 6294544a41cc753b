"""Malformed announces, HTTP limits and connection handling of the real binary."""
import json
import os
import random
import signal
import time
import unittest
import urllib.parse

from harness import (Tracker, http_request, announce_query, bdecode, loopback, make_torrent,
                     register_new, raw_connect, read_raw_response, wait_closed, peers_of, wait_until)

Q = urllib.parse.quote_from_bytes
HASH = bytes(range(20))
PEER = b"-XX0001-abcdefghijkl"


def query(**overrides):
    """An announce query with every required parameter, `overrides` replacing
    (None: leaving out) some of them."""
    params = {"info_hash": HASH, "peer_id": PEER, "port": "6881", "uploaded": "0",
              "downloaded": "0", "left": "100", "compact": "1"}
    params.update(overrides)
    return "&".join("%s=%s" % (k, Q(v if isinstance(v, bytes) else v.encode(), safe=""))
                    for k, v in params.items() if v is not None)


class MalformedAnnounceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker().start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def failure(self, q):
        r = self.t.get("/announce?" + q)
        self.assertEqual(r.status, 200, r.body)
        reply = bdecode(r.body)
        self.assertIn(b"failure reason", reply, reply)
        self.assertNotIn(b"peers", reply)
        return reply[b"failure reason"].decode()

    def test_valid_query_is_accepted(self):
        # The baseline the failures below deviate from.
        r = self.t.get("/announce?" + query())
        self.assertNotIn(b"failure reason", bdecode(r.body))

    def test_extra_and_odd_parameters_are_tolerated(self):
        # What real clients add (Transmission, uTorrent, rtorrent), empty pairs,
        # a flag without '=', and a repeated parameter (the last one counts).
        q = ("&&" + query(port="1234") + "&supportcrypto=1&requirecrypto=0&corrupt=0"
             "&redundant=0&trackerid=&flag&port=6881&")
        r = self.t.get("/announce?" + q)
        self.assertEqual(r.status, 200)
        reply = bdecode(r.body)
        self.assertNotIn(b"failure reason", reply, reply)
        self.assertIn(b"interval", reply)

    def test_missing_info_hash(self):
        self.assertIn("info_hash", self.failure(query(info_hash=None)))

    def test_wrong_length_info_hash(self):
        reason = self.failure(query(info_hash=HASH[:19]))
        self.assertIn("info_hash", reason)
        self.assertIn("20", reason)
        self.assertIn("info_hash", self.failure(query(info_hash=HASH + b"x")))

    def test_missing_peer_id(self):
        self.assertIn("peer_id", self.failure(query(peer_id=None)))

    def test_wrong_length_peer_id(self):
        self.assertIn("peer_id", self.failure(query(peer_id=b"short")))

    def test_bad_ports(self):
        for port in ("0", "70000", "abc", "-1", ""):
            self.assertIn("port", self.failure(query(port=port)), "port=%r" % port)
        self.assertIn("port", self.failure(query(port=None)))

    def test_non_numeric_counters(self):
        for name in ("uploaded", "downloaded", "left"):
            for bad in ("abc", "-5", "1.5"):
                self.assertIn(name, self.failure(query(**{name: bad})), "%s=%s" % (name, bad))

    def test_unknown_event(self):
        reason = self.failure(query(event="bogus"))
        self.assertIn("event", reason)
        self.assertIn("bogus", reason)

    def test_post_is_refused(self):
        r = http_request(self.t.port, "POST", "/announce?" + query())
        self.assertEqual(r.status, 405)
        self.assertIn(b"failure reason", bdecode(r.body))

    def test_unknown_path_is_404_json(self):
        r = self.t.get("/no/such/thing")
        self.assertEqual(r.status, 404)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"),
                        r.headers)
        self.assertIn("error", r.json())


class ConnectionTest(unittest.TestCase):
    """Limits: max_request_bytes=2048, request_timeout=1."""

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(max_request_bytes=2048, request_timeout=1).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def assert_serving(self):
        h = register_new(self.t)
        r = self.t.announce(h, source=loopback(50, 1))
        self.assertEqual(r.status, 200)
        self.assertEqual(bdecode(r.body)[b"interval"], 45)

    def test_oversized_request_line(self):
        s = raw_connect(self.t.port)
        try:
            target = "/announce?" + query() + "&pad=" + "x" * 4096
            s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % target).encode())
            resp, _ = read_raw_response(s)
            self.assertEqual(resp.status, 431)
            reason = bdecode(resp.body)[b"failure reason"].decode()
            self.assertIn("2048", reason)
            self.assertTrue(wait_closed(s, 5), "connection left open after an oversized request")
        finally:
            s.close()
        self.assert_serving()

    def test_oversized_headers(self):
        s = raw_connect(self.t.port)
        try:
            s.sendall(("GET /announce?%s HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\n\r\n"
                       % (query(), "y" * 4096)).encode())
            resp, _ = read_raw_response(s)
            self.assertEqual(resp.status, 431)
            self.assertIn(b"failure reason", bdecode(resp.body))
            self.assertTrue(wait_closed(s, 5))
        finally:
            s.close()

    def test_slow_request_is_cut_off(self):
        s = raw_connect(self.t.port, source=loopback(51, 1))
        try:
            s.sendall(b"GET /announce?info_hash=")
            # The server keeps serving others while this one dawdles.
            self.assert_serving()
            self.assertTrue(wait_closed(s, 5), "slow client not cut off within 5 s")
        finally:
            s.close()
        self.assert_serving()

    def test_idle_connection_is_cut_off(self):
        s = raw_connect(self.t.port)
        try:
            self.assertTrue(wait_closed(s, 5), "silent connection not closed within 5 s")
        finally:
            s.close()

    def test_keep_alive_two_requests_one_connection(self):
        h = register_new(self.t)
        s = raw_connect(self.t.port, source=loopback(52, 1))
        try:
            replies = []
            for port in (7001, 7002):
                q = announce_query(h, port=port)
                s.sendall(("GET /announce?%s HTTP/1.1\r\nHost: t\r\n\r\n" % q).encode())
                resp, rest = read_raw_response(s)
                self.assertEqual(rest, b"")
                self.assertEqual(resp.status, 200)
                self.assertNotEqual((resp.header("connection") or "").lower(), "close")
                replies.append(resp.bdecoded())
            # Both were served: the second saw the first.
            self.assertEqual(peers_of(replies[1]), {("127.0.52.1", 7001)})
        finally:
            s.close()

    def test_pipelined_requests(self):
        h = register_new(self.t)
        s = raw_connect(self.t.port, source=loopback(53, 1))
        try:
            data = b"".join(("GET /announce?%s HTTP/1.1\r\nHost: t\r\n\r\n"
                             % announce_query(h, port=p)).encode() for p in (7001, 7002, 7003))
            s.sendall(data)
            buf = b""
            statuses = []
            for _ in range(3):
                resp, buf = read_raw_response(s, buf)
                statuses.append(resp.status)
            self.assertEqual(statuses, [200, 200, 200])
            self.assertEqual(resp.bdecoded()[b"incomplete"], 3)
        finally:
            s.close()

    def test_connection_close_is_honoured(self):
        s = raw_connect(self.t.port)
        try:
            s.sendall(("GET /announce?%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                       % query()).encode())
            resp, _ = read_raw_response(s)
            self.assertEqual(resp.status, 200)
            self.assertEqual((resp.header("connection") or "").lower(), "close")
            self.assertTrue(wait_closed(s, 5))
        finally:
            s.close()

    def test_http_1_0_closes_unless_asked(self):
        s = raw_connect(self.t.port)
        try:
            s.sendall(("GET /announce?%s HTTP/1.0\r\n\r\n" % query()).encode())
            resp, _ = read_raw_response(s)
            self.assertEqual(resp.status, 200)
            self.assertTrue(wait_closed(s, 5), "HTTP/1.0 connection kept open")
        finally:
            s.close()
        s = raw_connect(self.t.port)
        try:
            for _ in range(2):
                s.sendall(("GET /announce?%s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                           % query()).encode())
                resp, _ = read_raw_response(s)
                self.assertEqual(resp.status, 200)
        finally:
            s.close()

    def test_garbage_gets_400_and_server_survives(self):
        noise = random.Random(2).randbytes(512)
        for garbage in (b"\x00\x01\x02garbage\xff\r\n\r\n", b"HELLO THERE\r\n\r\n",
                        b"GET /announce HTTP/1.1\r\nBad Header\r\n\r\n", noise + b"\r\n\r\n"):
            s = raw_connect(self.t.port)
            try:
                s.sendall(garbage)
                resp, _ = read_raw_response(s)
                self.assertEqual(resp.status, 400, garbage)
                self.assertIn(b"failure reason", bdecode(resp.body))
            finally:
                s.close()
        self.assert_serving()


class KeepAliveTimeoutTest(unittest.TestCase):
    def test_idle_kept_alive_connection_is_closed(self):
        with Tracker(keepalive_timeout=1) as t:
            s = raw_connect(t.port)
            try:
                s.sendall(("GET /announce?%s HTTP/1.1\r\nHost: t\r\n\r\n" % query()).encode())
                resp, _ = read_raw_response(s)
                self.assertEqual(resp.status, 200)
                self.assertTrue(wait_closed(s, 5), "idle keep-alive connection not closed")
            finally:
                s.close()


class MaxConnectionsTest(unittest.TestCase):
    def test_connections_over_the_limit_are_closed(self):
        with Tracker(max_connections=4, request_timeout=30) as t:
            conns = [raw_connect(t.port) for _ in range(5)]
            closed = set()
            try:
                # Which one the server turns away depends on accept order across
                # workers; exactly one of the five must go, the others stay.
                def one_closed():
                    for i, s in enumerate(conns):
                        if i not in closed and wait_closed(s, 0.05):
                            closed.add(i)
                    return len(closed) >= 1

                wait_until(one_closed, timeout=5, what="one connection over the limit closed")
                for i, s in enumerate(conns):
                    if i not in closed and wait_closed(s, 0.2):
                        closed.add(i)
                self.assertEqual(len(closed), 1, "closed: %s" % sorted(closed))
            finally:
                for s in conns:
                    s.close()

            # Freed slots serve again.
            def serves():
                try:
                    return t.get("/announce?" + query()).status == 200
                except OSError:
                    return False

            wait_until(serves, timeout=10, what="announces served after the idle ones left")


class ShutdownTest(unittest.TestCase):
    def test_sigterm_right_after_start_is_a_clean_stop(self):
        # Regression: signals used to be installed only after "listening on" was
        # logged, so an early SIGTERM killed the process (exit -15). A race: try
        # a few times.
        for _ in range(10):
            t = Tracker().start()
            try:
                self.assertEqual(t.stop(signal.SIGTERM, timeout=10), 0, t.output())
            finally:
                t.cleanup()

    def test_sigterm_with_open_connections_exits_cleanly(self):
        t = Tracker().start()
        try:
            idle = raw_connect(t.port)
            half = raw_connect(t.port)
            half.sendall(b"GET /announce?info_hash=")
            started = time.time()
            code = t.stop(signal.SIGTERM, timeout=10)
            self.assertEqual(code, 0, t.output())
            self.assertLess(time.time() - started, 5)
            wait_until(lambda: "stopped" in t.output(), timeout=5, what="'stopped' in the log")
            idle.close()
            half.close()
        finally:
            t.cleanup()


class NotUtf8Test(unittest.TestCase):
    """Bytes that are not UTF-8 reach the admin API's JSON from outside: a file
    name in the path, a .torrent's name. One such GET, open to anyone by
    default, stopped the tracker (nlohmann's dump() threw)."""

    def test_paths_that_are_not_utf8_get_a_json_error_and_the_tracker_stays(self):
        with Tracker() as t:
            for method, target in [("GET", "/api/v1/torrents/%ff%fe.torrent"),
                                   ("GET", "/torrents/%ff.torrent"),
                                   ("GET", "/api/v1/transfers/%ff.json"),
                                   ("GET", "/transfers/%ff%fe.json"),
                                   ("DELETE", "/torrents/%ff.torrent"),
                                   ("DELETE", "/api/v1/torrents/caf%e9.torrent"),
                                   ("POST", "/api/v1/torrents/%c3%28.torrent")]:
                r = http_request(t.port, method, target, body=b"d4:spam4:eggse" if method == "POST" else None,
                                 headers={"Content-Type": "application/x-bittorrent"}
                                 if method == "POST" else None)
                self.assertTrue(400 <= r.status < 500, (method, target, r.status, r.body))
                self.assertIn("error", json.loads(r.body), (method, target))
            self.assertEqual(t.get("/health").status, 200)
            self.assertIsNone(t.proc.poll(), "the tracker stopped")

    def test_a_torrent_named_in_latin1_is_listed_and_kept(self):
        with Tracker() as t:
            data, h = make_torrent(b"caf\xe9.bin", os.urandom(4000))
            self.assertEqual(t.register("cafe.torrent", data).status, 201)
            listed = t.get("/api/v1/torrents").json()
            self.assertIn("caf\ufffd.bin", json.dumps(listed, ensure_ascii=False))
            self.assertEqual(t.get("/transfers/").status, 200)
            self.assertEqual(http_request(t.port, "DELETE", "/api/v1/torrents/cafe.torrent").status, 200)
            history = t.get("/api/v1/history").json()
            self.assertEqual([d["name"] for d in history["deploys"]], ["caf\ufffd.bin"])
            self.assertIsNone(t.proc.poll(), "the tracker stopped")


if __name__ == "__main__":
    unittest.main()

"""Issue 10, item 5 (uploads): bodies were buffered before any handler looked
at them; 100 parallel 16 MiB uploads took 1.2 GB. Content-Length is checked
before the body is read (413), and at most max_uploads_in_flight bodies are
received or handled at once (more: 503 with Retry-After, before reading)."""
import socket
import threading
import time
import unittest

from harness import Tracker, read_raw_response, register_new
from limits_util import GoodClient, metric, status_kib

MIB = 1 << 20
# Peak resident memory of the tracker after 100 parallel 16 MiB uploads, with
# the default max_uploads_in_flight (4): about 4 bodies of 16 MiB, twice over
# at most, plus the process itself.
RSS_BOUND_MIB = 250
GOOD_BOUND = 1.0


def upload_head(port, length, source="127.0.0.1", extra=b""):
    """A connection that sent an upload's request line and headers only."""
    s = socket.socket()
    s.settimeout(30)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"POST /api/v1/torrents/big.torrent HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/x-bittorrent\r\nContent-Length: %d\r\n%s\r\n"
              % (length, extra))
    return s


def upload(port, body, results):
    """Sends a whole upload and records the status (0: the connection was cut)."""
    s = None
    try:
        s = upload_head(port, len(body))
        try:
            s.sendall(body)
        except OSError:
            pass  # refused before the body: the reply may still be readable
        r, _ = read_raw_response(s)
        results.append(r.status)
    except (OSError, ValueError, AssertionError):
        results.append(0)
    finally:
        if s is not None:
            s.close()


class UploadLimitsTest(unittest.TestCase):
    def test_issue10_content_length_over_the_limit_is_413_before_the_body(self):
        with Tracker(max_torrent_bytes=1 << 20) as t:
            s = upload_head(t.port, 1 << 30)
            start = time.monotonic()
            r, _ = read_raw_response(s)  # nothing of the body was sent
            self.assertEqual(r.status, 413)
            self.assertLess(time.monotonic() - start, GOOD_BOUND)
            s.close()

    def test_issue10_uploads_beyond_the_bound_get_503_before_their_body(self):
        with Tracker(max_uploads_in_flight=2, request_timeout=30) as t:
            # Two uploads that have sent half their body hold both slots.
            held = [upload_head(t.port, 2 * MIB) for _ in range(2)]
            for s in held:
                s.sendall(b"x" * MIB)
            time.sleep(0.3)
            s = upload_head(t.port, 2 * MIB)
            r, _ = read_raw_response(s)
            self.assertEqual(r.status, 503)
            self.assertEqual(r.header("Retry-After"), "1")
            s.close()
            for h in held:
                h.close()
            # The slots come back: an upload after them is read and parsed.
            time.sleep(0.3)
            s = upload_head(t.port, 10)
            s.sendall(b"0123456789")
            self.assertEqual(read_raw_response(s)[0].status, 400)  # not a torrent, but read
            s.close()
            text = t.get("/metrics").body.decode()
            self.assertEqual(metric(text, "p2ptracker_http_uploads_refused_total"), 1)

    def test_issue10_parallel_large_uploads_keep_memory_bounded(self):
        body = b"x" * (16 * MIB - 64 * 1024)  # just under max_torrent_bytes' envelope
        with Tracker() as t:
            good = GoodClient(t.port, register_new(t))
            good.start()
            results = []
            threads = [threading.Thread(target=upload, args=(t.port, body, results))
                       for _ in range(100)]
            start = time.monotonic()
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            took = time.monotonic() - start
            good.stop()
            peak = status_kib(t.proc.pid, "VmHWM") / 1024
            self.assertEqual(len(results), 100)
            # Every upload was answered: read and refused as no torrent (400),
            # or refused before its body (503; or the connection cut while the
            # client was still sending).
            self.assertTrue(set(results) <= {400, 503, 0}, results)
            self.assertGreater(results.count(400), 0)
            self.assertLess(peak, RSS_BOUND_MIB)
            worst_announce, worst_metrics = good.worst()
            self.assertLess(worst_announce, GOOD_BOUND)
            self.assertLess(worst_metrics, GOOD_BOUND)
            print("\n100 parallel 16 MiB uploads in %.1f s: %d read (400), %d refused (503), %d "
                  "cut; tracker peak RSS %.0f MiB; worst good announce %.3f s, /metrics %.3f s"
                  % (took, results.count(400), results.count(503), results.count(0), peak,
                     worst_announce, worst_metrics))


if __name__ == "__main__":
    unittest.main()

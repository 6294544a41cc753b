"""Scrape (BEP 48) against the real binary."""
import unittest

from harness import (Tracker, http_request, bdecode, loopback, register_new, scrape_query,
                     new_torrent)


class ScrapeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker().start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, h, rack, host, **params):
        r = self.t.announce(h, source=loopback(rack, host), **params)
        self.assertEqual(r.status, 200)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply)
        return reply

    def scrape(self, *hashes, path="/scrape"):
        r = self.t.get(path + ("?" + scrape_query(*hashes) if hashes else ""))
        self.assertEqual(r.status, 200, r.body)
        reply = bdecode(r.body)
        self.assertNotIn(b"failure reason", reply, reply)
        self.assertIsInstance(reply[b"files"], dict)
        return reply[b"files"]

    def counts(self, files, h):
        self.assertIn(h, files, "raw 20-byte info_hash key missing")
        f = files[h]
        return (f[b"complete"], f[b"downloaded"], f[b"incomplete"])

    def test_scrape_one(self):
        h = register_new(self.t)
        self.announce(h, 70, 1, left=0)
        self.announce(h, 70, 2, left=10)
        self.announce(h, 71, 1, left=10)
        files = self.scrape(h)
        self.assertEqual(list(files), [h])
        self.assertEqual(self.counts(files, h), (1, 0, 2))

    def test_scrape_several(self):
        h1, h2, h3 = register_new(self.t), register_new(self.t), register_new(self.t)
        self.announce(h1, 72, 1)
        self.announce(h2, 72, 1, left=0)
        self.announce(h2, 72, 2, left=0)
        files = self.scrape(h1, h2)
        self.assertEqual(set(files), {h1, h2})
        self.assertEqual(self.counts(files, h1), (0, 0, 1))
        self.assertEqual(self.counts(files, h2), (2, 0, 0))
        # The same hash twice is one entry.
        files = self.scrape(h3, h3)
        self.assertEqual(list(files), [h3])
        self.assertEqual(self.counts(files, h3), (0, 0, 0))

    def test_downloaded_counts_completed_once_per_peer(self):
        h = register_new(self.t)
        self.announce(h, 73, 1, left=100, event="started")
        self.announce(h, 73, 2, left=100, event="started")
        self.assertEqual(self.counts(self.scrape(h), h), (0, 0, 2))
        self.announce(h, 73, 1, left=0, event="completed")
        self.assertEqual(self.counts(self.scrape(h), h), (1, 1, 1))
        self.announce(h, 73, 1, left=0, event="completed")  # a repeat does not count
        self.announce(h, 73, 1, left=0)
        self.assertEqual(self.counts(self.scrape(h), h), (1, 1, 1))
        self.announce(h, 73, 2, left=0, event="completed")
        self.assertEqual(self.counts(self.scrape(h), h), (2, 2, 0))
        # Leaving does not undo a download.
        self.announce(h, 73, 1, left=0, event="stopped")
        self.assertEqual(self.counts(self.scrape(h), h), (1, 2, 0))

    def test_unknown_hash_is_zeros(self):
        _, h = new_torrent()
        files = self.scrape(h)
        self.assertEqual(self.counts(files, h), (0, 0, 0))
        # Announces for it are not tracked (the tracker is not open).
        self.announce(h, 74, 1)
        self.assertEqual(self.counts(self.scrape(h), h), (0, 0, 0))

    def test_full_scrape_lists_active_transfers(self):
        h1, h2 = register_new(self.t), register_new(self.t)
        self.announce(h1, 75, 1, left=0)
        _, passive = new_torrent()
        self.announce(passive, 75, 2)
        files = self.scrape()
        self.assertIn(h1, files)
        self.assertIn(h2, files)  # registered, no peers yet
        self.assertNotIn(passive, files)
        self.assertEqual(self.counts(files, h1), (1, 0, 0))
        self.assertEqual(self.counts(files, h2), (0, 0, 0))
        for key in files:
            self.assertEqual(len(key), 20)

    def test_scrape_with_trailing_slash(self):
        h = register_new(self.t)
        self.announce(h, 76, 1)
        self.assertEqual(self.counts(self.scrape(h, path="/scrape/"), h), (0, 0, 1))

    def test_too_many_hashes_is_failure(self):
        # Mostly literal bytes keep 129 of them under max_request_bytes.
        hashes = [b"h" * 18 + i.to_bytes(2, "big") for i in range(129)]
        r = self.t.get("/scrape?" + scrape_query(*hashes[:100]))
        self.assertEqual(len(bdecode(r.body)[b"files"]), 100)
        r = http_request(self.t.port, "GET", "/scrape?" + scrape_query(*hashes))
        self.assertEqual(r.status, 200)
        reason = bdecode(r.body)[b"failure reason"].decode()
        self.assertIn("128", reason)

    def test_bad_info_hash_is_failure(self):
        r = self.t.get("/scrape?info_hash=abc")
        self.assertEqual(r.status, 200)
        self.assertIn(b"info_hash", bdecode(r.body)[b"failure reason"])


class NoFullScrapeTest(unittest.TestCase):
    def test_full_scrape_disabled(self):
        with Tracker(full_scrape=False) as t:
            h = register_new(t)
            r = t.get("/scrape")
            self.assertEqual(r.status, 200)
            reply = bdecode(r.body)
            self.assertIn(b"failure reason", reply)
            self.assertNotIn(b"files", reply)
            # Scraping named hashes still works.
            r = http_request(t.port, "GET", "/scrape?" + scrape_query(h))
            self.assertIn(h, bdecode(r.body)[b"files"])


if __name__ == "__main__":
    unittest.main()

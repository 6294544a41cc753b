"""Issue 11: the original p2ptracker's HTTP API answers its scripts as it did.

Every expectation below is taken from ../shared/seed/original-behaviour.md
section (a) (the original's endpoints and response shapes); where an earlier
issue decided otherwise on purpose (a 404 JSON error instead of Flask's HTML
page, numbers where the original wrote 0 for leechers), the test says so.
Values are computed from the script, not copied from a run."""
import os
import urllib.parse
import re
import unittest

from harness import (Tracker, http_request, loopback, make_torrent, multipart_form, bdecode)

SIZE = 40000
# str(datetime.now()) in Python: microseconds unless they are exactly zero.
PY_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")


def upload(t, name, data):
    """As the original's users did: curl -F file=@NAME URL/torrents/NAME."""
    body, content_type = multipart_form("file", name, data)
    return http_request(t.port, "POST", "/torrents/" + name, body=body,
                        headers={"Content-Type": content_type})


class OriginalApiTest(unittest.TestCase):

    def setUp(self):
        self.t = Tracker(max_repr_rack=1).start()
        self.addCleanup(self.t.cleanup)

    def json(self, target):
        r = self.t.get(target)
        self.assertEqual(r.status, 200, (target, r.body))
        return r.json()

    def test_a_quote_in_a_name_is_escaped_in_the_download(self):
        # The name cannot end the filename parameter and add others.
        odd, _ = make_torrent("odd.tar", os.urandom(SIZE))
        odd_name = 'a"; filename="evil.html'
        path = "/torrents/" + urllib.parse.quote(odd_name + ".torrent")
        self.assertEqual(http_request(self.t.port, "PUT", path, body=odd).status, 200)
        got = self.t.get(path)
        self.assertEqual(got.headers.get("Content-Disposition"),
                         'attachment; filename="a\\"; filename=\\"evil.html.torrent"')

    def test_register_list_and_replace_by_file_name(self):
        data, h = make_torrent("webapp.tar", os.urandom(SIZE))
        r = upload(self.t, "webapp.torrent", data)
        self.assertEqual((r.status, r.body), (200, b""))  # 200 with an empty body
        self.assertEqual(self.json("/torrents/"), {"webapp.torrent": h.hex()})
        self.assertEqual(self.json("/transfers/"), {h.hex(): "webapp.torrent"})
        got = self.t.get("/torrents/webapp.torrent")
        self.assertEqual(got.body, data)
        self.assertIn("attachment", got.headers.get("Content-Disposition", ""))

        # The next release under the same file name replaces it.
        self.t.announce(h, source=loopback(1, 1), left=SIZE, event="started")
        data2, h2 = make_torrent("webapp.tar", os.urandom(SIZE))
        r = upload(self.t, "webapp.torrent", data2)
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(self.json("/torrents/"), {"webapp.torrent": h2.hex()})
        self.assertEqual(self.json("/transfers/"), {h2.hex(): "webapp.torrent"})
        self.assertEqual(self.t.get("/torrents/webapp.torrent").body, data2)
        old = self.t.announce(h, source=loopback(1, 1), left=SIZE, compact=1).bdecoded()
        self.assertEqual(old[b"warning message"].decode(),
                         "No active transfer for that info_hash: " + h.hex())
        history = self.json("/api/v1/history")["deploys"]
        self.assertEqual([d["info_hash"] for d in history], [h.hex()])
        # The same content again: 200, nothing archived.
        self.assertEqual(upload(self.t, "webapp.torrent", data2).status, 200)
        self.assertEqual(len(self.json("/api/v1/history")["deploys"]), 1)
        # Issue 14: what an operator needs is in the log at info.
        log = self.t.logged("[info] replaced webapp.torrent")
        self.assertIn("[info] registered webapp.torrent (webapp.tar, %d bytes): %s"
                      % (SIZE, h.hex()), log)
        self.assertIn("[info] replaced webapp.torrent: %s is active, %s (1 peers, 0 completed) "
                      "moved to the history" % (h2.hex(), h.hex()), log)

    def test_transfer_stats_in_the_original_shape(self):
        data, h = make_torrent("app.tar", os.urandom(SIZE))
        self.assertEqual(upload(self.t, "app.torrent", data).status, 200)
        hx = h.hex()
        g = self.json("/transfers/%s.json" % hx)["global"]
        self.assertEqual(set(g), {"active", "peers", "started", "seeders", "leechers",
                                  "first_start", "last_start", "first_complete", "last_complete",
                                  "complete", "size", "progress"})
        self.assertIs(g["active"], True)
        self.assertEqual(g["size"], str(SIZE))  # a string, as the original read it from Redis
        self.assertEqual(g["progress"], "0.00%")
        self.assertRegex(g["started"], PY_TIME)
        for k in ("first_start", "last_start", "first_complete", "last_complete"):
            self.assertIsNone(g[k], k)

        # Rack 1: one finished, one at a quarter. Rack 2: one at three quarters.
        self.t.announce(h, source=loopback(1, 1), left=SIZE, event="started")
        self.t.announce(h, source=loopback(1, 2), left=SIZE, event="started")
        self.t.announce(h, source=loopback(2, 1), left=SIZE // 4, event="started")
        self.t.announce(h, source=loopback(1, 2), left=SIZE * 3 // 4)
        self.t.announce(h, source=loopback(1, 1), left=0, event="completed")
        first = self.json("/transfers/%s.json" % hx)["global"]
        self.t.announce(h, source=loopback(1, 1), left=0, event="completed")
        s = self.json("/transfers/%s.json?racks=1" % hx)
        g = s["global"]
        self.assertEqual((g["peers"], g["seeders"], g["leechers"]), (3, 1, 2))
        # mean of 100%, 25% and 75%
        self.assertEqual(g["progress"], "66.67%")
        self.assertIs(g["complete"], False)
        for k in ("started", "first_start", "last_start", "first_complete", "last_complete"):
            self.assertRegex(g[k], PY_TIME, k)
        # A second completed of the same peer moves last_complete, to the microsecond.
        self.assertEqual(g["first_complete"], first["first_complete"])
        self.assertGreater(g["last_complete"], first["last_complete"])
        self.assertEqual(set(s["racks"]), {"127.0.1.0/24", "127.0.2.0/24"})
        self.assertEqual(s["racks"]["127.0.1.0/24"],
                         {"N": 2, "R": 1, "S": 1, "progress": "62.50%"})
        self.assertEqual(s["racks"]["127.0.2.0/24"],
                         {"N": 1, "R": 1, "S": 0, "progress": "75.00%"})

        # Any extension, either case of hex.
        for target in ("/transfers/%s.torrent" % hx.upper(), "/transfers/%s.xml" % hx):
            self.assertEqual(self.json(target)["global"]["peers"], 3, target)
        r = self.t.get("/transfers/%s.json" % ("0" * 40))
        self.assertEqual(r.status, 404)
        self.assertIn("error", r.json())  # JSON, where the original sent Flask's HTML page

    def test_member_lists(self):
        data, h = make_torrent("lists.tar", os.urandom(SIZE))
        self.assertEqual(upload(self.t, "lists.torrent", data).status, 200)
        hx = h.hex()
        self.t.announce(h, source=loopback(1, 1), left=0, port=7001)
        self.t.announce(h, source=loopback(1, 2), left=SIZE, port=7002)
        self.t.announce(h, source=loopback(2, 1), left=SIZE, port=7003)
        a, b, c = "127.0.1.1:7001", "127.0.1.2:7002", "127.0.2.1:7003"

        def members(kind, target_hash=hx):
            j = self.json("/transfers/%s/%s.json" % (kind, target_hash))
            self.assertEqual(list(j), [kind])  # the key is the list's kind
            return j[kind]

        self.assertEqual(sorted(members("peers")), [a, b, c])
        self.assertEqual(members("seeders"), [a])
        self.assertEqual(sorted(members("leechers")), [b, c])
        self.assertEqual(sorted(members("representants")), [a, c])  # max_repr_rack = 1
        self.assertEqual(sorted(members("racks")), ["127.0.1.0/24", "127.0.2.0/24"])
        # No existence check in the original: an unknown hash has empty lists.
        self.assertEqual(members("peers", "f" * 40), [])
        self.assertEqual(members("racks", "f" * 40), [])

    def test_deletions(self):
        hashes = []
        for name in ("one", "two"):
            data, h = make_torrent(name + ".tar", os.urandom(SIZE))
            self.assertEqual(upload(self.t, name + ".torrent", data).status, 200)
            hashes.append(h)
        r = http_request(self.t.port, "DELETE", "/transfers/%s.json" % hashes[0].hex())
        self.assertEqual((r.status, r.body.decode()), (200, "deleting transfer: " + hashes[0].hex()))
        self.assertEqual(self.json("/transfers/"), {hashes[1].hex(): "two.torrent"})
        line = "[info] deactivated one.torrent (%s)" % hashes[0].hex()
        self.assertIn(line, self.t.logged(line))
        r = http_request(self.t.port, "DELETE", "/transfers/")
        self.assertEqual((r.status, r.body.decode()), (200, "Deleted all transfers"))
        self.assertEqual(self.json("/transfers/"), {})
        self.assertEqual(self.json("/torrents/"), {})
        # Kept in the history, where the original flushed Redis.
        deploys = self.json("/api/v1/history")["deploys"]
        self.assertEqual(sorted(d["info_hash"] for d in deploys), sorted(x.hex() for x in hashes))
        reply = self.t.announce(hashes[1], source=loopback(1, 1), compact=1).bdecoded()
        self.assertEqual(reply[b"interval"], 300)
        self.assertIn(b"warning message", reply)

    def test_non_compact_announce_is_a_list_of_dicts(self):
        data, h = make_torrent("dicts.tar", os.urandom(SIZE))
        self.assertEqual(upload(self.t, "dicts.torrent", data).status, 200)
        pid = b"-XX0001-aaaaaaaaaaaa"
        self.t.announce(h, source=loopback(3, 1), port=7001, peer_id=pid, compact=None)
        reply = self.t.announce(h, source=loopback(3, 2), port=7002, compact=None).bdecoded()
        self.assertEqual(reply[b"peers"], [{b"ip": b"127.0.3.1", b"port": 7001, b"peer id": pid}])


if __name__ == "__main__":
    unittest.main()

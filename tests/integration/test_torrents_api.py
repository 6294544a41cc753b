"""The /api/v1/torrents/ admin API and the registry's persistence, against the real binary."""
import hashlib
import http.client
import json
import os
import shutil
import signal
import tempfile
import unittest

from harness import (Tracker, http_request, make_torrent, bdecode, bencode, loopback,
                     multipart_form, raw_connect, read_raw_response, peers_of, wait_until)


def info_hash_hex(torrent_bytes):
    return hashlib.sha1(bencode(bdecode(torrent_bytes)[b"info"])).hexdigest()


def fresh(name, size=30000):
    data, h = make_torrent(name, os.urandom(size))
    return data, h


def torrent_files(data_dir):
    d = os.path.join(data_dir, "torrents")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


class TorrentsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(max_torrent_bytes=20000).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def assert_registered(self, r, data, name):
        self.assertIn(r.status, (200, 201), r.body)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"))
        j = r.json()
        self.assertEqual(j["info_hash"], info_hash_hex(data))
        self.assertEqual(j["name"], name)
        self.assertEqual(j["length"], bdecode(data)[b"info"][b"length"])
        return j

    def assert_json_error(self, r, status):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertIsInstance(j.get("error"), str, j)
        self.assertTrue(j["error"])
        return j["error"]

    def announce(self, h, rack, host):
        r = self.t.announce(h, source=loopback(rack, host))
        self.assertEqual(r.status, 200)
        return r.bdecoded()

    # --- registering ----------------------------------------------------------

    def test_register_raw_body(self):
        data, h = fresh("raw-one")
        r = self.t.register("raw-one.torrent", data)
        self.assert_registered(r, data, "raw-one")
        self.assertIn("raw-one.torrent", torrent_files(self.t.data_dir))
        reply = self.announce(h, 60, 1)
        self.assertEqual(reply[b"interval"], 45)
        self.assertNotIn(b"warning message", reply)

    def test_register_multipart_like_curl(self):
        data, h = fresh("form-one")
        body, ctype = multipart_form("file", "form-one.torrent", data)
        r = http_request(self.t.port, "POST", "/api/v1/torrents/form-one.torrent", body=body,
                         headers={"Content-Type": ctype})
        self.assert_registered(r, data, "form-one")
        got = self.t.get("/api/v1/torrents/form-one.torrent")
        self.assertEqual(got.body, data)

    def test_register_multipart_with_expect_100_continue(self):
        # What curl does for uploads over 1 KB: headers first, then wait for
        # "100 Continue" before sending the body.
        data, h = fresh("expect-one")
        body, ctype = multipart_form("file", "expect-one.torrent", data)
        s = raw_connect(self.t.port)
        try:
            s.sendall(("POST /api/v1/torrents/expect-one.torrent HTTP/1.1\r\nHost: t\r\n"
                       "Content-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                       % (ctype, len(body))).encode())
            interim, rest = read_raw_response(s)
            self.assertEqual(interim.status, 100)
            self.assertEqual(rest, b"")
            s.sendall(body)
            final, _ = read_raw_response(s)
            self.assertIn(final.status, (200, 201), final.body)
            j = json.loads(final.body)
            self.assertEqual(j["info_hash"], info_hash_hex(data))
            self.assertEqual(j["name"], "expect-one")
        finally:
            s.close()
        self.assertEqual(self.t.get("/api/v1/torrents/expect-one.torrent").body, data)

    def test_register_multipart_via_http_client_expect(self):
        # http.client sends the body at once; the tracker must still answer
        # the Expect (100 first) and then the real reply.
        data, _ = fresh("expect-two")
        body, ctype = multipart_form("file", "expect-two.torrent", data)
        conn = http.client.HTTPConnection("127.0.0.1", self.t.port, timeout=10)
        try:
            conn.request("POST", "/api/v1/torrents/expect-two.torrent", body=body,
                         headers={"Content-Type": ctype, "Expect": "100-continue"})
            r = conn.getresponse()
            self.assertIn(r.status, (200, 201))
            self.assertEqual(json.loads(r.read())["info_hash"], info_hash_hex(data))
        finally:
            conn.close()

    def test_register_chunked_body(self):
        data, _ = fresh("chunked")
        conn = http.client.HTTPConnection("127.0.0.1", self.t.port, timeout=10)
        try:
            conn.request("POST", "/api/v1/torrents/chunked.torrent",
                         body=iter([data[:100], data[100:]]), encode_chunked=True,
                         headers={"Transfer-Encoding": "chunked"})
            r = conn.getresponse()
            body = r.read()
            self.assertIn(r.status, (200, 201), body)
        finally:
            conn.close()
        self.assertEqual(self.t.get("/api/v1/torrents/chunked.torrent").body, data)

    def test_expect_100_continue_over_the_limit_is_refused_before_the_body(self):
        s = raw_connect(self.t.port)
        try:
            s.sendall(b"POST /api/v1/torrents/too-big.torrent HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/x-bittorrent\r\n"
                      b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            resp, _ = read_raw_response(s)
            self.assertEqual(resp.status, 413)
        finally:
            s.close()
        self.assertNotIn("too-big.torrent", torrent_files(self.t.data_dir))

    def test_register_multipart_to_collection_uses_filename(self):
        data, _ = fresh("by-filename")
        body, ctype = multipart_form("file", "by-filename.torrent", data)
        r = http_request(self.t.port, "POST", "/api/v1/torrents/", body=body,
                         headers={"Content-Type": ctype})
        self.assert_registered(r, data, "by-filename")
        self.assertEqual(self.t.get("/api/v1/torrents/by-filename.torrent").body, data)

    def test_put_registers_too(self):
        data, _ = fresh("put-one")
        r = http_request(self.t.port, "PUT", "/api/v1/torrents/put-one.torrent", body=data)
        self.assert_registered(r, data, "put-one")

    # --- listing and downloading -----------------------------------------------

    def test_list_and_download(self):
        data, _ = fresh("listed")
        self.assert_registered(self.t.register("listed.torrent", data), data, "listed")
        r = self.t.get("/api/v1/torrents/")
        self.assertEqual(r.status, 200)
        entries = r.json()
        self.assertIsInstance(entries, list)
        mine = [e for e in entries if e.get("file") == "listed.torrent"]
        self.assertEqual(len(mine), 1, entries)
        self.assertEqual(mine[0]["info_hash"], info_hash_hex(data))
        self.assertEqual(mine[0]["name"], "listed")
        got = self.t.get("/api/v1/torrents/listed.torrent")
        self.assertEqual(got.status, 200)
        self.assertEqual(got.body, data)
        self.assert_json_error(self.t.get("/api/v1/torrents/never-registered.torrent"), 404)

    # --- refusals -------------------------------------------------------------

    def test_issue11_same_name_again_replaces_it(self):
        # A deploy pipeline uploads app.torrent again for every release, as it
        # did with the original: the old transfer moves to the history and the
        # new one is active.
        data, old_hash = fresh("dup")
        self.assert_registered(self.t.register("dup.torrent", data), data, "dup")
        self.announce(old_hash, 62, 1)
        other, new_hash = fresh("dup")
        r = self.t.register("dup.torrent", other)
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual(j["registration"], "replaced")
        self.assertEqual(j["info_hash"], new_hash.hex())
        self.assertEqual(j["replaced"]["info_hash"], old_hash.hex())
        self.assertEqual(j["replaced"]["peers"], 1)
        self.assertEqual(self.t.get("/api/v1/torrents/dup.torrent").body, other)
        listed = [e for e in self.t.get("/api/v1/torrents/").json() if e["file"] == "dup.torrent"]
        self.assertEqual([e["info_hash"] for e in listed], [new_hash.hex()])
        deploys = self.t.get("/api/v1/history").json()["deploys"]
        self.assertIn(old_hash.hex(), [d["info_hash"] for d in deploys])
        self.assertIn(b"warning message", self.announce(old_hash, 62, 1))
        self.assertNotIn(b"warning message", self.announce(new_hash, 62, 1))
        # The same content again changes nothing.
        r = self.t.register("dup.torrent", other)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["registration"], "unchanged")
        self.assertEqual(len(self.t.get("/api/v1/history").json()["deploys"]), len(deploys))
        self.assertEqual(torrent_files(self.t.data_dir).count("dup.torrent"), 1)

    def test_same_info_hash_under_another_name_is_409(self):
        data, _ = fresh("twin")
        self.assert_registered(self.t.register("twin.torrent", data), data, "twin")
        self.assert_json_error(self.t.register("twin-again.torrent", data), 409)
        self.assertNotIn("twin-again.torrent", torrent_files(self.t.data_dir))
        self.assert_json_error(self.t.get("/api/v1/torrents/twin-again.torrent"), 404)

    def assert_nothing_left(self, before):
        after = torrent_files(self.t.data_dir)
        self.assertEqual(after, before, "files left behind in data_dir/torrents")

    def test_corrupt_file_is_400_and_leaves_nothing(self):
        before = torrent_files(self.t.data_dir)
        for bad in (b"this is not a torrent", b"d8:announce3:abce", b"",
                    fresh("cut")[0][:-40]):
            self.assert_json_error(self.t.register("corrupt.torrent", bad), 400)
            self.assert_nothing_left(before)
        body, ctype = multipart_form("file", "corrupt.torrent", b"garbage")
        r = http_request(self.t.port, "POST", "/api/v1/torrents/corrupt.torrent", body=body,
                         headers={"Content-Type": ctype})
        self.assert_json_error(r, 400)
        self.assert_nothing_left(before)
        self.assert_json_error(self.t.get("/api/v1/torrents/corrupt.torrent"), 404)

    def test_broken_multipart_is_400(self):
        before = torrent_files(self.t.data_dir)
        data, _ = fresh("broken-form")
        body, ctype = multipart_form("file", "broken-form.torrent", data)
        r = http_request(self.t.port, "POST", "/api/v1/torrents/broken-form.torrent",
                         body=body[:-30], headers={"Content-Type": ctype})
        self.assert_json_error(r, 400)
        self.assert_nothing_left(before)

    def test_wrong_extension_is_400(self):
        before = torrent_files(self.t.data_dir)
        data, _ = fresh("ext")
        for name in ("ext.txt", "ext", ".torrent", "ext.torrent.bak"):
            r = self.t.register(name, data)
            self.assertEqual(r.status, 400, "%s: %r" % (name, r.body))
            self.assertIn("error", r.json())
        self.assert_nothing_left(before)

    def test_names_cannot_escape_the_data_dir(self):
        before = torrent_files(self.t.data_dir)
        parent = os.path.dirname(self.t.data_dir)
        data, _ = fresh("evil")
        for target in ("/api/v1/torrents/..%2F..%2Fevil.torrent", "/api/v1/torrents/sub/evil.torrent",
                       "/api/v1/torrents/..%2Fevil.torrent", "/api/v1/torrents/%2Ftmp%2Fevil.torrent"):
            r = http_request(self.t.port, "POST", target, body=data)
            self.assertGreaterEqual(r.status, 400, target)
            self.assertLess(r.status, 500, target)
        self.assert_nothing_left(before)
        self.assertFalse(os.path.exists(os.path.join(self.t.data_dir, "evil.torrent")))
        self.assertFalse(os.path.exists(os.path.join(parent, "evil.torrent")))
        self.assertFalse(os.path.exists("/tmp/evil.torrent"))

    def test_name_with_space_round_trips(self):
        data, _ = fresh("my build")
        r = http_request(self.t.port, "POST", "/api/v1/torrents/my%20build.torrent", body=data)
        self.assert_registered(r, data, "my build")
        self.assertIn("my build.torrent", torrent_files(self.t.data_dir))
        self.assertEqual(self.t.get("/api/v1/torrents/my%20build.torrent").body, data)
        files = [e["file"] for e in self.t.get("/api/v1/torrents").json()]  # no trailing slash
        self.assertIn("my build.torrent", files)
        r = http_request(self.t.port, "DELETE", "/api/v1/torrents/my%20build.torrent")
        self.assertEqual(r.status, 200)
        # UTF-8 names, percent-encoded in the URL.
        data, _ = fresh("d\u00e9ploy")
        r = http_request(self.t.port, "POST", "/api/v1/torrents/d%C3%A9ploy.torrent", body=data)
        self.assert_registered(r, data, "d\u00e9ploy")
        self.assertIn("d\u00e9ploy.torrent", torrent_files(self.t.data_dir))
        got = self.t.get("/api/v1/torrents/d%C3%A9ploy.torrent")
        self.assertEqual(got.body, data)
        self.assertEqual(got.headers.get("Content-Type"), "application/x-bittorrent")

    def test_upload_over_max_torrent_bytes_is_413(self):
        before = torrent_files(self.t.data_dir)
        # 2000 pieces: a valid torrent of about 40 KB, over the 20000 limit.
        data, _ = make_torrent("big", os.urandom(2000 * 16), piece_length=16)
        self.assertGreater(len(data), 20000)
        r = self.t.register("big.torrent", data)
        self.assertEqual(r.status, 413, r.body)
        body, ctype = multipart_form("file", "big.torrent", data)
        r = http_request(self.t.port, "POST", "/api/v1/torrents/big.torrent", body=body,
                         headers={"Content-Type": ctype})
        self.assertEqual(r.status, 413, r.body)
        # Far over the limit: refused while reading, the tracker stays up.
        try:
            r = self.t.register("huge.torrent", os.urandom(200000))
            self.assertEqual(r.status, 413, r.body)
        except (ConnectionResetError, BrokenPipeError):
            pass  # refused before the whole body was sent: acceptable
        self.assert_nothing_left(before)
        self.assertEqual(self.t.get("/api/v1/torrents/").status, 200)

    # --- removing -------------------------------------------------------------

    def test_delete_makes_transfer_passive(self):
        data, h = fresh("gone")
        self.assert_registered(self.t.register("gone.torrent", data), data, "gone")
        self.announce(h, 61, 1)
        self.assertEqual(peers_of(self.announce(h, 61, 2)), {("127.0.61.1", 6881)})
        r = http_request(self.t.port, "DELETE", "/api/v1/torrents/gone.torrent")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["info_hash"], h.hex())
        reply = self.announce(h, 61, 2)
        self.assertEqual(reply[b"interval"], 300)
        self.assertEqual(peers_of(reply), set())
        self.assertEqual(reply[b"warning message"].decode(),
                         "No active transfer for that info_hash: " + h.hex())
        self.assertNotIn("gone.torrent", torrent_files(self.t.data_dir))
        self.assert_json_error(self.t.get("/api/v1/torrents/gone.torrent"), 404)
        names = [e["file"] for e in self.t.get("/api/v1/torrents/").json()]
        self.assertNotIn("gone.torrent", names)
        # The name is free again.
        self.assert_registered(self.t.register("gone.torrent", data), data, "gone")
        self.assertNotIn(b"warning message", self.announce(h, 61, 2))

    def test_delete_unknown_is_404(self):
        r = http_request(self.t.port, "DELETE", "/api/v1/torrents/nobody.torrent")
        self.assert_json_error(r, 404)


class PersistenceTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-persist-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_active(self, t, h, rack):
        reply = t.announce(h, source=loopback(rack, 1)).bdecoded()
        self.assertEqual(reply[b"interval"], 45, reply)
        self.assertNotIn(b"warning message", reply)

    def assert_listed(self, t, expected):
        entries = t.get("/api/v1/torrents/").json()
        self.assertEqual(sorted(e["file"] for e in entries), sorted(expected))

    def test_survives_clean_stop_and_sigkill(self):
        a, ha = fresh("alpha")
        b, hb = fresh("beta")
        c, hc = fresh("gamma")
        d, hd = fresh("delta")
        t = Tracker(data_dir=self.dir).start()
        try:
            for name, data in (("alpha", a), ("beta", b), ("delta", d)):
                self.assertIn(t.register(name + ".torrent", data).status, (200, 201))
            self.assertEqual(http_request(t.port, "DELETE", "/api/v1/torrents/delta.torrent").status, 200)
            self.assertEqual(t.stop(signal.SIGTERM), 0, t.output())
        finally:
            t.cleanup()

        t = Tracker(data_dir=self.dir).start()
        try:
            self.assert_listed(t, ["alpha.torrent", "beta.torrent"])
            self.assert_active(t, ha, 62)
            self.assert_active(t, hb, 63)
            reply = t.announce(hd, source=loopback(64, 1)).bdecoded()
            self.assertIn(b"warning message", reply)  # deleted stays deleted
            self.assertEqual(t.get("/api/v1/torrents/alpha.torrent").body, a)
            # Registered, then killed without any chance to clean up.
            self.assertIn(t.register("gamma.torrent", c).status, (200, 201))
            t.stop(signal.SIGKILL)
        finally:
            t.cleanup()

        t = Tracker(data_dir=self.dir).start()
        try:
            self.assert_listed(t, ["alpha.torrent", "beta.torrent", "gamma.torrent"])
            for h, rack in ((ha, 65), (hb, 66), (hc, 67)):
                self.assert_active(t, h, rack)
            self.assertEqual(t.get("/api/v1/torrents/gamma.torrent").body, c)
            self.assertEqual(t.get("/api/v1/torrents/beta.torrent").body, b)
            j = {e["file"]: e for e in t.get("/api/v1/torrents/").json()}
            self.assertEqual(j["gamma.torrent"]["info_hash"], hc.hex())
        finally:
            t.cleanup()
        leftovers = [f for f in torrent_files(self.dir) if not f.endswith(".torrent")]
        self.assertEqual(leftovers, [], "temporary files left in data_dir/torrents")

    def test_dropped_in_torrent_is_registered_at_start(self):
        data, h = fresh("dropped")
        os.makedirs(os.path.join(self.dir, "torrents"))
        with open(os.path.join(self.dir, "torrents", "dropped.torrent"), "wb") as f:
            f.write(data)
        t = Tracker(data_dir=self.dir).start()
        try:
            self.assert_listed(t, ["dropped.torrent"])
            self.assert_active(t, h, 68)
            self.assertEqual(t.get("/api/v1/torrents/dropped.torrent").body, data)
        finally:
            t.cleanup()

    def test_corrupt_dropped_in_file_does_not_stop_start(self):
        good, h = fresh("good")
        os.makedirs(os.path.join(self.dir, "torrents"))
        with open(os.path.join(self.dir, "torrents", "good.torrent"), "wb") as f:
            f.write(good)
        with open(os.path.join(self.dir, "torrents", "bad.torrent"), "wb") as f:
            f.write(b"not bencode at all")
        # What a crash mid-write or an operator may leave behind.
        with open(os.path.join(self.dir, "torrents", ".half.torrent.999.tmp"), "wb") as f:
            f.write(good[:50])
        with open(os.path.join(self.dir, "torrents", "README.txt"), "w") as f:
            f.write("notes\n")
        t = Tracker(data_dir=self.dir).start()
        try:
            self.assert_listed(t, ["good.torrent"])
            self.assert_active(t, h, 69)
            wait_until(lambda: "bad.torrent" in t.output(), timeout=5,
                       what="a log line naming the skipped bad.torrent")
        finally:
            t.cleanup()


if __name__ == "__main__":
    unittest.main()

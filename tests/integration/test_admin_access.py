"""Who may use the admin API (docs/security.md), against the real binary.

Requests come from distinct loopback sources: 127.0.0.1 is the tracker's own
host; 127.0.5.5 stands for any other machine (the tracker must not treat the
rest of 127/8 as local). Every state-changing endpoint is tried in both its
original and /api/v1/ shapes; announces and scrapes from the stranger must keep
working in every mode.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (BINARY, Tracker, announce_query, free_port, http_request, make_torrent,
                     multipart_form, raw_connect, read_raw_response, run_tool, scrape_query,
                     wait_closed)

LOCAL = "127.0.0.1"
STRANGER = "127.0.5.5"
TOKEN = "dGVzdC10b2tlbi1mb3ItdGhlLWFkbWluLWFwaS0xMjM0NQ=="


def write_token(directory, text=TOKEN + "\n", mode=0o600):
    path = os.path.join(directory, "admin.token")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def bearer(token=TOKEN):
    return {"Authorization": "Bearer " + token}


class AccessBase(unittest.TestCase):
    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="p2ptracker-acl-")
        cls.token_file = write_token(cls.dir)
        settings = {k: (cls.token_file if v == "TOKEN_FILE" else v)
                    for k, v in cls.settings.items()}
        cls.t = Tracker(**settings).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def req(self, method, target, source=LOCAL, headers=None, body=None):
        return http_request(self.t.port, method, target, body=body, headers=headers or {},
                            source=source)

    def upload(self, target, data, source=LOCAL, headers=None):
        h = {"Content-Type": "application/x-bittorrent"}
        h.update(headers or {})
        return self.req("POST", target, source, h, data)

    def fresh(self):
        name = "acl-%s" % os.urandom(5).hex()
        data, info_hash = make_torrent(name, os.urandom(20000))
        return name + ".torrent", data, info_hash

    def registered(self, headers=None):
        """A torrent registered from this host (with `headers`): (file, info-hash hex)."""
        f, data, h = self.fresh()
        r = self.upload("/api/v1/torrents/" + f, data, LOCAL, headers)
        self.assertEqual(r.status, 201, r.body)
        return f, h.hex()

    def registered_files(self):
        return {x["file"] for x in self.req("GET", "/api/v1/torrents/", headers=bearer()).json()}

    def assert_protocol_open(self):
        """Announce and scrape from the stranger, without any token, still work."""
        f, h = self.registered(bearer() if self.needs_token() else None)
        raw = bytes.fromhex(h)
        r = self.req("GET", "/announce?" + announce_query(raw, left=0), STRANGER)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(b"failure reason", r.bdecoded())
        r = self.req("GET", "/scrape?" + scrape_query(raw), STRANGER)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.bdecoded()[b"files"][raw][b"complete"], 1)
        r = self.req("GET", "/scrape", STRANGER)  # full scrape
        self.assertEqual(r.status, 200, r.body)

    def needs_token(self):
        return "admin_token_file" in self.settings

    def change_everything(self, source, headers=None):
        """Registers, replaces, deletes and deactivates from `source`, each in both shapes."""
        headers = headers or {}
        f, data, _ = self.fresh()
        r = self.upload("/api/v1/torrents/" + f, data, source, headers)
        self.assertEqual(r.status, 201, r.body)
        _, data2, h2 = self.fresh()
        r = self.upload("/api/v1/torrents/" + f, data2, source, headers)  # replace
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["registration"], "replaced")
        r = self.req("DELETE", "/api/v1/transfers/%s.json" % h2.hex(), source, headers)
        self.assertEqual(r.status, 200, r.body)  # deactivated: it leaves the registry
        self.assertNotIn(f, self.registered_files())
        f3, data3, _ = self.fresh()
        r = self.upload("/torrents/" + f3, data3, source, headers)  # the original's shape
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(f3, self.registered_files())
        r = self.req("DELETE", "/torrents/" + f3, source, headers)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(f3, self.registered_files())

    def assert_json_error(self, r, status, *words):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"), r.headers)
        message = json.loads(r.body)["error"]
        for w in words:
            self.assertIn(w, message)
        self.assertNotIn(TOKEN, r.body.decode())


class LocalOnlyTest(AccessBase):
    """No token configured: state changes only from 127.0.0.1 / ::1."""

    def test_startup_line(self):
        lines = [l for l in self.t.output().splitlines() if "admin API:" in l]
        self.assertEqual(len(lines), 1, self.t.output())
        self.assertIn("only from this host", lines[0])
        self.assertIn("admin_token_file", lines[0])

    def test_stranger_cannot_change_anything(self):
        f, h = self.registered()
        _, data, _ = self.fresh()
        body, ctype = multipart_form("file", "x.torrent", data)
        attempts = [
            ("POST", "/api/v1/torrents/new-" + f, data),   # register
            ("PUT", "/api/v1/torrents/new-" + f, data),
            ("POST", "/api/v1/torrents/" + f, data),       # replace
            ("POST", "/torrents/new2-" + f, data),         # the original's shape
            ("POST", "/torrents/", body),                  # a form upload without a name
            ("DELETE", "/api/v1/torrents/" + f, None),     # delete
            ("DELETE", "/torrents/" + f, None),
            ("DELETE", "/api/v1/transfers/%s.json" % h, None),  # deactivate
            ("DELETE", "/transfers/%s.json" % h, None),
            ("DELETE", "/transfers/", None),               # deactivate everything
            ("DELETE", "/api/v1/transfers/", None),
        ]
        for method, target, payload in attempts:
            with self.subTest(method=method, target=target):
                headers = {"Content-Type": ctype if payload is body else
                           "application/x-bittorrent"} if payload else {}
                r = self.req(method, target, STRANGER, headers, payload)
                self.assert_json_error(r, 403, "admin_token_file", "127.0.0.1")
        # Nothing changed: the torrent is still registered and its transfer active.
        self.assertIn(f, self.registered_files())
        self.assertNotIn("new-" + f, self.registered_files())
        r = self.req("GET", "/api/v1/transfers/%s.json" % h, STRANGER)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["global"]["active"], r.json())

    def test_refused_before_the_upload_is_read(self):
        """A stranger's upload is answered from its header: the tracker does not
        wait for (or hold) the body, and closes the connection."""
        s = raw_connect(self.t.port, source=STRANGER, timeout=5)
        try:
            s.sendall(b"POST /api/v1/torrents/big.torrent HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/x-bittorrent\r\n"
                      b"Content-Length: 10000000\r\n\r\n" + b"d" * 1000)
            r, _ = read_raw_response(s)
            self.assertEqual(r.status, 403, r.body)
            self.assertEqual(r.header("connection"), "close")
            self.assertTrue(wait_closed(s, 5))
        finally:
            s.close()

    def test_a_token_from_a_stranger_does_not_help(self):
        _, data, _ = self.fresh()
        r = self.upload("/api/v1/torrents/tok.torrent", data, STRANGER, bearer())
        self.assert_json_error(r, 403)

    def test_other_loopback_and_forged_headers_are_strangers(self):
        _, data, _ = self.fresh()
        for source in ("127.0.0.2", "127.1.0.1"):
            r = self.upload("/api/v1/torrents/lo.torrent", data, source)
            self.assertEqual(r.status, 403, (source, r.body))
        # proxypass is off: a header claiming this host is ignored.
        r = self.upload("/api/v1/torrents/lo.torrent", data, STRANGER,
                        {"X-Forwarded-For": LOCAL, "X-Real-IP": LOCAL})
        self.assertEqual(r.status, 403, r.body)

    def test_this_host_can_do_everything(self):
        self.change_everything(LOCAL)

    def test_reads_are_public(self):
        f, h = self.registered()
        for target in ("/torrents/", "/api/v1/torrents/", "/transfers/", "/api/v1/transfers/",
                       "/transfers/%s.json" % h, "/api/v1/transfers/%s.json?racks=1" % h,
                       "/api/v1/history", "/metrics", "/", "/torrents/" + f):
            with self.subTest(target=target):
                r = self.req("GET", target, STRANGER)
                self.assertEqual(r.status, 200, r.body[:300])

    def test_announce_and_scrape_stay_open(self):
        self.assert_protocol_open()


class TokenTest(AccessBase):
    """admin_token_file set: state changes need the token, from every host."""
    settings = {"admin_token_file": "TOKEN_FILE"}

    def test_startup_line(self):
        lines = [l for l in self.t.output().splitlines() if "admin API:" in l]
        self.assertEqual(len(lines), 1, self.t.output())
        self.assertIn("bearer token required", lines[0])
        self.assertIn("admin_token_file=" + self.token_file, lines[0])
        self.assertNotIn(TOKEN, self.t.output())
        self.assertNotIn("readable by every user", self.t.output())

    def test_no_token_or_wrong_token_is_401(self):
        f, h = self.registered(bearer())
        _, data, _ = self.fresh()
        for source in (STRANGER, LOCAL):
            for headers, error in (({}, None), (bearer("wrong"), "invalid_token"),
                                   (bearer(TOKEN[:-1]), "invalid_token"),
                                   ({"Authorization": "Basic " + TOKEN}, None)):
                for method, target, payload in (("POST", "/api/v1/torrents/" + f, data),
                                                ("POST", "/torrents/z.torrent", data),
                                                ("DELETE", "/api/v1/torrents/" + f, None),
                                                ("DELETE", "/transfers/%s.json" % h, None),
                                                ("DELETE", "/transfers/", None)):
                    with self.subTest(source=source, headers=headers, target=target):
                        hh = dict(headers)
                        if payload:
                            hh["Content-Type"] = "application/x-bittorrent"
                        r = self.req(method, target, source, hh, payload)
                        self.assert_json_error(r, 401)
                        challenge = r.headers.get("WWW-Authenticate", "")
                        self.assertTrue(challenge.startswith("Bearer"), r.headers)
                        if error:
                            self.assertIn('error="%s"' % error, challenge)
        self.assertIn(f, self.registered_files())

    def test_right_token_works_from_any_host(self):
        for source in (STRANGER, LOCAL, "127.0.9.9"):
            with self.subTest(source=source):
                self.change_everything(source, bearer())

    def test_reads_stay_public(self):
        f, h = self.registered(bearer())
        for target in ("/api/v1/transfers/%s.json" % h, "/torrents/", "/metrics",
                       "/torrents/" + f):
            r = self.req("GET", target, STRANGER)
            self.assertEqual(r.status, 200, (target, r.body[:200]))

    def test_announce_and_scrape_stay_open(self):
        self.assert_protocol_open()


class TokenReadTest(AccessBase):
    """admin_read = "token": reads need the token too; the protocol never does."""
    settings = {"admin_token_file": "TOKEN_FILE", "admin_read": "token"}

    def test_reads_need_the_token(self):
        f, h = self.registered(bearer())
        targets = ("/torrents/", "/api/v1/torrents/", "/transfers/", "/api/v1/transfers/",
                   "/transfers/%s.json?racks=1" % h, "/transfers/peers/%s.json" % h,
                   "/api/v1/transfers/%s.json" % h, "/api/v1/history", "/history/", "/metrics",
                   "/", "/dashboard/app.js", "/torrents/" + f, "/api/v1/torrents/" + f)
        for target in targets:
            for source in (STRANGER, LOCAL):
                with self.subTest(target=target, source=source):
                    r = self.req("GET", target, source)
                    self.assert_json_error(r, 401)
                    r = self.req("GET", target, source, bearer("nope"))
                    self.assert_json_error(r, 401)
                    r = self.req("GET", target, source, bearer())
                    self.assertEqual(r.status, 200, r.body[:200])
        # The .torrent itself, with the token.
        r = self.req("GET", "/torrents/" + f, STRANGER, bearer())
        self.assertEqual(r.headers.get("Content-Type"), "application/x-bittorrent")
        # /health stays open to load balancers and probes: it names no transfer or host.
        r = self.req("GET", "/health", STRANGER)
        self.assertEqual(r.status, 200, r.body[:200])

    def test_startup_line(self):
        self.assertIn("admin_read=token", self.t.logged("admin_read=token"))
        # The full scrape (on by default) still lists every transfer to anyone.
        self.assertIn("set full_scrape = false", self.t.logged("set full_scrape = false"))
        self.assertIn(b"files", self.req("GET", "/scrape", STRANGER).body)

    def test_announce_and_scrape_stay_open(self):
        self.assert_protocol_open()


class StartupTest(unittest.TestCase):
    """The tracker refuses to start with a token file it cannot use."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-acl-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def serve(self, *sets):
        args = ["serve", "--set", "port=0", "--set", "host=127.0.0.1",
                "--set", "data_dir=" + self.dir]
        for s in sets:
            args += ["--set", s]
        try:
            return run_tool(args, timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("the tracker started")

    def test_missing_file(self):
        path = os.path.join(self.dir, "absent.token")
        r = self.serve("admin_token_file=" + path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("admin_token_file", r.stderr)
        self.assertIn(path, r.stderr)

    def test_empty_file(self):
        path = write_token(self.dir, " \n")
        r = self.serve("admin_token_file=" + path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path + ": token file is empty", r.stderr)

    def test_unreadable_file(self):
        if os.geteuid() == 0:
            self.skipTest("root reads every file")
        path = write_token(self.dir, mode=0o000)
        r = self.serve("admin_token_file=" + path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot open token file", r.stderr)

    def test_admin_read_token_needs_a_file(self):
        r = self.serve("admin_read=token")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("admin_read \"token\" needs admin_token_file", r.stderr)

    def test_world_readable_file_warns(self):
        path = write_token(self.dir, mode=0o644)
        with Tracker(admin_token_file=path) as t:
            self.assertIn("readable by every user", t.logged("readable by every user"))

    def test_print_config_shows_the_path_not_the_token(self):
        path = write_token(self.dir)
        r = run_tool(["serve", "--print-config", "--set", "admin_token_file=" + path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('admin_token_file = "%s"' % path, r.stdout)
        self.assertNotIn(TOKEN, r.stdout)


class CliTokenTest(AccessBase):
    """register, status and watch with --token-file and P2PTRACKER_TOKEN_FILE."""
    settings = {"admin_token_file": "TOKEN_FILE", "admin_read": "token"}

    def cli(self, args, token_file=None, env_file=None):
        env = dict(os.environ)
        env.pop("P2PTRACKER_URL", None)
        env.pop("P2PTRACKER_TOKEN_FILE", None)
        if env_file:
            env["P2PTRACKER_TOKEN_FILE"] = env_file
        args = args + ["--tracker", "http://127.0.0.1:%d" % self.t.port]
        if token_file:
            args += ["--token-file", token_file]
        return run_tool(args, env=env, timeout=60)

    def torrent_file(self):
        f, data, h = self.fresh()
        path = os.path.join(self.dir, f)
        with open(path, "wb") as out:
            out.write(data)
        return path, h.hex()

    def test_help_names_the_flag_and_variable(self):
        for cmd in ("register", "status", "watch"):
            r = run_tool([cmd, "--help"])
            self.assertIn("--token-file", r.stdout)
            self.assertIn("P2PTRACKER_TOKEN_FILE", r.stdout)

    def test_without_token_the_tracker_says_how(self):
        path, _ = self.torrent_file()
        r = self.cli(["register", path])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("HTTP 401", r.stderr)
        self.assertIn("--token-file", r.stderr)
        r = self.cli(["status"])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("HTTP 401", r.stderr)

    def test_flag(self):
        path, h = self.torrent_file()
        r = self.cli(["register", path], token_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), h)
        r = self.cli(["status", h, "--json"], token_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["global"]["info_hash"], h)
        self.seed(h)
        r = self.cli(["watch", os.path.basename(path), "--json", "--timeout", "30"],
                     token_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_environment_variable(self):
        path, h = self.torrent_file()
        r = self.cli(["register", path], env_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cli(["status"], env_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(h, r.stdout)
        self.seed(h)
        r = self.cli(["watch", h, "--timeout", "30"], env_file=self.token_file)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_token_file(self):
        r = self.cli(["status"], token_file=os.path.join(self.dir, "absent"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("--token-file", r.stderr)
        wrong = os.path.join(self.dir, "wrong.token")
        with open(wrong, "w") as f:
            f.write("not-the-token\n")
        r = self.cli(["status"], token_file=wrong)
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 401", r.stderr)

    def seed(self, h):
        r = self.req("GET", "/announce?" + announce_query(bytes.fromhex(h), left=0,
                                                          event="completed"), STRANGER)
        self.assertEqual(r.status, 200, r.body)


class AdminListenTest(unittest.TestCase):
    """admin_listen: the admin API on its own address and port; the announce
    port then serves announce, scrape and /health only."""

    def test_admin_api_on_its_own_port(self):
        admin_port = free_port()
        with Tracker(admin_listen="127.0.0.1:%d" % admin_port) as t:
            line = "admin API served on 127.0.0.1:%d" % admin_port
            self.assertIn(line, t.logged(line))
            data, h = make_torrent("apart", os.urandom(2000))
            # Registering on the announce port: no such endpoint there.
            r = http_request(t.port, "POST", "/api/v1/torrents/apart.torrent", body=data,
                             headers={"Content-Type": "application/x-bittorrent"})
            self.assertEqual(r.status, 404)
            self.assertIn("admin_listen", json.loads(r.body)["error"])
            for path in ("/torrents/", "/transfers/", "/metrics", "/", "/api/v1/transfers/"):
                self.assertEqual(http_request(t.port, "GET", path).status, 404, path)
            # On the admin port it is the admin API, under the same access rules.
            r = http_request(admin_port, "POST", "/api/v1/torrents/apart.torrent", body=data,
                             headers={"Content-Type": "application/x-bittorrent"})
            self.assertIn(r.status, (200, 201), r.body)
            self.assertEqual(http_request(admin_port, "GET", "/torrents/").json(),
                             {"apart.torrent": h.hex()})
            self.assertEqual(http_request(admin_port, "GET", "/metrics").status, 200)
            r = http_request(admin_port, "DELETE", "/torrents/apart.torrent", source="127.0.7.7")
            self.assertEqual(r.status, 403)  # local-only without a token, as on one port
            # Announces and /health stay on the announce port.
            r = http_request(t.port, "GET", "/announce?" + announce_query(h), source="127.0.6.1")
            self.assertEqual(r.status, 200)
            self.assertNotIn(b"failure reason", r.body)
            self.assertEqual(http_request(t.port, "GET", "/health").status, 200)
            self.assertEqual(http_request(admin_port, "GET", "/health").status, 200)

    def test_one_address_holds_at_most_a_sixteenth_of_the_admin_port(self):
        # 1,024 connections, 64 from one address: two or three addresses
        # holding idle connections locked everyone out at 512 each.
        admin_port = free_port()
        with Tracker(admin_listen="127.0.0.1:%d" % admin_port, request_timeout=60) as t:
            held = []
            try:
                for _ in range(100):
                    held.append(raw_connect(admin_port, source="127.0.7.8"))

                def rejected():
                    body = http_request(admin_port, "GET", "/metrics").body.decode()
                    for line in body.splitlines():
                        if line.startswith("p2ptracker_http_source_connections_rejected_total "):
                            return float(line.split()[-1])
                    return 0.0

                deadline = time.monotonic() + 10
                while rejected() < 36 and time.monotonic() < deadline:
                    time.sleep(0.1)
                self.assertEqual(rejected(), 36)
                self.assertEqual(http_request(admin_port, "GET", "/torrents/").status, 200)
            finally:
                for c in held:
                    c.close()

    def test_a_bad_admin_listen_stops_start_up(self):
        data = tempfile.mkdtemp(prefix="p2ptracker-admin-listen-")
        self.addCleanup(shutil.rmtree, data, True)
        r = subprocess.run([BINARY, "serve", "--set", "host=127.0.0.1", "--set", "port=0",
                            "--set", "data_dir=" + data, "--set", "admin_listen=not-an-address:80"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("admin_listen", r.stdout + r.stderr)
        self.assertIn("not an IP address", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()

"""Issue 11: the original p2ptracker's own config files start the tracker.

The three files are tests/testdata/original/ (rebuilt from the table in
original-behaviour.md (f)). Each test copies one into a temporary directory
under its own name, verbatim except for the values listed where it is copied
(see ORIGINAL_SUBSTITUTIONS), so warnings still name the original line numbers.
No test sends traffic anywhere but loopback: every address in the files that
points off this machine is replaced by a loopback one, and the one host name
the tests make fail to resolve is refused by the resolver before it asks any
DNS server.
"""
import json
import os
import shutil
import tempfile
import unittest

from harness import (ROOT, Tracker, RedisServer, SmdbServer, free_port, http_request, loopback,
                     make_torrent, register_new, run_tool, wait_until)

ORIGINAL = os.path.join(ROOT, "tests", "testdata", "original")

DEFAULTCONFIG = "defaultconfig.py"
DEBUG_CFG = "etc/p2ptracker.debug.cfg"
PRODUCTION_CFG = "etc/p2ptracker.production.cfg"


def substitutions(name, port, redis_port, smdb_port, upload_path=None):
    """What each copy changes, as (KEY, value in the original, value in the copy):

    - PORT: a free port, still a quoted string as in the original ("5000", "80");
    - REDISPORT: the redis-server this test started (or a port nothing listens
      on); REDISHOST stays "localhost", which is loopback;
    - SMDB_URL: 192.168.135.20 and smdb-api.internal are off this machine, so
      the inventory service the test started (smdb_server.py) on loopback;
    - HOST: only production's "p2p-tracker.internal", which would be a DNS
      query, becomes "localhost" (a name, resolved from /etc/hosts);
      defaultconfig's "localhost" and debug's "127.0.0.1" stay;
    - UPLOAD_PATH (defaultconfig.py only): a temporary directory instead of
      /tmp/p2ptracker.
    """
    smdb = "'http://127.0.0.1:%d'" % smdb_port
    common = [("PORT", None, '"%d"' % port), ("REDISPORT", "6379", str(redis_port))]
    if name == DEFAULTCONFIG:
        return common + [
            ("SMDB_URL", "'http://192.168.135.20:5000'", smdb),
            ("UPLOAD_PATH", '"/tmp/p2ptracker"', '"%s"' % upload_path),
        ]
    if name == DEBUG_CFG:
        return common + [("SMDB_URL", "'http://smdb-api.internal'", smdb)]
    return common + [
        ("SMDB_URL", "'http://smdb-api.internal'", smdb),
        ("HOST", '"p2p-tracker.internal"', '"localhost"'),
    ]


def adapted_copy(name, directory, changes):
    """Copies original file `name` into `directory` (same base name) with each
    (KEY, old, new) of `changes` applied to its `KEY = old` line. old None: the
    key's value, whatever it is. Fails unless each key is set exactly once."""
    with open(os.path.join(ORIGINAL, name)) as f:
        lines = f.read().split("\n")
    for key, old, new in changes:
        hits = [i for i, line in enumerate(lines) if line.startswith(key + " = ")]
        assert len(hits) == 1, "%s: %s set %d times" % (name, key, len(hits))
        i = hits[0]
        value = lines[i][len(key) + 3:]
        assert old is None or value == old, "%s: %s is %r, not %r" % (name, key, value, old)
        lines[i] = "%s = %s" % (key, new)
    path = os.path.join(directory, os.path.basename(name))
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


class OriginalFileCase(unittest.TestCase):
    """Helpers: a temporary directory, a redis-server, adapted copies, trackers."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-original-")
        self.redis = RedisServer().start()
        self.smdb = SmdbServer().start()
        self.trackers = []

    def tearDown(self):
        for t in self.trackers:
            t.cleanup()
        self.redis.stop()
        self.smdb.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def copy(self, name, redis_port=None, port=None):
        port = port or free_port()
        self.upload = os.path.join(self.dir, "upload")
        changes = substitutions(name, port, redis_port or self.redis.port, self.smdb.port,
                                self.upload)
        return adapted_copy(name, self.dir, changes), port

    def start(self, path, env=None):
        """`p2ptracker serve FILE`, no --set: the file says everything. The
        working directory is the test's own, so the default data_dir (./data)
        of a file without UPLOAD_PATH lands there."""
        t = Tracker(config_file=path, positional=True, cwd=self.dir, env=env)
        t.settings = {}
        self.trackers.append(t)
        return t.start()

    def announce(self, t, h, rack, host, **params):
        r = t.announce(h, source=loopback(rack, host), **params)
        self.assertEqual(r.status, 200, r.body)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply)
        return reply

    def assert_serves(self, t, active_interval):
        """Registers a torrent, announces twice, checks intervals, the peer list
        and that REDISHOST's Redis got the transfer."""
        h = register_new(t)
        self.announce(t, h, 40, 1)
        reply = self.announce(t, h, 40, 2)
        self.assertEqual(reply[b"interval"], active_interval)
        self.assertIn(bytes([127, 0, 40, 1]) + (6881).to_bytes(2, "big"), reply[b"peers"])
        _, unknown = make_torrent("unknown", os.urandom(100))
        self.assertEqual(self.announce(t, unknown, 40, 1)[b"interval"], 5 * 60)
        H = h.hex()
        wait_until(lambda: H in (self.redis.command("SMEMBERS", "transfers") or []),
                   what="the registered transfer in Redis")
        wait_until(lambda: "127.0.40.2:6881" in (self.redis.command("SMEMBERS", H + ":peers:N")
                                                 or []),
                   what="the announced peer in Redis")
        return h


class OriginalFilesTest(OriginalFileCase):
    def test_defaultconfig_py(self):
        path, port = self.copy(DEFAULTCONFIG)
        t = self.start(path)
        self.assertEqual(t.port, port)
        # HOST = "localhost": a name, resolved; the log says to what.
        line = "listening on 127.0.0.1:%d" % port
        self.assertIn(line, t.logged(line))
        self.assertIn("(host localhost)", t.logged("(host localhost)"))
        self.assertIn("store=redis", t.output())  # REDISHOST implies it
        self.assert_serves(t, active_interval=15)
        # UPLOAD_PATH keeps the registered torrents.
        self.assertEqual(len(os.listdir(os.path.join(self.upload, "torrents"))), 1)
        # DEBUG = True: debug logging, which lists where each setting came from.
        line = "[debug] config: port = %d (%s:9, PORT)" % (port, path)
        self.assertIn(line, t.logged(line))
        self.assertIn("[debug] config: data_dir = \"%s\" (%s:17, UPLOAD_PATH)"
                      % (self.upload, path), t.output())
        # SMDB_URL turns the inventory on (asked once at start-up), without a
        # warning: the service answers.
        warnings = [ln for ln in t.output().splitlines() if "[warning]" in ln]
        self.assertEqual(warnings, [])
        line = "topology=[\"smdb\", \"subnet\"]"
        self.assertIn(line, t.logged(line))
        self.assertIn("127.0.0.1", self.smdb.asked())

    def test_set_topology_keeps_its_smdb_url_from_being_asked(self):
        # docs/configuration.md: SMDB_URL without TOPOLOGY means ["smdb", "subnet"];
        # `--set topology=subnet` keeps a file that names an old inventory from asking
        # it. The original's file verbatim: --print-config contacts nothing.
        path = os.path.join(ORIGINAL, DEFAULTCONFIG)
        for extra, topology in (([], 'topology = ["smdb", "subnet"]'),
                                (["--set", "topology=subnet"], 'topology = ["subnet"]')):
            r = run_tool(["serve", path, "--print-config"] + extra, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(topology + "\n", r.stdout)
            self.assertIn('smdb_url = "http://192.168.135.20:5000"', r.stdout)

    def test_debug_cfg(self):
        path, port = self.copy(DEBUG_CFG)
        t = self.start(path)
        line = "listening on 127.0.0.1:%d" % port
        self.assertIn(line, t.logged(line))
        # FCGI_SOCKET is unknown: a warning naming file, line and key, not an error.
        self.assertIn("[warning] config: %s:12: unknown key 'FCGI_SOCKET' ignored" % path,
                      t.output())
        self.assert_serves(t, active_interval=45)
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "data", "torrents")))
        self.assertNotIn("[debug]", t.output())  # DEBUG = False

    def test_production_cfg(self):
        path, port = self.copy(PRODUCTION_CFG)
        t = self.start(path)
        line = "listening on 127.0.0.1:%d" % port
        self.assertIn(line, t.logged(line))
        self.assertIn("(host localhost)", t.logged("(host localhost)"))
        warnings = [ln for ln in t.output().splitlines() if "[warning]" in ln]
        self.assertEqual(warnings, [])
        self.assert_serves(t, active_interval=45)
        # Issue 13: the production file's SMDB_URL groups hosts by the
        # service's cabinets, across /24s, as the original did.
        self.smdb.set("127.0.42.1", cabinet="cab-A12")
        self.smdb.set("127.0.43.1", cabinet="cab-A12")
        self.smdb.set("127.0.42.2", cabinet="cab-B07")
        h = register_new(t)
        for rack, host in ((42, 1), (43, 1), (42, 2)):
            self.announce(t, h, rack, host)
        racks = lambda: sorted(json.loads(
            t.get("/transfers/racks/%s.torrent" % h.hex()).body)["racks"])
        wait_until(lambda: racks() == ["cab-A12", "cab-B07"], what="racks by cabinet")
        # Redis, as the original kept it: HASH:rack:<cabinet>:N.
        H = h.hex()
        self.announce(t, h, 43, 1)
        wait_until(lambda: "127.0.43.1:6881" in (self.redis.command(
            "SMEMBERS", H + ":rack:cab-A12:N") or []), what="the cabinet's set in Redis")

    def test_environment_file_applies_on_top_of_the_file_given(self):
        # As the original: defaultconfig.py, then the file given, then
        # $P2PTRACKERCONFIG. Here defaultconfig.py is the file given and the
        # debug file comes from the variable; --set comes last.
        defaults, _ = self.copy(DEFAULTCONFIG)
        debug, port = self.copy(DEBUG_CFG)
        t = Tracker(config_file=defaults, positional=True, cwd=self.dir,
                    env={"P2PTRACKERCONFIG": debug})
        t.settings = {"maxpeers": 3}
        self.trackers.append(t)
        t.start()
        self.assertIn("config: %s, then %s on top of the built-in defaults, then --set"
                      % (defaults, debug), t.output())
        # The debug file's HOST, PORT, ACTIVE_INTERVAL and DEBUG win ...
        line = "listening on 127.0.0.1:%d " % port
        self.assertIn(line, t.logged(line))
        self.assertNotIn("[debug]", t.output())
        h = self.assert_serves(t, active_interval=45)
        # ... defaultconfig's UPLOAD_PATH stays, as the debug file does not set it ...
        self.assertEqual(len(os.listdir(os.path.join(self.upload, "torrents"))), 1)
        # ... and --set beats both: MAXPEERS is 30 and 35 in the files.
        for host in range(3, 8):
            reply = self.announce(t, h, 41, host)
        self.assertEqual(len(reply[b"peers"]) // 6, 3)

    def test_help_says_where_settings_come_from(self):
        r = run_tool(["serve", "--help"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("[FILE]", r.stdout)
        self.assertIn("P2PTRACKERCONFIG", r.stdout)
        self.assertIn("on top of the file given", r.stdout)

    def test_two_files_given_is_an_error(self):
        defaults, _ = self.copy(DEFAULTCONFIG)
        debug, _ = self.copy(DEBUG_CFG)
        r = run_tool(["serve", defaults, "--config", debug], timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn("two config files given", r.stderr)
        self.assertIn("P2PTRACKERCONFIG", r.stderr)

    def test_host_that_does_not_resolve_names_file_line_and_key(self):
        # A 64-character label is no valid DNS name: getaddrinfo fails without
        # sending a query, so this stays on the machine.
        name = "a" * 64 + ".invalid"
        path = adapted_copy(PRODUCTION_CFG, self.dir,
                            substitutions(PRODUCTION_CFG, free_port(), self.redis.port, self.smdb.port)[:-1]
                            + [("HOST", '"p2p-tracker.internal"', '"%s"' % name)])
        r = run_tool(["serve", path], timeout=20, cwd=self.dir)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("p2ptracker: cannot start: %s:7: key 'HOST': cannot resolve '%s'"
                      % (path, name), r.stderr)


class RedisComesLaterTest(OriginalFileCase):
    """REDISHOST names a Redis that is not there yet: the tracker starts and
    serves, says so in its log, /health and /metrics, and the mirror catches up
    once redis-server starts on that port."""

    def health(self, t):
        r = t.get("/health")
        return r.status, json.loads(r.body)

    def metric(self, t, name):
        for line in t.get("/metrics").body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError("no %s in /metrics" % name)

    def test_starts_without_redis_and_catches_up(self):
        redis_port = free_port()  # nothing listens there yet
        path, _ = self.copy(DEBUG_CFG, redis_port=redis_port)
        t = self.start(path)
        self.assertIn("store: cannot reach Redis at localhost:%d (Connection refused)"
                      % redis_port, t.output())
        status, body = self.health(t)
        self.assertEqual(status, 200)  # announces are served
        self.assertEqual(body["status"], "degraded")
        self.assertEqual(body["components"]["http"], "up")
        self.assertEqual(body["components"]["udp"], "up")
        store = body["components"]["store"]
        self.assertEqual((store["kind"], store["state"], store["target"], store["error"]),
                         ("redis", "down", "localhost:%d" % redis_port, "Connection refused"))
        self.assertRegex(store["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.metric(t, "p2ptracker_store_connected"), 0)

        # Served meanwhile: a registration and announces.
        h = register_new(t)
        self.assertEqual(self.announce(t, h, 42, 1)[b"interval"], 45)
        self.assertEqual(t.output().count("cannot reach Redis"), 1)  # once, not per write

        # redis-server comes up on that port.
        redis = RedisServer()
        redis.port = redis_port
        redis.start()
        try:
            H = h.hex()
            # The registration made while Redis was away is re-sent ...
            wait_until(lambda: H in (redis.command("SMEMBERS", "active_transfers") or []),
                       timeout=15, what="the registered transfer re-sent to Redis")
            self.assertTrue(redis.command("GET", H + ":registered"))
            wait_until(lambda: self.health(t)[1]["status"] == "ok", what="/health ok")
            status, body = self.health(t)
            self.assertEqual(status, 200)
            self.assertEqual(body["components"]["store"]["state"], "up")
            self.assertNotIn("error", body["components"]["store"])
            self.assertEqual(self.metric(t, "p2ptracker_store_connected"), 1)
            self.assertGreaterEqual(self.metric(t, "p2ptracker_store_resyncs_total"), 1)
            wait_until(lambda: "store: connection restored to localhost:%d" % redis_port
                       in t.output(), what="the log line about the restored connection")
            # ... and peers are written again from their next announce.
            self.announce(t, h, 42, 1)
            wait_until(lambda: "127.0.42.1:6881" in (redis.command("SMEMBERS", H + ":peers:N")
                                                     or []),
                       what="the peer's next announce in Redis")
        finally:
            redis.stop()


if __name__ == "__main__":
    unittest.main()

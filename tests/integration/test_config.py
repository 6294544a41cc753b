"""Command line, config files (TOML and the original's format), static topology."""
import os
import shutil
import signal
import tempfile
import tomllib
import unittest

from harness import (Tracker, RedisServer, run_tool, loopback, register_new, peers_of,
                     new_torrent, wait_until, write_atomically)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def hup_and_wait(self, t, marker):
        before = t.output().count(marker)
        t.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: t.output().count(marker) > before, timeout=10,
                   what="'%s' in the log after SIGHUP" % marker)

    def announce(self, t, h, rack, host, **params):
        r = t.announce(h, source=loopback(rack, host), **params)
        self.assertEqual(r.status, 200, r.body)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply)
        return reply


class CommandLineTest(TempDirTest):
    def test_help(self):
        r = run_tool(["--help"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("serve", r.stdout)
        r = run_tool(["serve", "--help"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--config", r.stdout)
        self.assertIn("--set", r.stdout)
        self.assertIn("--print-config", r.stdout)

    def test_unknown_flag_fails(self):
        r = run_tool(["serve", "--no-such-flag"], timeout=20)
        self.assertNotEqual(r.returncode, 0)

    def test_print_config_round_trips(self):
        r = run_tool(["serve", "--print-config"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = tomllib.loads(r.stdout)
        self.assertEqual(conf["port"], 6969)
        self.assertEqual(conf["max_repr_rack"], 2)
        self.assertEqual(conf["active_interval"], 45)
        self.assertEqual(conf["passive_interval"], 300)
        self.assertEqual(conf["maxpeers"], 35)
        self.assertEqual(conf["proxypass"], False)
        self.assertEqual(conf["open"], False)
        self.assertEqual(conf["store"], "memory")
        self.assertEqual(conf["topology"], ["subnet"])
        self.assertEqual(conf["data_dir"], "./data")
        for key in ("host", "redishost", "redisport", "smdb_url", "debug", "peer_timeout",
                    "trusted_networks", "trusted_proxies"):
            self.assertIn(key, conf)
        path = self.write("printed.toml", r.stdout)
        again = run_tool(["serve", "--config", path, "--print-config"], timeout=20)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, r.stdout)
        # Overrides show up in the printed file.
        r = run_tool(["serve", "--config", path, "--set", "maxpeers=12", "--print-config"],
                     timeout=20)
        self.assertEqual(tomllib.loads(r.stdout)["maxpeers"], 12)
        # And the printed file starts a tracker (on a free port).
        with Tracker(config_file=path) as t:
            h = register_new(t)
            self.assertEqual(self.announce(t, h, 80, 1)[b"interval"], 45)

    def test_bad_value_names_file_and_line(self):
        path = self.write("bad.toml", 'host = "127.0.0.1"\nmaxpeers = 10\nport = "abc"\n')
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path + ":3", r.stderr)
        self.assertIn("port", r.stderr)

    def test_out_of_range_value(self):
        path = self.write("range.toml", "# comment\nmax_repr_rack = 0\n")
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path + ":2", r.stderr)
        self.assertIn("max_repr_rack", r.stderr)

    def test_unknown_key_is_named(self):
        path = self.write("unknown.toml", 'port = 0\nprot = 7000\n')
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("prot", r.stderr)
        self.assertIn(path + ":2", r.stderr)

    def test_bad_override_is_named(self):
        r = run_tool(["serve", "--set", "maxpeers=lots", "--set", "port=0"], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("maxpeers", r.stderr)
        r = run_tool(["serve", "--set", "nonsense_key=1"], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nonsense_key", r.stderr)

    def test_missing_config_file(self):
        path = os.path.join(self.dir, "absent.toml")
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path, r.stderr)

    def test_a_topology_setting_that_fails_at_start_names_the_setting_and_where(self):
        """A topology setting serve cannot use is a refused configuration (status 2), and
        --print-config refuses it too: before, it printed the file that serve then refused."""
        absent = os.path.join(self.dir, "absent.map")
        path = self.write("t.toml", 'host = "127.0.0.1"\nport = 0\ndata_dir = "%s"\n'
                                    'topology = ["file"]\ntopology_file = "%s"\n'
                                    % (os.path.join(self.dir, "data"), absent))
        for print_config in ([], ["--print-config"]):
            r = run_tool(["serve", path] + print_config, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertIn("%s:5: key 'topology_file': rack map file '%s': cannot open"
                          % (path, absent), r.stderr)
            for url, why in (("https://127.0.0.1:1/", "https is not supported"),
                             ("127.0.0.1:1", "is not an http:// URL"),
                             ("http://127.0.0.1:99999/", "bad port '99999'")):
                r = run_tool(["serve", path, "--set", "topology=smdb", "--set",
                              "smdb_url=" + url] + print_config, timeout=20)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("--set 'smdb_url=%s': key 'smdb_url': " % url, r.stderr)
                self.assertIn(why, r.stderr)
            r = run_tool(["serve", path, "--set", "topology=exec", "--set",
                          "exec_command=" + absent] + print_config, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("key 'exec_command': exec_command '%s' is not an executable file"
                          % absent, r.stderr)
        # A usable one still prints.
        r = run_tool(["serve", path, "--set", "topology=smdb", "--set",
                      "smdb_url=http://127.0.0.1:1/", "--print-config"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('smdb_url = "http://127.0.0.1:1/"', r.stdout)

    def test_toml_file_values_apply(self):
        path = self.write("p.toml", "active_interval = 33\npassive_interval = 77\n"
                                    "maxpeers = 3\n")
        with Tracker(config_file=path) as t:
            h = register_new(t)
            for host in range(1, 6):
                reply = self.announce(t, h, 81, host)
            self.assertEqual(reply[b"interval"], 33)
            self.assertEqual(len(peers_of(reply)), 3)
            _, passive = new_torrent()
            self.assertEqual(self.announce(t, passive, 81, 1)[b"interval"], 77)

    def test_downloading_interval_under_the_tree_policy(self):
        """A host still downloading is asked downloading_interval under tree, and
        active_interval under every other policy; a seeder always active_interval."""
        path = self.write("d.toml", "active_interval = 40\ndownloading_interval = 10\n"
                                    "min_interval = 15\n")
        for policy, asked in (("tree", 10), ("chain", 40), ("original", 40), ("relay", 40)):
            with self.subTest(policy=policy), Tracker(config_file=path, policy=policy) as t:
                h = register_new(t)
                reply = self.announce(t, h, 83, 1, left=1000)
                self.assertEqual(reply[b"interval"], asked)
                self.assertEqual(reply[b"min interval"], min(15, asked))
                self.assertEqual(self.announce(t, h, 83, 2, left=0)[b"interval"], 40)

    def test_environment_variable_names_a_file_on_top(self):
        path = self.write("env.toml", "active_interval = 34\n")
        with Tracker(env={"P2PTRACKERCONFIG": path}) as t:
            h = register_new(t)
            self.assertEqual(self.announce(t, h, 82, 1)[b"interval"], 34)
        # As the original: the file given, then $P2PTRACKERCONFIG on top of it.
        other = self.write("other.toml", "active_interval = 36\npassive_interval = 77\n")
        with Tracker(config_file=other, env={"P2PTRACKERCONFIG": path}) as t:
            h = register_new(t)
            self.assertEqual(self.announce(t, h, 82, 2)[b"interval"], 34)
            _, passive = new_torrent()
            self.assertEqual(self.announce(t, passive, 82, 2)[b"interval"], 77)


class LegacyConfigTest(TempDirTest):
    def test_original_format_starts_and_applies(self):
        with RedisServer() as redis:
            path = self.write("p2ptracker.cfg", (
                'HOST = "127.0.0.1"\n'
                "PORT = 0\n"
                "REDISHOST = '127.0.0.1'\n"
                "REDISPORT = %d\n"
                "ACTIVE_INTERVAL = 30\n"
                "PASSIVE_INTERVAL = 5 * 60\n"
                "MAX_REPR_RACK = 2\n"
                "PROXYPASS = False\n"
                "DEBUG = False\n") % redis.port)
            t = Tracker(config_file=path)
            # Only what the file cannot say: where this test's data goes.
            t.settings = {"data_dir": t.data_dir}
            with t:
                self.assertIn("store=redis", t.logged("store=redis"))
                h = register_new(t)
                self.assertEqual(self.announce(t, h, 83, 1)[b"interval"], 30)
                _, passive = new_torrent()
                self.assertEqual(self.announce(t, passive, 83, 1)[b"interval"], 300)
                # Two representatives per rack, as the file says.
                self.announce(t, h, 83, 2)
                self.announce(t, h, 83, 3)
                self.announce(t, h, 84, 1)
                self.assertEqual(peers_of(self.announce(t, h, 83, 3)),
                                 {(loopback(83, 1), 6881), (loopback(83, 2), 6881)})
                # REDISHOST selected the Redis store: the transfer is there.
                wait_until(lambda: h.hex() in (redis.command("SMEMBERS", "transfers") or []),
                           what="the registered transfer in Redis")

    def test_legacy_bad_value_names_line(self):
        path = self.write("bad.cfg", "HOST = '127.0.0.1'\nPORT = 'abc'\n")
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path + ":2", r.stderr)
        self.assertIn("PORT", r.stderr)


    def test_a_refused_legacy_file_says_what_it_left_out(self):
        # The file sets smdb_url, in lower case, which the original's loader
        # never read: the refusal says so next to "needs smdb_url".
        path = self.write("bad3.cfg", 'TOPOLOGY = "smdb"\nsmdb_url = "http://127.0.0.1:1"\n')
        r = run_tool(["serve", "--config", path], timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs smdb_url", r.stderr)
        self.assertIn("'smdb_url' ignored: only UPPER_CASE names are settings", r.stderr)
        self.assertIn("did you mean 'SMDB_URL'?", r.stderr)


class StaticTopologyTest(TempDirTest):

    def test_map_file_and_reload(self):
        rack_map = os.path.join(self.dir, "racks.map")
        write_atomically(rack_map, "# two subnets, one rack\n127.0.1.0/24 r1\n127.0.2.0/24 r1\n")
        with Tracker(topology="static", topology_file=rack_map, max_repr_rack=1) as t:
            h = register_new(t)
            a, b, c, d = (1, 1), (2, 1), (2, 2), (1, 2)
            for rack, host in (a, b, c, d):
                self.announce(t, h, rack, host)
            ep = lambda x: (loopback(*x), 6881)
            # One rack r1 with one representative (a): c and d see only rack-mates,
            # from both subnets.
            self.assertEqual(peers_of(self.announce(t, h, *c)), {ep(a), ep(b), ep(d)})
            self.assertEqual(peers_of(self.announce(t, h, *d)), {ep(a), ep(b), ep(c)})

            # Split the rack in two and reload.
            write_atomically(rack_map, "127.0.1.0/24 r1\n127.0.2.0/24 r2\n")
            self.hup_and_wait(t, "topology reloaded")
            # r2 = {b, c}: b (first of r2 to be placed) represents it; c and d
            # now see only their own rack.
            self.assertEqual(peers_of(self.announce(t, h, *c)), {ep(b)})
            self.assertEqual(peers_of(self.announce(t, h, *d)), {ep(a)})
            # The new grouping holds for new swarms too.
            h2 = register_new(t)
            for rack, host in (a, b, c):
                self.announce(t, h2, rack, host)
            self.assertEqual(peers_of(self.announce(t, h2, *c)), {ep(b)})

            # A broken file on SIGHUP keeps the previous map.
            write_atomically(rack_map, "127.0.1.0/24 r1\nthis is not a map line\n")
            self.hup_and_wait(t, "reload failed")
            self.assertIn("keeping the previous map", t.logged("keeping the previous map"))
            self.assertEqual(peers_of(self.announce(t, h, *c)), {ep(b)})
            self.assertEqual(peers_of(self.announce(t, h, *d)), {ep(a)})
            self.assertIsNone(t.proc.poll(), "tracker died on a bad reload")

    def test_a_changed_map_file_is_reloaded_without_sighup(self):
        # Issue 12: the map follows its file, as an inventory export rewrites it.
        rack_map = os.path.join(self.dir, "racks.map")
        write_atomically(rack_map, "127.0.1.0/24 r1\n127.0.2.0/24 r1\n")
        with Tracker(topology="file", topology_file=rack_map, max_repr_rack=1) as t:
            h = register_new(t)
            a, b, c = (1, 1), (2, 1), (2, 2)
            for rack, host in (a, b, c):
                self.announce(t, h, rack, host)
            ep = lambda x: (loopback(*x), 6881)
            self.assertEqual(peers_of(self.announce(t, h, *c)), {ep(a), ep(b)})
            write_atomically(rack_map, "127.0.1.0/24 r1\n127.0.2.0/24 r2\n")
            wait_until(lambda: rack_map + " changed" in t.output(), timeout=10,
                       what="the map file's change noticed")
            self.assertIn("topology reloaded (" + rack_map + " changed", t.output())
            # b is r2's representative now; c sees only its new rack.
            self.assertEqual(peers_of(self.announce(t, h, *c)), {ep(b)})

    def test_sighup_with_subnet_topology_is_harmless(self):
        with Tracker() as t:
            h = register_new(t)
            self.announce(t, h, 86, 1)
            marker = "topology: nothing to reload (SIGHUP): racks come from the subnet rule"
            self.hup_and_wait(t, marker)
            self.hup_and_wait(t, marker)
            reply = self.announce(t, h, 86, 2)
            self.assertEqual(peers_of(reply), {(loopback(86, 1), 6881)})
            self.assertIsNone(t.proc.poll())

    def test_unknown_address_falls_back_to_subnet(self):
        rack_map = os.path.join(self.dir, "racks.map")
        write_atomically(rack_map, "127.0.1.0/24 r1\n127.0.2.0/24 r1\n")
        with Tracker(topology="static", topology_file=rack_map, max_repr_rack=1) as t:
            h = register_new(t)
            for host in (1, 2, 3):
                self.announce(t, h, 85, host)
            self.announce(t, h, 1, 1)
            # 127.0.85.x is in no map line: its /24 is its rack.
            self.assertEqual(peers_of(self.announce(t, h, 85, 3)),
                             {(loopback(85, 1), 6881), (loopback(85, 2), 6881)})

    def test_broken_map_at_start_is_refused(self):
        rack_map = self.write("broken.map", "127.0.1.0/24 r1\n127.0.2.0/33 r2\n")
        r = run_tool(["serve", "--set", "port=0", "--set", "data_dir=" + self.dir,
                      "--set", "topology=static", "--set", "topology_file=" + rack_map],
                     timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(rack_map + ":2", r.stderr)

    def test_static_without_file_is_refused(self):
        r = run_tool(["serve", "--set", "port=0", "--set", "topology=static"], timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("topology_file", r.stderr)


if __name__ == "__main__":
    unittest.main()

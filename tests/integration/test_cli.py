"""The operator subcommands (make-torrent, register, status, watch, simulate) of the real binary.

make-torrent's output is checked by libtorrent itself (Debian's python3-libtorrent)
and by hashing the payload here; register, status and watch run against a live
tracker whose swarms are driven by announces from 127.0.R.H (R: the rack under the
default /24 rule), and what they print is compared with the tracker's own JSON API.
"""
import hashlib
import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import libtorrent as lt

from harness import (BINARY, Tracker, bdecode, bencode, free_port, http_request, loopback,
                     make_torrent, register_new, run_tool)

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def tool_env(**extra):
    """The environment for the CLI: no P2PTRACKER_URL unless a test sets one."""
    env = dict(os.environ)
    env.pop("P2PTRACKER_URL", None)
    env.update(extra)
    return env


def run(args, **kw):
    kw.setdefault("env", tool_env())
    kw.setdefault("timeout", 120)
    return run_tool(args, **kw)


def run_on_pty(args, env=None, stream="stderr", timeout=60):
    """Runs the CLI with `stream` ("stdout" or "stderr") on a pseudo-terminal;
    returns (returncode, what the terminal received, the other stream)."""
    master, slave = pty.openpty()
    env = env or tool_env()
    env["TERM"] = "xterm"
    kw = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "env": env}
    kw[stream] = slave
    proc = subprocess.Popen([BINARY] + args, **kw)
    os.close(slave)
    received = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            received += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    pipe = proc.stdout if stream == "stderr" else proc.stderr
    other = pipe.read()
    pipe.close()
    proc.wait(10)
    return proc.returncode, received.decode(errors="replace"), other.decode(errors="replace")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def v1_pieces(data, piece_length):
    return b"".join(hashlib.sha1(data[i:i + piece_length]).digest()
                    for i in range(0, len(data), piece_length))


def file_list(ti):
    fs = ti.files()
    return [(fs.file_path(i), fs.file_size(i)) for i in range(fs.num_files())
            if not fs.file_flags(i) & lt.file_storage.flag_pad_file]


class MakeTorrentTest(unittest.TestCase):
    ANNOUNCE = "http://tracker.example:6969/announce"

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-cli-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, rel, data):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def make(self, args, **kw):
        kw.setdefault("cwd", self.dir)
        r = run(["make-torrent"] + args, **kw)
        return r

    def assert_made(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), HEX40, r.stdout)
        return r.stdout.strip()

    # --- payloads -----------------------------------------------------------------

    def test_udp_announces_first_http_after(self):
        self.write("p.bin", os.urandom(5000))
        r = self.make(["p.bin", "--tracker", self.ANNOUNCE, "--udp", "-o", "udp.torrent",
                       "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        udp = "udp://tracker.example:6969/announce"
        self.assertEqual(summary["announce_udp"], udp)
        ti = lt.torrent_info(self.path("udp.torrent"))
        self.assertEqual([(t.url, t.tier) for t in ti.trackers()],
                         [(udp, 0), (self.ANNOUNCE, 1)])
        # A tracker whose udp_port differs; --udp-port alone implies --udp.
        r = self.make(["p.bin", "--tracker", "http://[::1]:8080", "--udp-port", "7000",
                       "-o", "udp6.torrent", "-q"])
        self.assertEqual(r.returncode, 0, r.stderr)
        ti = lt.torrent_info(self.path("udp6.torrent"))
        self.assertEqual([t.url for t in ti.trackers()],
                         ["udp://[::1]:7000/announce", "http://[::1]:8080/announce"])
        r = self.make(["p.bin", "--tracker", self.ANNOUNCE, "--udp-port", "0", "-o", "x.torrent"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--udp-port", r.stderr)

    def test_single_file(self):
        payload = os.urandom(100000)
        self.write("payload.bin", payload)
        r = self.make(["payload.bin", "--tracker", self.ANNOUNCE, "--piece-size", "16K",
                       "-o", "out.torrent"])
        printed = self.assert_made(r)
        self.assertIn("1 file", r.stderr)
        raw = read(self.path("out.torrent"))
        ti = lt.torrent_info(self.path("out.torrent"))
        self.assertEqual(ti.name(), "payload.bin")
        self.assertEqual(file_list(ti), [("payload.bin", 100000)])
        self.assertEqual(ti.total_size(), 100000)
        self.assertEqual(ti.piece_length(), 16384)
        self.assertEqual(ti.num_pieces(), 7)
        self.assertTrue(ti.priv())
        self.assertEqual([t.url for t in ti.trackers()], [self.ANNOUNCE])
        # v1 only (a hybrid torrent would be announced twice), and the info-hash
        # libtorrent computes is the one printed.
        self.assertTrue(ti.info_hashes().has_v1())
        self.assertFalse(ti.info_hashes().has_v2())
        self.assertEqual(str(ti.info_hashes().v1), printed)
        meta = bdecode(raw)
        self.assertEqual(hashlib.sha1(bencode(meta[b"info"])).hexdigest(), printed)
        # The pieces really are the payload's SHA-1s.
        self.assertEqual(meta[b"info"][b"pieces"], v1_pieces(payload, 16384))
        self.assertEqual(meta[b"info"][b"private"], 1)
        # No temporary file left behind.
        self.assertEqual(sorted(os.listdir(self.dir)), ["out.torrent", "payload.bin"])

    def test_directory(self):
        files = {"a.txt": os.urandom(30000), "sub/b.bin": os.urandom(70001),
                 "sub/deeper/c": os.urandom(5), "empty": b""}
        for rel, data in files.items():
            self.write(os.path.join("app", rel), data)
        r = self.make(["app", "--tracker", self.ANNOUNCE, "--piece-size", "32768"])
        printed = self.assert_made(r)
        self.assertIn("4 files", r.stderr)
        # Default output: the payload's name + .torrent, in the current directory.
        out = self.path("app.torrent")
        ti = lt.torrent_info(out)
        self.assertEqual(ti.name(), "app")
        listed = file_list(ti)
        self.assertEqual(sorted(listed),
                         sorted((os.path.join("app", rel), len(d)) for rel, d in files.items()))
        self.assertEqual(ti.total_size(), sum(len(d) for d in files.values()))
        self.assertEqual(ti.piece_length(), 32768)
        self.assertTrue(ti.priv())
        self.assertEqual(str(ti.info_hashes().v1), printed)
        # Pieces cover the files concatenated in the torrent's order.
        content = b"".join(read(self.path(p)) for p, _ in listed)
        self.assertEqual(bdecode(read(out))[b"info"][b"pieces"],
                         v1_pieces(content, 32768))

    def test_symbolic_links_that_loop_or_lead_nowhere_are_left_out_others_said(self):
        # A `current -> ..` link repeated the payload 40 levels deep (41
        # files for one); a dangling link's file was left out in silence.
        self.write("app/bin/tool", os.urandom(3000))
        self.write("elsewhere/shared.bin", os.urandom(2000))
        os.symlink("..", self.path("app/bin/current"))        # to a directory it is in
        os.symlink("/", self.path("app/root"))                # to every directory it is in
        os.symlink(self.path("elsewhere"), self.path("app/lib"))  # followed, as before
        os.symlink(self.path("app"), self.path("elsewhere/back"))  # ... whose link loops back
        os.symlink("missing.conf", self.path("app/app.conf"))  # leads nowhere
        os.symlink("tool", self.path("app/bin/tool-link"))     # a file: followed
        for extra in ([], ["--name", "renamed"]):
            with self.subTest(extra=extra):
                r = self.make(["app", "--tracker", self.ANNOUNCE, "-o", "out.torrent",
                               "--force"] + extra)
                self.assert_made(r)
                top = extra[1] if extra else "app"
                listed = sorted(p for p, _ in file_list(lt.torrent_info(self.path("out.torrent"))))
                self.assertEqual(listed, sorted(os.path.join(top, rel) for rel in
                                                ("bin/tool", "bin/tool-link", "lib/shared.bin")))
                # Kept, but said: the file is shared twice, under both names.
                self.assertIn("warning: app/bin/tool-link is a symbolic link to app/bin/tool, "
                              "inside the payload: shared twice", r.stderr)
                self.assertNotIn("warning: app/lib is", r.stderr)  # outside the payload
                for link, why in (("app/bin/current", "a directory it is inside of"),
                                  ("app/root", "a directory it is inside of"),
                                  ("app/lib/back", "a directory it is inside of"),
                                  ("app/app.conf", "leads nowhere here")):
                    self.assertRegex(r.stderr, r"warning: skipped %s: a symbolic link .*%s"
                                     % (re.escape(link), re.escape(why)))

    def test_name_public_json_and_base_url(self):
        self.write("app/x.bin", os.urandom(20000))
        self.write("app/y.bin", os.urandom(20000))
        r = self.make(["app", "--tracker", "http://tracker.example:6969", "--name", "release-7",
                       "--no-private", "--json", "-o", "rel.torrent"])
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        ti = lt.torrent_info(self.path("rel.torrent"))
        self.assertEqual(ti.name(), "release-7")
        self.assertEqual(sorted(p for p, _ in file_list(ti)),
                         ["release-7/x.bin", "release-7/y.bin"])
        self.assertFalse(ti.priv())
        # The base URL is accepted and announces to its /announce.
        self.assertEqual([t.url for t in ti.trackers()], [self.ANNOUNCE])
        self.assertEqual(j["info_hash"], str(ti.info_hashes().v1))
        self.assertEqual(j["name"], "release-7")
        self.assertEqual(j["files"], 2)
        self.assertEqual(j["length"], 40000)
        self.assertEqual(j["piece_size"], ti.piece_length())
        self.assertFalse(j["private"])
        self.assertEqual(j["announce"], self.ANNOUNCE)
        # A single file renamed as well.
        payload = os.urandom(20000)
        self.write("one.bin", payload)
        r = self.make(["one.bin", "--tracker", self.ANNOUNCE, "--name", "renamed.bin"])
        self.assert_made(r)
        ti = lt.torrent_info(self.path("renamed.bin.torrent"))
        self.assertEqual(file_list(ti), [("renamed.bin", 20000)])

    def test_hybrid(self):
        self.write("p.bin", os.urandom(50000))
        r = self.make(["p.bin", "--tracker", self.ANNOUNCE, "--hybrid"])
        printed = self.assert_made(r)
        ti = lt.torrent_info(self.path("p.bin.torrent"))
        self.assertTrue(ti.info_hashes().has_v1())
        self.assertTrue(ti.info_hashes().has_v2())
        self.assertEqual(str(ti.info_hashes().v1), printed)
        r = self.make(["p.bin", "--tracker", self.ANNOUNCE, "--hybrid", "--v2", "-f"])
        self.assertNotEqual(r.returncode, 0)

    def test_output_inside_the_payload_is_not_hashed(self):
        self.write("app/a.bin", os.urandom(20000))
        r = self.make(["app", "--tracker", self.ANNOUNCE, "-o", "app/app.torrent"])
        self.assert_made(r)
        ti = lt.torrent_info(self.path("app", "app.torrent"))
        self.assertEqual(file_list(ti), [("app/a.bin", 20000)])

    def test_refuses_to_overwrite_without_force(self):
        self.write("p.bin", os.urandom(20000))
        first = self.assert_made(self.make(["p.bin", "--tracker", self.ANNOUNCE]))
        r = self.make(["p.bin", "--tracker", self.ANNOUNCE])
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        self.write("p.bin", os.urandom(20000))
        second = self.assert_made(self.make(["p.bin", "--tracker", self.ANNOUNCE, "--force"]))
        self.assertNotEqual(first, second)
        self.assertEqual(str(lt.torrent_info(self.path("p.bin.torrent")).info_hashes().v1),
                         second)

    def test_progress_bar_on_a_terminal(self):
        self.write("p.bin", os.urandom(300000))
        rc, tty, out = run_on_pty(["make-torrent", self.path("p.bin"), "--tracker", self.ANNOUNCE,
                                   "-o", self.path("p.torrent")], stream="stderr")
        self.assertEqual(rc, 0, tty)
        self.assertIn("hashing p.bin", tty)
        self.assertIn("100.0%", tty)
        self.assertIn("\r", tty)  # redrawn in place
        self.assertRegex(out.strip(), HEX40)

    # --- errors a person can act on -------------------------------------------------

    def test_errors(self):
        self.write("p.bin", os.urandom(1000))
        os.makedirs(self.path("empty-dir"))
        cases = [
            (["missing.bin", "--tracker", self.ANNOUNCE], "missing.bin: no such file or directory"),
            (["p.bin", "--tracker", self.ANNOUNCE, "-o", "/nonexistent-dir/p.torrent"],
             "cannot write /nonexistent-dir/p.torrent: No such file or directory"),
            (["p.bin", "--tracker", "ftp://tracker.example/announce"], "unsupported scheme 'ftp'"),
            (["p.bin", "--tracker", "http://tracker.example:99999/announce"],
             "port '99999' is not a number"),
            (["p.bin", "--tracker", self.ANNOUNCE, "--piece-size", "1000"],
             "expected a power of two"),
            (["p.bin"], "no tracker given: pass --tracker"),
            (["empty-dir", "--tracker", self.ANNOUNCE], "no files to share"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = self.make(args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(r.stdout, "")
        self.assertEqual(sorted(os.listdir(self.dir)), ["empty-dir", "p.bin"])

    def test_help(self):
        for cmd in ("make-torrent", "register", "status", "watch", "deactivate", "history"):
            with self.subTest(cmd=cmd):
                r = run([cmd, "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("--tracker", r.stdout)
                self.assertIn("P2PTRACKER_URL", r.stdout)
        r = run(["make-torrent", "--help"])
        self.assertIn("rack policy", r.stdout)  # why --private is the default


class TrackerCommandsTest(unittest.TestCase):
    """register, status, watch against one live tracker; each test its own torrent."""

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker().start()
        cls.base = "http://127.0.0.1:%d" % cls.t.port

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-cli-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def cli(self, args, **kw):
        return run(args + ["--tracker", self.base], **kw)

    def announce(self, info_hash, rack, host, left, event=None):
        r = self.t.announce(info_hash, source=loopback(rack, host), port=6881,
                            peer_id=("-PT0001-%04d%08d" % (rack, host)).encode(), left=left,
                            event=event)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(b"failure reason", r.bdecoded())

    def api(self, info_hash_hex, racks=True):
        r = self.t.get("/api/v1/transfers/%s.json%s" % (info_hash_hex, "?racks=1" if racks else ""))
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def new_transfer(self, size=40000):
        """Registers a fresh torrent; returns (hex info-hash, file name)."""
        name = "t-%s.torrent" % os.urandom(6).hex()
        h = register_new(self.t, name, size=size)
        return h.hex(), name

    # --- register ----------------------------------------------------------------------

    def made_torrent(self, announce):
        payload = os.path.join(self.dir, "build-%s.tar" % os.urandom(4).hex())
        with open(payload, "wb") as f:
            f.write(os.urandom(70000))
        r = run(["make-torrent", payload, "--tracker", announce, "-q",
                 "-o", payload + ".torrent"])
        self.assertEqual(r.returncode, 0, r.stderr)
        return payload + ".torrent", r.stdout.strip()

    def test_register_lists_it(self):
        path, made = self.made_torrent(self.t.url)
        # The announce URL works as --tracker as well as the base URL.
        r = run(["register", path, "--tracker", self.t.url])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), made)
        self.assertNotIn("warning", r.stderr)
        listed = self.t.get("/api/v1/torrents/").json()
        entry = [x for x in listed if x["file"] == os.path.basename(path)]
        self.assertEqual(len(entry), 1, listed)
        self.assertEqual(entry[0]["info_hash"], made)
        self.assertEqual(entry[0]["length"], 70000)
        self.assertTrue(entry[0]["private"])
        # The tracker serves the very bytes make-torrent wrote.
        got = self.t.get("/api/v1/torrents/" + os.path.basename(path))
        self.assertEqual(got.body, read(path))
        # Registering it again (issue 11: a re-run deploy script): success, nothing
        # changed; --exist-ok is still accepted.
        for extra in ([], ["--exist-ok"]):
            r = self.cli(["register", path] + extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), made)
            self.assertIn("already registered with this content", r.stderr)
        # Other content under the same name replaces it (the next release).
        other, other_hash = self.made_torrent(self.t.url)
        r = self.cli(["register", other, "--as", os.path.basename(path)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), other_hash)
        self.assertIn("replaced %s: its previous transfer %s moved to the history"
                      % (os.path.basename(path), made), r.stderr)
        self.assertEqual(self.t.get("/transfers/").json().get(other_hash), os.path.basename(path))
        self.assertNotIn(made, self.t.get("/transfers/").json())
        # An info-hash registered under another name: the tracker's 409, exit 1.
        r = self.cli(["register", other, "--as", "copy-of-it"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("already registered", r.stderr)
        self.assertIn("409", r.stderr)

    def test_register_json_env_and_name(self):
        path, made = self.made_torrent(self.t.url)
        r = run(["register", path, "--json", "--as", "renamed"],
                env=tool_env(P2PTRACKER_URL=self.base))
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["info_hash"], made)
        self.assertEqual(j["file"], "renamed.torrent")
        self.assertEqual(j["length"], 70000)
        self.assertIn(made, self.t.get("/api/v1/transfers/").json())

    def test_register_warns_about_another_tracker(self):
        path, made = self.made_torrent("http://elsewhere.example:6969/announce")
        r = self.cli(["register", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning", r.stderr)
        self.assertIn("elsewhere.example", r.stderr)

    def test_register_errors(self):
        bad = os.path.join(self.dir, "bad.torrent")
        with open(bad, "wb") as f:
            f.write(b"this is not bencode")
        r = self.cli(["register", bad])
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a valid .torrent file", r.stderr)
        r = self.cli(["register", os.path.join(self.dir, "missing.torrent")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.torrent: no such file", r.stderr)
        # The tracker's own refusal reaches the operator: a torrent larger than
        # max_torrent_bytes is not possible here, a duplicate info-hash is.
        data, _ = make_torrent("dup", os.urandom(20000), announce=self.t.url)
        for name in ("dup-a.torrent", "dup-b.torrent"):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)
        self.assertEqual(self.cli(["register", os.path.join(self.dir, "dup-a.torrent")]).returncode,
                         0)
        r = self.cli(["register", os.path.join(self.dir, "dup-b.torrent")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("is already registered as dup-a.torrent", r.stderr)
        self.assertEqual(r.stdout, "")

    # --- status ------------------------------------------------------------------------

    def populate(self, h):
        """Rack 1: a seeder and a half-done peer; rack 2: a fresh leecher."""
        raw = bytes.fromhex(h)
        self.announce(raw, 1, 1, 0, "started")
        self.announce(raw, 1, 1, 0, "completed")
        self.announce(raw, 1, 2, 20000, "started")
        self.announce(raw, 2, 1, 40000, "started")

    def test_status_list(self):
        h, name = self.new_transfer()
        self.populate(h)
        r = self.cli(["status"])
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:]}
        self.assertEqual(r.stdout.split()[:7],
                         ["INFO_HASH", "FILE", "PROGRESS", "PEERS", "SEEDERS", "STUCK", "COMPLETE"])
        g = self.api(h, racks=False)["global"]
        self.assertEqual(rows[h], [h, name, "%.1f%%" % g["progress"], "3", "1", "0", "no"])
        self.assertEqual(g["peers"], 3)
        r = self.cli(["status", "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = {x["info_hash"]: x for x in json.loads(r.stdout)}
        self.assertEqual(listed[h], g)
        self.assertEqual(set(listed), set(self.t.get("/api/v1/transfers/").json()))

    def test_status_one_transfer(self):
        h, name = self.new_transfer()
        self.populate(h)
        api = self.api(h)
        for arg in (h, h.lower(), name):  # the info-hash in either case, or the file name
            with self.subTest(arg=arg):
                r = self.cli(["status", arg])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(h, r.stdout)
                table = r.stdout[r.stdout.index("RACK"):].splitlines()
                self.assertEqual(table[0].split(),
                                 ["RACK", "N", "R", "S", "PROGRESS", "STUCK", "COMPLETE"])
                rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
                self.assertEqual(set(rows), set(api["racks"]))
                self.assertEqual(set(rows), {"127.0.1.0/24", "127.0.2.0/24"})
                for rack, v in api["racks"].items():
                    self.assertEqual(rows[rack], [str(v["N"]), str(v["R"]), str(v["S"]),
                                                  "%.1f%%" % v["progress"], str(v["stuck"]),
                                                  "yes" if v["complete"] else "no"])
        self.assertEqual(api["racks"]["127.0.1.0/24"]["N"], 2)
        self.assertEqual(api["racks"]["127.0.1.0/24"]["S"], 1)
        self.assertEqual(api["racks"]["127.0.1.0/24"]["progress"], 75.0)
        r = self.cli(["status", h, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), self.api(h))

    def test_issue14_deactivate_by_file_name_or_hash(self):
        path, made = self.made_torrent(self.t.url)
        self.assertEqual(self.cli(["register", path]).returncode, 0)
        self.announce(bytes.fromhex(made), 30, 1, 0, "completed")
        r = self.cli(["deactivate", os.path.basename(path)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), made)
        self.assertIn("deactivated %s (%s): 1 peers, 1 seeders, 1 completed"
                      % (os.path.basename(path), made), r.stderr)
        self.assertNotIn(made, self.t.get("/transfers/").json())
        history = self.t.get("/api/v1/history").json()["deploys"]
        self.assertIn(made, [d["info_hash"] for d in history])
        # Gone now: exit 1 with the tracker's word, by hash as by name.
        for arg in (made, os.path.basename(path)):
            r = self.cli(["deactivate", arg])
            self.assertEqual(r.returncode, 1, arg)
            self.assertIn("p2ptracker deactivate:", r.stderr)
        # --json: the history record.
        path2, made2 = self.made_torrent(self.t.url)
        self.assertEqual(self.cli(["register", path2]).returncode, 0)
        r = self.cli(["deactivate", made2, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["info_hash"], made2)
        # history: both deploys, newest first, as the API has them.
        r = self.cli(["history"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ENDED", "FILE", "INFO_HASH", "COMPLETED", "DURATION",
                                            "RACKS"])
        rows = {l.split()[2]: l.split() for l in lines[1:]}
        self.assertEqual(rows[made][1:], [os.path.basename(path), made, "1", "/", "1", "-", "1"])
        self.assertEqual(rows[made2][3:6], ["0", "/", "0"])
        self.assertLess(r.stdout.index(made2), r.stdout.index(made))
        r = self.cli(["history", "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), self.t.get("/api/v1/history").json())

    def test_status_unknown(self):
        r = self.cli(["status", "AB" * 20])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no registered transfer has info_hash " + "ab" * 20, r.stderr)
        self.assertIn("404", r.stderr)
        r = self.cli(["status", "nothing-like-this"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("neither an info-hash", r.stderr)

    # --- watch -------------------------------------------------------------------------

    def test_watch_exits_0_when_complete(self):
        h, _ = self.new_transfer()
        raw = bytes.fromhex(h)
        hosts = [(r, x) for r in (3, 4) for x in (1, 2)]
        for r, x in hosts:
            self.announce(raw, r, x, 40000, "started")
        proc = subprocess.Popen([BINARY, "watch", h, "--tracker", self.t.url, "--interval", "0.2",
                                 "--timeout", "60"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=tool_env())
        still_running = []

        def deploy():
            time.sleep(0.6)
            for i, (r, x) in enumerate(hosts):
                self.announce(raw, r, x, 10000)
                time.sleep(0.3)
                # Every peer but this one has finished: watch must still wait.
                still_running.append(proc.poll() is None)
                self.announce(raw, r, x, 0, "completed")
                time.sleep(0.1)

        driver = threading.Thread(target=deploy)
        driver.start()
        out, err = proc.communicate(timeout=90)
        driver.join()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(still_running, [True] * len(hosts))
        self.assertIn("complete: 4 hosts finished, 4 of 4 peers seeding in 2 racks", err)
        lines = out.splitlines()
        # Not a terminal: plain lines, one per change, ending with the complete state.
        self.assertNotIn("\x1b", out)
        self.assertTrue(any("0.0% peers 4 seeders 0" in l for l in lines), out)
        overall = [l for l in lines if " rack " not in l]
        self.assertIn("100.0% peers 4 seeders 4 leechers 0 stuck 0 racks 2/2 complete yes",
                      overall[-1])
        self.assertTrue(any("rack 127.0.3.0/24 100.0% N 2" in l for l in lines), out)

    def test_watch_json_lines(self):
        h, _ = self.new_transfer()
        raw = bytes.fromhex(h)
        self.announce(raw, 5, 1, 0, "started")
        self.announce(raw, 5, 1, 0, "completed")
        r = self.cli(["watch", h, "--json", "--timeout", "30"])
        self.assertEqual(r.returncode, 0, r.stderr)
        docs = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(len(docs), 1)
        self.assertTrue(docs[0]["global"]["complete"])
        self.assertEqual(docs[0]["racks"]["127.0.5.0/24"]["S"], 1)

    def test_watch_timeout(self):
        h, _ = self.new_transfer()
        self.announce(bytes.fromhex(h), 6, 1, 30000, "started")
        start = time.time()
        r = self.cli(["watch", h, "--timeout", "1.5", "--interval", "0.2"])
        took = time.time() - start
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("timed out after 1.5s: 25.0% done, 0 hosts finished, 0 of 1 peers seeding",
                      r.stderr)
        self.assertIn("127.0.6.0/24 (25.0%)", r.stderr)
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 15)

    def test_watch_min_seeders(self):
        h, _ = self.new_transfer()
        raw = bytes.fromhex(h)
        self.announce(raw, 7, 1, 0, "completed")
        r = self.cli(["watch", h, "--timeout", "1", "--interval", "0.2", "--min-seeders", "2"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("fewer than --min-seeders 2", r.stderr)
        self.announce(raw, 7, 2, 0, "completed")
        r = self.cli(["watch", h, "--timeout", "10", "--min-seeders", "2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # Issue 14: hosts that finished and left still count.
        for host in (1, 2):
            self.announce(raw, 7, host, 0, "stopped")
        r = self.cli(["watch", h, "--timeout", "10", "--min-seeders", "2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("complete: 2 hosts finished, 0 of 0 peers seeding", r.stderr)
        r = self.cli(["status", h])
        self.assertIn("complete: yes", r.stdout)
        self.assertIn("reached    2 of 2 hosts that joined finished", r.stdout)

    def test_watch_unknown_hash(self):
        r = self.cli(["watch", "CD" * 20, "--timeout", "5"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no registered transfer has info_hash " + "cd" * 20, r.stderr)

    def test_watch_deactivated_while_watching(self):
        h, _ = self.new_transfer()
        self.announce(bytes.fromhex(h), 8, 1, 40000, "started")
        proc = subprocess.Popen([BINARY, "watch", h, "--tracker", self.base, "--interval", "0.2",
                                 "--timeout", "60"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=tool_env())
        time.sleep(1)
        self.assertIsNone(proc.poll())
        self.assertEqual(http_request(self.t.port, "DELETE", "/api/v1/transfers/%s.json" % h).status, 200)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("deactivated or deregistered", err)

    def test_watch_on_a_terminal(self):
        h, _ = self.new_transfer()
        raw = bytes.fromhex(h)
        self.announce(raw, 9, 1, 0, "completed")
        self.announce(raw, 10, 1, 0, "completed")
        rc, tty, err = run_on_pty(["watch", h, "--tracker", self.base, "--timeout", "30"],
                                  stream="stdout")
        self.assertEqual(rc, 0, err)
        self.assertIn("\x1b[2K", tty)  # lines cleared and redrawn in place
        self.assertIn("127.0.9.0/24", tty)
        self.assertIn("127.0.10.0/24", tty)
        self.assertIn("racks 2/2 complete", tty)

    def test_watch_survives_a_tracker_restart(self):
        """A deploy outlives a tracker restart: watch keeps polling through the
        outage (the registry is on disk) and exits 0 once the swarm completes."""
        data_dir = tempfile.mkdtemp(prefix="p2ptracker-cli-restart-")
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        port = free_port()
        first = Tracker(data_dir=data_dir, port=port).start()
        try:
            h = register_new(first).hex()
            raw = bytes.fromhex(h)
            first.announce(raw, source=loopback(11, 1), left=40000, event="started")
            proc = subprocess.Popen([BINARY, "watch", h, "--tracker", "127.0.0.1:%d" % port,
                                     "--interval", "0.2", "--timeout", "60"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=tool_env())
            time.sleep(0.8)
        finally:
            first.cleanup()
        time.sleep(1)
        self.assertIsNone(proc.poll(), "watch gave up during the outage")
        second = Tracker(data_dir=data_dir, port=port).start()
        try:
            second.announce(raw, source=loopback(11, 1), left=0, event="completed")
            out, err = proc.communicate(timeout=30)
        finally:
            second.cleanup()
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("cannot reach tracker at 127.0.0.1:%d" % port, err)
        self.assertIn("retrying", err)
        self.assertIn("complete: 1 hosts finished, 1 of 1 peers seeding", err)

    def test_a_restart_or_a_crash_keeps_what_the_deploy_reached(self):
        """The deploy's milestones and finished hosts outlive a restart (SIGTERM)
        and a crash (SIGKILL once data_dir/progress.json holds them): `watch
        --min-seeders` completes, the stats keep the first start and the
        completions, and the history records every completed host. Before,
        a restart lost them: `watch` never saw the deploy complete again."""
        data_dir = tempfile.mkdtemp(prefix="p2ptracker-cli-progress-")
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        port = free_port()

        def stats(tracker):
            r = http_request(tracker.port, "GET", "/api/v1/transfers/%s" % h)
            self.assertEqual(r.status, 200, r.body)
            return json.loads(r.body)["global"]

        first = Tracker(data_dir=data_dir, port=port).start()
        try:
            raw = register_new(first)
            h = raw.hex()
            first.announce(raw, source=loopback(12, 1), left=40000, event="started")
            first.announce(raw, source=loopback(12, 2), left=40000, event="started")
            first.announce(raw, source=loopback(12, 1), left=0, event="completed")
            before = stats(first)
        finally:
            first.cleanup()  # SIGTERM: the progress is written on the way out
        self.assertEqual(before["completed"], 1)

        second = Tracker(data_dir=data_dir, port=port).start()
        try:
            after = stats(second)
            for key in ("first_start", "first_complete", "completed", "completions"):
                self.assertEqual(after[key], before[key], key)
            # Both come back as seeders: 12.2 finished while the tracker was away.
            second.announce(raw, source=loopback(12, 1), left=0)
            second.announce(raw, source=loopback(12, 2), left=0)
            r = run(["watch", h, "--tracker", "127.0.0.1:%d" % port, "--min-seeders", "2",
                     "--timeout", "20"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("complete: 2 hosts finished, 2 of 2 peers seeding", r.stderr)
            now = stats(second)
            self.assertEqual(now["completed"], 2)
            self.assertEqual(now["peers_seen"], 2)  # not 4: each came back, none joined twice
            self.assertEqual(now["first_start"], before["first_start"])
            # A crash: once the periodic write holds the second completion.
            progress = os.path.join(data_dir, "progress.json")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with open(progress) as f:
                    if json.load(f)["transfers"][0]["completed"] == 2:
                        break
                time.sleep(0.2)
            second.stop(signal.SIGKILL)
        finally:
            second.cleanup()

        third = Tracker(data_dir=data_dir, port=port).start()
        try:
            files = json.loads(http_request(third.port, "GET", "/api/v1/transfers/").body)
            r = http_request(third.port, "DELETE", "/api/v1/torrents/%s" % files[h])
            self.assertEqual(r.status, 200, r.body)
            r = http_request(third.port, "GET", "/api/v1/history")
            record = json.loads(r.body)["deploys"][0]
            self.assertEqual(record["completed"], 2)
            self.assertEqual(record["first_start"], before["first_start"])
        finally:
            third.cleanup()

    # --- an unreachable tracker ---------------------------------------------------------

    def test_unreachable_tracker(self):
        port = free_port()  # nothing listens there
        path, _ = self.made_torrent("http://127.0.0.1:%d/announce" % port)
        for args in (["status"], ["status", "AB" * 20], ["watch", "AB" * 20],
                     ["register", path]):
            with self.subTest(args=args):
                r = run(args + ["--tracker", "http://127.0.0.1:%d/announce" % port])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("cannot reach tracker at 127.0.0.1:%d: Connection refused" % port,
                              r.stderr)


    # --- something else answering at --tracker ------------------------------------------

    def test_a_reply_not_shaped_as_the_trackers_is_shown_or_refused_never_a_crash(self):
        # `deactivate app` against a server answering [{"file": 3}] ended in
        # "terminate called ... type_error" (nlohmann's value()); and names in
        # a reply reached the terminal with their escape sequences.
        h = "ab" * 20
        esc = "\x1b]0;pwned\x07\x1b[2J\r\u009b"
        replies = [
            [{"file": 3, "info_hash": 5, "name": []}],
            {h: 5, "global": {"name": esc, "file": 5, "peers": -3, "progress": "x",
                              "complete": 1, "finished": "z"},
             "racks": {esc: "x", "s": {"N": "1"}}, "levels": {"g": 3, esc: {"representatives": 5}},
             "registration": "replaced", "replaced": 7, "files": "x", "length": -1,
             "info_hash": ["a"]},
            {"error": 5},
            "text",
        ]
        path, _ = self.made_torrent("http://127.0.0.1:1/announce")
        for reply in replies:
            body = json.dumps(reply).encode()

            class Handler(http.server.BaseHTTPRequestHandler):
                def answer(self):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                do_GET = do_POST = do_DELETE = answer

                def log_message(self, *args):
                    pass

            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = "http://127.0.0.1:%d" % server.server_address[1]
            try:
                for args in (["status"], ["status", "app"], ["status", h], ["deactivate", "app"],
                             ["deactivate", h], ["watch", h, "--timeout", "1"],
                             ["register", path]):
                    with self.subTest(reply=reply, args=args):
                        r = run(args + ["--tracker", url])
                        self.assertIn(r.returncode, (0, 1, 2), r.stderr)
                        self.assertNotIn("terminate called", r.stderr)
                        self.assertNotIn("internal error", r.stderr)
                        for stream in (r.stdout, r.stderr):
                            self.assertNotIn("\x1b", stream)
                            self.assertNotIn("\r", stream)
                            self.assertNotIn("\u009b", stream)
                        if r.returncode == 1:
                            self.assertIn("p2ptracker %s: " % args[0], r.stderr)
            finally:
                server.shutdown()
                server.server_close()


class SimulateCommandTest(unittest.TestCase):
    """p2ptracker simulate over a fleet in levels, through the real binary's flags."""

    FLEET = ["--racks", "8", "--hosts-per-rack", "4", "--datacenters", "2",
             "--rows-per-datacenter", "2", "--row-uplink", "1Gbit", "--dc-uplink", "1Gbit",
             "--payload", "16MiB", "--piece-size", "1MiB"]

    def simulate(self, *args):
        return run_tool(["simulate"] + self.FLEET + list(args), timeout=120)

    def test_levels_report_copies_per_level_and_the_lower_bound(self):
        r = self.simulate("--policies", "original/1,original/1+levels", "--max-repr-levels",
                          "1,1", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        runs = {x["policy"]: x for x in json.loads(r.stdout)["runs"]}
        self.assertEqual(set(runs), {"original/1", "original/1+levels"})
        shaped, racks_only = runs["original/1+levels"], runs["original/1"]
        self.assertTrue(shaped["tracker_levels"])
        self.assertFalse(racks_only["tracker_levels"])
        self.assertEqual(shaped["max_repr_up"][:2], [1, 1])
        for run in (shaped, racks_only):
            self.assertTrue(run["complete"])
            self.assertEqual([(lv["level"], lv["groups"]) for lv in run["levels"]],
                             [("rack", 8), ("row", 4), ("datacenter", 2)])
            # 16 MiB at the 100 Mbit/s origin cap, plus four hops of a 1 MiB piece.
            self.assertAlmostEqual(run["lower_bound_seconds"],
                                   (16 + 4) * 1048576 / 12.5e6, places=6)
            self.assertGreater(run["deploy_seconds"], run["lower_bound_seconds"])
        by_level = {lv["level"]: lv["amplification"]["max"] for lv in shaped["levels"]}
        for level, copies in by_level.items():
            self.assertAlmostEqual(copies, 1.0, places=6, msg=level)
        # Racks only: every rack's representative pulls from any other rack.
        row = next(lv for lv in racks_only["levels"] if lv["level"] == "row")
        self.assertGreater(row["amplification"]["max"], 1.2)

    def test_the_table_prints_a_line_per_level(self):
        r = self.simulate("--policies", "relay/2+levels")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 datacenter(s) (uplink 1 Gbit/s), 2 row(s) each (uplink 1 Gbit/s)",
                      r.stdout)
        self.assertIn("VS_LB", r.stdout)
        self.assertRegex(r.stdout, r"relay/2\+levels +32 +8 ")
        self.assertRegex(r.stdout, r"\n +rows: +4 ")
        self.assertRegex(r.stdout, r"\n +datacenters: +2 ")

    def test_the_docs_example_runs_as_written(self):
        # docs/simulator.md's command for a fleet in levels, copied as a user would.
        docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                            "simulator.md")
        with open(docs) as f:
            text = f.read()
        m = re.search(r"^build/p2ptracker (simulate --datacenters 4 [^\n]*\\\n[^#\n]*)", text,
                      re.M)
        self.assertIsNotNone(m, "the levels example is gone from docs/simulator.md")
        args = m.group(1).replace("\\\n", " ").split()
        r = run_tool(args, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\noriginal/2 +2000 +50 ")
        self.assertRegex(r.stdout, r"\nrelay/2\+levels +2000 +50 ")
        self.assertIn("4 datacenter(s) (uplink 10 Gbit/s)", r.stdout)
        self.assertNotIn("INCOMPLETE", r.stdout)

    def test_the_docs_failure_example_runs_as_written(self):
        # docs/simulator.md's hung representative of a row and datacenter, copied as a user
        # would: every policy finishes, leaving out only the failed host.
        docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                            "simulator.md")
        with open(docs) as f:
            text = f.read()
        m = re.search(r"^build/p2ptracker (simulate --datacenters 2 [^\n]*\\\n"
                      r"[^\n]*\\\n[^\n]*--fail-mode stall)$", text, re.M)
        self.assertIsNotNone(m, "the failure example is gone from docs/simulator.md")
        args = m.group(1).replace("\\\n", " ").split()
        r = run_tool(args, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        for policy in ("original/2+levels", "standby/2+levels", "relay/2+levels"):
            line = next((ln for ln in r.stdout.splitlines() if ln.startswith(policy + " ")), None)
            self.assertIsNotNone(line, (policy, r.stdout))
            self.assertNotIn("INCOMPLETE", line)
            self.assertIn("(1 failed host(s) left out)", line)

    def test_bad_flags_are_named(self):
        for args, message in (
                (["--policies", "sideways/2+levels"], "--policies: sideways/2+levels"),
                (["--max-repr-levels", "1,0"], "--max-repr-levels 1,0"),
                (["--max-repr-levels", "1,1,1,1"], "--max-repr-levels 1,1,1,1")):
            r = self.simulate(*args)
            self.assertEqual(r.returncode, 1, (args, r.stdout))
            self.assertIn(message, r.stderr)
        r = run_tool(["simulate", "--row-uplink", "fast"])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("--row-uplink fast: not a rate", r.stderr)
        r = run_tool(["simulate", "--rows-per-datacenter", "2", "--racks-per-row", "3"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("excludes", r.stderr)


if __name__ == "__main__":
    unittest.main()

"""Issue 14: the README's Quick start works as written.

The commands between <!-- quickstart:begin --> and <!-- quickstart:end --> in README.md are run
as the README gives them, with these substitutions only:
  - TRACKER:6969 -> 127.0.0.1:<a free port> (the tracker this test starts);
  - `make run` -> `make -C <source tree> run BUILD_DIR=<the build under test>
    ARGS="--set port=<that port> --set data_dir=<a temp dir>"`: the same port, and the test's
    data kept out of the source tree;
  - `build/p2ptracker` -> the binary under test (the README runs from the source tree).
Commands 1 to 4 run on "the build server" (a temp directory holding app.tar), command 5 on
"a target server" (another directory, with only app.torrent). The test passes when the target
has the payload's bytes and the tracker counted its completion."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, ROOT, file_tail, free_port, http_request, stop_process, wait_until

README = os.path.join(ROOT, "README.md")


def quickstart_commands():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- quickstart:begin -->\s*```sh\n(.*?)```\s*<!-- quickstart:end -->", text,
                  re.S)
    if not m:
        raise AssertionError("README.md has no quickstart block between its markers")
    logical, cur = [], ""
    for line in m.group(1).splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        # A trailing comment, as bash reads it (none of the commands quotes a '#').
        stripped = re.sub(r"\s+#.*$", "", cur).strip()
        cur = ""
        if stripped and not stripped.startswith("#"):
            logical.append(stripped)
    return logical


class ReadmeQuickstartTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="p2ptracker-quickstart-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = os.path.join(self.dir, "build-server")
        self.target = os.path.join(self.dir, "target")
        os.makedirs(self.server)
        os.makedirs(self.target)
        self.port = free_port()
        self.procs = []
        self.logs = []
        self.addCleanup(self.stop_all)

    def stop_all(self):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            stop_process(p, signal.SIGKILL, 10)
        for log in self.logs:
            log.close()

    def substitute(self, cmd):
        cmd = cmd.replace("TRACKER:6969", "127.0.0.1:%d" % self.port)
        cmd = cmd.replace("make run", 'make -C %s run BUILD_DIR=%s ARGS="--set port=%d '
                          '--set data_dir=%s"' % (ROOT, os.path.relpath(os.path.dirname(BINARY), ROOT),
                                                   self.port, os.path.join(self.dir, "data")))
        return re.sub(r"(^|\s)build/p2ptracker", r"\1" + BINARY, cmd)

    def run_cmd(self, cmd, cwd):
        """Runs one command as bash would; a trailing & starts it in the background."""
        background = cmd.endswith("&")
        cmd = self.substitute(cmd.rstrip("&").strip())
        log = open(os.path.join(self.dir, "cmd%d.log" % len(self.procs)), "wb")
        self.logs.append(log)
        p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, stdout=subprocess.PIPE if not background
                             else log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        if background:
            return p, None
        out, _ = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, "%s\n%s" % (cmd, out.decode(errors="replace")))
        return p, out.decode()

    def test_quickstart_as_written(self):
        cmds = quickstart_commands()
        self.assertEqual(len(cmds), 5, cmds)
        tracker, make_torrent, register, seed, target = cmds
        self.assertTrue(tracker.startswith("make run") and tracker.endswith("&"), tracker)
        self.assertTrue(seed.endswith("&"), seed)

        payload = os.urandom(3 * 1024 * 1024 + 123)
        with open(os.path.join(self.server, "app.tar"), "wb") as f:
            f.write(payload)
        make_run, _ = self.run_cmd(tracker, ROOT)
        # make run first checks the Debian packages and the build (both done by now).
        try:
            wait_until(lambda: self.tracker_up() or make_run.poll() is not None, timeout=300,
                       interval=0.2, what="make run's tracker")
            self.assertIsNone(make_run.poll(), "make run exited")
        except AssertionError:
            raise AssertionError("make run's tracker did not answer:\n" +
                                 file_tail(os.path.join(self.dir, "cmd0.log")))

        _, made = self.run_cmd(make_torrent, self.server)
        _, registered = self.run_cmd(register, self.server)
        info_hash = registered.strip().splitlines()[-1]
        self.assertRegex(info_hash, r"^[0-9a-f]{40}$")
        self.assertIn(info_hash, made)
        self.run_cmd(seed, self.server)
        shutil.copy(os.path.join(self.server, "app.torrent"), self.target)
        target_proc, _ = self.run_cmd(target + " &", self.target)

        def completed():
            r = http_request(self.port, "GET", "/api/v1/transfers/" + info_hash)
            return r.status == 200 and r.json()["global"]["completed"] >= 1
        wait_until(completed, timeout=90, interval=0.5, what="the target's completed event")
        with open(os.path.join(self.target, "app.tar"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(payload).digest())
        # The target is still serving its rack (--seed-time), as the README says.
        self.assertIsNone(target_proc.poll())

    def tracker_up(self):
        try:
            return http_request(self.port, "GET", "/health", timeout=1).status == 200
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()

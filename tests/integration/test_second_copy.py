"""Issue 14: a second tracker started by mistake is refused, with a message that says why:
on a port another process serves (the workers' SO_REUSEPORT would otherwise let it join
silently and split the clients between two swarms), or on a data_dir another tracker uses."""
import os
import socket
import subprocess
import tempfile
import shutil
import unittest

from harness import BINARY, Tracker, free_port, register_new


def start_fails(*args):
    r = subprocess.run([BINARY, "serve", "--set", "host=127.0.0.1", "--set", "workers=1"]
                       + list(args), capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


class SecondCopyTest(unittest.TestCase):

    def test_same_port_is_refused_and_the_first_keeps_serving(self):
        port = free_port()
        with Tracker(port=port) as first:
            h = register_new(first)
            other = tempfile.mkdtemp(prefix="p2ptracker-second-")
            self.addCleanup(shutil.rmtree, other, True)
            code, out = start_fails("--set", "port=%d" % port, "--set", "data_dir=" + other)
            self.assertNotEqual(code, 0, out)
            self.assertIn("TCP port %d on 127.0.0.1 is already in use" % port, out)
            # The first one still has every transfer, and answers every request.
            for _ in range(5):
                self.assertIn(h.hex(), first.get("/transfers/").json())

    def test_udp_port_taken_by_another_program(self):
        port = free_port()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", port))
        self.addCleanup(s.close)
        d = tempfile.mkdtemp(prefix="p2ptracker-second-")
        self.addCleanup(shutil.rmtree, d, True)
        code, out = start_fails("--set", "port=%d" % port, "--set", "data_dir=" + d)
        self.assertNotEqual(code, 0, out)
        self.assertIn("UDP port %d on 127.0.0.1 is already in use" % port, out)

    def test_same_data_dir_is_refused(self):
        d = tempfile.mkdtemp(prefix="p2ptracker-second-")
        self.addCleanup(shutil.rmtree, d, True)
        with Tracker(data_dir=d) as first:
            code, out = start_fails("--set", "port=0", "--set", "data_dir=" + d)
            self.assertNotEqual(code, 0, out)
            self.assertIn("is in use by another p2ptracker (pid %d)" % first.proc.pid, out)
        # Once it stopped, the directory (its lock file still there) is free again.
        self.assertTrue(os.path.exists(os.path.join(d, "p2ptracker.lock")))
        with Tracker(data_dir=d) as again:
            self.assertEqual(again.get("/transfers/").status, 200)


if __name__ == "__main__":
    unittest.main()

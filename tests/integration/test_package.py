"""Issue 14: the Debian package `make deb` builds (run as the README gives it) installs the tracker as a service on its
embedded defaults and upgrades without losing registered transfers.

Builds the package with CPack from the build under test, checks its contents and control
files, installs it with dpkg into a throwaway root (dpkg --root, maintainer scripts run outside
it: they only talk to systemd, which is not running there), starts the installed binary with the
installed config (data_dir pointed into that root), registers a torrent, installs the package
again over itself as an upgrade would, and checks that the registration and an operator's edit
of the config survived. `make install` into a DESTDIR is checked too."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, ROOT, Tracker, register_new

BUILD = os.path.dirname(BINARY)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(args), r.returncode, r.stdout,
                                                       r.stderr))
    return r.stdout


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="p2ptracker-package-")
        # The README's command, on the build under test.
        out = run(["make", "-C", ROOT, "deb", "BUILD_DIR=" + os.path.relpath(BUILD, ROOT)])
        debs = [f for f in os.listdir(BUILD) if f.startswith("p2ptracker_") and f.endswith(".deb")]
        if len(debs) != 1:
            raise AssertionError("make deb made %s:\n%s" % (debs, out))
        cls.deb = shutil.copy(os.path.join(BUILD, debs[0]), cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_contents_and_control(self):
        files = run(["dpkg-deb", "-c", self.deb])
        for path in ("./usr/bin/p2ptracker", "./usr/lib/systemd/system/p2ptracker.service",
                     "./etc/p2ptracker/p2ptracker.toml", "./usr/share/man/man1/p2ptracker.1",
                     "./usr/share/man/man1/p2ptracker-serve.1",
                     "./usr/share/man/man1/p2ptracker-deactivate.1"):
            self.assertIn(path, files)
        self.assertEqual(run(["dpkg-deb", "-f", self.deb, "Package"]).strip(), "p2ptracker")
        depends = run(["dpkg-deb", "-f", self.deb, "Depends"])
        for lib in ("libtorrent-rasterbar2.0", "libhiredis", "libtomlplusplus3"):
            self.assertIn(lib, depends)
        ctrl = os.path.join(self.dir, "control")
        run(["dpkg-deb", "-e", self.deb, ctrl])
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/p2ptracker/p2ptracker.toml"])
        for script in ("postinst", "prerm", "postrm"):
            self.assertTrue(os.access(os.path.join(ctrl, script), os.X_OK), script)

    def test_unit_file(self):
        root = os.path.join(self.dir, "x")
        run(["dpkg-deb", "-x", self.deb, root])
        with open(os.path.join(root, "usr/lib/systemd/system/p2ptracker.service")) as f:
            unit = f.read()
        for line in ("ExecStart=/usr/bin/p2ptracker serve /etc/p2ptracker/p2ptracker.toml",
                     "ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes",
                     "StateDirectory=p2ptracker", "ProtectSystem=strict"):
            self.assertIn(line, unit.splitlines())
        with open(os.path.join(root, "etc/p2ptracker/p2ptracker.toml")) as f:
            config = f.read()
        # The installed default keeps its data where the unit's StateDirectory is.
        self.assertIn('data_dir = "/var/lib/p2ptracker"', config)
        # The man pages are the binary's own --help.
        with open(os.path.join(root, "usr/share/man/man1/p2ptracker-deactivate.1")) as f:
            self.assertIn("End a deploy", f.read())

    def test_install_upgrade_keeps_registrations(self):
        root = os.path.join(self.dir, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        dpkg = ["dpkg", "--root=" + root, "--force-depends", "--force-script-chrootless",
                "--force-confold", "--log=/dev/null", "-i", self.deb]
        run(dpkg)
        binary = os.path.join(root, "usr/bin/p2ptracker")
        config = os.path.join(root, "etc/p2ptracker/p2ptracker.toml")
        data = os.path.join(root, "var/lib/p2ptracker")
        # The installed binary on the installed config; only the address, the port and
        # data_dir (inside the throwaway root) are the test's.
        with Tracker(data_dir=data, config_file=config, binary=binary) as t:
            self.assertIn("listening on 127.0.0.1:", t.logged("listening on 127.0.0.1:"))
            h = register_new(t, "webapp.torrent")
        # An operator's edit of the config, then the upgrade.
        with open(config) as f:
            text = f.read()
        self.assertIn("\nmax_repr_rack = 2\n", text)
        with open(config, "w") as f:
            f.write(text.replace("\nmax_repr_rack = 2\n", "\nmax_repr_rack = 3\n"))
        run(dpkg)
        with open(config) as f:
            self.assertIn("\nmax_repr_rack = 3\n", f.read())
        with Tracker(data_dir=data, config_file=config, binary=binary) as t:
            self.assertEqual(t.get("/transfers/").json(), {h.hex(): "webapp.torrent"})
            self.assertIn("1 registered transfer(s)", t.logged("1 registered transfer(s)"))

    def test_make_install_into_destdir(self):
        dest = os.path.join(self.dir, "destdir")
        run(["make", "-C", ROOT, "install", "BUILD_DIR=" + os.path.relpath(BUILD, ROOT),
             "PREFIX=/usr/local", "DESTDIR=" + dest])
        for path in ("usr/local/bin/p2ptracker", "usr/local/etc/p2ptracker/p2ptracker.toml",
                     "usr/local/share/man/man1/p2ptracker-watch.1"):
            self.assertTrue(os.path.exists(os.path.join(dest, path)), path)
        with open(os.path.join(dest, "usr/local/lib/systemd/system/p2ptracker.service")) as f:
            self.assertIn("ExecStart=/usr/local/bin/p2ptracker serve "
                          "/usr/local/etc/p2ptracker/p2ptracker.toml", f.read())


if __name__ == "__main__":
    unittest.main()

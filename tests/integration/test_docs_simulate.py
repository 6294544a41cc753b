"""The simulator's commands as the docs give them, run with the binary under test.

docs/policy.md measures `chain` and `tree` against the original's rule in the simulator: a base
command and a table of fleets, each row's flags added to the base command (or replacing the same
flag there), those after "without" left out. A reader copies them, and the numbers argue for a
policy: this runs every row and checks that the command is accepted and prints the table's
deploy times and `chain`'s and `tree`'s most copies into a rack (the simulator is deterministic
for a seed).

docs/simulator.md opens with the commands a reader tries first; each one-line `simulate` there
is run as written and must report every policy it names, complete."""
import json
import os
import re
import shlex
import subprocess
import unittest

from harness import BINARY, ROOT

DOC = os.path.join(ROOT, "docs", "policy.md")
SIMULATOR_DOC = os.path.join(ROOT, "docs", "simulator.md")
# The simulator's policies when --policies is not given (its --help says so).
DEFAULT_POLICIES = "random,original/1,original/2,original/3,standby/2,progress/2"


def options(argv):
    """[(flag, [values])] in order."""
    out = []
    for a in argv:
        if a.startswith("--"):
            out.append((a, []))
        else:
            out[-1][1].append(a)
    return out


def table():
    """The base command's flags and the table's rows: (label, flags, without, cells)."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    start = text.index("| fleet (flags) |")
    base = re.findall(r"`(p2ptracker simulate [^`]*)`", text[:start], re.S)[-1]
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        label = cells[0]
        head, _, rest = label.partition("without")
        flags = " ".join(re.findall(r"`([^`]*)`", head))
        without = " ".join(re.findall(r"`([^`]*)`", rest)).split()
        rows.append((label, shlex.split(flags), without, cells[1:]))
    return options(shlex.split(base)[2:]), rows


def command(base, flags, without):
    opts = [(f, v) for f, v in base if f not in without]
    for f, v in options(flags):
        opts = [(g, w) for g, w in opts if g != f] + [(f, v)]
    return [a for f, v in opts for a in [f] + v]


def seconds(cell):
    return float(re.match(r"([\d.]+) s", cell).group(1))


class DocsSimulateTest(unittest.TestCase):

    def test_every_row_of_the_chain_and_tree_table(self):
        base, rows = table()
        self.assertGreaterEqual(len(rows), 10)
        for label, flags, without, cells in rows:
            with self.subTest(row=label[:60]):
                argv = [BINARY, "simulate"] + command(base, flags, without)
                r = subprocess.run(argv, capture_output=True, text=True, timeout=900)
                self.assertEqual(r.returncode, 0, "%s\n%s" % (" ".join(argv), r.stderr))
                got = {}
                for line in r.stdout.splitlines():
                    f = line.split()
                    if f and f[0].split("/")[0] in ("original", "chain", "tree"):
                        got[f[0].split("/")[0]] = (float(f[3]), float(f[9]))
                self.assertEqual(set(got), {"original", "chain", "tree"}, r.stdout)
                self.assertAlmostEqual(got["original"][1], seconds(cells[0]), delta=0.051)
                self.assertAlmostEqual(got["chain"][1], seconds(cells[1]), delta=0.051)
                self.assertAlmostEqual(got["chain"][0], float(cells[3].split()[0]), delta=0.0051)
                self.assertAlmostEqual(got["tree"][1], seconds(cells[4]), delta=0.051)
                self.assertAlmostEqual(got["tree"][0], float(cells[5].split()[0]), delta=0.0051)


def first_commands():
    """The one-line `build/p2ptracker simulate` commands of docs/simulator.md's first sh block,
    comments stripped, in order."""
    with open(SIMULATOR_DOC, encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    out = []
    for line in block.splitlines():
        code = line.split("#", 1)[0].strip()
        if code.startswith("build/p2ptracker simulate") and not code.endswith("\\"):
            out.append(shlex.split(code)[1:])
    return out


class DocsSimulatorCommandsTest(unittest.TestCase):

    def test_the_first_commands_run_as_written(self):
        commands = first_commands()
        self.assertGreaterEqual(len(commands), 6, "docs/simulator.md's first commands are gone")
        for args in commands:
            if "--fleet-sizes" in args:
                # A minute of 10,000-host runs; the same code as the others at other sizes,
                # and `make simulate-plots` runs such sweeps.
                continue
            with self.subTest(command=" ".join(args)):
                r = subprocess.run([BINARY] + args, capture_output=True, text=True, timeout=300)
                self.assertEqual(r.returncode, 0, r.stderr)
                if "--help" in args:
                    for flag in {a for c in commands for a in c if a.startswith("--")}:
                        self.assertIn(flag, r.stdout)
                    self.assertIn("=" + DEFAULT_POLICIES, r.stdout)
                    continue
                # A preset brings its own policies (the real-client benchmark's trackers).
                if "--policies" in args:
                    policies = args[args.index("--policies") + 1].split(",")
                elif "--preset" in args:
                    policies = None
                else:
                    policies = DEFAULT_POLICIES.split(",")
                if "--json" in args:
                    runs = json.loads(r.stdout)["runs"]
                    self.assertEqual(sorted({x["policy"] for x in runs}), sorted(policies))
                    for x in runs:
                        self.assertTrue(x["complete"], x["policy"])
                        self.assertEqual(len(x["per_rack"]), x["racks"], x["policy"])
                    continue
                self.assertNotIn("INCOMPLETE", r.stdout)
                rows = re.findall(r"^([a-z]+(?:/\d+)?(?:\+levels)?) +\d+ +\d+ ", r.stdout, re.M)
                if policies is None:
                    self.assertGreaterEqual(len(rows), 3, r.stdout)
                else:
                    self.assertEqual(sorted(rows), sorted(policies), r.stdout)


if __name__ == "__main__":
    unittest.main()

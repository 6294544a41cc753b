"""The simulator's commands as the docs give them, run with the binary under test.

docs/policy.md measures `chain` and `tree` against the original's rule in the simulator: a base
command and a table of fleets, each row's flags added to the base command (or replacing the same
flag there), those after "without" left out. A reader copies them, and the numbers argue for a
policy: this runs every row and checks that the command is accepted and prints the table's
deploy times and `chain`'s and `tree`'s most copies into a rack (the simulator is deterministic
for a seed).

docs/simulator.md's tables of the presets against real clients (the simulated side, and the difference
to the measured one), and of failure injection (the deploy-4x5 preset; the fleet in levels), are
run from the commands above them and every number checked, but the failure table's "before"
ones: those measured a tracker since changed."""
import os
import re
import shlex
import subprocess
import unittest

from harness import BINARY, ROOT

DOC = os.path.join(ROOT, "docs", "policy.md")
SIMULATOR_DOC = os.path.join(ROOT, "docs", "simulator.md")


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


def simulate(args):
    """{policy: (copies into a rack max, mean, deploy seconds)} from the simulator's table."""
    r = subprocess.run([BINARY, "simulate"] + args, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise AssertionError("%s\n%s" % (" ".join(args), r.stderr))
    got = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if re.match(r"^[a-z]+(?:/\d+)?(?:\+levels)? +\d+ +\d+ ", line):
            got[f[0]] = (float(f[3]), float(f[4]), float(f[9]))
    return got


class DocsSimulateTest(unittest.TestCase):

    def test_every_row_of_the_chain_and_tree_table(self):
        base, rows = table()
        self.assertGreaterEqual(len(rows), 10)
        for label, flags, without, cells in rows:
            with self.subTest(row=label[:60]):
                runs = simulate(command(base, flags, without))
                got = {name.split("/")[0]: (amp_max, deploy)
                       for name, (amp_max, _, deploy) in runs.items()}
                self.assertEqual(set(got), {"original", "chain", "tree"}, runs)
                self.assertAlmostEqual(got["original"][1], seconds(cells[0]), delta=0.051)
                self.assertAlmostEqual(got["chain"][1], seconds(cells[1]), delta=0.051)
                self.assertAlmostEqual(got["chain"][0], float(cells[3].split()[0]), delta=0.0051)
                self.assertAlmostEqual(got["tree"][1], seconds(cells[4]), delta=0.051)
                self.assertAlmostEqual(got["tree"][0], float(cells[5].split()[0]), delta=0.0051)

    def test_the_second_gateway_let_out_late_table(self):
        """docs/policy.md, "Where the bar cannot be met": `progress` at each grant_percent."""
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        text = text[text.index("#### Where the bar cannot be met"):]
        cmd = re.search(r"`p2ptracker simulate ([^`]*--grant-percent G)`", text, re.S).group(1)
        rows = table_rows(text[text.index("| `grant_percent` G |"):].split("\n\n")[0])
        self.assertGreaterEqual(len(rows), 4, "the grant_percent table is gone")
        for cells in rows:
            grant = re.match(r"\d+", cells[0]).group(0)
            with self.subTest(grant_percent=grant):
                runs = simulate(shlex.split(cmd)[:-1] + [grant])
                amp_max, _, deploy = runs["progress/2"]
                self.assertAlmostEqual(amp_max, float(cells[1]), delta=0.0051)
                self.assertAlmostEqual(deploy, seconds(cells[2]), delta=0.051)


def section(text, title):
    """The text of docs/simulator.md's section `title`, up to the next heading."""
    start = text.index("\n" + title + "\n")
    end = re.search(r"^#", text[start + len(title) + 2:], re.M)
    return text[start:start + len(title) + 2 + (end.start() if end else len(text))]


def table_rows(text):
    """The cells of the first markdown table in `text`, header and rule left out."""
    lines = [l for l in text.splitlines() if l.startswith("|")]
    return [[c.strip() for c in l.strip("|").split("|")] for l in lines[2:]]


def replaced(args, flag, value):
    """`args` with `flag`'s value set to `value` (None: the flag left out)."""
    out = list(args)
    i = out.index(flag)
    del out[i:i + 2]
    return out if value is None else out + [flag, value]


def healthy(args):
    for flag in ("--fail-at", "--fail-racks", "--fail-mode"):
        args = replaced(args, flag, None)
    return args


class DocsSimulatorValidationTest(unittest.TestCase):

    def test_the_simulated_side_of_each_preset_table(self):
        with open(SIMULATOR_DOC, encoding="utf-8") as f:
            text = section(f.read(), "## Validation against real clients")
        parts = re.split(r"simulated by\s+`p2ptracker simulate (--preset [a-z0-9-]+)`", text)
        self.assertGreaterEqual(len(parts), 5, "the preset tables are gone")
        for preset, body in zip(parts[1::2], parts[2::2]):
            args = shlex.split(preset)
            runs = simulate(args)
            rows = table_rows(body)
            self.assertGreaterEqual(len(rows), 3, preset)
            for cells in rows:
                policy = re.search(r"\b(random|[a-z]+/\d+)\b", cells[0]).group(1)
                with self.subTest(preset=preset, policy=policy):
                    if policy not in runs:
                        runs.update(simulate(args + ["--policies", policy]))
                    amp_max, amp_mean, deploy = runs[policy]
                    for cell, want in zip(cells[1:], (amp_mean, amp_max, deploy)):
                        m = re.match(r"([\d.]+)(?: s)? → ([\d.]+)(?: s)? \(([+−]\d+)%\)", cell)
                        self.assertIsNotNone(m, cell)
                        measured, simulated = float(m.group(1)), float(m.group(2))
                        self.assertAlmostEqual(simulated, want, delta=0.051 if want > 5 else 0.0051,
                                               msg=cell)
                        self.assertEqual(int(m.group(3).replace("−", "-")),
                                         round((simulated - measured) / measured * 100), cell)

class DocsSimulatorFailureTablesTest(unittest.TestCase):

    def setUp(self):
        with open(SIMULATOR_DOC, encoding="utf-8") as f:
            self.text = f.read()

    def test_the_deploy_4x5_failure_table(self):
        text = section(self.text, "## Failure injection")
        cmd = re.search(r"`p2ptracker simulate (--preset deploy-4x5[^`]*)`", text, re.S).group(1)
        stall = shlex.split(cmd)
        self.assertEqual(stall[stall.index("--fail-mode") + 1], "stall")
        runs = {"healthy": simulate(healthy(stall)), "stall": simulate(stall),
                "die": simulate(replaced(stall, "--fail-mode", "die"))}
        rows = table_rows(text)
        self.assertEqual(len(rows), 5)
        for cells in rows:
            policy = cells[0].split()[0]
            with self.subTest(policy=policy):
                for column, cell in zip(("healthy", "stall", "die"), cells[1:]):
                    numbers = [float(x) for x in re.findall(r"[\d.]+", cell)]
                    amp_max, amp_mean, deploy = runs[column][policy]
                    want = [amp_mean, deploy] if column == "healthy" else [amp_mean, amp_max, deploy]
                    self.assertEqual(len(numbers), len(want), cell)
                    for n, w in zip(numbers, want):
                        self.assertAlmostEqual(n, w, delta=0.051 if w > 5 else 0.0051,
                                               msg="%s: %s" % (column, cell))

    def test_the_failure_table_with_levels(self):
        text = section(self.text, "### Failure injection with levels")
        block = re.search(r"```\n(build/p2ptracker simulate .*?)```", text, re.S).group(1)
        stall = shlex.split(block.replace("\\\n", " "))[2:]
        self.assertEqual(stall[stall.index("--fail-mode") + 1], "stall")
        rows = table_rows(text)
        self.assertEqual(len(rows), 6)
        runs = {}
        for cells in rows:
            policy, k = cells[0], cells[1]
            with self.subTest(policy=policy, k=k):
                if k not in runs:
                    args = replaced(stall, "--max-repr-levels", "%s,%s" % (k, k))
                    runs[k] = {"healthy": simulate(healthy(args)), "stall": simulate(args),
                               "die": simulate(replaced(args, "--fail-mode", "die"))}
                # healthy, stall before (a tracker since changed: not checked), stall, die
                for column, cell in zip(("healthy", None, "stall", "die"), cells[2:]):
                    if column is None:
                        continue
                    m = re.match(r"([\d.]+) s, ([\d.]+)", cell)
                    self.assertIsNotNone(m, cell)
                    amp_max, _, deploy = runs[k][column][policy]
                    self.assertAlmostEqual(float(m.group(1)), deploy, delta=0.051,
                                           msg="%s: %s" % (column, cell))
                    self.assertAlmostEqual(float(m.group(2)), amp_max, delta=0.0051,
                                           msg="%s: %s" % (column, cell))

if __name__ == "__main__":
    unittest.main()

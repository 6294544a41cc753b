"""docs/policy.md measures `chain` against the original's rule in the simulator: a base command
and a table of fleets, each row's flags added to the base command (or replacing the same flag
there), those after "without" left out. A reader copies them, and the numbers argue for a
policy: this runs every row with the binary under test and checks that the command is accepted
and prints the table's deploy times and `chain`'s most copies into a rack (the simulator is
deterministic for a seed)."""
import os
import re
import shlex
import subprocess
import unittest

from harness import BINARY, ROOT

DOC = os.path.join(ROOT, "docs", "policy.md")


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
    text = open(DOC, encoding="utf-8").read()
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

    def test_every_row_of_the_chain_table(self):
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
                    if f and f[0].split("/")[0] in ("original", "chain"):
                        got[f[0].split("/")[0]] = (float(f[3]), float(f[9]))
                self.assertEqual(set(got), {"original", "chain"}, r.stdout)
                self.assertAlmostEqual(got["original"][1], seconds(cells[0]), delta=0.051)
                self.assertAlmostEqual(got["chain"][1], seconds(cells[1]), delta=0.051)
                self.assertAlmostEqual(got["chain"][0], float(cells[3].split()[0]), delta=0.0051)


if __name__ == "__main__":
    unittest.main()

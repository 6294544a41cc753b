"""docs/simulator.md opens with the commands a reader tries first: each one-line `simulate` there
is run as written, with the binary under test, and must report every policy it names, complete.
(Apart from test_docs_simulate, so they run side by side: each is one simulator at a time.)"""
import json
import re
import shlex
import subprocess
import unittest

from harness import BINARY
from test_docs_simulate import SIMULATOR_DOC

# The simulator's policies when --policies is not given (its --help says so).
DEFAULT_POLICIES = "random,original/1,original/2,original/3,standby/2,progress/2"


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

"""The benchmarks' commands as the docs give them: every one is accepted as written.

The docs back their numbers with benchmark commands (`/usr/bin/python3 bench/deploy/levels.py
--uplink ...`, `make bench-deploy DEPLOY_ARGS="..."`) that take minutes to hours and root for
the shaped ones, too long for `make test`. What a reader copies must at least start: this finds
every such command in docs/*.md and README.md, expands the `make` ones with `make -n` (the
Makefile's own wiring of DEPLOY_ARGS and the rest), and runs each script's argument parser
on the arguments as written, with the script's own checks (a misspelt tracker or work is
refused there, before any deploy). A renamed flag, a dropped tracker or a Makefile variable
that no longer reaches its script fails here. The deploys themselves run in make test in
their short versions (test_levels_deploy, test_levels_uplink, test_concurrent_deploys...)."""
import glob
import os
import re
import shlex
import subprocess
import sys
import unittest

from harness import ROOT

DOCS = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [os.path.join(ROOT, "README.md")]
SCRIPT = re.compile(r"(?:^|\s)((?:\./)?bench/[\w/]+\.py)((?:\s+[^\s;|&#]+)*)")

# Loads a script as a module (its main does not run) and calls its argument parser on the
# arguments after it; argparse exits 2 on an error, the scripts' own checks too (p.error).
CHECK = r"""
import importlib.util, inspect, os, sys
path, args = sys.argv[1], sys.argv[2:]
sys.argv = [path] + args
sys.path.insert(0, os.path.dirname(path))
spec = importlib.util.spec_from_file_location("doc_checked", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
if not hasattr(mod, "ARGS"):  # a script that parses at import has done it
    mod.parse_args(args) if inspect.signature(mod.parse_args).parameters else mod.parse_args()
print("accepted")
"""


def spans(text):
    """Inline code spans (``...``, over line breaks) and lines of fenced code blocks."""
    fenced = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
    for block in fenced.findall(text):
        for line in block.splitlines():
            yield line.split(" #", 1)[0].strip()
    for span in re.findall(r"`([^`]+)`", fenced.sub("", text)):
        yield " ".join(span.split())


def doc_commands():
    """(doc, command) for every benchmark command the docs give: a script with arguments,
    make with a *_ARGS variable, or a bare `make bench...` target."""
    out = []
    for doc in DOCS:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        for span in spans(text):
            script = SCRIPT.search(span)
            if (re.match(r"make [\w-]+ \w+_ARGS=", span) or re.fullmatch(r"make bench[\w-]*", span)
                    or (script and script.group(2).strip())):
                out.append((doc, span))
    return out


def script_calls(command):
    """The bench scripts a command runs, with their arguments: [(script, [args])]."""
    if command.startswith("make "):
        argv = shlex.split(command)
        r = subprocess.run(["make", "-n", "-C", ROOT] + argv[1:], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("make -n %s: %s" % (" ".join(argv[1:]), r.stderr))
        lines = r.stdout.replace("\\\n", " ").splitlines()
    else:
        lines = [command]
    calls = []
    for line in lines:
        for m in SCRIPT.finditer(line):
            calls.append((m.group(1), shlex.split(m.group(2))))
    return calls


class DocsBenchCommandsTest(unittest.TestCase):

    def test_every_benchmark_command_in_the_docs_is_accepted(self):
        commands = doc_commands()
        # policy.md alone gives a dozen; fewer means the search no longer finds them.
        self.assertGreaterEqual(len(commands), 20)
        scripts = set()
        for doc, command in commands:
            with self.subTest(doc=os.path.basename(doc), command=command[:100]):
                calls = script_calls(command)
                self.assertTrue(calls, "runs no bench script: %s" % command)
                for script, args in calls:
                    scripts.add(script)
                    r = subprocess.run([sys.executable, "-c", CHECK,
                                        os.path.join(ROOT, script)] + args,
                                       capture_output=True, text=True, timeout=60, cwd=ROOT)
                    self.assertEqual(r.returncode, 0, "%s %s\n%s" % (script, " ".join(args),
                                                                      r.stderr[-2000:]))
                    self.assertIn("accepted", r.stdout)
        for script in ("bench/run.py", "bench/deploy/run.py", "bench/deploy/levels.py",
                       "bench/deploy/concurrent.py"):
            self.assertIn(script, scripts)

    def test_every_micro_benchmark_command_in_the_docs_runs(self):
        # docs/performance.md backs numbers with policy_bench runs: each runs as written, from
        # the checkout's root, and measures what its filter names.
        commands = []
        for doc in DOCS:
            with open(doc, encoding="utf-8") as f:
                text = f.read()
            commands += [(doc, span) for span in spans(text)
                         if re.match(r"build/bench/policy_bench(\s+--[\w=.:/-]+)+$", span)]
        self.assertGreaterEqual(len(commands), 1)
        for doc, command in commands:
            with self.subTest(doc=os.path.basename(doc), command=command):
                r = subprocess.run(shlex.split(command), capture_output=True, text=True,
                                   timeout=600, cwd=ROOT)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                wanted = re.search(r"--benchmark_filter=(\S+)", command)
                pattern = r"^BM_\S*%s\S*\s+[\d.]+ ns" % (wanted.group(1) if wanted else "")
                self.assertRegex(r.stdout, re.compile(pattern, re.M))

    def test_levels_knows_every_policy_the_config_takes(self):
        # levels.py refuses a tracker whose policy it does not know: its list must be the
        # config key's, as docs/configuration.md (made from the keys) gives them.
        with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as f:
            row = next(line for line in f if line.startswith("| `policy` |"))
        documented = re.findall(r"`(\w+)`", row.split("|")[2])
        sys.path.insert(0, os.path.join(ROOT, "bench", "deploy"))
        try:
            import levels
        finally:
            sys.path.pop(0)
        self.assertEqual(list(levels.POLICIES), documented)

    def test_a_misspelt_argument_is_refused(self):
        # The check above could pass by checking nothing: the same check refuses these.
        for script, args in [("bench/deploy/levels.py", ["--trackers", "levels-trees"]),
                             ("bench/deploy/run.py", ["--trackers", "orginal"]),
                             ("bench/run.py", ["--works", "udp_anounce"]),
                             ("bench/deploy/concurrent.py", ["--upIink"])]:
            with self.subTest(script=script):
                r = subprocess.run([sys.executable, "-c", CHECK, os.path.join(ROOT, script)]
                                   + args, capture_output=True, text=True, timeout=60,
                                   cwd=ROOT)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertNotIn("accepted", r.stdout)


if __name__ == "__main__":
    unittest.main()

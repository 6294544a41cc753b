#!/usr/bin/env python3
"""Writes a man page (section 1) for p2ptracker and each of its commands from the binary's own
--help, so the pages cannot say anything --help does not.

Usage: scripts/make-man.py BINARY OUTDIR
Writes OUTDIR/p2ptracker.1 and OUTDIR/p2ptracker-<command>.1 for every command --help lists.
"""
import datetime
import os
import re
import subprocess
import sys


def roff_escape(line):
    line = line.replace("\\", "\\e")
    # A line starting with . or ' would be a roff request.
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def help_text(binary, args):
    out = subprocess.run([binary] + args + ["--help"], capture_output=True, text=True,
                         check=True).stdout
    # --help names the binary by the path it was run as; the page names the command.
    return out.replace(binary, "p2ptracker")


def page(name, summary, body, version):
    date = datetime.date.today().isoformat() if "SOURCE_DATE_EPOCH" not in os.environ else \
        datetime.datetime.utcfromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"])).date().isoformat()
    lines = [
        '.TH "%s" 1 "%s" "p2ptracker %s" "User Commands"' % (name.upper(), date, version),
        ".SH NAME",
        "%s \\- %s" % (name.replace("-", "\\-"), roff_escape(summary)),
        ".SH DESCRIPTION",
        "The text of \\fB%s --help\\fR:" % name.replace("p2ptracker-", "p2ptracker "),
        ".PP",
        ".nf",
    ]
    lines += [roff_escape(l) for l in body.rstrip().splitlines()]
    lines += [".fi", ".SH SEE ALSO",
              "The README and docs/ of the p2ptracker source tree; \\fBp2ptracker\\fR(1).", ""]
    return "\n".join(lines)


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    binary, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip().split()[-1]
    top = help_text(binary, [])
    commands = re.findall(r"^  ([a-z][a-z-]+)\s{2,}(.+)$",
                          top.split("Subcommands:", 1)[1], re.M)
    summary = top.splitlines()[0].split(": ", 1)[-1]
    written = []
    with open(os.path.join(outdir, "p2ptracker.1"), "w") as f:
        f.write(page("p2ptracker", summary, top, version))
    written.append("p2ptracker.1")
    for cmd, cmd_summary in commands:
        name = "p2ptracker-" + cmd
        with open(os.path.join(outdir, name + ".1"), "w") as f:
            f.write(page(name, cmd_summary.strip().rstrip("."), help_text(binary, [cmd]), version))
        written.append(name + ".1")
    print("man pages: " + " ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())

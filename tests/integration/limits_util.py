"""Helpers shared by the issue-10 attack tests: a well-behaved client's
announces and /metrics timed while abuse runs, and the tracker's own CPU time
and memory read from /proc."""
import os
import threading
import time

from harness import announce_query, http_request


def metric(text, name):
    """The value of an unlabelled sample `name` in /metrics text, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def cpu_seconds(pid):
    """utime + stime of process `pid` (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" of comm: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid, key):
    """A "VmRSS:"-style line of /proc/<pid>/status, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (key, pid))


class GoodClient(threading.Thread):
    """Announces `info_hash` and GETs /metrics every `period` seconds on fresh
    connections until stop(); records each request's latency (None when it
    failed)."""

    def __init__(self, port, info_hash, source="127.0.9.1", period=0.1, metrics=True):
        super().__init__(daemon=True)
        self.port, self.info_hash, self.source = port, info_hash, source
        self.period, self.metrics = period, metrics
        self.announces, self.scrapes = [], []
        self._halt = threading.Event()

    def _timed(self, target, out):
        start = time.monotonic()
        try:
            r = http_request(self.port, "GET", target, source=self.source, timeout=10)
            out.append(time.monotonic() - start if r.status == 200 else None)
        except OSError:
            out.append(None)

    def run(self):
        while not self._halt.is_set():
            self._timed("/announce?" + announce_query(self.info_hash, port=6881), self.announces)
            if self.metrics:
                self._timed("/metrics", self.scrapes)
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join(30)

    def worst(self):
        """The slowest announce and /metrics; inf if any failed or none ran."""
        def worst_of(xs):
            if not xs or any(x is None for x in xs):
                return float("inf")
            return max(xs)
        return worst_of(self.announces), (worst_of(self.scrapes) if self.metrics else 0.0)

"""The live dashboard (GET /) in a real browser.

A tracker is driven into a realistic deploy (several racks, representatives,
seeders, partly done hosts, a stuck host, completions spread over time, plus a
finished 20-rack transfer); then Debian's chromium, headless, loads the page,
runs its script (which polls the JSON API) and dumps the rendered DOM. The test
reads the DOM through the data-* attributes app.js puts on every card, rack row
and host chip, and checks them, and the text a person sees, against the JSON
API's numbers. It also takes a screenshot (P2P_DASHBOARD_SCREENSHOT=path keeps
it; that is how docs/dashboard.png is made).

chromium is a test dependency (scripts/install-deps.sh --test, run by
`make test`): without it these tests fail, they do not skip.
"""
import hashlib
import html.parser
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

from harness import Tracker, bencode, http_request, loopback, make_torrent

# A host is stuck when its bytes left have not gone down for stall_intervals x
# active_interval seconds. The window must be long enough for chromium to load
# the page before the hosts that did progress turn stuck as well.
ACTIVE_INTERVAL = 1
STALL_INTERVALS = 20
STALL_SECONDS = ACTIVE_INTERVAL * STALL_INTERVALS

SIZE = 48 * 1024 * 1024
PORT = 6881

# The deploy in progress: rack -> its hosts' final state, in the order they
# start (so the first two of each rack become its representatives).
#   "S": finishes during the test (sends event=completed)
#   0.0-1.0: still downloading, that fraction done
#   ("stuck", f): stopped at fraction f and keeps announcing without progress
DEPLOY = {
    1: ["S", "S", "S", "S", "S", "S"],
    2: ["S", "S", "S", "S", 0.92, 0.78],
    3: ["S", "S", 0.83, 0.67, 0.5],
    4: ["S", 0.71, 0.58, 0.4, 0.62, 0.47],
    5: [0.66, 0.52, 0.37, ("stuck", 0.31), 0.49],
    6: [0.44, 0.31, 0.26, 0.2],
    7: [0.22, 0.16, 0.1, 0.05, 0.12],
    8: [0.04, 0.01, 0.02],
}
ORIGIN = loopback(0, 10)  # the build server, seeding from the start
STUCK_PEER = "%s:%d" % (loopback(5, 14), PORT)
# The finished transfer: 20 racks of 3 hosts, racks 127.0.101.0/24 and up.
FINISHED_RACKS = range(101, 121)
FINISHED_HOSTS = 3


def host_address(rack, index):
    return loopback(rack, 11 + index)  # hosts .11, .12, ...


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(url, *mode, budget_ms=5000, timeout=180):
    """Loads `url` in headless chromium; `mode` is --dump-dom or --screenshot=...
    Returns stdout (the DOM for --dump-dom)."""
    exe = find_chromium()
    if exe is None:
        raise AssertionError(
            "chromium is not installed, so the dashboard cannot be tested in a browser. "
            "Install the test dependencies: `make test` does it, or "
            "scripts/install-deps.sh --test, or apt-get install chromium.")
    profile = tempfile.mkdtemp(prefix="p2ptracker-chromium-")
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile,
            "--virtual-time-budget=%d" % budget_ms] + list(mode) + [url]
    try:
        r = subprocess.run(args, capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if r.returncode != 0:
        raise AssertionError("chromium exited with %d:\n%s" % (
            r.returncode, r.stderr.decode(errors="replace")[-3000:]))
    return r.stdout.decode()


# --- a small DOM from chromium's --dump-dom output ----------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def data(self, name):
        return self.attrs.get("data-" + name)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **data):
        out = []
        for e in self.iter():
            if tag and e.tag != tag:
                continue
            if cls and cls not in e.classes:
                continue
            if any(e.data(k.replace("_", "-")) != v for k, v in data.items()):
                continue
            out.append(e)
        return out

    def find(self, tag=None, cls=None, **data):
        found = self.find_all(tag, cls, **data)
        return found[0] if found else None

    def by_id(self, ident):
        for e in self.iter():
            if e.attrs.get("id") == ident:
                return e
        return None

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class DomParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, attrs, self.current)
        self.current.children.append(e)
        if tag not in VOID:
            self.current = e

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        e = self.current
        while e is not None and e.tag != tag:
            e = e.parent
        if e is not None and e.parent is not None:
            self.current = e.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_dom(text):
    p = DomParser()
    p.feed(text)
    p.close()
    return p.root


def rack_key(name):
    """Natural order of "127.0.10.0/24" style names, as the page sorts them."""
    return [int(x) for x in name.replace("/", ".").split(".")]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


# --- the tracker side ----------------------------------------------------------

def fake_torrent(name, length, piece_length=1 << 20):
    """A .torrent for `length` bytes nobody will download: random piece hashes."""
    pieces = os.urandom(20 * ((length + piece_length - 1) // piece_length))
    info = {"name": name, "piece length": piece_length, "pieces": pieces, "length": length,
            "private": 1}
    return bencode({"announce": "http://127.0.0.1:6969/announce", "info": info}), \
        hashlib.sha1(bencode(info)).digest()


def peer_id(address):
    return b"-PT0001-" + hashlib.sha1(address.encode()).hexdigest()[:12].encode()


class Deploy:
    """Drives a tracker into the scenario above. Announces are real HTTP
    announces from the hosts' own 127.x source addresses."""

    def __init__(self, tracker, test):
        self.t, self.test = tracker, test

    def announce(self, info_hash, address, left, event=None):
        r = self.t.announce(info_hash, source=address, peer_id=peer_id(address), port=PORT,
                            left=left, downloaded=SIZE - left, event=event, numwant=0)
        self.test.assertEqual(r.status, 200)
        reply = r.bdecoded()
        self.test.assertNotIn(b"failure reason", reply, reply)
        self.test.assertNotIn(b"warning message", reply, reply)

    def register(self, file_name, name):
        data, info_hash = fake_torrent(name, SIZE)
        r = self.t.register(file_name, data)
        self.test.assertEqual(r.status, 201, r.body)
        return info_hash

    def run(self):
        finished = self.register("config-2026.11.23.torrent", "config-2026.11.23.tar")
        self.t.advance_clock(2)  # registration times are in seconds: keep the two apart
        deploy = self.register("webapp-2026.11.24.torrent", "webapp-2026.11.24.tar")
        self.finished, self.deploy = finished, deploy

        # Everyone starts; the origin seeds; the stuck host gets part way.
        self.announce(deploy, ORIGIN, 0, "started")
        finishing, downloading = [], []
        for rack, hosts in DEPLOY.items():
            for i, state in enumerate(hosts):
                address = host_address(rack, i)
                if isinstance(state, tuple):
                    self.stuck_left = int(SIZE * (1 - state[1]))
                    self.announce(deploy, address, self.stuck_left, "started")
                    continue
                self.announce(deploy, address, SIZE, "started")
                (finishing if state == "S" else downloading).append((address, state))
        finished_hosts = [host_address(rack, i) for rack in FINISHED_RACKS
                          for i in range(FINISHED_HOSTS)]
        for address in finished_hosts:
            self.announce(finished, address, SIZE, "started")

        # Completions spread over most of the stall window, so the plots show
        # hosts finishing over time. The tracker's clock is moved, not waited
        # for; it also runs on in real time, so past the window in all is past
        # it from the stuck host's last progress.
        steps = max(len(finishing), 1)
        per_step = (len(finished_hosts) + steps - 1) // steps
        step_seconds = max(1, (STALL_SECONDS - 3) // steps)
        advanced = 0
        for step in range(steps):
            if step < len(finishing):
                self.announce(deploy, finishing[step][0], 0, "completed")
            for address in finished_hosts[step * per_step:(step + 1) * per_step]:
                self.announce(finished, address, 0, "completed")
            self.t.advance_clock(step_seconds)
            advanced += step_seconds
        if advanced <= STALL_SECONDS:
            self.t.advance_clock(STALL_SECONDS + 1 - advanced)

        # Now the downloading hosts report progress; the stuck one announces
        # again with no progress, so only it is stuck for the next STALL_SECONDS.
        for address, fraction in downloading:
            self.announce(deploy, address, int(SIZE * (1 - fraction)))
        self.announce(deploy, loopback(5, 14), self.stuck_left)
        self.progress_at = time.time()

    def stats(self, info_hash):
        r = self.t.get("/api/v1/transfers/%s.json?racks=1&peers=1" % info_hash.hex())
        self.test.assertEqual(r.status, 200, r.body)
        return r.json()


# --- the tests -------------------------------------------------------------------

class DashboardHttpTest(unittest.TestCase):
    """The page and its assets as plain HTTP: types, caching, errors."""

    def test_page_and_assets(self):
        with Tracker() as t:
            page = t.get("/")
            self.assertEqual(page.status, 200)
            self.assertEqual(page.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertEqual(page.headers["Cache-Control"], "no-cache")
            self.assertIn("default-src 'self'", page.headers["Content-Security-Policy"])
            body = page.body.decode()
            self.assertIn("<title>p2ptracker", body)
            self.assertNotIn("{{app.js}}", body)
            self.assertNotIn("{{style.css}}", body)
            for name, ctype in (("app.js", "text/javascript; charset=utf-8"),
                                ("style.css", "text/css; charset=utf-8")):
                marker = 'dashboard/%s?v=' % name
                self.assertIn(marker, body)
                version = body.split(marker, 1)[1][:12]
                versioned = t.get("/dashboard/%s?v=%s" % (name, version))
                self.assertEqual(versioned.status, 200)
                self.assertEqual(versioned.headers["Content-Type"], ctype)
                self.assertIn("immutable", versioned.headers["Cache-Control"])
                self.assertEqual(hashlib.sha256(versioned.body).hexdigest()[:12], version)
                plain = t.get("/dashboard/" + name)
                self.assertEqual(plain.headers["Cache-Control"], "no-cache")
                self.assertEqual(plain.body, versioned.body)

            head = http_request(t.port, "HEAD", "/")
            self.assertEqual(head.status, 200)
            self.assertEqual(head.body, b"")
            self.assertEqual(int(head.headers["Content-Length"]), len(page.body))

            missing = t.get("/dashboard/nope.js")
            self.assertEqual(missing.status, 404)
            self.assertIn("/dashboard/nope.js", missing.json()["error"])
            post = http_request(t.port, "POST", "/")
            self.assertEqual(post.status, 405)
            self.assertEqual(post.headers["Allow"], "GET, HEAD")
            # The API next to it is untouched.
            self.assertEqual(t.get("/api/v1/transfers/").status, 200)


class DashboardBrowserTest(unittest.TestCase):

    def test_empty_state(self):
        with Tracker() as t:
            dom = parse_dom(run_chromium("http://127.0.0.1:%d/" % t.port, "--dump-dom"))
        body = dom.find("body")
        self.assertEqual(body.data("state"), "ok", "the page did not load the API")
        self.assertEqual(body.data("transfers"), "0")
        empty = dom.by_id("empty")
        self.assertNotIn("hidden", empty.attrs)
        self.assertIn("No active transfers", empty.text())
        self.assertIn("/torrents/app.torrent", empty.text())
        self.assertEqual(dom.find_all("article"), [])

    def test_a_torrent_that_is_not_private_is_flagged(self):
        with Tracker() as t:
            for name, private in (("open-one", False), ("closed-one", True)):
                data, _ = make_torrent(name, os.urandom(3000), private=private)
                self.assertIn(t.register(name + ".torrent", data).status, (200, 201))
            dom = parse_dom(run_chromium("http://127.0.0.1:%d/" % t.port, "--dump-dom"))
        self.assertEqual(dom.find("body").data("state"), "ok", "the page did not load the API")
        # The card's title is "<name> — <file>" (two releases of one name differ).
        cards = {a.find_all(cls="name")[0].text().split(" \u2014 ")[-1]: a
                 for a in dom.find_all("article")}
        self.assertEqual(sorted(cards), ["closed-one.torrent", "open-one.torrent"], cards.keys())
        flagged = {name for name, card in cards.items()
                   for b in card.find_all(cls="badge-public") if "hidden" not in b.attrs}
        self.assertEqual(flagged, {"open-one.torrent"})
        badge = cards["open-one.torrent"].find_all(cls="badge-public")[0]
        self.assertIn("not private", badge.text())
        # Racks only: the legend says nothing of rows and datacenters.
        self.assertNotIn("hidden", dom.by_id("legend").attrs)
        self.assertIn("hidden", dom.by_id("legend-levels").attrs)

    def test_two_releases_of_one_payload_name_are_told_apart(self):
        # Issue 14: deploy pipelines register each release under its own file name, with the
        # same payload name inside; the cards must not look alike.
        with Tracker() as t:
            for release in ("webapp-41.torrent", "webapp-42.torrent"):
                data, _ = make_torrent("webapp", os.urandom(3000))
                self.assertIn(t.register(release, data).status, (200, 201))
            dom = parse_dom(run_chromium("http://127.0.0.1:%d/" % t.port, "--dump-dom"))
        self.assertEqual(dom.find("body").data("state"), "ok", "the page did not load the API")
        titles = sorted(a.find_all(cls="name")[0].text() for a in dom.find_all("article"))
        self.assertEqual(titles, ["webapp \u2014 webapp-41.torrent",
                                  "webapp \u2014 webapp-42.torrent"])

    def test_rows_and_datacenters_are_shown_with_their_representatives(self):
        # Issue 12: a map file of paths gives levels above racks; the card lists
        # each group and who represents it.
        with tempfile.TemporaryDirectory(prefix="p2ptracker-levels-") as d:
            path = os.path.join(d, "racks.map")
            with open(path, "w") as f:
                f.write("127.0.1.0/24 ams1/row1/r1\n127.0.2.0/24 ams1/row2/r2\n"
                        "127.0.3.0/24 ams1/row2/r2\n")
            with Tracker(topology="file", topology_file=path, max_repr_rack=1,
                         max_repr_levels=[1, 1]) as t:
                data, info_hash = make_torrent("webapp", os.urandom(3000))
                self.assertIn(t.register("webapp.torrent", data).status, (200, 201))
                for rack, host in ((1, 1), (2, 1), (3, 7)):
                    r = t.announce(info_hash, source=loopback(rack, host), port=PORT,
                                   event="started")
                    self.assertEqual(r.status, 200)
                dom = parse_dom(run_chromium("http://127.0.0.1:%d/" % t.port, "--dump-dom"))
        self.assertEqual(dom.find("body").data("state"), "ok", "the page did not load the API")
        levels = {li.data("group"): li for li in dom.find_all("li", cls="level")}
        self.assertEqual(sorted(levels), ["ams1", "ams1/row1", "ams1/row2"])
        self.assertEqual(levels["ams1"].data("level"), "dc")
        self.assertIn("127.0.1.1:6881", levels["ams1"].text())
        self.assertIn("127.0.2.1:6881", levels["ams1/row2"].text())
        self.assertEqual(levels["ams1/row2"].data("level"), "row")
        # Each host's chip says the outermost group it represents: 127.0.1.1
        # its datacenter (and row), 127.0.2.1 its row only.
        chips = {c.data("peer"): c for c in dom.find_all("span", cls="peer")
                 if c.data("peer")}
        self.assertEqual(chips["127.0.1.1:6881"].data("levels"), "dc row")
        self.assertEqual(chips["127.0.1.1:6881"].find("b", cls="rep-badge").text(), "dc")
        self.assertEqual(chips["127.0.2.1:6881"].data("levels"), "row")
        self.assertEqual(chips["127.0.2.1:6881"].find("b", cls="rep-badge").text(), "row")
        self.assertIn("of dc ams1", chips["127.0.1.1:6881"].attrs.get("title", ""))
        # A chip is labelled by what its rack-mates do not share: r2 spans two /24s.
        labels = {peer: c.find("span", cls="peer-label").text() for peer, c in chips.items()}
        self.assertEqual(labels, {"127.0.1.1:6881": ".1", "127.0.2.1:6881": ".2.1",
                                  "127.0.3.7:6881": ".3.7"})
        self.assertNotIn("hidden", dom.by_id("legend-levels").attrs)

    def test_elapsed_is_measured_on_the_trackers_clock(self):
        # The browser's machine and the tracker disagree about the time (here
        # the tracker's clock is moved two hours on): the time since the first
        # start is the tracker's two hours, from its answers' Date header, not
        # the seconds this machine's clock has seen go by.
        with Tracker(test_clock=True) as t:
            data, info_hash = make_torrent("clocked", os.urandom(3000))
            self.assertIn(t.register("clocked.torrent", data).status, (200, 201))
            r = t.announce(info_hash, source=loopback(1, 1), port=PORT, left=3000,
                           event="started")
            self.assertEqual(r.status, 200)
            t.advance_clock(2 * 3600 + 60)
            date = t.get("/api/v1/transfers/").headers["Date"]
            dom = parse_dom(run_chromium("http://127.0.0.1:%d/" % t.port, "--dump-dom"))
        self.assertTrue(date.endswith(" GMT"), date)
        self.assertEqual(dom.find("body").data("state"), "ok", "the page did not load the API")
        elapsed = dom.find(time="elapsed")
        self.assertIsNotNone(elapsed)
        self.assertRegex(elapsed.text(), r"^2 h 0[01] min$")

    def test_deploy_in_progress(self):
        with Tracker(active_interval=ACTIVE_INTERVAL, min_interval=ACTIVE_INTERVAL,
                     stall_intervals=STALL_INTERVALS, peer_timeout=120, test_clock=True) as t:
            d = Deploy(t, self)
            d.run()
            url = "http://127.0.0.1:%d/" % t.port
            dom = parse_dom(run_chromium(url, "--dump-dom"))
            after = d.stats(d.deploy)
            finished = d.stats(d.finished)
            took = time.time() - d.progress_at
            self.assertLess(took, STALL_SECONDS,
                            "chromium took %.0f s, longer than the stall window: hosts that "
                            "progressed count as stuck by now; raise STALL_INTERVALS" % took)
            with tempfile.TemporaryDirectory(prefix="p2ptracker-shot-") as shots:
                shot = os.path.join(shots, "dashboard.png")
                run_chromium(url, "--screenshot=" + shot, "--window-size=1280,900")
                self.assertEqual(png_size(shot), (1280, 900))
                self.assertGreater(os.path.getsize(shot), 20000, "a blank screenshot?")
                keep = os.environ.get("P2P_DASHBOARD_SCREENSHOT")
                if keep:
                    shutil.copyfile(shot, keep)

        body = dom.find("body")
        self.assertEqual(body.data("state"), "ok", "the page did not load the API")
        self.assertEqual(body.data("transfers"), "2")
        self.assertIsNotNone(dom.by_id("empty").attrs.get("hidden"), "empty state shown")
        cards = dom.find_all("article", "transfer")
        self.assertEqual([c.data("hash") for c in cards],
                         [d.deploy.hex(), d.finished.hex()],
                         "newest transfer first")
        self.check_transfer(cards[0], after)
        self.check_transfer(cards[1], finished)

        # The deploy in progress.
        card, g = cards[0], after["global"]
        self.assertEqual(g["peers"], 1 + sum(len(h) for h in DEPLOY.values()))
        # Asked every second, the hosts still downloading announced about 20 s apart.
        still = sum(1 for hosts in DEPLOY.values() for s in hosts if s != "S")
        self.assertEqual(g["slow_announcers"], still)
        self.assertEqual(finished["global"]["slow_announcers"], 0)
        self.assertEqual(len(g["completions"]), sum(h.count("S") for h in DEPLOY.values()))
        self.assertEqual(card.data("complete"), "false")
        self.assertIn("in progress", card.find("span", "badge").text())
        self.assertEqual(card.find("svg", "plot").data("points"), str(len(g["completions"])))
        # Issue 14: hosts that finished of those that joined (the origin seeds from the start).
        self.assertEqual(card.find("dd", stat="completed").text(),
                         "%d / %d" % (g["finished"], g["peers_seen"]))
        self.assertEqual((g["finished"], g["peers_seen"]), (g["completed"] + 1, g["peers"]))

        # Stuck hosts: only the one that stopped, red, in a highlighted row.
        stuck_dom = {c.data("peer") for c in card.find_all("span", "peer") if "stuck" in c.classes}
        self.assertEqual(stuck_dom, {c.data("peer") for c in card.find_all(stuck="true")})
        self.assertEqual(stuck_peers(after), {STUCK_PEER})
        self.assertEqual(stuck_dom, {STUCK_PEER})
        self.assertEqual(card.find("span", "badge-stuck").text(), "1 stuck")
        self.assertNotIn("hidden", card.find("span", "badge-stuck").attrs)
        row = card.find("tr", "rack", rack="127.0.5.0/24")
        self.assertIn("has-stuck", row.classes)
        self.assertEqual(row.find("td", col="stuck").text(), "1")
        self.assertNotIn("has-stuck", card.find("tr", "rack", rack="127.0.1.0/24").classes)

        # The finished transfer: 20 racks (and no origin), all green.
        card, g = cards[1], finished["global"]
        self.assertEqual(len(card.find_all("tr", "rack")), len(FINISHED_RACKS))
        self.assertEqual(card.data("complete"), "true")
        self.assertIn("complete", card.find("span", "badge").text())
        self.assertEqual(card.find("div", "bar", role="global").find("span", "bar-label").text(),
                         "100.0%")
        self.assertTrue(all(r.data("complete") == "true" for r in card.find_all("tr", "rack")))

    def check_transfer(self, card, stats):
        """Everything the card shows against the API's answer."""
        g, racks = stats["global"], stats["racks"]
        for key in ("progress", "peers", "seeders", "racks", "stuck"):
            self.assertEqual(card.data(key), fmt(g[key]), key)
        bar = card.find("div", "bar", role="global")
        self.assertEqual(bar.data("progress"), fmt(g["progress"]))
        self.assertEqual(bar.find("span", "bar-label").text(), "%.1f%%" % g["progress"])
        for key in ("peers", "seeders", "leechers", "racks", "representatives", "stuck",
                    "slow_announcers"):
            self.assertEqual(card.find("dd", stat=key).text(), str(g[key]), key)
        self.assertEqual(card.find("span", "time-value", time="started").data("iso"), g["started"])

        rows = card.find_all("tr", "rack")
        names = [r.data("rack") for r in rows]
        self.assertEqual(names, sorted(racks, key=rack_key), "one row per rack, in order")
        for row in rows:
            rack = racks[row.data("rack")]
            label = row.find("div", "bar", role="rack").find("span", "bar-label").text()
            self.assertEqual(label, "%.1f%%" % rack["progress"], row.data("rack"))
            self.assertEqual(row.data("progress"), fmt(rack["progress"]))
            for col in ("N", "R", "S"):
                self.assertEqual(row.find("td", col=col).text(), str(rack[col]),
                                 "%s %s" % (row.data("rack"), col))
            chips = {c.data("peer"): c for c in row.find_all("span", "peer")}
            self.assertEqual(set(chips), {m["peer"] for m in rack["members"]})
            for m in rack["members"]:
                chip = chips[m["peer"]]
                self.assertEqual(chip.data("progress"), fmt(m["progress"]), m["peer"])
                self.assertEqual(chip.data("representative"), fmt(m["representative"]))
                self.assertEqual(chip.data("seeder"), fmt(m["seeder"]))
                # Representatives carry a visible "R" badge; the others none.
                badge = chip.find("b", "rep-badge")
                if m["representative"]:
                    self.assertIn("rep", chip.classes)
                    self.assertIsNotNone(badge, m["peer"])
                    self.assertEqual(badge.text(), "R")
                else:
                    self.assertIsNone(badge, m["peer"])
        reps = card.find_all("span", "peer", representative="true")
        self.assertEqual(len(reps), g["representatives"])


def fmt(v):
    """A JSON value as app.js writes it into a data-* attribute."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def stuck_peers(stats):
    return {m["peer"] for rack in stats["racks"].values() for m in rack["members"] if m["stuck"]}


if __name__ == "__main__":
    unittest.main()

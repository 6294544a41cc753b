#!/usr/bin/env python3
"""A stand-in for the original's server-management service (SMDB), for tests.

Answers GET /servers/ipaddresses/<ip> as the original's SMDB did
(original-behaviour.md (c)): {"<server>": {"cabinet": "<rack>", ...}}, `{}`
for an address it does not know. What it answers per address is set by the
test through a control API, so slow, failing, malformed and multi-server
answers come on demand:

  PUT /_control/<ip>   body: {"cabinet": "cab-A12"}            one server
                             {"servers": {"a": {...}, "b": {...}}}  verbatim
                             {"raw": "not json"}                 a broken body
                             {"status": 503}                     an HTTP error
                             ... plus "delay": seconds before answering
  DELETE /_control     forget every setting
  GET /_asked          the addresses asked so far, in order (JSON list)
  GET /inventory       the bulk listing: {"<ip>": {"cabinet": ...}} of every
                       address set with a cabinet

Usage: smdb_server.py [--port N]  (0: a free port; prints "port N" when ready)
Listens on 127.0.0.1 only.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/servers/ipaddresses/"


class State:
    lock = threading.Lock()
    answers = {}
    asked = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_asked":
            with State.lock:
                return self.reply(200, json.dumps(State.asked))
        if self.path == "/inventory":
            with State.lock:
                listing = {ip: {"cabinet": e["cabinet"], "name": "server-" + ip}
                           for ip, e in State.answers.items() if "cabinet" in e}
            return self.reply(200, json.dumps(listing))
        if not self.path.startswith(PREFIX):
            return self.reply(404, "{}")
        ip = self.path[len(PREFIX):]
        with State.lock:
            State.asked.append(ip)
            entry = dict(State.answers.get(ip, {}))
        if entry.get("delay"):
            time.sleep(entry["delay"])
        if "status" in entry:
            return self.reply(entry["status"], "error")
        if "raw" in entry:
            return self.reply(200, entry["raw"])
        if "servers" in entry:
            return self.reply(200, json.dumps(entry["servers"]))
        if "cabinet" in entry:
            server = "server-" + ip.replace(".", "-").replace(":", "-")
            return self.reply(200, json.dumps(
                {server: {"cabinet": entry["cabinet"], "name": server + ".internal"}}))
        return self.reply(200, "{}")

    def do_PUT(self):
        if not self.path.startswith("/_control/"):
            return self.reply(404, "{}")
        length = int(self.headers.get("Content-Length", "0"))
        entry = json.loads(self.rfile.read(length) or b"{}")
        with State.lock:
            State.answers[self.path[len("/_control/"):]] = entry
        self.reply(200, "{}")

    def do_DELETE(self):
        with State.lock:
            State.answers.clear()
            State.asked.clear()
        self.reply(200, "{}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

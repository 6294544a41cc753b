"""Whose address a request speaks for: the `ip` parameter and proxy headers.

Each check uses a fresh torrent and max_repr_rack=1. The peer under test
announces once; an observer then announces from host .250 of the rack the peer
should have landed in. The observer sees exactly the address the swarm
recorded: as a rack-mate when the tracker put the peer in the expected rack,
and (as that rack's representative) as an outsider otherwise, so a wrong
address shows up in the failure message.
"""
import http.client
import os
import socket
import unittest

from harness import (Tracker, announce_query, bdecode, http_request, make_torrent, peers_of,
                     register_new)

PORT = 7777


class TrustBase(unittest.TestCase):
    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.t = Tracker(max_repr_rack=1, **cls.settings).start()

    @classmethod
    def tearDownClass(cls):
        cls.t.cleanup()

    def announce(self, h, source, headers=None, **params):
        params.setdefault("port", PORT)
        r = http_request(self.t.port, "GET", "/announce?" + announce_query(h, **params),
                         headers=headers, source=source)
        self.assertEqual(r.status, 200, r.body)
        reply = r.bdecoded()
        self.assertNotIn(b"failure reason", reply, reply)
        return reply

    def assert_recorded_as(self, source, expected, headers=None, **params):
        """Announces from `source` and checks the swarm holds the peer as `expected`."""
        h = register_new(self.t)
        reply = self.announce(h, source, headers=headers, **params)
        self.assertEqual(reply[b"external ip"], socket.inet_aton(expected))
        observer = expected.rsplit(".", 1)[0] + ".250"
        seen = peers_of(self.announce(h, observer, port=PORT + 1))
        # The observer is the peer's rack-mate: not a representative (the slot is
        # taken), so it is told only about its own rack.
        self.assertEqual(seen, {(expected, PORT)})
        mate = peers_of(self.announce(h, expected.rsplit(".", 1)[0] + ".251", port=PORT + 2))
        self.assertEqual(mate, {(expected, PORT), (observer, PORT + 1)},
                         "peer recorded outside the rack of %s" % expected)


class IpParameterTest(TrustBase):
    settings = {"trusted_networks": ["127.0.5.0/24"]}

    def test_ip_ignored_from_untrusted_source(self):
        self.assert_recorded_as("127.0.3.1", "127.0.3.1", ip="127.0.9.9")

    def test_ip_honoured_from_trusted_network(self):
        self.assert_recorded_as("127.0.5.1", "127.0.10.7", ip="127.0.10.7")

    def test_no_ip_from_trusted_network_is_the_source(self):
        self.assert_recorded_as("127.0.5.2", "127.0.5.2")

    def test_hostname_in_ip_is_ignored(self):
        self.assert_recorded_as("127.0.5.3", "127.0.5.3", ip="localhost")

    def test_headers_ignored_without_proxypass(self):
        self.assert_recorded_as("127.0.0.1", "127.0.0.1",
                                headers={"X-Real-IP": "127.0.11.5",
                                         "X-Forwarded-For": "127.0.11.6"})


class ProxyTest(TrustBase):
    settings = {"proxypass": True}

    def test_x_real_ip_ignored_by_default(self):
        # Issue 10: a proxy that passes X-Real-IP through let a client pick
        # its own address; only the configured proxy_header counts.
        self.assert_recorded_as("127.0.0.1", "127.0.12.6",
                                headers={"X-Real-IP": "127.0.12.5",
                                         "X-Forwarded-For": "127.0.12.6"})
        self.assert_recorded_as("127.0.0.1", "127.0.0.1", headers={"X-Real-IP": "127.0.12.5"})

    def test_x_forwarded_for_from_trusted_proxy(self):
        self.assert_recorded_as("127.0.0.1", "127.0.13.5",
                                headers={"X-Forwarded-For": "127.0.13.5"})

    def test_x_real_ip_ignored_from_untrusted_source(self):
        self.assert_recorded_as("127.0.0.2", "127.0.0.2", headers={"X-Real-IP": "127.0.14.5"})

    def test_x_forwarded_for_ignored_from_untrusted_source(self):
        self.assert_recorded_as("127.0.0.2", "127.0.0.2",
                                headers={"X-Forwarded-For": "127.0.15.5"})

    def test_ip_parameter_still_needs_trusted_networks(self):
        self.assert_recorded_as("127.0.0.1", "127.0.16.5",
                                headers={"X-Forwarded-For": "127.0.16.5"}, ip="127.0.17.5")


class ProxyRealIpTest(TrustBase):
    settings = {"proxypass": True, "proxy_header": "X-Real-IP"}

    def test_x_real_ip_when_configured(self):
        self.assert_recorded_as("127.0.0.1", "127.0.18.5",
                                headers={"X-Real-IP": "127.0.18.5",
                                         "X-Forwarded-For": "127.0.18.6"})

    def test_x_real_ip_ignored_from_untrusted_source(self):
        self.assert_recorded_as("127.0.0.2", "127.0.0.2", headers={"X-Real-IP": "127.0.19.5"})


class ProxyChainTest(TrustBase):
    settings = {"proxypass": True, "trusted_proxies": ["127.0.0.1/32", "10.1.1.0/24"]}

    def test_rightmost_untrusted_address_wins(self):
        # The client wrote the first entry itself (spoofable); our proxies
        # appended the rest. Walk from the right past trusted proxies.
        self.assert_recorded_as("127.0.0.1", "127.0.21.5",
                                headers={"X-Forwarded-For": "127.0.20.5, 127.0.21.5, 10.1.1.7"})

    def test_single_untrusted_hop(self):
        self.assert_recorded_as("127.0.0.1", "127.0.22.5",
                                headers={"X-Forwarded-For": "127.0.23.5,127.0.22.5"})

    def test_chain_from_untrusted_peer_is_ignored(self):
        self.assert_recorded_as("127.0.0.3", "127.0.0.3",
                                headers={"X-Forwarded-For": "127.0.24.5, 10.1.1.7"})


def request_with_lines(port, method, target, lines, body=b"", source="127.0.0.1"):
    """A request whose header lines are given as (name, value) pairs, a name
    repeated as often as it appears (http_request's dict cannot repeat one)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in lines:
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class ForgedForwardedForTest(TrustBase):
    """proxypass with the default trusted_proxies (this host) and no token:
    a request from 127.0.0.1 may change the tracker, one forwarded for
    another client may not, however the client dresses its own header."""
    settings = {"proxypass": True}

    def register_through_proxy(self, lines):
        data, _ = make_torrent("t-%s" % os.urandom(6).hex(), os.urandom(1000))
        return request_with_lines(self.t.port, "PUT", "/api/v1/torrents/forged-%s.torrent"
                                  % os.urandom(4).hex(),
                                  [("Content-Type", "application/x-bittorrent")] + lines, data)

    def test_the_proxy_itself_may_change_the_tracker(self):
        status, body = self.register_through_proxy([])
        self.assertEqual(status, 201, body)

    def test_a_client_line_before_the_proxys_own_is_read_as_the_client_wrote_it(self):
        # HAProxy's `option forwardfor` adds a line of its own after the client's.
        status, body = self.register_through_proxy(
            [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "127.0.30.9")])
        self.assertEqual(status, 403, body)

    def test_an_entry_that_names_no_address_grants_nothing(self):
        for xff in ("unknown", "127.0.30.9, garbage", "[..]:443", "127.0.30.9,", "_hidden"):
            with self.subTest(xff=xff):
                status, body = self.register_through_proxy([("X-Forwarded-For", xff)])
                self.assertEqual(status, 403, body)
        status, body = self.register_through_proxy([("X-Forwarded-For", "127.0.30.9:4711")])
        self.assertEqual(status, 403, body)

    def test_repeated_lines_are_one_header_for_announces_too(self):
        h = register_new(self.t)
        status, body = request_with_lines(
            self.t.port, "GET", "/announce?" + announce_query(h, port=PORT),
            [("X-Forwarded-For", "127.0.31.5"), ("X-Forwarded-For", "127.0.32.5:51000")])
        self.assertEqual(status, 200, body)
        self.assertEqual(bdecode(body)[b"external ip"], socket.inet_aton("127.0.32.5"))

    def test_an_announce_whose_client_is_unknown_is_refused(self):
        h = register_new(self.t)
        status, body = request_with_lines(self.t.port, "GET",
                                          "/announce?" + announce_query(h, port=PORT),
                                          [("X-Forwarded-For", "unknown")])
        self.assertEqual(status, 200, body)
        self.assertIn(b"did not name your address", bdecode(body)[b"failure reason"])


if __name__ == "__main__":
    unittest.main()

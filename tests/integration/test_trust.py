"""Whose address a request speaks for: the `ip` parameter and proxy headers.

Each check uses a fresh torrent and max_repr_rack=1. The peer under test
announces once; an observer then announces from host .250 of the rack the peer
should have landed in. The observer sees exactly the address the swarm
recorded: as a rack-mate when the tracker put the peer in the expected rack,
and (as that rack's representative) as an outsider otherwise, so a wrong
address shows up in the failure message.
"""
import socket
import unittest

from harness import Tracker, http_request, announce_query, register_new, peers_of

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


if __name__ == "__main__":
    unittest.main()

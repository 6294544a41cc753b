"""Issue 13: racks from DNS TXT records, resolved asynchronously (c-ares)
against a real DNS server the test starts (dnsmasq on a loopback port). The
system's resolver is never asked: dns_server always names the test's server.
"""
import json
import time
import unittest

from harness import DnsServer, SilentUdpServer, Tracker, register_new, wait_until
from test_topology_smdb import SmdbCase

RECORDS = {
    # 127.0.70.1 and 127.0.71.1 share a rack across /24s.
    "1.70.0.127.topology.test": ["dc=ams1 row=3 rack=12"],
    "1.71.0.127.topology.test": ["dc=ams1 row=3 rack=12"],
    "2.70.0.127.topology.test": ["dc=ams1 row=4 rack=12"],
    # A record that is not a location.
    "3.70.0.127.topology.test": ["rack=bad!name"],
    # Two records for one name.
    "4.70.0.127.topology.test": ["dc=ams1 row=5 rack=1", "dc=ams1 row=5 rack=2"],
    # {ip} form.
    "127.0.72.1.hosts.topology.test": ["ams2/row1/rack7"],
}


class DnsTopologyTest(SmdbCase):
    def setUp(self):
        super().setUp()
        self.dns = DnsServer(RECORDS).start()

    def tearDown(self):
        super().tearDown()
        self.dns.stop()

    def dns_tracker(self, **settings):
        base = {"topology": ["dns", "subnet"], "dns_name": "{reverse}.topology.test.",
                "dns_server": self.dns.server, "max_repr_rack": 1}
        base.update(settings)
        t = Tracker(**base)
        self.trackers.append(t)
        return t.start()

    def test_groups_by_txt_record_across_subnets(self):
        t = self.dns_tracker()
        h = register_new(t)
        for ip in ("127.0.70.1", "127.0.71.1", "127.0.70.2"):
            self.announce(t, h, ip)
        # Racks are the levels' path: the two racks called 12 stay apart.
        wait_until(lambda: self.racks(t, h) == ["ams1/3/12", "ams1/4/12"],
                   what="racks from TXT records")
        reply, _ = self.announce(t, h, "127.0.71.1")
        peers = {bytes(reply[b"peers"][i:i + 4]) for i in range(0, len(reply[b"peers"]), 6)}
        self.assertEqual(peers, {bytes([127, 0, 70, 1])})
        # Cached: each name asked once however often the host announces.
        self.assertEqual(self.dns.queries("1.71.0.127.topology.test"), 1)
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_lookups_total",
                                     source="dns", outcome="found"), 3)

    def test_unknown_name_falls_through_once(self):
        t = self.dns_tracker(topology_negative_ttl=3600)
        h = register_new(t)
        self.announce(t, h, "127.0.70.9")
        # The start-up check's lookup (of 127.0.0.1) and this host's.
        wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                       source="dns", outcome="unknown") == 2,
                   what="NXDOMAIN counted as unknown")
        for _ in range(3):
            self.announce(t, h, "127.0.70.9")
        self.assertEqual(self.racks(t, h), ["127.0.70.0/24"])
        self.assertEqual(self.dns.queries("9.70.0.127.topology.test"), 1)
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_up", source="dns"), 1)

    def test_malformed_and_several_records(self):
        t = self.dns_tracker()
        h = register_new(t)
        self.announce(t, h, "127.0.70.3")
        self.announce(t, h, "127.0.70.4")
        wait_until(lambda: len(self.racks(t, h)) == 2 and self.metric(
            t, "p2ptracker_topology_source_lookups_total", source="dns", outcome="error") == 1,
                   what="both answers")
        racks = self.racks(t, h)
        self.assertIn("127.0.70.0/24", racks)  # the malformed one: the subnet rule
        self.assertTrue({"ams1/5/1", "ams1/5/2"} & set(racks), racks)
        self.assertEqual(self.metric(t, "p2ptracker_topology_source_lookups_total",
                                     source="dns", outcome="ambiguous"), 1)
        self.assertIn("rack name 'bad!name' contains", t.logged("rack name 'bad!name' contains"))

    def test_ip_template(self):
        t = self.dns_tracker(dns_name="{ip}.hosts.topology.test.")
        h = register_new(t)
        self.announce(t, h, "127.0.72.1")
        wait_until(lambda: self.racks(t, h) == ["ams2/row1/rack7"], what="the {ip} name's rack")

    def test_late_answer_moves_the_host(self):
        # The first server never answers; c-ares asks the second (dnsmasq)
        # once the first's time is up, so the answer comes late.
        silent = SilentUdpServer()
        try:
            t = self.dns_tracker(dns_server="127.0.0.1:%d,%s" % (silent.port, self.dns.server),
                                 topology_timeout_ms=700, topology_wait_ms=0)
            h = register_new(t)
            self.announce(t, h, "127.0.70.1")
            self.assertEqual(self.racks(t, h), ["127.0.70.0/24"])
            wait_until(lambda: self.racks(t, h) == ["ams1/3/12"], what="the host moved")
        finally:
            silent.close()

    def test_server_that_never_answers_is_down_and_the_chain_serves(self):
        silent = SilentUdpServer()
        try:
            t = self.dns_tracker(dns_server="127.0.0.1:%d" % silent.port, topology_timeout_ms=300)
            line = "topology source dns: TXT 1.0.0.127.topology.test.: "
            self.assertIn(line, t.logged(line))
            h = register_new(t)
            started = time.monotonic()
            self.announce(t, h, "127.0.70.1")
            self.assertLess(time.monotonic() - started, 1.0)
            wait_until(lambda: self.metric(t, "p2ptracker_topology_source_lookups_total",
                                           source="dns", outcome="error") >= 2,
                       what="the lookup timed out")
            self.assertEqual(self.racks(t, h), ["127.0.70.0/24"])
            health = json.loads(t.get("/health").body)
            self.assertEqual(health["components"]["topology"]["dns"]["state"], "down")
        finally:
            silent.close()


if __name__ == "__main__":
    unittest.main()

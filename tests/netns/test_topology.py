"""Checks the test network itself, without ndproxyd: the facts the other tests rely on.

If one of these fails, a passing daemon test would mean nothing.
"""

import unittest

import harness
import topology
from topology import HOST, vm_addr


class TopologyTest(harness.NetnsCase):

    def test_vm_teaches_host_its_global_address_only_via_gateway(self):
        self.topo.vm_speak(1)
        self.assertTrue(self.topo.host_knows(vm_addr(1)), "vm1 speaking to 2001:db8:1::1")
        self.topo.vm_speak_link_local(2)
        self.assertIsNone(self.topo.host_neigh_state(vm_addr(2)),
                          "a VM that talks only to fe80::1 must not show its global address")
        self.assertTrue(any(e["dst"].startswith("fe80:") for e in topology.neigh(HOST, "br0")))

    def test_router_reaches_vm_only_through_a_proxy_entry(self):
        self.topo.vm_speak(1)
        self.assertFalse(self.topo.router_ping(vm_addr(1), wait=1),
                         "router reached vm1 with no proxy entry: the test network proves nothing")
        topology.ip(HOST, "-6", "neigh", "add", "proxy", vm_addr(1), "dev", "ext", "proto", "71")
        topology.sysctl(HOST, "net.ipv6.conf.ext.proxy_ndp", 1)
        topology.sysctl(HOST, "net.ipv6.neigh.ext.proxy_delay", 0)
        self.assertEqual(topology.proxy_table(), [(vm_addr(1), 71)])
        self.assertTrue(self.topo.router_ping(vm_addr(1)), "router -> vm1 with a proxy entry")
        self.assertFalse(self.topo.router_ping(vm_addr(2), wait=1), "vm2 has no proxy entry")

    def test_unicast_probe_needs_all_proxy_ndp(self):
        self.topo.vm_speak(1)
        topology.ip(HOST, "-6", "neigh", "add", "proxy", vm_addr(1), "dev", "ext")
        topology.sysctl(HOST, "net.ipv6.conf.ext.proxy_ndp", 1)
        self.assertFalse(self.topo.router_unicast_probe(vm_addr(1))["answered"],
                         "unicast NS answered with all.proxy_ndp=0")
        topology.sysctl(HOST, "net.ipv6.conf.all.proxy_ndp", 1)
        answer = self.topo.router_unicast_probe(vm_addr(1))
        self.assertTrue(answer["answered"], "unicast NS unanswered with all.proxy_ndp=1")
        self.assertTrue(answer["solicited"])


if __name__ == "__main__":
    unittest.main()

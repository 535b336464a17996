"""Resynchronisation: links that go away, come back late or go down. The kernel sends no event
when proxy entries vanish, so the daemon must re-dump after link events and put back what it owns."""

import unittest

import harness
import topology
from topology import HOST, OWNER_PROTO, ip, owned, proxy_table, vm_addr

MARGIN = 3.0


class ResyncTest(harness.NetnsCase):

    def test_bridge_recreated(self):
        self.topo.add_vm(3)
        # Probes back off (0, 1, 3 s, ...): the first ones go out while br0 is away, so leave
        # time for one on the new br0 even on a loaded machine.
        withdraw_after = 6
        d = self.daemon("--withdraw-after", str(withdraw_after))
        for n in (1, 2, 3):
            self.topo.vm_speak(n)
        self.wait_owned([vm_addr(n) for n in (1, 2, 3)])
        self.topo.remove_vm(3)          # vm3 goes for good; its neighbour entry stays in br0
        # br0 goes, and all its neighbour entries with it, without a neighbour event each.
        self.topo.delete_bridge()
        self.topo.build_bridge(vms=(1, 2))
        # vm1 and vm2 stay silent: only the daemon's probes on the new br0 can show they live.
        self.wait_owned([vm_addr(1), vm_addr(2)], timeout=withdraw_after + MARGIN,
                        what="vm3's entry withdrawn")
        # All three were missed at the same moment; a wrong withdrawal of vm1 or vm2 would
        # come right with vm3's.
        topology.hold_for(lambda: owned(proxy_table()) == [vm_addr(1), vm_addr(2)], 1.5,
                          "vm1's and vm2's entries after the bridge came back")
        self.assertGreaterEqual(d.stats()["probe_answers"], 2)
        self.assertTrue(self.topo.router_ping(vm_addr(1)))

    def test_ext_down_up_restores_entries(self):
        ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::99", "dev", "ext")
        d = self.daemon()
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        # An administrative down flushes ext's whole proxy table, silently.
        ip(HOST, "link", "set", "ext", "down")
        ip(HOST, "link", "set", "ext", "up")
        self.topo.wait_link(HOST, "ext")
        self.topo.restore_default_route()     # the kernel dropped it with ext
        self.wait_owned([vm_addr(1), vm_addr(2)], what="the daemon to restore its entries")
        self.assertNotIn(("2001:db8:1::99", OWNER_PROTO), proxy_table(),
                         "the administrator's entry must not come back as the daemon's")
        self.assertTrue(self.topo.router_ping(vm_addr(1)))
        self.assertGreaterEqual(d.stats()["resyncs"], 1)


class LateBridgeTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False

    def test_daemon_started_before_bridge(self):
        # No br0 yet: the daemon waits for it rather than failing.
        self.assertFalse(topology.link_exists(HOST, "br0"))
        d = self.daemon()
        internal = d.status()["internal"]
        self.assertEqual([(i["name"], i["ifindex"]) for i in internal], [("br0", None)])
        self.topo.build_bridge(vms=(1, 2))
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        self.assertEqual(proxy_table(), [(vm_addr(1), OWNER_PROTO), (vm_addr(2), OWNER_PROTO)])
        internal = d.status()["internal"][0]
        self.assertIsNotNone(internal["ifindex"])
        self.assertIs(internal["up"], True)
        self.assertTrue(self.topo.router_ping(vm_addr(2)))


if __name__ == "__main__":
    unittest.main()

"""Faults of the links: the bridge deleted and recreated with the VMs re-attached, the uplink
going down and up, the internal bridge renamed. The kernel reports none of what these do to the
proxy table; the daemon must re-read it and end with exactly the live VMs, without touching the
administrator's entries or flapping a live one."""

import unittest

import faults
import topology
from faults import forget_neighbour, kernel_writes
from faults import stable_proxy_table
from topology import HOST, OWNER_PROTO, ip, owned, vm_addr

WITHDRAW_AFTER = 3


class LinkFaultTest(faults.FaultCase):
    VMS = (1, 2, 3)

    def start(self):
        d = self.daemon("--withdraw-after", str(WITHDRAW_AFTER))
        for n in self.VMS:
            self.topo.vm_speak(n)
        self.wait_owned([vm_addr(n) for n in self.VMS])
        return d

    def assert_added_once(self, d, addresses):
        """Each address was written once, when it first came, and never withdrawn."""
        writes = kernel_writes(d)
        self.assertEqual({a: writes.get(a) for a in addresses}, {a: ["add"] for a in addresses},
                         "a live entry was withdrawn or re-added")

    def test_bridge_deleted_and_recreated_twice(self):
        d = self.start()
        # First outage: vm3 goes for good while br0 is away.
        self.topo.delete_bridge()
        self.topo.remove_vm(3)
        self.topo.build_bridge(vms=(1, 2))
        self.assert_admin_untouched("while br0 was away")
        # Second outage, at once: vm4 arrives on the new bridge and speaks.
        self.topo.delete_bridge()
        self.topo.build_bridge(vms=(1, 2))
        self.topo.add_vm(4)
        self.topo.vm_speak(4)
        # vm1 and vm2 stay silent: only the daemon's probes on the new br0 can show they live.
        self.assert_exact(d, [vm_addr(1), vm_addr(2), vm_addr(4)], timeout=WITHDRAW_AFTER + 10)
        self.assert_added_once(d, [vm_addr(1), vm_addr(2), vm_addr(4)])
        self.assertEqual(kernel_writes(d)[vm_addr(3)], ["add", "withdraw"])
        self.assertTrue(self.topo.router_ping(vm_addr(1)))

    def test_uplink_flaps_while_vms_come_and_go(self):
        d = self.start()
        # An administrative down flushes ext's whole proxy table, the administrator's entries
        # included, and says nothing.
        ip(HOST, "link", "set", "ext", "down")
        self.topo.remove_vm(3)
        forget_neighbour(vm_addr(3))
        self.topo.add_vm(4)
        self.topo.vm_speak(4)
        for _ in range(3):          # and it flaps
            ip(HOST, "link", "set", "ext", "up")
            ip(HOST, "link", "set", "ext", "down")
        ip(HOST, "link", "set", "ext", "up")
        self.topo.wait_link(HOST, "ext")
        self.topo.restore_default_route()
        live = [vm_addr(1), vm_addr(2), vm_addr(4)]
        self.wait_owned(live, timeout=WITHDRAW_AFTER + 10, what="the daemon's entries restored")
        # The flush took the administrator's entries; the daemon must not bring them back, as
        # its own or at all. The administrator puts them back.
        self.assertEqual(faults.foreign(stable_proxy_table()), [])
        faults.add_admin_entries()
        self.assert_exact(d, live, timeout=WITHDRAW_AFTER + 10)
        self.assertGreaterEqual(d.stats()["proxy_repairs"] + d.stats()["resyncs"], 1)
        self.assertTrue(self.topo.router_ping(vm_addr(4)))

    def test_bridge_renamed_and_back_keeps_every_entry(self):
        d = self.start()
        # An administrator renames br0 (it must go down for that, which flushes its neighbours,
        # addresses and routes). No interface is called br0 now: the daemon cannot probe, so it
        # withdraws nothing, and the proxy entries keep answering for the VMs.
        faults.rename_link("br0", "lan0")
        faults.restore_bridge_addresses("lan0")
        topology.wait_until(lambda: d.status()["internal"][0]["ifindex"] is None, 5,
                            "the daemon to see br0 gone")
        everyone = [vm_addr(n) for n in self.VMS]
        topology.hold_for(lambda: owned(stable_proxy_table()) == everyone, WITHDRAW_AFTER + 1,
                          "every entry while br0 is renamed")
        self.assertTrue(self.topo.router_ping(vm_addr(1)), "service interrupted by the rename")
        # And back: probes on br0 find every VM again.
        faults.rename_link("lan0", "br0")
        faults.restore_bridge_addresses("br0")
        for n in self.VMS:
            self.topo.wait_link(HOST, f"vm{n}p")
        self.assert_exact(d, [vm_addr(n) for n in self.VMS], timeout=WITHDRAW_AFTER + 10)
        self.assert_added_once(d, [vm_addr(n) for n in self.VMS])

    def test_bridge_renamed_away_and_replaced(self):
        d = self.start()
        # br0 becomes lan0 for good, and a new br0 takes over vm1 only: the configuration names
        # br0, so vm2 and vm3, still behind lan0, are no longer the daemon's to proxy.
        faults.rename_link("br0", "lan0")
        faults.restore_bridge_addresses("lan0")
        faults.new_bridge("br0")
        self.topo.attach_vm(1)
        self.assert_exact(d, [vm_addr(1)], timeout=WITHDRAW_AFTER + 10)
        self.assert_added_once(d, [vm_addr(1)])
        for n in (2, 3):
            self.assertEqual(kernel_writes(d)[vm_addr(n)], ["add", "withdraw"])
        self.assertIn((vm_addr(1), OWNER_PROTO), stable_proxy_table())


if __name__ == "__main__":
    unittest.main()

"""Per-VM bounds (the hostile-tenants issue): a VM that invents addresses cannot fill the entry
table or the uplink with announcements. The addresses one MAC may hold and the rate at which it
may add new ones are capped; each refusal is counted, and the log says so once per MAC, while
every other VM is served as before.

The inventing VM is vm1's MAC behind br0: its neighbour entries are written in one `ip -batch`,
which is what the host's neighbour table shows when a VM answers from that many addresses."""

import unittest

import faults
import harness
import topology
from topology import HOST, vm_addr

ADDRESSES = 300


def invented(count):
    """`count` neighbour entries on br0 for addresses in the prefix, all with vm1's MAC."""
    mac = topology.link_mac("vm1", "vif0")
    return [f"neigh replace 2001:db8:1::6:{i:x} lladdr {mac} dev br0 nud reachable"
            for i in range(count)]


class VmBoundsTest(harness.NetnsCase):

    def owned_count(self):
        return len(topology.owned(topology.proxy_table()))

    def test_addresses_per_mac_are_capped(self):
        d = self.daemon("--max-addresses-per-mac", "100", "--new-addresses-per-minute", "100000",
                        "--no-announce")
        self.topo.vm_speak(1)                   # vm1's own address: one of its 100
        self.wait_owned([vm_addr(1)])
        faults.run_batch(invented(ADDRESSES))
        topology.wait_until(lambda: d.stats()["mac_address_limit"] == ADDRESSES - 99, 10,
                            f"{ADDRESSES - 99} refusals")
        self.assertEqual(self.owned_count(), 100)
        self.assertEqual(d.stats()["entries"], 100)
        # Another VM is served as before.
        self.topo.vm_speak(2)
        topology.wait_until(lambda: vm_addr(2) in topology.owned(topology.proxy_table()), 5,
                            "vm2 mirrored")
        log = d.log_text()
        self.assertEqual(log.count("--max-addresses-per-mac; counted as mac_address_limit"), 1,
                         "the log speaks once per MAC")

    def test_new_addresses_per_mac_are_rate_limited(self):
        d = self.daemon("--new-addresses-per-minute", "20")
        faults.run_batch(invented(ADDRESSES))
        topology.wait_until(lambda: d.stats()["mac_rate_limit"] == ADDRESSES - 20, 10,
                            f"{ADDRESSES - 20} refusals")
        self.assertEqual(self.owned_count(), 20)
        # Three announcements for each admitted address only: the uplink is spared the rest.
        topology.wait_until(lambda: d.stats()["announcements_sent"] == 3 * 20, 10,
                            "the admitted addresses' announcements")
        topology.hold_for(lambda: d.stats()["announcements_sent"] == 3 * 20, 1.0,
                          "no announcement for a refused address")
        self.assertEqual(
            d.log_text().count("--new-addresses-per-minute; counted as mac_rate_limit"), 1)
        self.topo.vm_speak(2)
        topology.wait_until(lambda: vm_addr(2) in topology.owned(topology.proxy_table()), 5,
                            "vm2 mirrored")


if __name__ == "__main__":
    unittest.main()

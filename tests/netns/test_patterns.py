"""Internal interfaces matched by a pattern (`internal = br-*`, as Docker or Incus name their
bridges): a bridge that appears after the start joins with no reload, its VMs are proxied, and
when it is deleted and its VM gone, the VM's entry is withdrawn. `status` shows each member and the pattern it
matched."""

import unittest

import harness
import topology
from topology import HOST, PREFIX, ip, owned, proxy_table, vm_addr, wait_until

WITHDRAW_AFTER = 2


class PatternTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False
    BASE_ARGS = ("-e", "ext", "-i", "br-*", "-p", PREFIX, "--responder", "off",
                 "--log-level", "debug")

    def owned_now(self):
        return sorted(owned(proxy_table()))

    def test_bridges_join_and_leave_with_no_reload(self):
        # br-aaa holds the /64; br-bbb, made later, a /128 for its one VM (a routed VM).
        self.topo.build_named_bridge("br-aaa", (1,), PREFIX)
        d = self.daemon("--withdraw-after", str(WITHDRAW_AFTER))
        self.topo.vm_speak(1)
        wait_until(lambda: self.owned_now() == [vm_addr(1)], 10, "vm1 on br-aaa proxied")

        self.topo.build_named_bridge("br-bbb", (2,), f"{vm_addr(2)}/128")
        self.topo.vm_speak(2)
        wait_until(lambda: self.owned_now() == sorted([vm_addr(1), vm_addr(2)]), 10,
                   "vm2 on br-bbb, a bridge made after the start, proxied")
        status = d.status()
        members = {link["name"]: link.get("pattern") for link in status["internal"]}
        self.assertEqual(members, {"br-aaa": "br-*", "br-bbb": "br-*"})
        self.assertEqual(status["internal_patterns"], ["br-*"])
        self.assertIn("matches br-*",
                      topology.run(*harness.ctl_command(d.socket, "status")).stdout)
        self.assertTrue(self.topo.router_ping(vm_addr(2)))

        # A link that matches nothing is no member, and its neighbours are not proxied.
        ip(HOST, "link", "add", "other0", "type", "veth", "peer", "name", "other1")
        ip(HOST, "link", "set", "other1", "up")
        ip(HOST, "link", "set", "other0", "up")
        ip(HOST, "-6", "neigh", "add", "2001:db8:1::99", "lladdr", "02:00:00:00:99:99",
           "dev", "other0", "nud", "permanent")
        # br-bbb goes, and vm2 with it: as for a named link that goes, the daemon solicits vm2
        # on the links that remain (it could have moved to another) and withdraws its entry
        # when nobody answers. br-aaa's stays.
        ip(HOST, "link", "del", "br-bbb")
        self.topo.remove_vm(2)
        wait_until(lambda: self.owned_now() == [vm_addr(1)], WITHDRAW_AFTER + 10,
                   "vm2's entry withdrawn after its bridge went")
        self.assertEqual([link["name"] for link in d.status()["internal"]], ["br-aaa"])
        self.assertTrue(self.topo.router_ping(vm_addr(1)))


if __name__ == "__main__":
    unittest.main()

"""Two customers on one host, each with a prefix bound to its own bridge (`prefix = P on br-a`):
each VM is proxied inside its customer's prefix, and a VM on one bridge that claims an address
of the other customer's prefix is refused, counted and never proxied; nor is the other bridge
solicited for such an address in verify mode."""

import unittest

import harness
from topology import (GATEWAY, hold_for, ip, ns_exec, owned, proxy_table, vm_name,
                      wait_until)

PREFIX_A = "2001:db8:1:0:a::/80"
PREFIX_B = "2001:db8:1:0:b::/80"
VM_A = "2001:db8:1:0:a::10"        # vm1, customer A's, on br-a
VM_B = "2001:db8:1:0:b::20"        # vm2, customer B's, on br-b
CLAIMED = "2001:db8:1:0:a::99"     # customer A's address, claimed by vm2 on br-b
HIDDEN = "2001:db8:1:0:a::55"      # customer A's address, held silently by vm2 on br-b


def speak_from(n, address):
    """VM n resolves the gateway afresh from `address`: its solicitation (with its MAC) makes
    the host's neighbour entry for `address` on the bridge it came in on (RFC 4861 §7.2.3)."""
    vm = vm_name(n)
    ip(vm, "addr", "add", f"{address}/80", "dev", "vif0", "nodad")
    ip(vm, "neigh", "flush", "dev", "vif0")
    ns_exec(vm, "ping", "-6", "-c", "1", "-W", "2", "-I", address, GATEWAY, check=False)


class PrefixBindingTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False
    BASE_ARGS = ("-e", "ext", "-i", "br-a", "-i", "br-b", "-p", f"{PREFIX_A} on br-a",
                 "-p", f"{PREFIX_B} on br-b", "--responder", "verify", "--log-level", "debug")

    def build_topology(self):
        self.topo.build_uplink()
        self.topo.build_named_bridge("br-a", (1,), PREFIX_A)
        self.topo.build_named_bridge("br-b", (2,), PREFIX_B)
        # vm1 and vm2 were given 2001:db8:1::10 and ::20, outside both customers' prefixes.
        for n in (1, 2):
            ip(vm_name(n), "addr", "flush", "dev", "vif0", "scope", "global")

    def owned_now(self):
        return sorted(owned(proxy_table()))

    def test_a_vm_cannot_claim_the_other_customers_address(self):
        d = self.daemon()
        speak_from(1, VM_A)
        speak_from(2, VM_B)
        wait_until(lambda: self.owned_now() == sorted([VM_A, VM_B]), 10,
                   "each customer's VM proxied")
        self.assertEqual(d.status()["prefix_bindings"],
                         {PREFIX_A: ["br-a"], PREFIX_B: ["br-b"]})
        self.assertTrue(self.topo.router_ping(VM_A))
        self.assertTrue(self.topo.router_ping(VM_B))

        speak_from(2, CLAIMED)
        wait_until(lambda: d.stats()["interface_refused"] >= 1, 5, "the claim refused")
        hold_for(lambda: CLAIMED not in self.owned_now(), 1.5, "the claimed address not proxied")
        self.assertIn(f"{CLAIMED} appeared behind br-b", d.log_text())

        # vm2 holds another of customer A's addresses without saying so. Asked for it, the
        # daemon solicits br-a only: vm2 never hears the question, so nothing answers.
        # (Had br-b been asked, vm2's answer would be refused, and each refusal is logged once
        # per address and link.)
        ip(vm_name(2), "addr", "add", f"{HIDDEN}/80", "dev", "vif0", "nodad")
        verifications = d.stats()["verifications"]
        answer = self.topo.router_unicast_probe(HIDDEN, timeout=2)
        self.assertFalse(answer["answered"])
        self.assertGreater(d.stats()["verifications"], verifications, "no verification started")
        self.assertNotIn(f"{HIDDEN} appeared behind br-b", d.log_text(),
                         "br-b was solicited for an address of br-a's prefix")
        self.assertNotIn(HIDDEN, self.owned_now())
        self.assertEqual(self.owned_now(), sorted([VM_A, VM_B]))


if __name__ == "__main__":
    unittest.main()

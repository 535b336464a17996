"""The responder's verify mode (the default): a VM that has not sent a single packet since it booted
is reachable from upstream at the router's first solicitation, and is mirrored as "verified"; an
address nobody holds gets no answer and is negative-cached, while `always` answers it."""

import unittest

import harness
import topology
from topology import HOST, OWNER_PROTO, ROUTER, ROUTER_LL, proxy_table, vm_addr

NOBODY = "2001:db8:1::dead"     # inside the prefix; no VM holds it


def neighbour_addresses(ns, dev):
    return [entry["dst"] for entry in topology.neigh(ns, dev)]


class VerifyTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def test_silent_vm_reachable_at_first_solicitation(self):
        # vm2 has said nothing: the host has no neighbour entry for its global address (so the
        # mirror has nothing to copy), and the router has never resolved it.
        self.assertNotIn(vm_addr(2), neighbour_addresses(HOST, "br0"))
        self.assertNotIn(vm_addr(2), neighbour_addresses(ROUTER, "down0"))
        d = self.daemon("--responder", "verify")
        self.assertEqual(proxy_table(), [], "nothing mirrored before the router asks")
        # The echo request waits in the router's queue while it resolves vm2, so ping's round
        # trip runs from before the router's first solicitation to the echo reply. Unanswered,
        # that solicitation is retransmitted only after RetransTimer (1 s).
        rtt = self.topo.router_ping_rtt(vm_addr(2), wait=2)
        self.assertIsNotNone(rtt, "the router could not reach silent vm2")
        self.assertLess(rtt, 1000, "vm2 was not reachable at the router's first solicitation")
        stats = d.stats()
        self.assertEqual((stats["verifications"], stats["verified"]), (1, 1), stats)
        self.assertGreaterEqual(stats["ns_answered"], 1, stats)
        # Verified means mirrored: a tagged kernel entry, shown with origin "verified".
        self.wait_owned([vm_addr(2)])
        def listed_with_kernel_entry():
            entries = d.entries()
            return entries if entries.get(vm_addr(2), {}).get("kernel") else None
        entries = topology.wait_until(listed_with_kernel_entry, 5,
                                      "vm2 listed with its kernel entry in place")
        self.assertEqual(sorted(entries), [vm_addr(2)])
        entry = entries[vm_addr(2)]
        self.assertEqual(entry["origin"], "verified")
        self.assertEqual(entry["interface"], "br0")
        self.assertEqual(entry["lladdr"], topology.link_mac("vm2", "vif0"))
        # The second time, the kernel answers (the responder leaves targets with entries alone).
        self.assertIsNotNone(self.topo.router_ping_rtt(vm_addr(2), wait=2))
        self.assertEqual(proxy_table(), [(vm_addr(2), OWNER_PROTO)])

    def test_nobody_unanswered_in_verify_answered_in_always(self):
        d = self.daemon("--responder", "verify")
        result = self.topo.router_exchange([
            {"target": NOBODY, "source": ROUTER_LL},
            # Well after the verification gave up (900 ms): the negative cache answers this one.
            {"target": NOBODY, "source": ROUTER_LL, "delay": 1.5},
        ], listen=0.5)
        self.assertEqual(result["advertisements"], [], "an address nobody holds was answered")
        stats = d.stats()
        self.assertEqual((stats["verifications"], stats["verification_misses"],
                          stats["verified"], stats["ns_answered"]), (1, 1, 0, 0), stats)
        self.assertEqual(stats["ns_dropped"], {"negative_cached": 1})
        self.assertEqual(stats["negative_cache"], 1)
        self.assertEqual(proxy_table(), [])
        self.assertEqual(d.stop(), 0)

        d = self.daemon("--responder", "always", name="always")
        result = self.topo.router_exchange([{"target": NOBODY, "source": ROUTER_LL}], listen=0.5)
        answers = result["advertisements"]
        self.assertEqual([(na["target"], na["destination"], na["solicited"]) for na in answers],
                         [(NOBODY, ROUTER_LL, True)], "always mode answers every address")
        stats = d.stats()
        self.assertEqual((stats["ns_answered"], stats["verifications"]), (1, 0), stats)
        self.assertEqual(proxy_table(), [], "an always-mode answer mirrors nothing")


if __name__ == "__main__":
    unittest.main()

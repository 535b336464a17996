"""The kernel's share (--kernel-entries): up to it, addresses get kernel proxy entries; beyond
it the responder answers for them from the daemon's table, and when a kernel entry is withdrawn
the oldest responder address takes its slot. Every address stays reachable from upstream."""

import unittest

import harness
import topology
from topology import owned, proxy_table, vm_addr

VMS = (1, 2, 3, 4)
SHARE = 2


class KernelShareTest(harness.NetnsCase):
    VMS = VMS
    # known: the responder answers only what the mirror holds, so nothing but the share can
    # explain an answer. No announcements: they could complete a resolution by themselves.
    BASE_ARGS = (*harness.RESPONDER_BASE_ARGS, "--responder", "known", "--no-announce",
                 "--kernel-entries", str(SHARE), "--withdraw-after", "1")

    def test_beyond_the_share_the_responder_answers(self):
        d = self.daemon()
        for n in VMS:
            self.topo.vm_speak(n)
        topology.wait_until(lambda: len(d.entries()) == len(VMS), 5, "every VM mirrored")
        in_kernel = owned(proxy_table())
        self.assertEqual(len(in_kernel), SHARE, f"kernel table: {in_kernel}")
        entries = d.entries()
        paths = {address: entry["path"] for address, entry in entries.items()}
        self.assertEqual(sorted(a for a, p in paths.items() if p == "kernel"), sorted(in_kernel))
        served_by_responder = [a for a, p in paths.items() if p == "responder"]
        self.assertEqual(len(served_by_responder), len(VMS) - SHARE, paths)
        oldest = max(served_by_responder, key=lambda a: entries[a]["age"])
        status = d.status()
        self.assertEqual((status["kernel_entries"], status["responder_entries"],
                          status["kernel_ceiling"]), (SHARE, len(VMS) - SHARE, SHARE))
        text = topology.run(*harness.ctl_command(d.socket, "status")).stdout
        self.assertIn(f"{SHARE} in the kernel, {len(VMS) - SHARE} answered by the responder", text)
        for n in VMS:
            self.assertTrue(self.topo.router_ping(vm_addr(n)), f"router cannot reach vm{n}")
        self.assertGreaterEqual(d.stats()["ns_answered"], len(VMS) - SHARE)

        # A VM on the kernel path leaves: its entry is withdrawn and the oldest responder
        # address moves into the kernel.
        leaving = next(n for n in VMS if vm_addr(n) in in_kernel)
        self.topo.remove_vm(leaving)
        topology.ip(topology.HOST, "-6", "neigh", "del", vm_addr(leaving), "dev", "br0")
        remaining = [vm_addr(n) for n in VMS if n != leaving]
        topology.wait_until(lambda: vm_addr(leaving) not in d.entries(), 5,
                            f"vm{leaving} withdrawn")
        topology.wait_until(lambda: len(owned(proxy_table())) == SHARE, 5,
                            "a responder address promoted into the freed slot")
        self.assertTrue(set(owned(proxy_table())) <= set(remaining))
        self.assertIn(oldest, owned(proxy_table()),
                      "not the oldest responder address promoted")
        self.assertEqual(d.stats()["kernel_promotions"], 1)
        for address in remaining:
            self.assertTrue(self.topo.router_ping(address), f"router cannot reach {address}")


if __name__ == "__main__":
    unittest.main()

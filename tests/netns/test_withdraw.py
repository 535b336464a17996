"""Withdrawal: an entry goes only when its VM is confirmed gone (neighbour deleted or FAILED, and
the daemon's own probes unanswered for --withdraw-after seconds), never because the kernel
forgot an idle neighbour."""

import subprocess
import time
import unittest

import harness
import topology
from topology import HOST, ip, owned, proxy_table, vm_addr

MARGIN = 3.0       # seconds allowed beyond --withdraw-after for events, back-off and scheduling
EARLY = 0.1        # timer slack: a withdrawal this close to the earliest legal moment is fine
ELIGIBLE = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}


def present(addr):
    return lambda: addr in owned(proxy_table())


def hold_until(predicate, deadline, what):
    """Asserts `predicate` holds until monotonic time `deadline`."""
    topology.hold_for(predicate, max(0.0, deadline - time.monotonic()), what)


class WithdrawTest(harness.NetnsCase):

    def test_live_vm_keeps_entry(self):
        withdraw_after = 3
        d = self.daemon("--withdraw-after", str(withdraw_after))
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        # What the kernel's garbage collector does to an idle neighbour. vm1 is still there.
        ip(HOST, "-6", "neigh", "del", vm_addr(1), "dev", "br0")
        topology.wait_until(lambda: d.stats()["probe_answers"] >= 1, withdraw_after + MARGIN,
                            "the daemon's probe of vm1 to be answered")
        self.assertIn(vm_addr(1), owned(proxy_table()), "withdrawn although vm1 answered")
        topology.hold_for(present(vm_addr(1)), withdraw_after + MARGIN, "vm1's entry")
        self.assertEqual(d.stats()["entries_withdrawn"], 0)
        self.assertTrue(self.topo.router_ping(vm_addr(1)))

    def test_gone_vm_withdrawn(self):
        withdraw_after = 2
        d = self.daemon("--withdraw-after", str(withdraw_after))
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        self.topo.remove_vm(1)
        # The daemon cannot learn of the deletion before we make it: a sound lower bound for
        # the start of its clock, however slowly this process runs.
        deleted = time.monotonic()
        harness.note("deleting vm1's neighbour entry")
        ip(HOST, "-6", "neigh", "del", vm_addr(1), "dev", "br0")
        # One unanswered probe proves nothing (RFC 7048): nothing may go before withdraw-after.
        hold_until(present(vm_addr(1)), deleted + withdraw_after - EARLY,
                   "vm1's entry while its probes could still be answered")
        self.wait_owned([vm_addr(2)], timeout=EARLY + MARGIN, what="vm1's entry withdrawn")
        stats = d.stats()
        self.assertEqual(stats["entries_withdrawn"], 1)
        self.assertGreaterEqual(stats["probes_sent"], 2, "withdrawn after fewer than two probes")
        self.assertEqual(stats["probe_answers"], 0)

    def test_failed_neighbour_withdrawn(self):
        # The usual way a VM goes: nobody deletes its neighbour entry, but traffic for it makes
        # the kernel probe it until the entry is FAILED. Shorten the kernel's timers so that
        # takes ~2 s instead of ~40 s.
        for key, value in (("base_reachable_time_ms", 500), ("delay_first_probe_time", 1),
                           ("retrans_time_ms", 300)):
            topology.sysctl(HOST, f"net.ipv6.neigh.br0.{key}", value)
        withdraw_after = 2
        d = self.daemon("--withdraw-after", str(withdraw_after))
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.topo.remove_vm(1)
        pinger = harness.spawn(["ip", "netns", "exec", HOST, "ping", "-6", "-i", "0.2", "-W", "1",
                                vm_addr(1)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The kernel turns the entry FAILED at some moment after the last poll that still saw
        # it eligible: the start of that poll bounds the daemon's clock from below. (Polls may
        # lag on a loaded machine; bounding this way keeps the check sound regardless.)
        last_eligible, last_state = time.monotonic(), None

        def kernel_gave_up():
            nonlocal last_eligible, last_state
            started = time.monotonic()
            state = self.topo.host_neigh_state(vm_addr(1))
            if state != last_state:
                harness.note(f"vm1's neighbour entry: {state}")
                last_state = state
            if state is not None and ELIGIBLE & set(state):
                last_eligible = started
                if "PROBE" in state:
                    harness.terminate(pinger)   # the kernel finishes probing on its own
                return False
            return state in (["FAILED"], None)

        try:
            topology.wait_until(kernel_gave_up, 15, "the kernel to give up on vm1")
        finally:
            harness.terminate(pinger)
        hold_until(present(vm_addr(1)), last_eligible + withdraw_after - EARLY,
                   "vm1's entry after the kernel gave up")
        self.wait_owned([], timeout=EARLY + MARGIN, what="vm1's entry withdrawn")
        self.assertEqual(d.stats()["entries_withdrawn"], 1)


if __name__ == "__main__":
    unittest.main()

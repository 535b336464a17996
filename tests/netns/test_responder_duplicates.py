"""No solicitation is answered twice, once by the kernel (proxy entry) and once by the responder,
nor left unanswered: every Neighbor Advertisement that reaches the router is counted, one per
solicitation. Unsolicited announcements are off (--no-announce), so every advertisement on the wire
is an answer; the daemon's counters tell which answers were the responder's."""

import os
import threading
import unittest

import harness
import topology
from topology import EXT_MAC, HOST, ROUTER_LL, ip, vm_addr

ADMIN_ADDRESS = "2001:db8:1::99"
# With --fast-path xdp the program answers our kernel entries before the kernel sees them, as
# the kernel would (docs/design.md §The XDP responder); the administrator's stay the kernel's.
XDP = os.environ.get("NDPROXY_FAST_PATH") == "xdp"


def socket_answers(stats):
    """What the responder's socket answered, not the XDP program."""
    return stats["ns_answered"] - stats["ns_xdp"]


def kernel_entry_answers(stats):
    """Solicitations for kernel entries, answered by the kernel or by the XDP program."""
    return stats["ns_dropped"].get("kernel_answers", 0) + stats["ns_xdp"]


def multicast_ns(target, delay=0):
    return {"target": target, "source": ROUTER_LL, "delay": delay}


def unicast_ns(target, delay=0):
    """The router's reachability probe: to the target itself, at the MAC it has cached."""
    return {"target": target, "source": ROUTER_LL, "destination": target,
            "ether_destination": EXT_MAC, "delay": delay}


class DuplicateTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def assert_one_answer_each(self, result, target, count):
        answers = [(na["target"], na["destination"], na["solicited"])
                   for na in result["advertisements"]]
        self.assertEqual(answers, [(target, ROUTER_LL, True)] * count,
                         f"{count} solicitations for {target}, expected one answer each")

    def test_kernel_entries_answered_by_kernel_only(self):
        # An administrator's proxy entry, in place before the daemon starts (the kernel says
        # nothing when one is added later, so a daemon learns of it only at its next re-dump).
        ip(HOST, "-6", "neigh", "add", "proxy", ADMIN_ADDRESS, "dev", "ext")
        # Always mode: the responder would answer any of these targets if it did not step aside.
        d = self.daemon("--responder", "always", "--no-announce")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        topology.wait_until(lambda: d.entries().get(vm_addr(1), {}).get("kernel"), 5,
                            "the daemon to know vm1's kernel entry is in place")
        solicitations = []
        for target in (vm_addr(1), ADMIN_ADDRESS):
            solicitations += [multicast_ns(target), multicast_ns(target, delay=0.1),
                              unicast_ns(target, delay=0.1)]
        result = self.topo.router_exchange(solicitations)
        mine = [na for na in result["advertisements"] if na["target"] == vm_addr(1)]
        admin = [na for na in result["advertisements"] if na["target"] == ADMIN_ADDRESS]
        self.assert_one_answer_each({"advertisements": mine}, vm_addr(1), 3)
        self.assert_one_answer_each({"advertisements": admin}, ADMIN_ADDRESS, 3)
        stats = d.stats()
        self.assertEqual(socket_answers(stats), 0, "the responder answered beside the kernel")
        self.assertEqual(kernel_entry_answers(stats), 6, stats)
        self.assertEqual(stats["ns_xdp"], 3 if XDP else 0, stats)

    def test_silent_vm_answered_once_during_and_after_verification(self):
        d = self.daemon("--responder", "verify", "--no-announce")
        # vm2 cannot answer yet: its address is gone, so the verification the first solicitation
        # starts stays pending, and the next ones join it (they are coalesced, not re-verified).
        ip("vm2", "addr", "del", f"{vm_addr(2)}/64", "dev", "vif0")
        result = {}

        def exchange_in_background():
            try:
                result.update(self.topo.router_exchange([multicast_ns(vm_addr(2))] * 3,
                                                        listen=1.5))
            except AssertionError as e:
                result["error"] = e
        exchange = threading.Thread(target=exchange_in_background)
        exchange.start()
        try:
            topology.wait_until(
                lambda: d.stats()["ns_received"] == 3 and d.stats()["verifications_in_flight"] == 1,
                10, "three solicitations received and one verification pending")
            # The VM is back before the verification gives up (900 ms); it answers the next
            # probe (they go out every 300 ms), and all three waiters get their answer.
            ip("vm2", "addr", "add", f"{vm_addr(2)}/64", "dev", "vif0", "nodad")
        finally:
            exchange.join(60)
        if "error" in result:
            raise result["error"]
        self.assert_one_answer_each(result, vm_addr(2), 3)
        stats = d.stats()
        self.assertEqual((stats["verifications"], stats["verified"], stats["ns_answered"]),
                         (1, 1, 3), stats)
        self.wait_owned([vm_addr(2)])
        # Verified, hence mirrored: from now on the kernel answers, and only the kernel.
        result = self.topo.router_exchange([multicast_ns(vm_addr(2)),
                                            multicast_ns(vm_addr(2), delay=0.1),
                                            unicast_ns(vm_addr(2), delay=0.1)])
        self.assert_one_answer_each(result, vm_addr(2), 3)
        stats = d.stats()
        self.assertEqual(socket_answers(stats), 3, "the responder answered beside the kernel")
        self.assertEqual(kernel_entry_answers(stats), 3, stats)
        self.assertEqual(stats["ns_xdp"], 3 if XDP else 0, stats)


class LateAdminEntryTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    # An administrator's proxy entry added while the daemon runs is unknown to it until its next
    # re-dump of the proxy table (the kernel sends no event). A verification of that address
    # must still not install the daemon's entry over it: the kernel would re-tag it proto 71
    # (NLM_F_REPLACE) and make it the daemon's to withdraw (docs/design.md §Ownership).
    def test_admin_entry_added_while_running_stays_the_admins(self):
        self.daemon("--responder", "verify", "--no-announce")
        ip(HOST, "-6", "neigh", "add", "proxy", vm_addr(2), "dev", "ext")
        self.topo.router_exchange([multicast_ns(vm_addr(2))])
        self.assertEqual(topology.proxy_table(), [(vm_addr(2), None)],
                         "the administrator's entry was taken over")


if __name__ == "__main__":
    unittest.main()

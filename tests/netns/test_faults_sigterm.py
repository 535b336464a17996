"""Fault: SIGTERM under load. While a burst of neighbours arrives, the router floods the uplink
with solicitations for random addresses and control clients keep asking, the daemon gets
SIGTERM: it exits within a second with status 0 and withdraws nothing, so that its restart
interrupts nobody; with --flush-on-exit it withdraws everything it owns and nothing else."""

import signal
import subprocess
import threading
import unittest

import faults
import harness
import topology
from faults import kernel_writes, stable_proxy_table
from harness import note
from topology import NDP_TOOL, PREFIX, ROUTER, owned, proxy_table, vm_addr

BULK = 5000


class Load:
    """Neighbours arriving, a solicitation flood on the uplink, and control clients asking."""

    def __init__(self, case, daemon):
        self.bulk = faults.bulk_addresses(BULK)
        self.flood = harness.spawn(["ip", "netns", "exec", ROUTER, "/usr/bin/python3", NDP_TOOL,
                                    "flood", "down0", "30", PREFIX, "64", "4096"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        topology.wait_until(lambda: daemon.stats()["ns_received"] > 1000, 30,
                            "the flood to reach the daemon")
        self.stop_asking = threading.Event()
        self.asker = threading.Thread(target=self.ask, args=(daemon,), daemon=True)
        self.asker.start()
        self.burst = faults.spawn_batch(faults.neighbour_batch("add", self.bulk))
        # SIGTERM goes in while the daemon is busy with the burst.
        topology.wait_until(lambda: self.bulk[0] in owned(proxy_table()), 10,
                            "the burst under way", interval=0.01)

    @staticmethod
    def control_request(daemon):
        try:
            daemon.request("list")
            return True
        except (OSError, ValueError):
            return False        # the daemon is gone, or went while answering

    def ask(self, daemon):
        while not self.stop_asking.is_set() and self.control_request(daemon):
            pass

    def end(self):
        self.stop_asking.set()
        self.asker.join(10)
        harness.terminate(self.flood)
        self.burst.wait(60)


class SigtermTest(faults.FaultCase):
    VMS = (1, 2)
    # Every address in the kernel (a share above BULK): the table compared at the end is the
    # kernel's (test_kernel_share.py covers what lies beyond the share).
    BASE_ARGS = (*harness.RESPONDER_BASE_ARGS, "--responder", "verify", "--withdraw-after", "2",
                 "--kernel-entries", str(2 * BULK))

    def start_loaded(self, *extra):
        d = self.daemon(*extra)
        for n in self.VMS:
            self.topo.vm_speak(n)
        self.wait_owned([vm_addr(n) for n in self.VMS])
        return d, Load(self, d)

    def restart_and_compare(self, d, live):
        """The test's end: a fresh start settles on exactly the live VMs."""
        d.start(*self.BASE_ARGS)
        self.assert_exact(d, live, timeout=30)
        return d.stats()

    def test_sigterm_under_load_withdraws_nothing(self):
        d, load = self.start_loaded()
        # The table grows under the load, so this is one moment of it (a dump torn by the
        # parallel tests can only leave entries out, which keeps it a subset).
        before = set(owned(proxy_table()))
        rc = d.stop(signal.SIGTERM, within=1.0)
        after = set(owned(stable_proxy_table()))    # the daemon is gone: nothing changes now
        load.end()
        note(f"exited with {rc} in {d.exit_seconds:.3f}s, {len(before)} owned entries before, "
             f"{len(after)} after")
        self.assertEqual(rc, 0)
        self.assertEqual(before - after, set(), "entries withdrawn at exit")
        self.assertEqual(kernel_writes(d).get(vm_addr(1)), ["add"])
        self.assertFalse(any("withdraw" in ops for ops in kernel_writes(d).values()),
                         "the daemon withdrew something")
        self.assert_admin_untouched("after the exit")
        live = {vm_addr(1), vm_addr(2), *load.bulk}
        stats = self.restart_and_compare(d, live)
        self.assertEqual(stats["entries_withdrawn"], 0)
        self.assertEqual(stats["entries_added"], len(live - after))

    def test_sigterm_under_load_with_flush_on_exit(self):
        d, load = self.start_loaded("--flush-on-exit")
        rc = d.stop(signal.SIGTERM, within=1.0)
        table = stable_proxy_table()
        load.end()
        note(f"exited with {rc} in {d.exit_seconds:.3f}s")
        self.assertEqual(rc, 0)
        self.assertEqual(owned(table), [], "owned entries left after --flush-on-exit")
        self.assertEqual(faults.foreign(table), faults.ADMIN_ENTRIES)
        self.restart_and_compare(d, {vm_addr(1), vm_addr(2), *load.bulk})


if __name__ == "__main__":
    unittest.main()

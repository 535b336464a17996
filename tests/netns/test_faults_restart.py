"""Fault: the daemon is killed with SIGKILL while VMs come and go, and restarted. Nothing it had
written is undone by the crash; the restarted daemon finds its own entries by their protocol
number, adds only what is missing, withdraws only what is gone, and never withdraws and re-adds a
live entry."""

import signal
import unittest

import faults
import topology
from faults import forget_neighbour, kernel_writes, stable_proxy_table
from harness import note
from topology import owned, proxy_table, vm_addr

BULK = 3000             # neighbours added in a burst while the daemon is killed
GONE_WHILE_DEAD = 1000  # of those, deleted while it is down


class KillTest(faults.FaultCase):

    def test_kill9_while_vms_come_and_go_then_restart(self):
        args = ("--withdraw-after", "2")
        d = self.daemon(*args)
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])

        # VMs come and go while the daemon is busy: vm2 leaves (the daemon starts confirming it
        # gone), vm3 arrives, and a burst of neighbours arrives. The kill lands in the middle of
        # the burst; whatever the daemon had written by then, the end must be the same.
        self.topo.remove_vm(2)
        forget_neighbour(vm_addr(2))
        self.topo.add_vm(3)
        self.topo.vm_speak(3)
        bulk = faults.bulk_addresses(BULK)
        burst = faults.spawn_batch(faults.neighbour_batch("add", bulk))
        topology.wait_until(lambda: bulk[0] in owned(proxy_table()), 10, "the burst under way",
                            interval=0.01)
        d.proc.send_signal(signal.SIGKILL)
        d.signalled = True
        d.proc.wait(5)
        at_kill = owned(stable_proxy_table())
        self.assertEqual(burst.wait(60), 0, burst.stderr.read())
        note(f"killed with {len(at_kill)} owned entries in the kernel, "
             f"{len(set(at_kill) & set(bulk))} of {BULK} from the burst")

        # More coming and going while nobody watches.
        self.topo.add_vm(4)
        self.topo.vm_speak(4)
        faults.run_batch(faults.neighbour_batch("del", bulk[:GONE_WHILE_DEAD]))
        self.topo.remove_vm(3)
        forget_neighbour(vm_addr(3))
        self.assert_admin_untouched("after the kill")

        before_restart = set(owned(stable_proxy_table()))
        live = {vm_addr(1), vm_addr(4), *bulk[GONE_WHILE_DEAD:]}
        d.start(*self.BASE_ARGS, *args)
        self.assert_exact(d, live, timeout=30)

        stats = d.stats()
        self.assertEqual(stats["entries_added"], len(live - before_restart),
                         "the restart added entries that were in place")
        self.assertEqual(stats["entries_withdrawn"], len(before_restart - live),
                         "the restart withdrew something other than the gone addresses")
        # Per address: no live entry that was in place was touched by the second run.
        rewritten = sorted(set(kernel_writes(d, run=2)) & live & before_restart)
        self.assertEqual(rewritten, [], "live entries withdrawn or re-added by the restart")
        self.assertIn(vm_addr(1), before_restart)
        self.assertTrue(self.topo.router_ping(vm_addr(4)))


if __name__ == "__main__":
    unittest.main()

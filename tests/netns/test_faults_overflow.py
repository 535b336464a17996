"""Fault: netlink overflow. 20,000 neighbour changes in one burst (12,000 neighbours added, 8,000
of them deleted again) against a 16 KiB receive buffer: the kernel drops notifications (ENOBUFS),
and the daemon must notice, re-dump and still end with exactly the live addresses; the ones that
came and went during the burst confirmed gone and withdrawn, none left behind."""

import unittest

import faults
from faults import bulk_addresses, neighbour_batch
from harness import note
from topology import vm_addr

ADDED = 12000
DELETED = 8000          # 20,000 changes in all
WITHDRAW_AFTER = 2


class OverflowTest(faults.FaultCase):
    VMS = (1,)

    def test_20000_changes_against_a_small_buffer(self):
        d = self.daemon("--netlink-buffer", "16384", "--withdraw-after", str(WITHDRAW_AFTER))
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        bulk = bulk_addresses(ADDED)
        # One batch: adds and deletes interleaved in blocks of 1,000, so that deletions arrive
        # while the daemon is still busy with the adds (and some of its entries are new).
        lines = []
        for start in range(0, ADDED, 1000):
            lines += neighbour_batch("add", bulk[start:start + 1000])
            if start < DELETED:
                lines += neighbour_batch("del", bulk[start:start + 1000])[:DELETED - start]
        self.assertEqual(len(lines), ADDED + DELETED)
        faults.run_batch(lines)
        live = [vm_addr(1), *bulk[DELETED:]]
        self.assert_exact(d, live, timeout=90)
        stats = d.stats()
        note(f"after the burst: {stats}")
        # Without an overflow this test proved nothing about overflow handling.
        self.assertGreaterEqual(stats["netlink_overflows"], 1, "no netlink overflow happened")
        self.assertGreaterEqual(stats["resyncs"], 2, "overflow without a resync")
        self.assertEqual(stats["entries"], len(live))
        self.assertTrue(self.topo.router_ping(vm_addr(1)))


if __name__ == "__main__":
    unittest.main()

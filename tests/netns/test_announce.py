"""Unsolicited Neighbor Advertisements for new entries (RFC 4861 7.2.6): what lets upstream caches
that still point at another host's MAC (a VM that just migrated here) converge at once."""

import unittest

import harness
import topology
from topology import EXT_MAC, ROUTER, ip, vm_addr

OTHER_HOST_MAC = "02:00:00:00:de:ad"


def router_cache_mac(addr):
    for entry in topology.neigh(ROUTER, "down0"):
        if entry["dst"] == addr:
            return entry.get("lladdr")
    return None


class AnnounceTest(harness.NetnsCase):

    def test_announcements_override_upstream_cache(self):
        # vm1 "migrated" from another host: the router's cache still has that host's MAC. The
        # router will not re-resolve a STALE entry until it has traffic for it, so only an
        # unsolicited advertisement with the override flag can fix it.
        ip(ROUTER, "-6", "neigh", "replace", vm_addr(1), "lladdr", OTHER_HOST_MAC, "dev", "down0",
           "nud", "stale")
        sniffer = harness.NaSniffer(vm_addr(1), seconds=5)
        d = self.daemon("--announce-count", "2", "--announce-interval", "1")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        topology.wait_until(lambda: router_cache_mac(vm_addr(1)) == EXT_MAC, 2,
                            "the router's cache entry for vm1 to point at ext")
        nas = sniffer.advertisements()
        self.assertEqual(len(nas), 2, f"--announce-count 2, got {nas}")
        for na in nas:
            self.assertEqual(na["destination"], "ff02::1")
            self.assertFalse(na["solicited"], "unsolicited advertisements have S clear")
            self.assertTrue(na["override"], "O must be set to override stale caches")
            self.assertEqual(na["tlla"], EXT_MAC)
        self.assertGreaterEqual(nas[1]["time"] - nas[0]["time"], 0.9,
                                "advertisements less than --announce-interval apart")
        self.assertEqual(d.stats()["announcements_sent"], 2)

    def test_no_announce_sends_none(self):
        sniffer = harness.NaSniffer(vm_addr(1), seconds=2)
        self.daemon("--no-announce")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(sniffer.advertisements(), [])


if __name__ == "__main__":
    unittest.main()

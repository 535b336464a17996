"""A burst of 5,000 neighbours at once, against a netlink socket too small to queue the events:
the daemon must notice the overflow (ENOBUFS), re-dump, and still end with exactly the right table."""

import unittest

import harness
import topology
from topology import HOST, OWNER_PROTO, proxy_table

COUNT = 5000


def burst_addresses():
    # 2001:db8:1::a:0 ... 2001:db8:1::a:1387: inside the prefix, clear of the gateway and the VMs.
    return [f"2001:db8:1::a:{i:x}" for i in range(COUNT)]


def batch(verb, addresses):
    """One `ip -batch` run: the kernel emits the events as fast as it can process the requests."""
    if verb == "add":
        # nud permanent: other states are capped at gc_thresh3 (1024), which a namespace
        # cannot raise.
        lines = [f"neigh add {a} lladdr 02:00:00:aa:{i >> 8:02x}:{i & 0xff:02x} dev br0 nud permanent"
                 for i, a in enumerate(addresses)]
    else:
        lines = [f"neigh del {a} dev br0" for a in addresses]
    topology.run("ip", "-n", HOST, "-batch", "-", input="\n".join(lines) + "\n", timeout=60)


class BurstTest(harness.NetnsCase):
    VMS = (1,)

    def test_burst_with_netlink_overflow(self):
        d = self.daemon("--netlink-buffer", "16384", "--withdraw-after", "1")
        addresses = burst_addresses()
        batch("add", addresses)
        expected = sorted((a, OWNER_PROTO) for a in addresses)
        topology.wait_until(lambda: proxy_table() == expected, 60,
                            f"exactly {COUNT} tagged proxy entries", interval=0.5)
        stats = d.stats()
        # Without an overflow this test proved nothing about overflow handling.
        self.assertGreaterEqual(stats["netlink_overflows"], 1, "no netlink overflow happened")
        self.assertGreaterEqual(stats["resyncs"], 1, "overflow without a resync")
        self.assertEqual(d.status()["entries"], COUNT)

        batch("del", addresses)
        topology.wait_until(lambda: proxy_table() == [], 90, "every burst entry withdrawn",
                            interval=0.5)
        self.assertEqual(d.status()["entries"], 0)


if __name__ == "__main__":
    unittest.main()

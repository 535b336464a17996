"""A flood of solicitations for random targets in the /64 (RFC 6583), from a thousand forged
sources, for 10 seconds: the daemon's memory stays flat (verifications in flight, the negative
cache and the per-source rate table are bounded) and every VM it knows stays reachable."""

import json
import subprocess
import unittest

import harness
import topology
from harness import note
from topology import NDP_TOOL, OFFLINK_SRC, PREFIX, ROUTER, vm_addr

FLOOD_SECONDS = 10
FLOOD_SOURCES = 1000            # forged link-local sources with random MACs
RSS_SLACK_KIB = 2048            # start of the flood -> end
RSS_LATE_GROWTH_KIB = 1024      # middle of the flood -> end


def reachable(addr):
    """The router reaches `addr` from its off-link address: one echo reply out of three."""
    return topology.ns_exec(ROUTER, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-I",
                            OFFLINK_SRC, addr, check=False, timeout=15).returncode == 0


class FloodTest(harness.NetnsCase):
    VMS = (1, 2, 3)
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def test_random_target_flood(self):
        d = self.daemon("--responder", "verify")
        self.topo.vm_speak(1)                                   # vm1 spoke: mirrored
        self.assertIsNotNone(self.topo.router_ping_rtt(vm_addr(2), wait=2),
                             "silent vm2 not reachable before the flood")   # vm2: verified
        self.wait_owned([vm_addr(1), vm_addr(2)])
        rss_start = harness.rss_kib(d.proc.pid)
        flood = harness.spawn(["ip", "netns", "exec", ROUTER, "/usr/bin/python3", NDP_TOOL,
                               "flood", "down0", str(FLOOD_SECONDS), PREFIX, str(FLOOD_SOURCES),
                               "16384"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        topology.wait_until(lambda: d.stats()["ns_received"] > 1000 or flood.poll() is not None,
                            30, "the flood to reach the daemon")
        started = harness.elapsed()
        note(f"flood running; RSS {rss_start} KiB before it")
        samples = []        # (seconds into the flood, RSS in KiB)
        while flood.poll() is None:
            samples.append((harness.elapsed() - started, harness.rss_kib(d.proc.pid)))
            # The router's solicitations for them are answered by the kernel (proxy entries):
            # the flood must not starve that path, nor the daemon that keeps the entries. Three
            # echo requests, one answer needed: the flood may overrun a queue and drop a packet,
            # which says nothing about reachability.
            for n in (1, 2):
                self.assertTrue(reachable(vm_addr(n)), f"vm{n} unreachable "
                                f"{harness.elapsed() - started:.1f}s into the flood")
            try:
                flood.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
        out, err = flood.communicate(timeout=30)
        self.assertEqual(flood.returncode, 0, f"the flood failed: {err}")
        rss_end = harness.rss_kib(d.proc.pid)
        sent = json.loads(out.strip().splitlines()[-1])
        stats = d.stats()
        note(f"flood: {sent}; RSS samples {samples}, {rss_end} KiB at the end; stats {stats}")
        self.assertGreaterEqual(stats["ns_received"], 50000, "the flood hardly reached the daemon")
        if not harness.sanitized():     # RSS means nothing under AddressSanitizer
            self.assertLessEqual(rss_end - rss_start, RSS_SLACK_KIB,
                                 f"RSS grew from {rss_start} to {rss_end} KiB during the flood")
            middle = [rss for t, rss in samples if t >= FLOOD_SECONDS / 2]
            self.assertTrue(middle, f"no RSS sample in the second half of the flood: {samples}")
            self.assertLessEqual(rss_end - middle[0], RSS_LATE_GROWTH_KIB,
                                 f"RSS still growing late in the flood: {samples}, end {rss_end}")
        self.assertLessEqual(stats["verifications_in_flight"], 256)
        self.assertLessEqual(stats["negative_cache"], 8192)
        # Once the verifications the flood started are over (900 ms), a VM that has been silent
        # all along is reachable at the first solicitation again.
        topology.wait_until(lambda: d.stats()["verifications_in_flight"] == 0, 3,
                            "the flood's verifications to finish")
        rtt = self.topo.router_ping_rtt(vm_addr(3), wait=2)
        self.assertIsNotNone(rtt, "silent vm3 unreachable after the flood")
        self.assertLess(rtt, 1000, "silent vm3 not reachable at the first solicitation")


if __name__ == "__main__":
    unittest.main()

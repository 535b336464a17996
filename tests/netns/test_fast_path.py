"""The fast path (--fast-path, docs/design.md "Fast path"): an eBPF socket filter drops, before
the copy to userspace, the solicitations the responder would only drop, and counts them; with
--fast-path xdp, an XDP program on the uplink answers the responder's addresses and the kernel's
entries itself.

A flood for a kernel-held address then costs the daemon no reads, while `stats` counts every
solicitation as before; and what the responder answers is exactly what it answers without the
filter: a responder-held address, a silent VM verified on the spot, nothing for a target out
of scope, each counted under the same reason."""

import json
import signal
import subprocess
import unittest

import harness
import topology
from topology import ip_json
from topology import DOWN0_MAC, HOST, NDP_TOOL, ROUTER, ROUTER_LL, vm_addr

OUT_OF_SCOPE = "2001:db8:2::1"
FLOOD_SECONDS, FLOOD_RATE = 2, 5000


def ask(seconds, rate, target):
    """The router asks for `target` at `rate` a second (tests/netns/ndp_tool.py ask)."""
    proc = harness.spawn(["ip", "netns", "exec", ROUTER, "/usr/bin/python3", NDP_TOOL, "ask",
                          "down0", str(seconds), str(rate), ROUTER_LL, DOWN0_MAC, target],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"ndp_tool.py ask failed: {err}")
    return json.loads(out)


def read_by_daemon(stats):
    """Solicitations the daemon read itself: the filter's and the XDP responder's are counted,
    never read."""
    return stats["ns_received"] - stats["ns_filtered"] - stats["ns_xdp"]


def kernel_advertisements():
    """Neighbor Advertisements the host's IPv6 stack has sent (Icmp6OutNeighborAdvertisements):
    the kernel's answers for its proxy entries, not the daemon's, which leave by AF_PACKET or
    XDP."""
    out = topology.ns_exec(HOST, "cat", "/proc/net/snmp6").stdout
    return int(next(line.split()[1] for line in out.splitlines()
                    if line.startswith("Icmp6OutNeighborAdvertisements")))


def xdp_program(link="ext"):
    """The XDP program attached to `link` in the host namespace, or None."""
    return ip_json(HOST, "link", "show", link)[0].get("xdp")


class FastPathTest(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS
    VMS = (1, 2, 3)

    def kernel_held_flood(self, mode):
        """Floods the host with solicitations for kernel-held vm1; returns (sent, stats before,
        stats after)."""
        d = self.daemon("--fast-path", mode, name=f"ndproxyd-{mode}")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        topology.wait_until(lambda: d.entries().get(vm_addr(1), {}).get("kernel"), 5,
                            "vm1 held by the kernel")
        self.status_seen = d.status()["fast_path"]
        before = d.stats()
        self.kernel_advertisements_before = kernel_advertisements()
        asked = ask(FLOOD_SECONDS, FLOOD_RATE, vm_addr(1))
        self.kernel_advertisements_after = kernel_advertisements()
        after = d.stats()
        sent = asked["sent"]
        self.assertEqual(asked["answered"], sent, asked)
        harness.note(f"{mode}: {sent} sent; before {before}; after {after}")
        self.assertEqual(d.stop(), 0)
        return sent, before, after

    def test_kernel_held_flood_is_counted_but_never_read(self):
        sent, before, after = self.kernel_held_flood("off")
        self.assertEqual(self.status_seen, "off")
        self.assertGreater(sent, FLOOD_SECONDS * FLOOD_RATE // 2)
        self.assertEqual(after["ns_filtered"], 0)
        self.assertGreaterEqual(read_by_daemon(after) - read_by_daemon(before), sent,
                                "without the filter the daemon reads every solicitation")

        sent, before, after = self.kernel_held_flood("filter")
        self.assertEqual(self.status_seen, "filter")
        self.assertGreater(sent, FLOOD_SECONDS * FLOOD_RATE // 2)
        # Nothing else is sent on the link meanwhile: the router's flood alone.
        self.assertLessEqual(read_by_daemon(after) - read_by_daemon(before), 2,
                             "the daemon read solicitations for a kernel-held address")
        filtered = after["ns_filtered"] - before["ns_filtered"]
        kernel = (after["ns_dropped"].get("kernel_answers", 0)
                  - before["ns_dropped"].get("kernel_answers", 0))
        self.assertEqual(filtered, kernel, "every filtered solicitation counted as kernel_answers")
        self.assertEqual(after["ns_received"] - before["ns_received"], sent,
                         "ns_received counts what the filter drops")

    def answers(self, mode):
        """vm1 kernel-held, vm3 responder-held (--kernel-entries 1), vm2 silent; the router asks
        for each and for a target out of scope. Returns what came back and the counters."""
        d = self.daemon("--fast-path", mode, "--kernel-entries", "1", "--responder", "verify")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.topo.vm_speak(3)
        topology.wait_until(lambda: d.status()["responder_entries"] == 1, 5,
                            "vm3 held by the responder")
        result = self.topo.router_exchange([
            {"target": vm_addr(3), "source": ROUTER_LL},
            {"target": vm_addr(2), "source": ROUTER_LL},
            {"target": OUT_OF_SCOPE, "source": ROUTER_LL},
            {"target": vm_addr(1), "source": ROUTER_LL},
        ], listen=1.5)
        # Solicited answers only: the announcements of new entries (unsolicited) come and go
        # on their own schedule.
        answered = sorted({(na["target"], na["destination"], na["solicited"])
                           for na in result["advertisements"] if na["solicited"]})
        stats = d.stats()
        counted = {key: stats[key] for key in ("ns_received", "ns_answered", "verifications",
                                               "verified", "ns_dropped")}
        harness.note(f"{mode}: answers {answered}; stats {stats}")
        return answered, counted, stats["ns_filtered"]

    # The same expectations in both modes, each in a fresh topology: the filter changes nothing
    # the router sees or `stats` reports, only who reads the solicitations.
    EXPECTED_ANSWERS = sorted([(vm_addr(1), ROUTER_LL, True), (vm_addr(2), ROUTER_LL, True),
                               (vm_addr(3), ROUTER_LL, True)])
    EXPECTED_COUNTS = {"ns_received": 4, "ns_answered": 2, "verifications": 1, "verified": 1,
                       "ns_dropped": {"kernel_answers": 1, "out_of_scope": 1}}

    def test_answers_without_the_filter(self):
        answered, counted, filtered = self.answers("off")
        self.assertEqual(answered, self.EXPECTED_ANSWERS)
        self.assertEqual(counted, self.EXPECTED_COUNTS)
        self.assertEqual(filtered, 0)

    def test_answers_with_the_filter(self):
        answered, counted, filtered = self.answers("filter")
        self.assertEqual(answered, self.EXPECTED_ANSWERS)
        self.assertEqual(counted, self.EXPECTED_COUNTS)
        self.assertEqual(filtered, 2, "the kernel-held and the out-of-scope solicitations")

    def test_answers_with_the_xdp_responder(self):
        answered, counted, filtered = self.answers("xdp")
        self.assertEqual(answered, self.EXPECTED_ANSWERS)
        # The kernel entry's answer is the program's (as the kernel's would be), counted as
        # answered; the filter still drops and counts the target out of scope.
        self.assertEqual(counted, dict(self.EXPECTED_COUNTS, ns_answered=3,
                                       ns_dropped={"out_of_scope": 1}))
        self.assertEqual(filtered, 1, "the filter works beside the XDP responder")

    def test_xdp_answers_a_kernel_held_flood_before_the_kernel(self):
        sent, before, after = self.kernel_held_flood("xdp")
        self.assertEqual(self.status_seen, "xdp")
        self.assertGreater(sent, FLOOD_SECONDS * FLOOD_RATE // 2)
        self.assertEqual(after["ns_xdp"] - before["ns_xdp"], sent)
        self.assertEqual(after["ns_answered"] - before["ns_answered"], sent)
        self.assertEqual(after["ns_filtered"] - before["ns_filtered"], 0)
        self.assertLessEqual(read_by_daemon(after) - read_by_daemon(before), 2,
                             "the daemon read solicitations the XDP responder answers")
        # The kernel sent none of the answers: its NA counter stood still.
        self.assertLessEqual(self.kernel_advertisements_after - self.kernel_advertisements_before,
                             2, "the kernel answered solicitations the program answers")

    def test_xdp_answers_a_responder_held_flood_without_the_daemon(self):
        d = self.daemon("--fast-path", "xdp", "--kernel-entries", "0")
        self.assertIsNotNone(xdp_program(), "no XDP program on the uplink")
        self.assertEqual(d.status()["fast_path"], "xdp")
        self.topo.vm_speak(1)
        topology.wait_until(lambda: d.status()["responder_entries"] == 1, 5,
                            "vm1 held by the responder")
        # The responder's socket answers first (joining the target's group, RFC 4861 §7.2.8),
        # then hands the address to the XDP responder.
        first = ask(1, 10, vm_addr(1))
        self.assertEqual(first["answered"], first["sent"], first)
        before = d.stats()
        asked = ask(FLOOD_SECONDS, FLOOD_RATE, vm_addr(1))
        after = d.stats()
        harness.note(f"xdp: {asked}; before {before}; after {after}")
        self.assertGreater(asked["sent"], FLOOD_SECONDS * FLOOD_RATE // 2)
        self.assertEqual(asked["answered"], asked["sent"], asked)
        self.assertEqual(after["ns_xdp"] - before["ns_xdp"], asked["sent"])
        self.assertEqual(after["ns_answered"] - before["ns_answered"], asked["sent"])
        self.assertEqual(after["ns_received"] - before["ns_received"], asked["sent"])
        self.assertLessEqual(read_by_daemon(after) - read_by_daemon(before), 2,
                             "the daemon read solicitations the XDP responder answers")

    def test_the_xdp_program_goes_with_the_daemon_however_it_ends(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            d = self.daemon("--fast-path", "xdp", name=f"ndproxyd-{sig.name}")
            self.assertIsNotNone(xdp_program(), "no XDP program on the uplink")
            d.stop(sig)
            # A BPF link closes with the process's last fd to it: nothing answers on for a
            # daemon that is gone.
            topology.wait_until(lambda: xdp_program() is None, 5,
                                f"the XDP program detached after {sig.name}")


if __name__ == "__main__":
    unittest.main()

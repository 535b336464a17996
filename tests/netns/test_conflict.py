"""Address conflicts (issue 12, item 9; README "Address conflicts"): another host on the uplink
claims, with unsolicited override Neighbor Advertisements, an address whose VM still answers on
host A's br0.

Topology: two_hosts.py. The claims are forged in the router's namespace on the segment bridge
`seg` (ndp_tool.py advertise), from a MAC no host has: host A sees them on ext like host B's
announcements, and the router's own neighbour cache is left alone (a host does not receive what
it sends), so the router keeps reaching the VM on host A throughout. A sniffer on `seg` sees
every advertisement host A sends.
"""

import json
import subprocess
import time
import unittest

import harness
import topology
import two_hosts
from two_hosts import EXT_MAC, HOST_A, HOST_B, ROUTER, SEG, VM_ADDR, proxies

FORGER_MAC = "02:00:00:00:0e:66"
WITHDRAW_AFTER_A = 2
MARGIN = 3.0
DEFEND_INTERVAL = 10.0      # RFC 5227 DEFEND_INTERVAL (MirrorPolicy::kDefendInterval)
CLAIM_HOLD_OFF = 1.0        # MirrorPolicy::kClaimHoldOff


class ConflictTest(two_hosts.TwoHostsCase):

    def start_host_a(self):
        a = self.host_daemon(HOST_A, "--withdraw-after", str(WITHDRAW_AFTER_A))
        self.topo.vm_speak()
        topology.wait_until(lambda: proxies(HOST_A), 5, "host A to proxy the VM")
        topology.wait_until(lambda: a.stats()["announcements_sent"] == 3, 2 + MARGIN,
                            "host A to send its 3 announcements")
        return a

    def forge_claims(self, seconds, interval):
        """Starts claiming VM_ADDR from FORGER_MAC on the segment; returns the process."""
        proc = harness.spawn(["ip", "netns", "exec", ROUTER, "/usr/bin/python3", topology.NDP_TOOL,
                              "advertise", SEG, VM_ADDR, FORGER_MAC, str(seconds), str(interval)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(harness.terminate, proc)
        return proc

    def claims_sent(self, proc, seconds):
        out, err = proc.communicate(timeout=seconds + 30)
        self.assertEqual(proc.returncode, 0, err)
        return json.loads(out.strip().splitlines()[-1])["sent"]

    def test_forged_claims_are_a_conflict_defended_once_per_ten_seconds(self):
        a = self.start_host_a()
        flood = 14.0        # one defence at the start, one ~10 s later, no room for a third
        sniffer = harness.NaSniffer(VM_ADDR, flood + 2, ns=ROUTER, iface=SEG)
        harness.note("forged claims for the VM's address, every 20 ms")
        forger = self.forge_claims(flood, 0.02)
        topology.wait_until(lambda: a.stats()["address_conflicts"] == 1, 3,
                            "host A to see the conflict")
        entry = a.entries()[VM_ADDR]
        self.assertIsNotNone(entry["conflict"], entry)
        self.assertEqual(entry["conflict"]["claimed_by"], FORGER_MAC)
        text = topology.run(*harness.ctl_command(a.socket, "list")).stdout
        self.assertIn("CONFLICT", text.splitlines()[0])
        self.assertIn(FORGER_MAC, next(line for line in text.splitlines() if VM_ADDR in line))
        claims = self.claims_sent(forger, flood)
        adverts = sniffer.advertisements()

        # Host A's advertisements for the VM on the segment: its defences, nothing else.
        defences = [ad["time"] for ad in adverts if ad["ether_source"] == EXT_MAC[HOST_A]]
        harness.note(f"{claims} claims; host A advertised at {defences}")
        for ad in adverts:
            if ad["ether_source"] == EXT_MAC[HOST_A]:
                self.assertTrue(ad["override"] and not ad["solicited"], ad)
                self.assertEqual(ad["tlla"], EXT_MAC[HOST_A], ad)
        self.assertEqual(len(defences), 2, f"defences at {defences} during a {flood} s flood")
        self.assertGreaterEqual(defences[1] - defences[0], DEFEND_INTERVAL - 0.1, defences)
        stats = a.stats()
        self.assertEqual(stats["conflict_defences"], 2, stats)
        self.assertEqual(stats["announcements_sent"], 3 + 2, stats)
        self.assertEqual(stats["address_conflicts"], 1, stats)
        self.assertGreater(stats["defences_held_off"], 0, stats)
        # Probes: about one per CLAIM_HOLD_OFF, however many claims came.
        self.assertGreater(claims, 200)
        self.assertGreater(stats["claims_held_off"], claims // 2, stats)
        self.assertLessEqual(stats["probes_sent"], flood / CLAIM_HOLD_OFF + 4, stats)
        # Logged once; the VM is still proxied and still reached through host A.
        log = a.log_text()
        self.assertEqual(log.count("address conflict: "), 1, log)
        self.assertIn(f"{FORGER_MAC} on ext advertises {VM_ADDR} as its own", log)
        self.assertTrue(proxies(HOST_A))
        self.assertTrue(self.topo.router_ping(wait=2), "the router cannot reach the VM on host A")

    def test_migration_after_a_conflict_still_converges(self):
        a = self.start_host_a()
        b = self.host_daemon(HOST_B)
        harness.note("a second of forged claims")
        self.claims_sent(self.forge_claims(1.0, 0.05), 1.0)
        topology.wait_until(lambda: a.stats()["address_conflicts"] == 1, 3,
                            "host A to see the conflict")
        defended = a.stats()["conflict_defences"]
        self.assertEqual(defended, 1)

        traffic = self.topo.start_traffic()
        self.addCleanup(harness.terminate, traffic)
        harness.note("the VM moves to host B; host A keeps its neighbour entry")
        self.topo.unplug()
        self.topo.plug(HOST_B)
        t0 = time.monotonic()
        self.topo.vm_speak()
        times = self.topo.measure_switch(HOST_B, t0, timeout=1.0, log=harness.note)
        harness.note(f"switched: {times}")
        # Host B's announcement makes host A probe (within CLAIM_HOLD_OFF of the last forged
        # claim's); the VM is silent there, so host A neither defends nor keeps the entry.
        deadline = t0 + CLAIM_HOLD_OFF + WITHDRAW_AFTER_A + MARGIN
        topology.wait_until(lambda: not proxies(HOST_A), max(0.0, deadline - time.monotonic()),
                            "host A to withdraw the VM's entry")
        self.assertTrue(proxies(HOST_B))
        topology.hold_for(lambda: self.topo.router_lladdr() == EXT_MAC[HOST_B], 2.5,
                          "the router's entry pointing at host B")
        self.assertEqual(a.stats()["conflict_defences"], defended)
        self.assertEqual(a.stats()["address_conflicts"], 1)
        self.assertEqual(b.stats()["address_conflicts"], 0)


if __name__ == "__main__":
    unittest.main()

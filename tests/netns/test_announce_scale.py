"""No announcement storm at start, restart or scale (issue 17; docs/design.md §Announcements):
the daemon announces changes, not state, at the pace of --announce-rate, and sleeps when idle.

Advertisements are counted in the router namespace on down0 (harness.NaCounter: a raw packet
socket, which keeps up with tens of thousands a second). The bulk addresses are permanent neighbours
on br0 (gc_thresh3 caps the others), one MAC each (the per-VM bounds would refuse more), added with
one `ip -batch` before the daemon starts: the state a host has when the daemon starts or
restarts. The VMs' own addresses are learned by the responder (the router solicits them, vm1 and
vm2 answer the daemon's verification), so no neighbour entry carries them across a restart: only
the state file does.
"""

import os
import time
import unittest

import harness
import topology
from topology import HOST, PREFIX, ROUTER_LL, vm_addr

START = 20000
BIG = 100000
WINDOW = 10.0           # the acceptance's "first 10 s"
RATE = 200              # --announce-rate's default
BURST = RATE // 10      # a tenth of a second's worth


def bulk_address(i):
    return f"2001:db8:1:0:c:0:{i >> 16:x}:{i & 0xffff:x}"


def add_bulk(count, first=0):
    lines = [f"neigh add {bulk_address(i)} lladdr 02:00:00:{i >> 16:02x}:{(i >> 8) & 0xff:02x}:"
             f"{i & 0xff:02x} dev br0 nud permanent" for i in range(first, first + count)]
    topology.run("ip", "-n", HOST, "-batch", "-", input="\n".join(lines) + "\n", timeout=120)


def wait_entries(d, count, timeout=30):
    topology.wait_until(lambda: d.status()["entries"] == count, timeout, f"{count} entries",
                        interval=0.2)


class AnnounceScaleTest(harness.NetnsCase):
    # The default responder (verify); info, not debug: a line per address would be 100,000.
    BASE_ARGS = ("-e", "ext", "-i", "br0", "-p", PREFIX, "--log-level", "info")

    def verify_vms(self, d):
        """The router solicits vm1 and vm2; the responder verifies them on br0 and answers."""
        spec = [{"target": vm_addr(n), "source": ROUTER_LL} for n in (1, 2)]
        self.topo.router_exchange(spec, listen=1.5)
        topology.wait_until(lambda: d.stats()["verified"] == 2, 5, "vm1 and vm2 verified")

    def test_start_sends_none_and_a_new_vm_is_announced_within_a_second(self):
        add_bulk(START)
        counter = harness.NaCounter(WINDOW)
        d = self.daemon()
        wait_entries(d, START)
        heard = counter.advertisements()
        harness.note(f"first {WINDOW} s: {len(heard['unsolicited'])} unsolicited, "
                     f"{heard['solicited']} solicited")
        # The bound: none for the start's addresses (docs/design.md §Announcements); what
        # arrives meanwhile could add at most BURST + RATE x WINDOW, and nothing arrives here.
        self.assertEqual(heard["unsolicited"], [])
        self.assertEqual(d.stats()["announcements_sent"], 0)

        counter = harness.NaCounter(3)
        spoke = time.time()
        self.topo.vm_speak(1)
        heard = counter.advertisements()
        times = [na["time"] - spoke for na in heard["unsolicited"] if na["target"] == vm_addr(1)]
        harness.note(f"vm1 announced {times} s after it spoke")
        self.assertTrue(times, "vm1 not announced")
        self.assertLess(times[0], 1.0)
        self.assertEqual({na["target"] for na in heard["unsolicited"]}, {vm_addr(1)})

    def test_arrivals_are_paced(self):
        d = self.daemon()
        counter = harness.NaCounter(2)
        add_bulk(1000)          # 1,000 VMs at once, while the daemon runs
        heard = counter.advertisements()
        sent = len(heard["unsolicited"])
        harness.note(f"{sent} unsolicited advertisements in 2 s")
        # In any window of T seconds at most BURST + RATE x T leave; the counter's window
        # starts before the first one.
        self.assertLessEqual(sent, BURST + RATE * 2)
        self.assertGreaterEqual(sent, RATE, "the pace sent far less than it allows")
        stats = d.stats()
        self.assertGreater(stats["announcements_delayed"], 0)
        self.assertGreater(stats["announcements_waiting"], 0)
        self.assertEqual(stats["announcements_dropped"], 0)

    def test_restart_sends_almost_none(self):
        add_bulk(START)
        d = self.daemon()
        wait_entries(d, START)
        self.verify_vms(d)
        d.stop()
        with open(d.state_file) as f:
            state = f.read().splitlines()
        self.assertEqual(state[0], "ndproxyd-state 1")
        self.assertIn(vm_addr(1), state)
        self.assertIn(vm_addr(2), state)

        counter = harness.NaCounter(WINDOW)
        d.start(*self.BASE_ARGS)
        wait_entries(d, START + 2)
        # Answered at once, from the state file: no verification, no announcement.
        spec = [{"target": vm_addr(n), "source": ROUTER_LL} for n in (1, 2)]
        answered = self.topo.router_exchange(spec)["advertisements"]
        self.assertEqual(sorted(a["target"] for a in answered if a["solicited"]),
                         [vm_addr(1), vm_addr(2)])
        heard = counter.advertisements()
        harness.note(f"restart, first {WINDOW} s: {len(heard['unsolicited'])} unsolicited")
        self.assertEqual(heard["unsolicited"], [])
        stats = d.stats()
        self.assertEqual((stats["verifications"], stats["announcements_sent"]), (0, 0), stats)

        # Without the state file the responder's addresses look new: what the file prevents.
        d.stop()
        os.unlink(d.state_file)
        d.start(*self.BASE_ARGS)
        wait_entries(d, START)
        self.verify_vms(d)
        topology.wait_until(lambda: d.stats()["announcements_sent"] >= 2, 2,
                            "vm1 and vm2 announced as new")


class AnnounceIdleTest(harness.NetnsCase):
    # No VMs: their router solicitations and DAD (in the first seconds of a link) make the host
    # create neighbour entries, each a netlink notification that wakes the daemon rightly.
    # Nothing may happen here but the daemon's own doing.
    VMS = ()
    BASE_ARGS = AnnounceScaleTest.BASE_ARGS

    def test_idle_after_a_start_with_100000_addresses(self):
        add_bulk(BIG)
        d = self.daemon()
        pid = d.proc.pid

        def asleep():
            """Waiting in its loop's epoll_wait: not merely sleeping (state S), which a daemon
            blocked writing its log to a full pipe also is (under load the harness may read
            the log slowly; the daemon then wakes to finish the line)."""
            with open(f"/proc/{pid}/wchan") as wchan:
                return wchan.read().strip() in ("do_epoll_wait", "ep_poll")
        # Its descriptors once in its loop, before any control client (sd_notify's socket, open
        # for a moment around READY=1, gone).
        topology.wait_until(asleep, 5, "the daemon to wait in its loop")
        descriptors = len(os.listdir(f"/proc/{pid}/fd"))
        wait_entries(d, BIG, timeout=60)
        stats = d.stats()
        self.assertEqual((stats["announcements_waiting"], stats["verifications_in_flight"]),
                         (0, 0), "the start's work is not done")
        # The start's last piece of work: the state file, written at the start and again 10 s
        # after any later change of the responder's addresses (one came in the first second
        # once, under the full suite's load), by a timer of its own (daemon/state_store.hpp).
        topology.wait_until(lambda: not d.status()["state_file_pending"], 15,
                            "the state file's last write after the start")

        def switches():
            return harness.proc_status(pid, "voluntary_ctxt_switches")
        seen = []

        def settled():
            """ndproxyctl's last connection closed and its end read (the daemon wakes once for
            it, a moment after ndproxyctl returns), asleep, and no wake-up since the last look.
            A daemon that woke every half second or more often would never settle."""
            seen.append(switches())
            return (len(os.listdir(f"/proc/{pid}/fd")) == descriptors and asleep()
                    and len(seen) > 1 and seen[-2] == seen[-1])
        # The kernel's multicast neighbour entries on the uplink (ff02::16, made for its MLD
        # reports) go when its garbage collector needs room; the table is global, so another
        # namespace's new neighbours can make that happen here, and the daemon, which follows
        # the neighbour tables, rightly wakes for the deletion. Gone now, they cannot go later.
        for dev, states in (("ext", "all"), ("br0", "noarp")):
            topology.ip(HOST, "-6", "neigh", "flush", "dev", dev, "nud", states)
        topology.wait_until(settled, 5, "the daemon to settle", interval=0.5)
        # The measurement itself: ten seconds of nothing happening, counted by the kernel.
        before = switches()
        time.sleep(WINDOW)
        woken = switches() - before
        harness.note(f"{woken} wake-ups in {WINDOW} s with {BIG} addresses")
        self.assertEqual(woken, 0)

if __name__ == "__main__":
    unittest.main()

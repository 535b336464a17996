"""The mirror: a VM the host has heard from gets a tagged proxy entry on ext and is reachable from
upstream; entries the daemon does not own are left alone."""

import unittest

import harness
import topology
from topology import GATEWAY, HOST, OWNER_PROTO, PREFIX, ip, proxy_table, vm_addr

ADMIN_ENTRIES = [("2001:db8:1::98", 4), ("2001:db8:1::99", None)]


def add_admin_entries():
    """An administrator's own proxy entries: one untagged, one with another protocol (4, static)."""
    ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::99", "dev", "ext")
    ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::98", "dev", "ext", "proto", "4")


def foreign(table):
    """The proxy entries ndproxyd does not own, with their protocols."""
    return sorted((addr, proto) for addr, proto in table if proto != OWNER_PROTO)


class MirrorTest(harness.NetnsCase):

    def test_vm_gets_entry(self):
        # No announcements: they would let the router resolve vm1 even if the kernel did not
        # answer for the entry (an unsolicited NA completes a pending resolution).
        self.daemon("--no-announce")
        self.assertEqual(proxy_table(), [], "nothing to proxy before any VM has spoken")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(proxy_table(), [(vm_addr(1), OWNER_PROTO)],
                         "exactly one entry, tagged; not the host's own gateway address")
        self.assertTrue(self.topo.router_ping(vm_addr(1)),
                        "router could not ping vm1 from the off-link source")
        # vm2 never spoke (and the responder is off): it must not be reachable, or the ping above
        # proved nothing about the entry.
        self.assertFalse(self.topo.router_ping(vm_addr(2), wait=1), "router reached silent vm2")

    def test_host_own_address_never_proxied(self):
        # The host's gateway /128 sits inside the prefix. The kernel never learns a neighbour for
        # a local address, so plant one (as a stray static entry would) for the daemon to dump.
        ip(HOST, "-6", "neigh", "add", GATEWAY, "lladdr", "02:00:00:00:99:99", "dev", "br0",
           "nud", "permanent")
        self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertNotIn(GATEWAY, [addr for addr, _ in proxy_table()])

    def test_admin_entries_survive(self):
        add_admin_entries()
        d = self.daemon("--withdraw-after", "1")
        self.assertEqual(proxy_table(), ADMIN_ENTRIES, "after start (first reconcile)")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(d.request("resync"), {"ok": True})
        # The resync is asynchronous: wait for it to be counted, then look at the table.
        topology.wait_until(lambda: d.stats()["resyncs"] >= 1, 5, "the resync to run")
        self.wait_owned([vm_addr(1)])
        self.assertEqual(foreign(proxy_table()), ADMIN_ENTRIES, "after a resync")
        # A VM comes and goes.
        self.topo.add_vm(3)
        self.topo.vm_speak(3)
        self.wait_owned([vm_addr(1), vm_addr(3)])
        self.topo.remove_vm(3)
        ip(HOST, "-6", "neigh", "del", vm_addr(3), "dev", "br0")
        self.wait_owned([vm_addr(1)], timeout=1 + 5, what="vm3's entry withdrawn")
        self.assertEqual(foreign(proxy_table()), ADMIN_ENTRIES, "after a VM came and went")
        self.assertEqual(d.stop(), 0)
        self.assertEqual(foreign(proxy_table()), ADMIN_ENTRIES, "after exit")

    def test_admin_entry_for_vm_address_left_alone(self):
        # The administrator proxies vm2's address by hand. The daemon must neither re-tag that
        # entry when vm2 speaks nor remove it when vm2 goes.
        ip(HOST, "-6", "neigh", "add", "proxy", vm_addr(2), "dev", "ext")
        d = self.daemon("--withdraw-after", "1")
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1)])
        topology.wait_until(lambda: d.stats()["neighbours_seen"] >= 2, 5, "both VMs seen")
        self.assertIn((vm_addr(2), None), proxy_table())
        self.topo.remove_vm(2)
        ip(HOST, "-6", "neigh", "del", vm_addr(2), "dev", "br0")
        # Give a wrong withdrawal (after 1 s of unanswered probes) time to happen.
        topology.hold_for(lambda: (vm_addr(2), None) in proxy_table(), 1 + 2,
                          "the administrator's entry for vm2's address")
        self.assertEqual(d.stop(), 0)
        self.assertEqual(proxy_table(), [(vm_addr(1), OWNER_PROTO), (vm_addr(2), None)])

    def test_ctl_list_and_status(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        def listed():
            entries = d.entries()
            return entries if vm_addr(1) in entries else None
        entries = topology.wait_until(listed, 5, "vm1 in ndproxyctl list")
        self.assertEqual(sorted(entries), [vm_addr(1)])
        entry = entries[vm_addr(1)]
        self.assertEqual(entry["origin"], "mirror")
        self.assertEqual(entry["interface"], "br0")
        self.assertIs(entry["kernel"], True)
        self.assertEqual(entry["lladdr"], topology.link_mac("vm1", "vif0"))
        self.assertIn(entry["state"], ("reachable", "stale", "delay", "probe"))
        status = d.status()
        self.assertEqual(status["external"]["name"], "ext")
        self.assertIs(status["external"]["up"], True)
        self.assertEqual([i["name"] for i in status["internal"]], ["br0"])
        self.assertEqual(status["prefixes"], [PREFIX])
        self.assertEqual(status["responder"], "off")
        self.assertEqual(status["entries"], 1)
        self.assertIs(status["dry_run"], False)

    def test_dry_run_changes_nothing(self):
        add_admin_entries()
        # A tagged entry with nobody behind it, as a previous run may leave: a real run would
        # withdraw it after --withdraw-after; a dry run must not.
        ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::77", "dev", "ext", "proto", "71")
        before = proxy_table()
        sysctls = {key: topology.sysctl(HOST, key) for key in SYSCTLS}
        d = self.daemon("--dry-run", "--withdraw-after", "1")
        self.topo.vm_speak(1)
        topology.wait_until(lambda: d.stats()["neighbours_seen"] >= 1, 5, "the daemon to see vm1")
        topology.hold_for(lambda: proxy_table() == before, 1 + 2, "the unchanged proxy table")
        self.assertIs(d.status()["dry_run"], True)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(proxy_table(), before)
        self.assertEqual({key: topology.sysctl(HOST, key) for key in SYSCTLS}, sysctls)
        log = d.log_text()
        self.assertIn(vm_addr(1), log, "the dry run should log the entry it would add")
        self.assertIn("2001:db8:1::77", log, "the dry run should log the entry it would withdraw")


SYSCTLS = ("net.ipv6.conf.all.proxy_ndp", "net.ipv6.conf.ext.proxy_ndp",
           "net.ipv6.neigh.ext.proxy_delay")


class SysctlTest(harness.NetnsCase):

    def kernel_defaults(self):
        """Fresh namespaces start with proxy_ndp off and a 0.8 s proxy_delay; check, so that the
        assertions after the daemon started can fail."""
        return {key: topology.sysctl(HOST, key) for key in SYSCTLS}

    def test_daemon_sets_sysctls_and_unicast_probe_answered(self):
        self.assertEqual(self.kernel_defaults(), dict(zip(SYSCTLS, ("0", "0", "80"))))
        self.daemon()
        self.assertEqual({key: topology.sysctl(HOST, key) for key in SYSCTLS},
                         dict(zip(SYSCTLS, ("1", "1", "0"))))
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        # The upstream router's reachability probe: unicast to the VM's address, to ext's MAC.
        answer = self.topo.router_unicast_probe(vm_addr(1))
        self.assertTrue(answer["answered"], "unicast NS for vm1 was not answered")
        self.assertTrue(answer["solicited"])
        self.assertFalse(answer["override"], "a proxy's answer must not override (RFC 4861 7.2.8)")

    def test_no_sysctl_leaves_them_alone(self):
        before = self.kernel_defaults()
        self.assertEqual(before, dict(zip(SYSCTLS, ("0", "0", "80"))))
        d = self.daemon("--no-sysctl")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])        # the mirror still works, the kernel just won't answer
        self.assertEqual({key: topology.sysctl(HOST, key) for key in SYSCTLS}, before)
        self.assertIs(d.status()["manage_sysctls"], False)
        self.assertIn("proxy_ndp", d.log_text(), "--no-sysctl should warn that proxy_ndp is off")


if __name__ == "__main__":
    unittest.main()

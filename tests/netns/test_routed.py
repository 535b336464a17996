"""Routed addresses (issue 14; docs/design.md §Routed addresses), against the real kernel.

Proxmox routed, Xen vif-route and libvirt routed networks give each VM a tap of its own and a /128
route to it: the host never needs a neighbour entry for the VM, and the route alone decides. A
tunnel (WireGuard, OpenVPN) is a NOARP point-to-point link with a routed block behind it: the
responder answers the whole block, and nothing is ever solicited into the tunnel."""

import unittest

import harness
from topology import (HOST, PREFIX, hold_for, ip, new_namespace, ns_exec, owned, proxy_table,
                      run, wait_until)

HOST_TAP_LL = "fe80::1"
WITHDRAW_AFTER = 30  # far longer than any wait below: only the route can withdraw in time


def routed_vm(topo, n, tap, address):
    """VM n behind its own tap `tap` (veth), as a hypervisor's routed setup makes it: the VM
    holds `address` and routes everything to the host's link-local address; the host routes
    `address`/128 to the tap."""
    vm = f"vm{n}"
    new_namespace(vm, forwarding=False)
    topo.namespaces.append(vm)
    ip(vm, "link", "add", "vif0", "address", f"02:00:00:00:{n:02x}:10", "type", "veth",
       "peer", "name", tap, "address", f"02:00:00:00:{n:02x}:01", "netns", HOST)
    ip(vm, "addr", "add", f"{address}/128", "dev", "vif0", "nodad")
    ip(vm, "link", "set", "vif0", "up")
    ip(HOST, "addr", "add", f"{HOST_TAP_LL}/64", "dev", tap, "nodad")
    ip(HOST, "link", "set", tap, "up")
    topo.wait_link(HOST, tap)
    topo.wait_link(vm, "vif0")
    ip(vm, "-6", "route", "add", "default", "via", HOST_TAP_LL, "dev", "vif0")
    ip(HOST, "-6", "route", "add", f"{address}/128", "dev", tap)


def remove_vm(topo, n, tap):
    vm = f"vm{n}"
    run("ip", "netns", "del", vm)
    topo.namespaces.remove(vm)
    wait_until(lambda: ip(HOST, "link", "show", tap, check=False).returncode != 0, 10,
               f"{tap} to disappear with its VM")


def owned_now():
    return sorted(owned(proxy_table()))


class RoutedTapsTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False
    BASE_ARGS = ("-e", "ext", "-i", "tap*", "-p", PREFIX, "--responder", "off",
                 "--withdraw-after", str(WITHDRAW_AFTER), "--log-level", "debug")

    def build_topology(self):
        self.topo.build_uplink()
        routed_vm(self.topo, 1, "tap100i0", "2001:db8:1::100")

    def test_proxied_while_the_route_exists(self):
        d = self.daemon()
        wait_until(lambda: owned_now() == ["2001:db8:1::100"], 10, "the routed VM proxied")
        self.assertEqual(d.entries()["2001:db8:1::100"]["origin"], "route")
        self.assertTrue(self.topo.router_ping("2001:db8:1::100"))

        # A tap made after the start, with its route: no reload.
        routed_vm(self.topo, 2, "tap101i0", "2001:db8:1::101")
        wait_until(lambda: owned_now() == ["2001:db8:1::100", "2001:db8:1::101"], 10,
                   "the second tap's VM proxied")
        self.assertTrue(self.topo.router_ping("2001:db8:1::101"))

        # Its route deleted while the tap stays: withdrawn at once, not after withdraw-after.
        ip(HOST, "-6", "route", "del", "2001:db8:1::101/128", "dev", "tap101i0")
        wait_until(lambda: owned_now() == ["2001:db8:1::100"], 5, "withdrawn with its route")
        # The first VM stops: its tap goes, and the kernel deletes the route with it.
        remove_vm(self.topo, 1, "tap100i0")
        wait_until(lambda: owned_now() == [], 5, "withdrawn when its tap and route went")
        stats = d.stats()
        self.assertEqual(stats["probes_sent"], 0, "a routed address was solicited")
        self.assertEqual(stats["entries"], 0)

        # The route comes back (the VM restarted): proxied again.
        routed_vm(self.topo, 1, "tap100i0", "2001:db8:1::100")
        wait_until(lambda: owned_now() == ["2001:db8:1::100"], 10, "proxied again")


class TunnelBlockTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False
    BASE_ARGS = ("-e", "ext", "-i", "wg*", "-p", PREFIX, "--responder", "verify",
                 "--log-level", "debug")

    def build_topology(self):
        self.topo.build_uplink()
        # A tun device: POINTOPOINT and NOARP, like WireGuard's (which this kernel lacks).
        ip(HOST, "tuntap", "add", "mode", "tun", "name", "wg0")
        ip(HOST, "link", "set", "wg0", "up")
        ip(HOST, "-6", "route", "add", "2001:db8:1::200/124", "dev", "wg0")

    def answered(self, target):
        return self.topo.router_unicast_probe(target, timeout=1)["answered"]

    def test_a_routed_block_is_answered_and_the_tunnel_never_probed(self):
        d = self.daemon()
        wait_until(lambda: d.status()["routed_blocks"] == [
            {"prefix": "2001:db8:1::200/124", "interface": "wg0", "origin": "route"}], 10,
            "the /124 followed")
        self.assertTrue(d.status()["internal"][0].get("name") == "wg0")
        self.assertTrue(self.answered("2001:db8:1::205"))
        self.assertTrue(self.answered("2001:db8:1::20f"))
        # Outside the block an unknown target is verified, but nothing is sent into the tunnel,
        # and nothing answers.
        self.assertFalse(self.answered("2001:db8:1::215"))
        stats = d.stats()
        self.assertGreaterEqual(stats["verifications"], 1)
        self.assertEqual(stats["probes_sent"], 0, "a solicitation went into the tunnel")
        self.assertEqual(stats["routed_blocks"], 1)
        self.assertEqual(owned_now(), [], "a block takes no kernel entries")

        ip(HOST, "-6", "route", "del", "2001:db8:1::200/124", "dev", "wg0")
        wait_until(lambda: d.stats()["routed_blocks"] == 0, 5, "the block dropped with its route")
        hold_for(lambda: not self.answered("2001:db8:1::205"), 1, "the block no longer answered")
        self.assertEqual(d.stats()["probes_sent"], 0)


if __name__ == "__main__":
    unittest.main()

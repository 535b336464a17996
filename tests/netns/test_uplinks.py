"""Two uplinks (issue 14 item 5): ext to router, ext.40 (a VLAN-like name) to router2, one
bridge br0 with vm1 in the first uplink's prefix and vm2 in the second's. Each address is
installed, answered and announced on its own uplink only, never on the other; status lists both
uplinks and stats sum over them; a reload adds and removes an uplink live; and every mistake of
the new configuration lines is named with exit status 2."""

import os
import signal
import unittest

import harness
import topology
from topology import (HOST, PREFIX, ROUTER, ROUTER_LL, hold_for, ip, ns_exec, owned,
                      proxy_table, vm_addr, vm_name, wait_until)

EXT2 = "ext.40"
ROUTER2 = "router2"
PREFIX2 = "2001:db8:2::/64"
GATEWAY2 = "2001:db8:2::1"      # the host's /128 on br0 for vm2, as GATEWAY is for vm1
VM1 = vm_addr(1)                # 2001:db8:1::10, via ext
VM2 = "2001:db8:2::20"          # via ext.40
OFFLINK2 = "2001:db8:fe::1"     # router2's lo

UPLINK_ARGS = ("-e", "ext", "-e", EXT2, "-i", "br0", "-p", f"{PREFIX} via ext",
               "-p", f"{PREFIX2} via {EXT2}", "--log-level", "debug")


def vm2_speak():
    """vm2 resolves its gateway with its global address: the host learns it on br0."""
    ns_exec(vm_name(2), "ping", "-6", "-c", "1", "-W", "2", GATEWAY2)


def owned_on(dev):
    return owned(proxy_table(dev=dev))


def answered(result):
    return sorted(a["target"] for a in result["advertisements"])


def ask(topo, router, target):
    """The targets the host answers when `router` solicits `target` from its link-local."""
    return answered(topo.router_exchange([{"target": target, "source": ROUTER_LL}], router=router))


class UplinksTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False
    BASE_ARGS = UPLINK_ARGS

    def build_topology(self):
        self.topo.build_uplink()
        self.topo.build_uplink(ext=EXT2, router=ROUTER2, prefix=PREFIX2, offlink=OFFLINK2,
                               ext_mac="02:00:00:00:0e:02", down_mac="02:00:00:00:0e:fe")
        self.topo.build_bridge(vms=(1,))
        ip(HOST, "addr", "add", f"{GATEWAY2}/128", "dev", "br0", "nodad")
        ip(HOST, "-6", "route", "add", PREFIX2, "dev", "br0")
        self.topo.add_vm(2, addressed=False)
        ip(vm_name(2), "addr", "add", f"{VM2}/64", "dev", "vif0", "nodad")
        ip(vm_name(2), "-6", "route", "add", "default", "via", GATEWAY2, "dev", "vif0")

    def test_each_address_only_on_its_own_uplink(self):
        d = self.daemon("--responder", "verify")
        # Announcements: each VM's on its own uplink, none on the other.
        sniffers = {(router, target): harness.NaSniffer(target, 8, ns=router)
                    for router in (ROUTER, ROUTER2) for target in (VM1, VM2)}
        self.topo.vm_speak(1)
        vm2_speak()
        wait_until(lambda: owned_on("ext") == [VM1] and owned_on(EXT2) == [VM2], 5,
                   "vm1 on ext and vm2 on ext.40")
        heard = {key: sniffer.advertisements() for key, sniffer in sniffers.items()}
        self.assertTrue(heard[ROUTER, VM1], "vm1 not announced on ext")
        self.assertTrue(heard[ROUTER2, VM2], "vm2 not announced on ext.40")
        self.assertTrue(all(not a["solicited"] for a in heard[ROUTER2, VM2]))
        self.assertEqual(heard[ROUTER, VM2], [], "vm2 announced on ext")
        self.assertEqual(heard[ROUTER2, VM1], [], "vm1 announced on ext.40")
        self.assertEqual((owned_on("ext"), owned_on(EXT2)), ([VM1], [VM2]))

        # Solicited: each router hears only of its own prefix's VM.
        self.assertEqual(ask(self.topo, ROUTER, VM2), [])
        self.assertEqual(ask(self.topo, ROUTER2, VM2), [VM2])
        self.assertEqual(ask(self.topo, ROUTER2, VM1), [])
        self.assertEqual(ask(self.topo, ROUTER, VM1), [VM1])
        self.assertTrue(self.topo.router_ping(VM1))
        self.assertTrue(self.topo.router_ping(VM2, router=ROUTER2, source=OFFLINK2))

        status = d.status()
        self.assertEqual(status["external"]["name"], "ext")
        uplinks = {u["name"]: u for u in status["uplinks"]}
        self.assertEqual(list(uplinks), ["ext", EXT2])
        self.assertEqual(uplinks[EXT2]["prefixes"], [PREFIX2])
        self.assertEqual(uplinks[EXT2]["ifindex"],
                         topology.ip_json(HOST, "link", "show", "dev", EXT2)[0]["ifindex"])
        self.assertEqual((uplinks["ext"]["entries"], uplinks[EXT2]["entries"]), (1, 1))
        stats = d.stats()
        self.assertEqual((status["entries"], stats["entries"], stats["kernel_entries"]), (2, 2, 2))
        self.assertEqual(stats["resyncs"], 2, "one start-up dump per uplink")
        self.assertEqual({a: e["uplink"] for a, e in d.entries().items()},
                         {VM1: "ext", VM2: EXT2})
        self.assertEqual(topology.sysctl(HOST, f"net/ipv6/conf/{EXT2}/proxy_ndp"),
                         "1")
        text = topology.run(*harness.ctl_command(d.socket, "list")).stdout
        self.assertEqual(text.split()[:3], ["ADDRESS", "UPLINK", "INTERFACE"], text)

    def test_the_responder_answers_on_the_right_uplink_only(self):
        d = self.daemon("--responder", "always", "--no-announce")
        in_first, in_second = "2001:db8:1::a:1", "2001:db8:2::a:1"
        self.assertEqual(ask(self.topo, ROUTER, in_second), [])
        self.assertEqual(ask(self.topo, ROUTER2, in_first), [])
        self.assertEqual(ask(self.topo, ROUTER, in_first), [in_first])
        self.assertEqual(ask(self.topo, ROUTER2, in_second), [in_second])
        stats = d.stats()
        self.assertEqual(stats["ns_answered"], 2, stats)
        self.assertGreaterEqual(stats["ns_received"], 4, stats)

    def test_a_reload_adds_and_removes_an_uplink(self):
        path = os.path.join(self.workdir, "ndproxyd.conf")
        one = "external = ext\ninternal = br0\nprefix = 2001:db8:1::/64\nresponder = off\n"
        with open(path, "w") as f:
            f.write(one)
        d = harness.Daemon(self.workdir)
        self.daemons.append(d)
        d.start("-c", path, "--log-level", "debug")
        self.topo.vm_speak(1)
        vm2_speak()
        wait_until(lambda: owned_on("ext") == [VM1], 5, "vm1 on ext")
        self.assertEqual(owned_on(EXT2), [])

        with open(path, "w") as f:
            f.write(one.replace("prefix = 2001:db8:1::/64\n",
                                f"external = {EXT2}\nprefix = 2001:db8:1::/64 via ext\n"
                                f"prefix = {PREFIX2} via {EXT2}\n"))
        d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: owned_on(EXT2) == [VM2], 5, "vm2 on ext.40 after the reload")
        self.assertEqual(owned_on("ext"), [VM1])
        self.assertEqual([u["name"] for u in d.status()["uplinks"]], ["ext", EXT2])

        # The prefix moves to the first uplink: withdrawn from ext.40, installed on ext.
        with open(path, "w") as f:
            f.write(one.replace("prefix = 2001:db8:1::/64\n",
                                f"external = {EXT2}\nprefix = 2001:db8:1::/64 via ext\n"
                                f"prefix = {PREFIX2} via ext\n"))
        d.proc.send_signal(signal.SIGHUP)
        vm2_speak()
        wait_until(lambda: owned_on("ext") == sorted([VM1, VM2]) and owned_on(EXT2) == [], 5,
                   "vm2 moved to ext")

        with open(path, "w") as f:
            f.write(one)
        d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len(d.status()["uplinks"]) == 1, 5, "ext.40 no longer served")
        hold_for(lambda: owned_on("ext") == [VM1] and owned_on(EXT2) == [], 1,
                 "vm2 withdrawn with its prefix, vm1 kept")
        self.assertEqual(d.status()["uplinks"][0]["name"], "ext")


# (file lines after the interfaces, the line number named, what the message says after it)
BASE = "external = ext\nexternal = ext.40\ninternal = br0\n"
BAD_FILES = [
    (BASE + "prefix = 2001:db8:1::/64\n", 4,
     'invalid prefix "2001:db8:1::/64" (several external interfaces: name this prefix\'s with '
     '"via IFACE")'),
    (BASE + "prefix = 2001:db8:1::/64 via br0\n", 4,
     'invalid prefix "2001:db8:1::/64 via br0" ("br0" is not an external interface)'),
    (BASE + "prefix = 2001:db8:1::/64 via ext\nprefix = 2001:db8:1::/64 via ext.40\n", 5,
     'invalid prefix "2001:db8:1::/64 via ext.40" (overlaps 2001:db8:1::/64, which ext serves; '
     'a prefix has one uplink)'),
    (BASE + "prefix = 2001:db8::/48 via ext.40\nprefix = 2001:db8:0:1::/64 via ext\n", 5,
     'invalid prefix "2001:db8:0:1::/64 via ext" (overlaps 2001:db8::/48, which ext.40 serves; '
     'a prefix has one uplink)'),
    (BASE + "internal = ext.40\n", 4,
     '"ext.40" is an external interface, it cannot also be internal'),
    (BASE + "external = ext\n", 4, 'the external interface "ext" is given twice'),
]


class UplinkConfigErrorTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False

    def build_topology(self):
        pass  # --check-config touches no link

    def test_each_mistake_named_with_exit_2(self):
        for number, (text, line, message) in enumerate(BAD_FILES):
            path = os.path.join(self.workdir, f"bad{number}.conf")
            with open(path, "w") as f:
                f.write(text)
            proc = topology.run(harness.binary("NDPROXYD", "ndproxyd"), "-c", path,
                                "--check-config", check=False, timeout=10)
            with self.subTest(text=text):
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr, f"ndproxyd: {path}:{line}: {message}\n")
        # The good form of the same file passes.
        path = os.path.join(self.workdir, "good.conf")
        with open(path, "w") as f:
            f.write(BASE + "prefix = 2001:db8:1::/64 via ext\n"
                    "prefix = 2001:db8:2::/64 on br0 via ext.40\n")
        proc = topology.run(harness.binary("NDPROXYD", "ndproxyd"), "-c", path, "--check-config",
                            check=False, timeout=10)
        self.assertEqual((proc.returncode, proc.stdout), (0, "ndproxyd: configuration is valid\n"),
                         proc.stderr)


if __name__ == "__main__":
    unittest.main()

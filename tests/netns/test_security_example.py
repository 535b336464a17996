"""README "Security" gives an nftables bridge table for what ndproxyd cannot do itself: keep a VM
from advertising an address that is not its own. This runs that very text (taken from README.md)
on a bridge whose port is the README's `tap101i0`, and checks that of the VM's advertisements only
the one with its own MAC, source and target crosses the bridge."""

import json
import os
import re
import shutil
import subprocess
import unittest

import harness
import topology
from topology import NDP_TOOL

README = os.path.join(harness.REPO, "README.md")
VM_MAC = "52:54:00:00:01:01"           # the README's VM: its MAC, link-local and global address
VM_ADDR = "2001:db8:10:20::101"
OTHER_ADDR = "2001:db8:10:20::102"     # another customer's
OTHER_MAC = "52:54:00:00:01:02"
BRIDGE_NS, VM_NS, PEER_NS = "guard-bridge", "guard-vm", "guard-peer"


def readme_ruleset():
    with open(README, encoding="utf-8") as readme:
        text = readme.read()
    found = re.search(r"```\n(table bridge vm_guard \{.*?\n\})\n```", text, re.S)
    if found is None:
        raise AssertionError("README.md has no `table bridge vm_guard` block")
    return found.group(1)


class SecurityExampleTest(harness.NetnsCase):
    VMS = ()

    def build_topology(self):
        if shutil.which("nft") is None:
            self.fail("nft not found (scripts/lib.sh installs nftables)")
        for ns in (BRIDGE_NS, VM_NS, PEER_NS):
            topology.new_namespace(ns, forwarding=False)
            self.addCleanup(topology.run, "ip", "netns", "del", ns, check=False)
        topology.ip(BRIDGE_NS, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                    "forward_delay", "0", "mcast_snooping", "0")
        topology.ip(BRIDGE_NS, "link", "add", "tap101i0", "type", "veth", "peer", "name", "vif0",
                    "address", VM_MAC, "netns", VM_NS)
        topology.ip(BRIDGE_NS, "link", "add", "uplink", "type", "veth", "peer", "name", "down0",
                    "netns", PEER_NS)
        for port in ("tap101i0", "uplink"):
            topology.ip(BRIDGE_NS, "link", "set", port, "master", "br0", "up")
        topology.ip(BRIDGE_NS, "link", "set", "br0", "up")
        topology.ip(VM_NS, "link", "set", "vif0", "up")
        topology.ip(PEER_NS, "link", "set", "down0", "up")
        for port in ("tap101i0", "uplink"):
            topology.wait_until(
                lambda: topology.ip_json(BRIDGE_NS, "-d", "link", "show", "dev", port)[0]
                .get("linkinfo", {}).get("info_slave_data", {}).get("state") == "forwarding",
                5, f"{port} forwarding")
        rules = os.path.join(self.workdir, "vm_guard.nft")
        with open(rules, "w", encoding="utf-8") as out:
            out.write(readme_ruleset() + "\n")
        topology.ns_exec(BRIDGE_NS, "nft", "-f", rules)

    def crossed(self, target, mac):
        """Advertisements for `target` from `mac` (3 of them) seen on the far side of the bridge."""
        sniff = harness.spawn(["ip", "netns", "exec", PEER_NS, "/usr/bin/python3", NDP_TOOL,
                               "sniff", "down0", target, "1.5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(sniff.stdout.readline().strip(), "ready")
        topology.ns_exec(VM_NS, "/usr/bin/python3", NDP_TOOL, "advertise", "vif0", target, mac,
                         "0.3", "0.1")
        out, err = sniff.communicate(timeout=30)
        self.assertEqual(sniff.returncode, 0, err)
        return len(json.loads(out))

    def test_only_the_vms_own_advertisements_cross_the_bridge(self):
        self.assertGreater(self.crossed(VM_ADDR, VM_MAC), 0, "its own address was dropped")
        self.assertEqual(self.crossed(OTHER_ADDR, VM_MAC), 0, "another's target crossed")
        self.assertEqual(self.crossed(VM_ADDR, OTHER_MAC), 0, "a forged MAC crossed")


if __name__ == "__main__":
    unittest.main()

"""SIGHUP: the configuration file is read again. Entries follow a changed prefix; a broken file is
rejected with its error logged, and nothing changes."""

import os
import signal

import harness
import topology
from topology import owned, proxy_table, vm_addr


def router_flagged():
    """Our proxy entries on ext that carry NTF_ROUTER (`ip -j` gives the flag as a key)."""
    entries = topology.ip_json(topology.HOST, "-6", "neigh", "show", "proxy", "dev", "ext")
    return sorted(e["dst"] for e in entries
                  if str(e.get("protocol")) == str(topology.OWNER_PROTO) and "router" in e)


def write_config(path, prefix, extra=""):
    with open(path, "w") as f:
        f.write("# written by test_reload\n"
                "external = ext\n"
                "internal = br0\n"
                f"prefix = {prefix}\n"
                "responder = off\n"
                f"{extra}")


class ReloadTest(harness.NetnsCase):

    def start_with_file(self, prefix, extra=""):
        self.config = os.path.join(self.workdir, "ndproxyd.conf")
        write_config(self.config, prefix, extra)
        d = harness.Daemon(self.workdir)
        self.daemons.append(d)
        # Only -c and the log level on the command line: anything else would override the file.
        return d.start("-c", self.config, "--log-level", "debug")

    def test_changed_prefix_moves_the_entries(self):
        d = self.start_with_file(f"{vm_addr(1)}/128")
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1)], what="only vm1, the one inside the first prefix")
        self.assertEqual(d.status()["prefixes"], [f"{vm_addr(1)}/128"])

        write_config(self.config, f"{vm_addr(2)}/128")
        d.proc.send_signal(signal.SIGHUP)
        # vm2's neighbour entry is still on br0: the resync after the reload must find it.
        self.wait_owned([vm_addr(2)], what="vm2 in, vm1 out after the reload")
        self.assertEqual(d.status()["prefixes"], [f"{vm_addr(2)}/128"])
        self.assertIn("configuration reloaded", d.log_text())
        self.assertTrue(self.topo.router_ping(vm_addr(2)))

    def test_broken_file_changes_nothing(self):
        d = self.start_with_file(topology.PREFIX)
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        before = d.stats()

        # A narrower prefix that would withdraw vm2, behind a typo that makes the file invalid.
        write_config(self.config, f"{vm_addr(1)}/128", extra="prefx = 2001:db8:2::/64\n")
        d.proc.send_signal(signal.SIGHUP)
        topology.wait_until(lambda: "configuration rejected" in d.log_text(), 5,
                            "the rejection to be logged")
        log = d.log_text()
        self.assertIn('ndproxyd.conf:6: unknown key "prefx"', log)
        topology.hold_for(lambda: owned(proxy_table()) == [vm_addr(1), vm_addr(2)], 1.5,
                          "both entries, untouched")
        self.assertEqual(d.status()["prefixes"], [topology.PREFIX], "old configuration stays")
        self.assertEqual(d.stats()["entries_withdrawn"], before["entries_withdrawn"])
        self.assertFalse(d.died(), "a bad file must not stop the daemon")

    def test_router_flag_reaches_the_kernels_answers(self):
        """--router: our kernel entries carry NTF_ROUTER, so that the kernel's answers have R
        like the responder's; a reload that drops it rewrites the entries in place (the
        hostile-tenants issue)."""
        d = self.start_with_file(topology.PREFIX, extra="router = yes\n")
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(router_flagged(), [vm_addr(1)])
        answer = self.topo.router_unicast_probe(vm_addr(1))
        self.assertTrue(answer["answered"])
        self.assertTrue(answer["router"], "the kernel's answer lacks R under --router")
        self.assertEqual(d.stats()["ns_answered"], 0, "that answer came from the kernel")

        write_config(self.config, topology.PREFIX)
        d.proc.send_signal(signal.SIGHUP)
        topology.wait_until(lambda: router_flagged() == [], 5, "NTF_ROUTER cleared")
        self.assertEqual(owned(proxy_table()), [vm_addr(1)])
        answer = self.topo.router_unicast_probe(vm_addr(1))
        self.assertTrue(answer["answered"])
        self.assertFalse(answer["router"])

"""`ndproxyctl list --kernel`: the kernel's proxy table read directly with libnl, ndproxyd's
entries (proto 71) told from the administrator's (no protocol, or another one), cross-checked
with the daemon while it runs, and readable without it and without privileges."""

import json
import unittest

import harness
import topology
from topology import HOST, OWNER_PROTO, ip, ns_exec, owned, proxy_table, vm_addr

ADMIN_PLAIN = "2001:db8:1::99"      # ip -6 neigh add proxy ... (no protocol)
ADMIN_STATIC = "2001:db8:1::98"     # ... proto 4 (static)
STRAY_OWNED = "2001:db8:1::77"      # tagged 71 by hand: looks like ndproxyd's, is not known to it


class CtlKernelTest(harness.NetnsCase):

    def setUp(self):
        super().setUp()
        ip(HOST, "-6", "neigh", "add", "proxy", ADMIN_PLAIN, "dev", "ext")
        ip(HOST, "-6", "neigh", "add", "proxy", ADMIN_STATIC, "dev", "ext", "proto", "4")

    def kernel_list(self, socket_path, *args, user=None):
        """`ndproxyctl --socket S list --kernel ARGS` in the host namespace (the table is per
        namespace); as `user` (uid) if given. Returns the CompletedProcess."""
        command = harness.ctl_command(socket_path, "list", "--kernel", *args)
        if user is not None:
            command[0] = harness.world_readable_copy(self, command[0])
            command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                       *command]
        return ns_exec(HOST, *command, check=False, timeout=15)

    def kernel_view(self, socket_path):
        proc = self.kernel_list(socket_path, "--json")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "", "--json keeps warnings in the document")
        return json.loads(proc.stdout)

    def start_with_vm(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        return d

    def test_marks_owned_and_admin_entries(self):
        d = self.start_with_vm()
        view = self.kernel_view(d.socket)
        self.assertEqual(view["daemon"], "reachable")
        self.assertEqual(view["warnings"], [])
        rows = {(e["address"], e["interface"]): e for e in view["entries"]}
        self.assertEqual(sorted(rows), sorted([(ADMIN_STATIC, "ext"), (ADMIN_PLAIN, "ext"),
                                               (vm_addr(1), "ext")]))
        # Exactly what `ip -6 neigh show proxy` says, and the daemon's view beside it.
        self.assertEqual(sorted((a, e["protocol"]) for (a, _), e in rows.items()), proxy_table())
        ours = rows[(vm_addr(1), "ext")]
        self.assertEqual((ours["protocol"], ours["owned"], ours["daemon"]),
                         (OWNER_PROTO, True, True))
        ext = topology.ip_json(HOST, "link", "show", "dev", "ext")[0]
        self.assertEqual(ours["ifindex"], ext["ifindex"])
        for address, protocol in ((ADMIN_PLAIN, None), (ADMIN_STATIC, 4)):
            row = rows[(address, "ext")]
            self.assertEqual((row["protocol"], row["owned"], row["daemon"]),
                             (protocol, False, False))

        proc = self.kernel_list(d.socket)
        self.assertEqual((proc.returncode, proc.stderr), (0, ""))
        lines = [line.split() for line in proc.stdout.splitlines()]
        self.assertEqual(lines, [
            ["ADDRESS", "INTERFACE", "PROTO", "OWNER", "DAEMON"],
            [vm_addr(1), "ext", "71", "ndproxyd", "yes"],
            [ADMIN_STATIC, "ext", "4", "admin", "no"],
            [ADMIN_PLAIN, "ext", "-", "admin", "no"],
        ])
        # Reading the table changed nothing.
        self.assertEqual(proxy_table(), sorted([(vm_addr(1), OWNER_PROTO), (ADMIN_STATIC, 4),
                                                (ADMIN_PLAIN, None)]))

    def test_warns_about_mismatches_both_ways(self):
        d = self.start_with_vm()
        # The kernel reports no proxy-table changes, so until its next re-read (60 s by
        # default) the daemon knows neither of these.
        ip(HOST, "-6", "neigh", "add", "proxy", STRAY_OWNED, "dev", "ext",
           "proto", str(OWNER_PROTO))
        ip(HOST, "-6", "neigh", "del", "proxy", vm_addr(1), "dev", "ext")
        self.assertIs(d.entries()[vm_addr(1)]["kernel"], True, "the daemon has not noticed yet")

        view = self.kernel_view(d.socket)
        self.assertEqual(len(view["warnings"]), 2, view["warnings"])
        stray, missing = view["warnings"]
        self.assertIn(f"{STRAY_OWNED} on ext carries ndproxyd's protocol tag", stray)
        self.assertIn(f"ndproxyd says {vm_addr(1)} has a kernel entry on ext", missing)
        rows = {e["address"]: e for e in view["entries"]}
        self.assertEqual((rows[STRAY_OWNED]["owned"], rows[STRAY_OWNED]["daemon"]), (True, False))
        self.assertNotIn(vm_addr(1), rows)

        proc = self.kernel_list(d.socket)
        self.assertEqual(proc.returncode, 0, "warnings do not change the exit status")
        warnings = [line for line in proc.stderr.splitlines()
                    if line.startswith("ndproxyctl: warning: ")]
        self.assertEqual(len(warnings), 2, proc.stderr)
        self.assertIn([STRAY_OWNED, "ext", "71", "ndproxyd", "no"],
                      [line.split() for line in proc.stdout.splitlines()])

        # A resync repairs the daemon's side; the stray entry is then its to withdraw.
        d.request("resync")
        self.wait_owned([vm_addr(1), STRAY_OWNED], what="vm1's entry put back by the resync")
        view = self.kernel_view(d.socket)
        self.assertNotIn(True, [f"ndproxyd says {vm_addr(1)}" in w for w in view["warnings"]])

    def test_works_without_daemon_and_without_privileges(self):
        d = self.start_with_vm()
        d.stop()    # its exit status is test_lifecycle's business
        self.assertEqual(owned(proxy_table()), [vm_addr(1)], "entries stay after the daemon")

        view = self.kernel_view(d.socket)
        self.assertEqual(view["daemon"], "unreachable")
        self.assertIn(f"cannot reach ndproxyd at {d.socket}", view["daemon_error"])
        self.assertEqual(view["warnings"], [])
        self.assertEqual(sorted((e["address"], e["protocol"], e["owned"], e["daemon"])
                                for e in view["entries"]),
                         sorted([(vm_addr(1), OWNER_PROTO, True, None),
                                 (ADMIN_STATIC, 4, False, None),
                                 (ADMIN_PLAIN, None, False, None)]))

        proc = self.kernel_list(d.socket)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn([vm_addr(1), "ext", "71", "ndproxyd", "-"],
                      [line.split() for line in proc.stdout.splitlines()])
        self.assertIn("no cross-check with the daemon", proc.stderr)

        # Neighbour dumps are open to everyone: nobody (65534) reads the same table.
        proc = self.kernel_list(d.socket, "--json", user=65534)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["entries"], view["entries"])


if __name__ == "__main__":
    unittest.main()

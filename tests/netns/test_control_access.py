"""The control socket has two levels (the hostile-tenants issue): list, stats and status are for
any client that can connect, such as an operator in the socket's group; resync and announce,
which change what the daemon does, only for root and the daemon's own user. The daemon tells
them apart with SO_PEERCRED, refuses the others with a clear error, and counts the refusals."""

import os
import shutil
import tempfile
import unittest

import harness
import topology
from topology import vm_addr

NOBODY = 65534       # nobody, and nogroup: an operator who is only in the socket's group


class ControlAccessTest(harness.NetnsCase):

    def test_reads_for_the_group_changes_for_root_only(self):
        # The socket in a directory anyone may enter, as /run/ndproxyd is.
        directory = tempfile.mkdtemp(prefix="ndproxy-control-", dir="/run")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        os.chmod(directory, 0o755)
        d = harness.Daemon(self.workdir, socket_path=os.path.join(directory, "control.sock"))
        self.daemons.append(d)
        d.start(*self.BASE_ARGS, "--no-announce")     # so that any announcement is asked for
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(os.stat(d.socket).st_mode & 0o777, 0o660)
        os.chown(d.socket, 0, NOBODY)      # what the package's group does for operators

        ctl = harness.world_readable_copy(self, harness.binary("NDPROXYCTL", "ndproxyctl"))

        def as_operator(*args):
            return topology.run("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                                "--clear-groups", ctl, "--socket", d.socket, *args, check=False)

        for command in ("list", "stats", "status"):
            proc = as_operator(command, "--json")
            self.assertEqual(proc.returncode, 0, f"{command}: {proc.stderr}")
            harness.json.loads(proc.stdout)
        for command in (["resync"], ["announce", vm_addr(1)]):
            proc = as_operator(*command)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn(f'permission denied: "{command[0]}" changes the daemon\'s state and '
                          "needs uid 0 or the daemon's own user", proc.stderr)
        stats = d.stats()
        self.assertEqual(stats["control_requests_refused"], 2)
        self.assertEqual(stats["announcements_sent"], 0, "the refused announce sent nothing")
        # Root may.
        self.assertEqual(d.request("resync"), {"ok": True})
        proc = topology.run(*harness.ctl_command(d.socket, "announce", vm_addr(1)), check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        topology.wait_until(lambda: d.stats()["announcements_sent"] > 0, 5,
                            "root's announcement on the wire")
        self.assertEqual(d.stats()["control_requests_refused"], 2)
        self.assertEqual(topology.owned(topology.proxy_table()), [vm_addr(1)])


if __name__ == "__main__":
    unittest.main()

"""Start, stop and restart: a clean exit within a second, entries kept across a restart without a
flap, --flush-on-exit taking only what the daemon owns, and ndproxyctl without a daemon."""

import os
import signal
import unittest

import harness
import topology
from topology import HOST, OWNER_PROTO, ip, owned, proxy_table, vm_addr

ADMIN_ENTRIES = [("2001:db8:1::98", 4), ("2001:db8:1::99", None)]


class LifecycleTest(harness.NetnsCase):

    def test_sigterm_exits_promptly_and_keeps_entries(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(d.stop(signal.SIGTERM, within=1.0), 0)
        self.assertEqual(proxy_table(), [(vm_addr(1), OWNER_PROTO)], "entries stay after exit")
        # Service goes on without the daemon: the kernel answers from its proxy table.
        self.assertTrue(self.topo.router_ping(vm_addr(1)))

    def test_sigint_exits_promptly(self):
        d = self.daemon()
        self.assertEqual(d.stop(signal.SIGINT, within=1.0), 0)

    def test_second_daemon_on_the_same_socket_refuses_to_start(self):
        first = self.daemon()
        second = harness.Daemon(self.workdir, "second", socket_path=first.socket)
        self.daemons.append(second)
        second.start(*self.BASE_ARGS, ready=False)
        rc = second.proc.wait(10)
        second.signalled = True     # its exit is what this test expects
        second.kill()
        self.assertEqual(rc, 1)
        self.assertIn("another ndproxyd answers on control socket", second.log_text())
        # The first one still owns the socket and answers on it.
        self.assertEqual(first.status()["external"]["name"], "ext")

    def test_flush_on_exit_withdraws_only_owned(self):
        ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::99", "dev", "ext")
        ip(HOST, "-6", "neigh", "add", "proxy", "2001:db8:1::98", "dev", "ext", "proto", "4")
        d = self.daemon("--flush-on-exit")
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        self.assertEqual(d.stop(), 0)
        self.assertEqual(proxy_table(), ADMIN_ENTRIES)

    def test_restart_does_not_flap(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        self.assertEqual(d.stats()["entries_added"], 1)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(owned(proxy_table()), [vm_addr(1)], "entry kept while the daemon is down")
        # Second run, same control socket path (a stale socket file must not stop it).
        d.start(*self.BASE_ARGS)
        stats = d.stats()
        self.assertEqual((stats["entries_added"], stats["entries_withdrawn"]), (0, 0),
                         "the restarted daemon rewrote a live entry")
        self.assertIs(d.entries()[vm_addr(1)]["kernel"], True, "entry adopted as the daemon's")
        # A fresh neighbour event for the adopted entry must not rewrite it either.
        self.topo.vm_speak(1)
        topology.hold_for(lambda: owned(proxy_table()) == [vm_addr(1)], 1.0, "vm1's entry")
        stats = d.stats()
        self.assertEqual((stats["entries_added"], stats["entries_withdrawn"]), (0, 0))
        self.assertTrue(self.topo.router_ping(vm_addr(1)))

    def test_restart_withdraws_what_went_meanwhile(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.topo.vm_speak(2)
        self.wait_owned([vm_addr(1), vm_addr(2)])
        self.assertEqual(d.stop(), 0)
        # vm2 goes while nobody watches; its neighbour entry goes with it.
        self.topo.remove_vm(2)
        ip(HOST, "-6", "neigh", "del", vm_addr(2), "dev", "br0")
        d.start(*self.BASE_ARGS, "--withdraw-after", "1")
        self.wait_owned([vm_addr(1)], timeout=1 + 3, what="vm2's stale entry withdrawn")
        stats = d.stats()
        self.assertEqual((stats["entries_added"], stats["entries_withdrawn"]), (0, 1))


class CtlTest(harness.NetnsCase):
    VMS = ()
    BRIDGE = False

    def test_ctl_without_daemon(self):
        path = os.path.join(self.workdir, "nobody.sock")
        for command in (["list"], ["stats"], ["status", "--json"]):
            proc = topology.run(*harness.ctl_command(path, *command), check=False)
            self.assertEqual(proc.returncode, 1, f"ndproxyctl {command[0]}: {proc.stderr}")
            self.assertIn(f"cannot reach ndproxyd at {path}", proc.stderr)


if __name__ == "__main__":
    unittest.main()

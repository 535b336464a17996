"""Fault: configuration errors. Each bad line gets one message naming the file and the line, and
exit status 2, before anything is touched; given on SIGHUP instead, the running daemon logs the
same message and goes on with the configuration it has."""

import os
import signal
import unittest

import faults
import harness
import topology
from topology import HOST, vm_addr

GOOD = ("external = ext", "internal = br0", "prefix = 2001:db8:1::/64", "responder = off")

# (bad line, what the message says after "FILE:LINE: "). Each goes after the good lines.
BAD_LINES = [
    ("prefx = 2001:db8:1::/64", 'unknown key "prefx"'),
    ("internal br1", 'expected "key = value", got "internal br1"'),
    ("= br1", 'expected "key = value", got "= br1"'),
    ("withdraw-after =", 'empty value for "withdraw-after"'),
    ("prefix = 2001:db8:1::1/64",
     'invalid prefix "2001:db8:1::1/64" (host bits set; did you mean 2001:db8:1::/64?)'),
    ("prefix = 2001:db8::/31",
     'invalid prefix "2001:db8::/31" (shorter than /32; no host is routed more)'),
    ("withdraw-after = soon", 'invalid withdraw-after "soon" (expected seconds from 0.1 to 86400)'),
    ("max-entries = 0", 'invalid max-entries "0" (expected a whole number from 1 to 16777216)'),
    ("max-control-clients = many",
     'invalid max-control-clients "many" (expected a whole number from 1 to 512)'),
    ("negative-cache = -1",
     'invalid negative-cache "-1" (expected a whole number from 1 to 1048576)'),
    ("router = perhaps", 'invalid router "perhaps" (expected true, false, yes, no, 1 or 0)'),
    ("internal = ext", '"ext" is the external interface, it cannot also be internal'),
    ("internal = a/b", 'invalid internal "a/b" (not a valid interface name)'),
    ("external = ext", 'the external interface "ext" is given twice'),
    ("check-config = true", '"check-config" is only valid on the command line'),
    ("\x01\x02\x7f", 'expected "key = value", got "\x01\x02\x7f"'),
]


def write(path, bad_line):
    # Line 1 is a comment, so the good lines are 2 to 5 and the bad one is line 6.
    with open(path, "w") as f:
        f.write("# ndproxyd.conf with one mistake\n" + "\n".join(GOOD) + "\n" + bad_line + "\n")
    return 2 + len(GOOD)


class ConfigErrorTest(faults.FaultCase):

    def test_each_bad_line_named_with_exit_2_and_nothing_touched(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        before = faults.stable_proxy_table()
        for number, (bad_line, message) in enumerate(BAD_LINES):
            path = os.path.join(self.workdir, f"bad{number}.conf")
            line = write(path, bad_line)
            # A second daemon, as the service manager would start it: it must fail before it
            # touches anything, the running daemon's entries least of all.
            proc = topology.ns_exec(HOST, harness.binary("NDPROXYD", "ndproxyd"), "-c", path,
                                    "--control-socket", os.path.join(self.workdir, "bad.sock"),
                                    check=False, timeout=10)
            with self.subTest(bad_line=bad_line):
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr, f"ndproxyd: {path}:{line}: {message}\n")
                self.assertEqual(proc.stdout, "")
        self.assertEqual(faults.stable_proxy_table(), before)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "bad.sock")))
        self.assert_exact(d, [vm_addr(1)])

    def start_from_file(self, path):
        """A daemon whose whole configuration is the file at `path` (good lines and a debug
        log), with vm1 mirrored."""
        write(path, "log-level = debug")
        d = harness.Daemon(self.workdir)
        self.daemons.append(d)
        d.start("-c", path)
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        return d

    def test_sighup_with_each_bad_line_keeps_running(self):
        path = os.path.join(self.workdir, "ndproxyd.conf")
        d = self.start_from_file(path)
        for bad_line, message in BAD_LINES:
            line = write(path, bad_line)
            expected = ("SIGHUP: configuration rejected, keeping the running one: "
                        f"{path}:{line}: {message}")
            rejections = d.log_text().count(expected)
            d.proc.send_signal(signal.SIGHUP)
            topology.wait_until(lambda: d.log_text().count(expected) > rejections, 5,
                                f"the log to say: {expected}")
        # Still running, still serving, nothing changed: vm2 is mirrored, vm1's entry is kept.
        self.topo.vm_speak(2)
        self.assert_exact(d, [vm_addr(1), vm_addr(2)])
        self.assertEqual(d.status()["prefixes"], ["2001:db8:1::/64"])
        self.assertNotIn("configuration reloaded", d.log_text())

    def test_no_prefix_is_refused_at_start_and_on_sighup(self):
        """Scope is explicit: a file without a prefix starts nothing, and a reload that drops
        the last prefix is rejected; the running daemon keeps its prefix and its entries."""
        path = os.path.join(self.workdir, "ndproxyd.conf")
        without_prefix = [line for line in GOOD if not line.startswith("prefix")]
        with open(path, "w") as f:
            f.write("\n".join(without_prefix) + "\n")
        proc = topology.ns_exec(HOST, harness.binary("NDPROXYD", "ndproxyd"), "-c", path,
                                "--control-socket", os.path.join(self.workdir, "bad.sock"),
                                check=False, timeout=10)
        self.assertEqual((proc.returncode, proc.stderr), (2, "ndproxyd: missing --prefix\n"))
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "bad.sock")))

        d = self.start_from_file(path)
        with open(path, "w") as f:
            f.write("\n".join(without_prefix) + "\n")
        expected = "SIGHUP: configuration rejected, keeping the running one: missing --prefix"
        d.proc.send_signal(signal.SIGHUP)
        topology.wait_until(lambda: expected in d.log_text(), 5, f"the log to say: {expected}")
        self.assertEqual(d.status()["prefixes"], ["2001:db8:1::/64"])
        self.assert_exact(d, [vm_addr(1)])


if __name__ == "__main__":
    unittest.main()

"""A Neighbor Discovery client we did not write, ndisc6 (Debian package ndisc6), resolves through
the responder with --answer-source target. ndisc6 ignores advertisements whose IPv6 source is not
the target, which is why the option exists: with the default (ext's link-local) it times out.
(The kernel's own answers for proxy entries come from ext's link-local too, so once an address is
mirrored, ndisc6 ignores the answers it gets for it: a kernel matter, not the responder's.)"""

import unittest

import harness
from topology import EXT_MAC, ROUTER, ns_exec, vm_addr


def ndisc6(target):
    """One solicitation, a one-second wait: (exit status, output)."""
    proc = ns_exec(ROUTER, "ndisc6", "-1", "-r", "1", "-w", "1000", target, "down0",
                   check=False, timeout=10)
    return proc.returncode, proc.stdout + proc.stderr


class Ndisc6Test(harness.NetnsCase):
    BASE_ARGS = harness.RESPONDER_BASE_ARGS

    def assert_resolved(self, target):
        status, out = ndisc6(target)
        self.assertEqual(status, 0, f"ndisc6 did not resolve {target}:\n{out}")
        self.assertIn(f"Target link-layer address: {EXT_MAC.upper()}", out)
        self.assertIn(f"from {target}", out)

    def test_ndisc6_resolves_silent_vm_and_always_address(self):
        d = self.daemon("--responder", "verify", "--answer-source", "target")
        self.assert_resolved(vm_addr(2))
        self.assertEqual((d.stats()["verified"], d.stats()["ns_answered"]), (1, 1))
        self.assertEqual(d.stop(), 0)
        d = self.daemon("--responder", "always", "--answer-source", "target", name="always")
        self.assert_resolved("2001:db8:1::a:1")
        self.assertEqual(d.stats()["ns_answered"], 1)


if __name__ == "__main__":
    unittest.main()

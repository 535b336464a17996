"""`ndproxyctl doctor`: a healthy host is all OK (exit 0); each condition broken in turn on the
namespace host is named by its check, with a fix, and the exit status says how bad (1 a warning,
2 a failure); a host served by routed /128s is healthy too; with two uplinks, each gets its
checks.

gc_thresh3 exists only in the initial network namespace, so here it is always SKIP; its judgement
is unit-tested (tests/unit/doctor_test.cpp). NDPROXY_DOCTOR_CAPTURE=PATH writes the text output
of the broken host (test_broken_host_text) there, for README "Troubleshooting"."""

import json
import os

import harness
import topology
from harness import note
from topology import HOST, PREFIX, ip, ns_exec, sysctl, vm_addr

HOST_ADDRESS = "2001:db8:1::2"     # the host's own /128 on the uplink
STRAY_OWNED = "2001:db8:1::77"     # tagged 71 by hand: the daemon does not know it


def sysctl_step(check, result, status, key, bad, good):
    """A step of test_each_broken_condition_is_named: `key` set to `bad`, then back to `good`;
    doctor's fix sets it to `good`."""
    return (check, result, status, f"{key}={good}", lambda: sysctl(HOST, key, bad),
            lambda: sysctl(HOST, key, good))


class DoctorCase(harness.NetnsCase):
    """A host with its own /128 on the uplink and a configuration file naming the socket."""

    VMS = (1,)

    def setUp(self):
        super().setUp()
        ip(HOST, "-6", "addr", "add", f"{HOST_ADDRESS}/128", "dev", "ext", "nodad")
        self.socket = os.path.join(self.workdir, "ndproxyd.sock")
        self.config = self.write_config("ndproxyd.conf", "external = ext\ninternal = br0\n"
                                        f"prefix = {PREFIX}\n")

    def write_config(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text + f"control-socket = {self.socket}\n")
        return path

    def start(self, *extra):
        d = harness.Daemon(self.workdir, socket_path=self.socket)
        self.daemons.append(d)
        return d.start("-c", self.config, "--log-level", "debug", *extra)

    def doctor(self, *args, config=None, text=False):
        """Runs `ndproxyctl doctor -c CONFIG ARGS` on the host: (exit status, {check: finding})
        or, with `text`, (exit status, the printed text)."""
        command = [harness.binary("NDPROXYCTL", "ndproxyctl"), "doctor", "-c",
                   config or self.config, *args, *(() if text else ("--json",))]
        proc = ns_exec(HOST, *command, check=False, timeout=20)
        self.assertIn(proc.returncode, (0, 1, 2), proc.stderr)
        if text:
            return proc.returncode, proc.stdout
        findings = json.loads(proc.stdout)
        for finding in findings:
            self.assertEqual(list(finding), ["check", "result", "why", "fix"])
        return proc.returncode, {f["check"]: f for f in findings}

    def assert_named(self, check, result, status, *args, fix=None):
        """doctor names `check` with `result` (and a fix containing `fix`), exits `status`."""
        rc, findings = self.doctor(*args)
        self.assertIn(check, findings, f"doctor has no check {check}: {list(findings)}")
        finding = findings[check]
        self.assertEqual(finding["result"], result, finding)
        if result in ("warn", "fail"):
            self.assertTrue(finding["fix"], finding)
        if fix is not None:
            self.assertIn(fix, finding["fix"])
        self.assertEqual(rc, status, findings)
        # Nothing else is wrong: the step broke exactly one thing.
        others = {c: f["result"] for c, f in findings.items()
                  if c != check and f["result"] in ("warn", "fail")}
        self.assertEqual(others, {}, f"besides {check}")
        return finding

    def assert_healthy(self, *args):
        rc, findings = self.doctor(*args)
        bad = {c: f for c, f in findings.items() if f["result"] not in ("ok", "skip")}
        self.assertEqual(bad, {})
        skipped = sorted(c for c, f in findings.items() if f["result"] == "skip")
        self.assertEqual(skipped, ["net.ipv6.neigh.default.gc_thresh3"])
        self.assertEqual(rc, 0)
        return findings



class DoctorTest(DoctorCase):

    def test_healthy_host_is_all_ok(self):
        d = self.start()
        self.assertTrue(self.topo.router_ping(vm_addr(1)))
        findings = self.assert_healthy()
        self.assertIn("the last one reached ext", findings[f"solicitations {PREFIX}"]["why"])
        self.assertIn("routes to br0", findings[f"route {PREFIX}"]["why"])
        status = d.status()
        self.assertIsInstance(status["uplinks"][0]["solicitations"][PREFIX], float)

    def test_each_broken_condition_is_named(self):
        self.start()
        self.assert_healthy()
        steps = [
            sysctl_step("forwarding ext", "fail", 2, "net.ipv6.conf.all.forwarding", 0, 1),
            sysctl_step("net.ipv6.conf.ext.proxy_ndp", "fail", 2, "net.ipv6.conf.ext.proxy_ndp",
                        0, 1),
            sysctl_step("net.ipv6.conf.all.proxy_ndp", "fail", 2, "net.ipv6.conf.all.proxy_ndp",
                        0, 1),
            sysctl_step("net.ipv6.neigh.ext.proxy_delay", "warn", 1,
                        "net.ipv6.neigh.ext.proxy_delay", 80, 0),
            ("default route ext", "fail", 2, "ip -6 route add default via",
             lambda: ip(HOST, "-6", "route", "del", "default"),
             self.topo.restore_default_route),
            ("address ext", "warn", 1, "dev ext",
             lambda: ip(HOST, "-6", "addr", "del", f"{HOST_ADDRESS}/128", "dev", "ext"),
             lambda: ip(HOST, "-6", "addr", "add", f"{HOST_ADDRESS}/128", "dev", "ext", "nodad")),
            (f"route {PREFIX}", "fail", 2, f"ip -6 route add {PREFIX} dev",
             lambda: ip(HOST, "-6", "route", "del", PREFIX, "dev", "br0"),
             lambda: ip(HOST, "-6", "route", "add", PREFIX, "dev", "br0")),
            ("multicast snooping br0", "warn", 1, "mcast_snooping 0",
             lambda: ip(HOST, "link", "set", "br0", "type", "bridge", "mcast_snooping", "1"),
             lambda: ip(HOST, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")),
            ("kernel proxy table", "warn", 1, "ndproxyctl resync",
             lambda: ip(HOST, "-6", "neigh", "add", "proxy", STRAY_OWNED, "dev", "ext",
                        "proto", str(topology.OWNER_PROTO)),
             lambda: ip(HOST, "-6", "neigh", "del", "proxy", STRAY_OWNED, "dev", "ext")),
        ]
        for check, result, status, fix, breaks, restores in steps:
            with self.subTest(check=check):
                note(f"breaking {check}")
                breaks()
                try:
                    self.assert_named(check, result, status, fix=fix)
                finally:
                    restores()
        # Snooping with the bridge's querier is fine.
        ip(HOST, "link", "set", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1")
        self.assert_healthy()

    def test_no_solicitations_suggest_a_routed_prefix(self):
        d = self.start()
        topology.wait_until(lambda: d.status()["uptime"] > 1, 5, "a second of uptime")
        finding = self.assert_named(f"solicitations {PREFIX}", "warn", 1, "--window", "1",
                                    fix="tcpdump -ni ext icmp6 and 'ip6[40] == 135'")
        self.assertIn("the provider may route", finding["why"])
        self.assertTrue(self.topo.router_ping(vm_addr(1)))
        self.assert_healthy("--window", "60")

    def test_responder_off_cannot_tell(self):
        self.start("--responder", "off")
        finding = self.assert_named(f"solicitations {PREFIX}", "skip", 0)
        self.assertIn("tcpdump -ni ext", finding["why"])

    def test_without_the_daemon(self):
        rc, findings = self.doctor()
        self.assertEqual(rc, 2)
        self.assertEqual(findings["daemon"]["result"], "fail")
        self.assertIn(self.socket, findings["daemon"]["why"])
        for check in ("kernel proxy table", f"solicitations {PREFIX}"):
            self.assertEqual(findings[check]["result"], "skip")
        # Before the first start, the sysctls the daemon sets are its job, not a failure.
        sysctl(HOST, "net.ipv6.conf.ext.proxy_ndp", 0)
        _, findings = self.doctor()
        self.assertEqual(findings["net.ipv6.conf.ext.proxy_ndp"]["result"], "ok")
        self.assertIn("when it starts", findings["net.ipv6.conf.ext.proxy_ndp"]["why"])

    def test_routed_addresses_serve_the_prefix(self):
        """README "Topologies": /128s on internal interfaces, no on-link route of the /64."""
        ip(HOST, "-6", "route", "del", PREFIX, "dev", "br0")
        ip(HOST, "-6", "route", "add", f"{vm_addr(1)}/128", "dev", "br0")
        self.start()
        findings = self.assert_healthy()
        self.assertIn("1 route inside it", findings[f"route {PREFIX}"]["why"])

    def test_configuration_faults(self):
        bad = self.write_config("bad.conf", "external = ext\nprefx = 2001:db8:1::/64\n")
        rc, findings = self.doctor(config=bad)
        self.assertEqual(rc, 2)
        self.assertEqual(list(findings), ["configuration"])
        self.assertIn("bad.conf:2", findings["configuration"]["why"])
        missing = self.write_config("missing.conf", f"external = ext9\ninternal = br0\n"
                                    f"prefix = {PREFIX}\n")
        rc, findings = self.doctor(config=missing)
        self.assertEqual(rc, 2)
        self.assertEqual(findings["uplink ext9"]["result"], "fail")

    def test_broken_host_text(self):
        """What README "Troubleshooting" shows: a host with the daemon running, whose bridge
        snoops without a querier and whose prefix has no route to the bridge."""
        self.start()
        ip(HOST, "-6", "route", "del", PREFIX, "dev", "br0")
        ip(HOST, "link", "set", "br0", "type", "bridge", "mcast_snooping", "1")
        rc, text = self.doctor(text=True)
        self.assertEqual(rc, 2)
        self.assertIn(f"FAIL  route {PREFIX}: ", text)
        self.assertIn("WARN  multicast snooping br0: ", text)
        self.assertIn("      fix: ip link set br0 type bridge mcast_snooping 0", text)
        if os.environ.get("NDPROXY_DOCTOR_CAPTURE"):
            with open(os.environ["NDPROXY_DOCTOR_CAPTURE"], "w") as f:
                f.write(text)


class DoctorUplinksTest(DoctorCase):
    """Two uplinks (README "A second uplink on a VLAN"): every uplink and prefix gets its own
    checks; the second uplink's default route lives in a table of its own."""

    EXT2, PREFIX2, ROUTER2, OFFLINK2 = "ext.40", "2001:db8:2::/64", "router2", "2001:db8:fe::1"
    VM2 = "2001:db8:2::20"

    def build_topology(self):
        super().build_topology()
        self.topo.build_uplink(ext=self.EXT2, router=self.ROUTER2, prefix=self.PREFIX2,
                               offlink=self.OFFLINK2, ext_mac="02:00:00:00:0e:02",
                               down_mac="02:00:00:00:0e:fe")
        ip(HOST, "addr", "add", "2001:db8:2::1/128", "dev", "br0", "nodad")
        ip(HOST, "-6", "route", "add", self.PREFIX2, "dev", "br0")
        self.topo.add_vm(2, addressed=False)
        ip("vm2", "addr", "add", f"{self.VM2}/64", "dev", "vif0", "nodad")
        ip("vm2", "-6", "route", "add", "default", "via", "2001:db8:2::1", "dev", "vif0")

    def setUp(self):
        super().setUp()
        self.config = self.write_config(
            "uplinks.conf", f"external = ext\nexternal = {self.EXT2}\ninternal = br0\n"
            f"prefix = {PREFIX} via ext\nprefix = {self.PREFIX2} via {self.EXT2}\n")

    def test_each_uplink_checked(self):
        self.start()
        rc, findings = self.doctor()
        for check in (f"forwarding {self.EXT2}", f"net.ipv6.conf.{self.EXT2}.proxy_ndp",
                      f"net.ipv6.neigh.{self.EXT2}.proxy_delay", f"route {self.PREFIX2}"):
            self.assertEqual(findings[check]["result"], "ok", findings[check])
        self.assertEqual(findings[f"default route {self.EXT2}"]["result"], "warn")
        self.assertEqual(findings[f"address {self.EXT2}"]["result"], "warn")
        self.assertIn("2001:db8:2::2/128", findings[f"address {self.EXT2}"]["fix"])
        self.assertEqual(rc, 1)
        # The setup README gives it: its own address, and a default route in a table of its own.
        ip(HOST, "-6", "addr", "add", "2001:db8:2::2/128", "dev", self.EXT2, "nodad")
        ip(HOST, "-6", "route", "add", "default", "via", topology.ROUTER_LL, "dev", self.EXT2,
           "table", "40")
        ip(HOST, "-6", "rule", "add", "from", self.PREFIX2, "table", "40")
        self.assertTrue(self.topo.router_ping(self.VM2, router=self.ROUTER2,
                                              source=self.OFFLINK2))
        findings = self.assert_healthy()
        self.assertIn(f"reached {self.EXT2}", findings[f"solicitations {self.PREFIX2}"]["why"])

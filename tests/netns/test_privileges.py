"""Least privilege (README "Security"): the daemon runs as the user ndproxy and holds
CAP_NET_ADMIN and CAP_NET_RAW and nothing else, however it is started, and still does its whole
job. /proc/PID/status shows it: every uid the user's, every gid its group's, and CapEff, CapPrm
and CapBnd exactly 0x3000 (bits 12 and 13).

- Started by root outside systemd, from a shell or by the OCF agent, the daemon switches to the
  user itself (the "user" key, --user).
- Under systemd, the unit's User=, Group=, CapabilityBoundingSet= and AmbientCapabilities= do
  it before the daemon runs. systemd is not PID 1 in the test sandbox, so setpriv does what those
  lines do, unshare and mount make /proc/sys read-only but for net/ipv6 as
  ProtectKernelTunables= with ReadWritePaths= does, and the test makes /run/ndproxyd for the user
  as RuntimeDirectory= does. The unit also leaves the two capabilities inheritable and ambient,
  which exec needs; the daemon's own switch does not, as it runs no other program.

Working means: its sysctl written, a silent VM verified at the router's first solicitation (a
multicast probe and the VM's answer on the ICMPv6 socket, the solicitation and the answer on
the packet socket, the proxy entry over netlink), a talking VM mirrored, a SIGHUP reload, root's
resync obeyed, and the control socket group ndproxy with mode 0660: an operator in the group
reads the status, anyone else cannot connect.

The user: the machine's own ndproxy if it has one (the package's), else one written into copies
of /etc/passwd and /etc/group that are bind-mounted over the originals in this test's own mount
namespace (run-isolated's): nothing outside the test sees it, and it vanishes with the test."""

import grp
import os
import pwd
import shutil
import signal
import tempfile
import unittest

import harness
import test_ocf
import topology
from topology import HOST, PREFIX, vm_addr

USER = "ndproxy"
KEPT_CAPABILITIES = (1 << 12) | (1 << 13)     # CAP_NET_ADMIN, CAP_NET_RAW
NOBODY = 65534
SECOND_PREFIX = "2001:db8:2::/64"


def free_system_id():
    """An id below 1000 that is neither a uid nor a gid yet."""
    taken = {p.pw_uid for p in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    return next(i for i in range(999, 100, -1) if i not in taken)


def ensure_user(test):
    """The user ndproxy's uid and gid, writing it into this mount namespace's view of the
    password and group files if the machine has none."""
    try:
        entry = pwd.getpwnam(USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        pass
    ident = free_system_id()
    for name, line in (("passwd", f"{USER}:x:{ident}:{ident}::/nonexistent:/usr/sbin/nologin"),
                       ("group", f"{USER}:x:{ident}:")):
        copy = os.path.join(test.workdir, name)
        shutil.copy(f"/etc/{name}", copy)
        with open(copy, "a") as f:
            f.write(line + "\n")
        os.chmod(copy, 0o644)
        topology.run("mount", "--bind", copy, f"/etc/{name}")
        test.addCleanup(topology.run, "umount", f"/etc/{name}", check=False)
    return ident, ident


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


class PrivilegesTest(harness.NetnsCase):

    def setUp(self):
        super().setUp()
        self.uid, self.gid = ensure_user(self)
        # What the user must reach: the notify socket and the configuration, as in /etc.
        self.shared = tempfile.mkdtemp(prefix="ndproxy-privileges-", dir="/run")
        self.addCleanup(shutil.rmtree, self.shared, ignore_errors=True)
        os.chmod(self.shared, 0o755)
        self.config = os.path.join(self.shared, "ndproxyd.conf")
        self.socket = os.path.join(self.shared, "ndproxyd", "control.sock")
        self.ctl = harness.world_readable_copy(self, harness.binary("NDPROXYCTL", "ndproxyctl"))
        # Written by the daemon, as the user: proof that CAP_NET_ADMIN opens net.ipv6.
        topology.ns_exec(HOST, "sysctl", "-qw", "net.ipv6.conf.ext.proxy_ndp=0")

    def write_config(self, *extra):
        with open(self.config, "w") as f:
            f.write("\n".join(["external = ext", "internal = br0", f"prefix = {PREFIX}",
                               "responder = verify", "log-level = debug", *extra]) + "\n")
        os.chmod(self.config, 0o644)

    def assert_unprivileged(self, pid):
        status = proc_status(pid)
        self.assertEqual(status["Uid"].split(), [str(self.uid)] * 4, status["Uid"])
        self.assertEqual(status["Gid"].split(), [str(self.gid)] * 4, status["Gid"])
        for field in ("CapEff", "CapPrm", "CapBnd"):
            self.assertEqual(int(status[field], 16), KEPT_CAPABILITIES,
                             f"{field} {status[field]}")
        self.assertEqual(status["NoNewPrivs"], "1")
        return status

    def as_nobody(self, *groups):
        """`ndproxyctl status` as uid nobody, in `groups` only."""
        membership = [f"--groups={','.join(map(str, groups))}"] if groups else ["--clear-groups"]
        return topology.run("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", *membership,
                            self.ctl, "--socket", self.socket, "status", "--json", check=False)

    def assert_works(self, pid, request):
        """The daemon's whole job, as the user; `request(command)` asks it over the socket."""
        topology.wait_until(
            lambda: topology.ns_exec(HOST, "sysctl", "-n",
                                     "net.ipv6.conf.ext.proxy_ndp").stdout.strip() == "1",
            5, "proxy_ndp on ext written by the daemon")
        rtt = self.topo.router_ping_rtt(vm_addr(2), wait=2)
        self.assertIsNotNone(rtt, "the router could not reach silent vm2")
        self.assertLess(rtt, 1000, "vm2 was not reachable at the router's first solicitation")
        self.wait_owned([vm_addr(2)])
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1), vm_addr(2)])

        info = os.stat(self.socket)
        self.assertEqual((info.st_uid, info.st_gid, info.st_mode & 0o777),
                         (self.uid, self.gid, 0o660), "the socket: ndproxy's, group ndproxy, 0660")
        directory = os.stat(os.path.dirname(self.socket))
        self.assertEqual((directory.st_uid, directory.st_gid, directory.st_mode & 0o777),
                         (self.uid, self.gid, 0o750))
        operator = self.as_nobody(self.gid)
        self.assertEqual(operator.returncode, 0, f"an operator in group ndproxy: {operator.stderr}")
        self.assertEqual(harness.json.loads(operator.stdout)["prefixes"], [PREFIX])
        stranger = self.as_nobody()
        self.assertEqual(stranger.returncode, 1, stranger.stdout)
        self.assertIn("Permission denied (run as root or as a member of the socket's group)",
                      stranger.stderr)
        self.assertEqual(request("resync"), {"ok": True})

        # SIGHUP: the file is read again, as the user.
        with open(self.config, "a") as f:
            f.write(f"prefix = {SECOND_PREFIX}\n")
        os.kill(pid, signal.SIGHUP)
        topology.wait_until(
            lambda: request("status")["status"]["prefixes"] == [PREFIX, SECOND_PREFIX], 5,
            "the reloaded file's second prefix in the status")
        self.wait_owned([vm_addr(1), vm_addr(2)])
        self.assert_unprivileged(pid)

    def test_started_by_root_switches_to_the_user(self):
        """From a shell: the file's "user" key; the socket's directory made for the user."""
        self.write_config(f"user = {USER}")
        d = harness.Daemon(self.shared, socket_path=self.socket)
        self.daemons.append(d)
        d.start("-c", self.config, user=None)
        status = self.assert_unprivileged(d.proc.pid)
        self.assertEqual(int(status["CapInh"], 16), 0)
        self.assertEqual(int(status["CapAmb"], 16), 0)
        self.assertIn(f"running as user {USER} (uid {self.uid}, gid {self.gid}) with "
                      "CAP_NET_ADMIN and CAP_NET_RAW only", d.log_text())
        self.assert_works(d.proc.pid, d.request)

    def test_unknown_user_is_a_configuration_error(self):
        """Exit status 2, the name in the message, nothing touched."""
        self.write_config("user = no-such-user")
        proc = topology.ns_exec(HOST, harness.binary("NDPROXYD", "ndproxyd"), "-c", self.config,
                                "--control-socket", self.socket, check=False, timeout=10)
        self.assertEqual((proc.returncode, proc.stderr),
                         (2, f'ndproxyd: user "no-such-user" does not exist (--user, or '
                             f'"user =" in {self.config})\n'))
        self.assertFalse(os.path.exists(os.path.dirname(self.socket)))
        self.assertEqual(topology.ns_exec(HOST, "sysctl", "-n",
                                          "net.ipv6.conf.ext.proxy_ndp").stdout.strip(), "0")

    def test_socket_directory_the_user_cannot_write(self):
        """An existing directory is the operator's and stays as it is: root's, here. The daemon,
        already the user when it binds, says so and exits with status 1."""
        self.write_config(f"user = {USER}")
        socket_path = os.path.join(self.shared, "control.sock")
        proc = topology.ns_exec(HOST, harness.binary("NDPROXYD", "ndproxyd"), "-c", self.config,
                                "--control-socket", socket_path, check=False, timeout=10)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"cannot bind control socket {socket_path} as uid {self.uid} (its "
                      "directory must be writable by the daemon's user): Permission denied",
                      proc.stderr)
        self.assertEqual(os.stat(self.shared).st_uid, 0)

    def test_systemd_unit_starts_it_as_the_user(self):
        """What the unit's User=ndproxy, Group=ndproxy, CapabilityBoundingSet=,
        AmbientCapabilities=, NoNewPrivileges= and RuntimeDirectory= do, done by setpriv and
        mkdir; the daemon has nothing left to do (no --user, so the default ndproxy)."""
        self.write_config()
        os.mkdir(os.path.dirname(self.socket), 0o750)
        os.chown(os.path.dirname(self.socket), self.uid, self.gid)
        # ProtectKernelTunables=yes with ReadWritePaths=-/proc/sys/net/ipv6: /proc/sys
        # read-only but for net/ipv6, in a mount namespace of the daemon's own, as systemd's.
        tunables = ("mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && "
                    "mount --bind /proc/sys/net/ipv6 /proc/sys/net/ipv6 && "
                    "mount -o remount,bind,rw /proc/sys/net/ipv6 && exec \"$@\"")
        caps = "+net_admin,+net_raw"
        unit = ["unshare", "--mount", "--propagation", "private", "sh", "-c", tunables, "sh",
                "setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups",
                f"--inh-caps=-all,{caps}", f"--ambient-caps={caps}",
                f"--bounding-set=-all,{caps}", "--no-new-privs"]
        d = harness.Daemon(self.shared, socket_path=self.socket)
        self.daemons.append(d)
        # The user runs the binary: a copy it can reach (the checkout may be under /root).
        program = harness.world_readable_copy(self, harness.binary("NDPROXYD", "ndproxyd"))
        d.start("-c", self.config, wrapper=unit, program=program, user=None)
        status = self.assert_unprivileged(d.proc.pid)
        self.assertEqual(int(status["CapAmb"], 16), KEPT_CAPABILITIES)
        self.assertNotIn("running as user", d.log_text(), "it switched nothing itself")
        self.assertNotIn("ignored", d.log_text())
        with open(f"/proc/{d.proc.pid}/mountinfo") as f:
            options = {line.split()[4]: line.split()[5].split(",")[0] for line in f}
        self.assertEqual((options["/proc/sys"], options["/proc/sys/net/ipv6"]), ("ro", "rw"))
        self.assert_works(d.proc.pid, d.request)

    def test_ocf_agent_starts_it_as_the_user(self):
        """The agent's user parameter, passed on as --user."""
        self.write_config()
        params = {
            "config": self.config,
            "socket": self.socket,
            "binary": harness.binary("NDPROXYD", "ndproxyd"),
            "ctl": harness.binary("NDPROXYCTL", "ndproxyctl"),
            "pidfile": os.path.join(self.workdir, "ocf.pid"),
            "logfile": os.path.join(self.workdir, "ocf-daemon.log"),
            "user": USER,
        }
        agent_path = harness.world_readable_copy(self, test_ocf.AGENT)

        def agent(action):
            proc, _ = test_ocf.run_agent(agent_path, action, params)
            harness.note(f"agent {action} -> {proc.returncode}: {proc.stderr.strip()}")
            return proc.returncode

        self.addCleanup(agent, "stop")
        self.assertEqual(agent("start"), test_ocf.SUCCESS)
        with open(params["pidfile"]) as f:
            pid = int(f.read())
        self.assert_unprivileged(pid)
        self.assert_works(pid, lambda command: harness.request(self.socket, command))
        self.assertEqual(agent("monitor"), test_ocf.SUCCESS)
        self.assertEqual(agent("stop"), test_ocf.SUCCESS)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the daemon outlived stop")

if __name__ == "__main__":
    unittest.main()

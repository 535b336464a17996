"""The package as an operator meets it: installed into a Debian system booted with systemd as PID
1, and driven with systemctl, journalctl and dpkg. Run by test-systemd inside run-isolated.

    router (down0) --veth-- host: ext, br0 --veth-- vm1
                            = the container's network namespace (systemd-nspawn --boot)

topology.py builds the namespaces as for the namespace tests; the container boots into "host"
(--network-namespace-path), so its ndproxyd sees ext and br0 and nothing of the machine's.
Usage: systemd_boot.py ROOT (a debootstrapped tree; $NDPROXY_TEST_DEB, the .deb inside it).
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netns"))
import topology  # noqa: E402
from topology import HOST, OWNER_PROTO, ROUTER, proxy_table, run, vm_addr, wait_until  # noqa: E402

CONFIG = "/etc/ndproxy/ndproxyd.conf"
PREFIX = "2001:db8:1::/64"
NARROWER = "2001:db8:1::/96"   # still holds vm1's 2001:db8:1::10
# The unit's WatchdogSec=30s would make the test wait half a minute for the kill; a drop-in,
# as an operator would write one, shortens it. TimeoutAbortSec: SIGKILL soon after the
# watchdog's SIGABRT, should the stopped daemon not die of it.
DROP_IN = "/etc/systemd/system/ndproxyd.service.d/test-watchdog.conf"
WATCHDOG = "[Service]\nWatchdogSec=3s\nTimeoutAbortSec=5s\n"
# CAP_NET_ADMIN (12) and CAP_NET_RAW (13), as /proc/PID/status prints a capability set.
TWO_CAPS = f"{(1 << 12) | (1 << 13):016x}"
# The fast path's drop-in, as README "How it works" tells an operator to write it: CAP_BPF (39)
# added to both capability lines (assignments merge), and the bpf system call, which the unit's
# "~@privileged" denies, allowed again (a later allow-list line adds to the filter).
FAST_PATH_DROP_IN = "/etc/systemd/system/ndproxyd.service.d/fast-path.conf"
FAST_PATH = ("[Service]\nCapabilityBoundingSet=CAP_BPF\nAmbientCapabilities=CAP_BPF\n"
             "SystemCallFilter=bpf\n")
WITH_BPF = f"{(1 << 12) | (1 << 13) | (1 << 39):016x}"
START = time.monotonic()


def note(text):
    print(f"[{time.monotonic() - START:7.1f}] {text}", flush=True)


class Container:
    """A systemd-nspawn --boot container on `root`, in network namespace HOST."""

    def __init__(self, root):
        self.root = root
        self.log_path = os.path.join(os.path.dirname(root), "nspawn.log")
        self.nspawn = None
        self.leader = None

    def boot(self):
        env = dict(os.environ, SYSTEMD_NSPAWN_API_VFS_WRITABLE="network")
        # --register=no --keep-unit: no machined or system bus on this side. CAP_NET_ADMIN and
        # a writable /proc/sys/net (the variable above) are what nspawn gives a container with
        # a private network; it does not count a network namespace handed to it as one.
        cmd = ["systemd-nspawn", "--quiet", "--boot", "--directory", self.root,
               "--machine", "ndproxy-test", "--register=no", "--keep-unit",
               f"--network-namespace-path=/run/netns/{HOST}",
               # CAP_BPF and the bpf system call: a host has them to give; nspawn's default
               # capability set and system call filter lack them.
               "--capability=CAP_NET_ADMIN,CAP_BPF", "--system-call-filter=bpf",
               "--console=read-only"]
        with open(self.log_path, "w") as log:
            self.nspawn = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, env=env)
        self.leader = wait_until(self._find_leader, 30, "systemd-nspawn to start systemd")
        # "offline" until systemd has exec'd and set up its control socket; then --wait
        # returns once the boot has finished, with how it ended.
        wait_until(lambda: self.system_state() not in ("", "offline"), 30, "systemd to answer")
        state = self.system_state("--wait")
        failed = self.systemctl("--failed", "--plain", check=False).stdout
        assert state == "running", f"the container's boot ended '{state}', not 'running':\n{failed}"

    def system_state(self, *args):
        return self.run("systemctl", "is-system-running", *args, check=False,
                        timeout=120).stdout.strip()

    def _find_leader(self):
        """The container's PID 1: nspawn's child (in our PID namespace's numbering)."""
        if self.nspawn.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited {self.nspawn.returncode}:\n{self.log()}")
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.nspawn.pid:
                return int(pid)
        return None

    def run(self, *cmd, check=True, timeout=60):
        """Runs `cmd` inside the container (all its namespaces, its root), as root."""
        return run("nsenter", "--target", str(self.leader), "--all", "--",
                   "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
                   "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "DEBIAN_FRONTEND=noninteractive",
                   *cmd, check=check, timeout=timeout)

    def systemctl(self, *args, check=True):
        return self.run("systemctl", "--no-pager", *args, check=check)

    def write(self, path, text):
        """Writes a file in the container's tree; an existing file keeps its owner and mode."""
        full = os.path.join(self.root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def exists(self, path):
        return os.path.lexists(os.path.join(self.root, path.lstrip("/")))

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def shutdown(self):
        """SIGTERM asks nspawn for an orderly poweroff; run-isolated kills whatever is left."""
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()


class Operator:
    """The checks, in the order an operator meets them; each assertion says what broke."""

    def __init__(self, box, deb):
        self.box = box
        self.deb = deb
        self.topo = topology.Topology()

    def main_pid(self):
        return int(self.box.systemctl("show", "-P", "MainPID", "ndproxyd").stdout.strip() or 0)

    def active(self):
        return self.box.systemctl("is-active", "ndproxyd", check=False).stdout.strip()

    def status(self):
        return json.loads(self.box.run("ndproxyctl", "--json", "status").stdout)

    def configure(self, prefix):
        self.box.write(CONFIG, f"external = ext\ninternal = br0\nprefix = {prefix}\n")

    def journal(self, pid=None):
        """The unit's journal as (priority, message) pairs; only process `pid`'s if given."""
        out = self.box.run("journalctl", "--no-pager", "-u", "ndproxyd", "-o", "json").stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        return [(int(e.get("PRIORITY", -1)), e.get("MESSAGE")) for e in entries
                if pid is None or e.get("_PID") == str(pid)]

    def wait_logged(self, pid, prefix, what):
        """Waits for the daemon's line starting `prefix` (journald reads the stream on its own
        time); returns every (priority, message) of it."""
        def found():
            lines = [(p, m) for p, m in self.journal(pid) if str(m).startswith(prefix)]
            return lines or None
        return wait_until(found, 10, f"the journal to show {what}")

    def run(self):
        self.topo.build(vms=(1,))
        note("booting the container")
        self.box.boot()
        self.install()
        self.enable_now()
        self.router_reaches_vm()
        self.runs_as_its_user()
        self.reload_applies_prefix()
        self.broken_reload_keeps_running()
        self.journal_once_at_priority()
        self.watchdog_restarts()
        self.stop_leaves_entries()
        self.fast_path_with_drop_in()
        self.reinstall_restarts()
        self.purge_removes()

    def install(self):
        self.box.run("dpkg", "-i", self.deb, timeout=120)
        # --no-enable (debian/rules): the shipped file names no interfaces yet.
        state = self.box.systemctl("is-enabled", "ndproxyd", check=False).stdout.strip()
        assert state == "disabled", f"a fresh install left ndproxyd '{state}', not disabled"
        assert self.active() == "inactive", f"a fresh install started ndproxyd ({self.active()})"
        note("ok: dpkg -i installs the package, the service disabled and stopped")

    def enable_now(self):
        self.configure(PREFIX)
        self.box.write(DROP_IN, WATCHDOG)
        self.box.systemctl("daemon-reload")
        # Type=notify: systemctl returns once READY=1 has arrived, or fails.
        self.box.systemctl("enable", "--now", "ndproxyd")
        assert self.active() == "active", f"after enable --now ndproxyd is {self.active()}"
        text = self.box.systemctl("show", "-P", "StatusText", "ndproxyd").stdout.strip()
        assert "on ext" in text, f"the unit's status text is '{text}', not the daemon's STATUS="
        shown = self.box.systemctl("status", "ndproxyd", check=False).stdout
        assert f'Status: "{text}"' in shown, f"systemctl status lacks the status line:\n{shown}"
        note(f"ok: enable --now: active once READY arrived; status shows \"{text}\"")

    def router_reaches_vm(self):
        self.topo.vm_speak(1)
        wait_until(lambda: self.topo.router_ping(vm_addr(1), wait=1), 20,
                   "the router to reach vm1 through the proxy")
        entries = [a for a, proto in proxy_table(HOST) if proto == OWNER_PROTO]
        assert entries == [vm_addr(1)], f"the kernel's proxy entries on ext are {entries}"
        note("ok: the router reaches vm1; its proxy entry is ndproxyd's")

    def runs_as_its_user(self):
        pid = self.main_pid()
        uid = self.box.run("id", "-u", "ndproxy").stdout.strip()
        fields = dict(line.split(":", 1) for line in
                      self.box.run("cat", f"/proc/{pid}/status").stdout.splitlines() if ":" in line)
        uids = fields["Uid"].split()
        assert set(uids) == {uid}, f"the daemon runs as uids {uids}, not ndproxy's {uid}"
        for field in ("CapEff", "CapPrm", "CapBnd"):
            value = fields[field].strip()
            assert value == TWO_CAPS, \
                f"the daemon's {field} is {value}, not {TWO_CAPS} (CAP_NET_ADMIN, CAP_NET_RAW)"
        note(f"ok: the daemon runs as ndproxy ({uid}) with CapEff {TWO_CAPS} only")

    def reload_applies_prefix(self):
        pid = self.main_pid()
        self.configure(NARROWER)
        self.box.systemctl("reload", "ndproxyd")
        wait_until(lambda: self.status()["prefixes"] == [NARROWER], 10,
                   f"ndproxyctl status to show the reloaded prefix {NARROWER}")
        assert self.main_pid() == pid, "reload restarted the daemon"
        note(f"ok: systemctl reload applied the prefix {NARROWER}")

    def broken_reload_keeps_running(self):
        pid = self.main_pid()
        self.box.write(CONFIG, "external = ext\ninternal = br0\nprefix = not-a-prefix\n")
        rc = self.box.systemctl("reload", "ndproxyd", check=False).returncode
        assert rc != 0, "systemctl reload succeeded with a broken configuration file"
        # The unit's check stopped it before SIGHUP; the daemon must hold on its own too.
        self.box.systemctl("kill", "--signal=HUP", "ndproxyd")
        self.wait_logged(pid, "SIGHUP: configuration rejected", "the rejected reload")
        assert self.active() == "active", f"after a broken reload ndproxyd is {self.active()}"
        assert self.main_pid() == pid, "a broken reload restarted the daemon"
        prefixes = self.status()["prefixes"]
        assert prefixes == [NARROWER], f"a broken reload changed the prefixes to {prefixes}"
        note("ok: with a broken file, reload fails and the daemon keeps its configuration")

    def journal_once_at_priority(self):
        lines = self.journal(self.main_pid())
        expected = [("ready:", 6), ("SIGHUP: configuration reloaded", 6),
                    ("SIGHUP: configuration rejected", 3)]
        for prefix, priority in expected:
            found = [(p, m) for p, m in lines if str(m).startswith(prefix)]
            assert [p for p, _ in found] == [priority], \
                f"the journal has '{prefix}...' as {found}, not once at priority {priority}"
        seen = [m for _, m in lines]
        repeated = sorted({str(m) for m in seen if seen.count(m) > 1})
        assert not repeated, f"the journal shows these daemon lines more than once: {repeated}"
        leaked = [m for m in seen if str(m).startswith("<")]
        assert not leaked, f"priority prefixes reached the journal as text: {leaked}"
        note("ok: journalctl shows each line once, ready at info and the rejection at err")

    def watchdog_restarts(self):
        self.configure(PREFIX)
        pid = self.main_pid()
        self.box.run("kill", "-STOP", str(pid))
        wait_until(lambda: self.main_pid() not in (0, pid) and self.active() == "active", 30,
                   "systemd to kill the stopped daemon and start another")
        messages = [str(m) for _, m in self.journal()]
        assert any("Watchdog timeout" in m for m in messages), \
            "the daemon was replaced, but the journal shows no watchdog timeout"
        note("ok: the watchdog killed the stopped daemon and systemd restarted it")

    def stop_leaves_entries(self):
        wait_until(lambda: self.topo.router_ping(vm_addr(1), wait=1), 20,
                   "the restarted daemon to proxy vm1 again")
        self.box.systemctl("stop", "ndproxyd")
        assert self.active() == "inactive", f"after stop ndproxyd is {self.active()}"
        entries = [a for a, proto in proxy_table(HOST) if proto == OWNER_PROTO]
        assert entries == [vm_addr(1)], f"after stop the proxy entries are {entries}"
        assert self.topo.router_ping(vm_addr(1)), "after stop the router no longer reaches vm1"
        note("ok: systemctl stop leaves the entries; the router still reaches vm1")

    def capabilities(self):
        pid = self.main_pid()
        status = self.box.run("cat", f"/proc/{pid}/status").stdout.splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return {key: fields[key].strip() for key in ("CapEff", "CapPrm", "CapBnd")}

    def router_resolves_vm(self, what):
        """The router forgets vm1's MAC, so that its ping starts with a solicitation."""
        topology.ip(ROUTER, "-6", "neigh", "flush", "dev", "down0")
        wait_until(lambda: self.topo.router_ping(vm_addr(1), wait=1), 20,
                   f"the router to reach vm1 with {what}")

    def fast_path_with_drop_in(self):
        """The unit grants no CAP_BPF: auto stays off with one line. The drop-in enables the
        socket filter, and with fast-path = xdp the XDP responder, which then answers the
        router for vm1's kernel entry."""
        self.box.systemctl("start", "ndproxyd")
        assert self.status()["fast_path"] == "off", "the fast path loaded without CAP_BPF"
        self.wait_logged(self.main_pid(), "fast path off:", "auto's one line")
        self.box.write(FAST_PATH_DROP_IN, FAST_PATH)
        self.box.systemctl("daemon-reload")
        self.box.systemctl("restart", "ndproxyd")
        for key, value in self.capabilities().items():
            # Kept for the daemon's life: before Linux 6.5 each map write checks it.
            assert value == WITH_BPF, f"with the drop-in the daemon's {key} is {value}, not " \
                f"{WITH_BPF} (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF)"
        assert self.status()["fast_path"] == "filter", \
            f"with CAP_BPF, auto's fast path is {self.status()['fast_path']}, not filter"
        self.router_resolves_vm("the filter")
        self.box.write(CONFIG, f"external = ext\ninternal = br0\nprefix = {PREFIX}\n"
                       "fast-path = xdp\n")
        self.box.systemctl("restart", "ndproxyd")
        assert self.status()["fast_path"] == "xdp", \
            f"with fast-path = xdp the fast path is {self.status()['fast_path']}"
        self.router_resolves_vm("the XDP responder")
        stats = json.loads(self.box.run("ndproxyctl", "--json", "stats").stdout)
        assert stats["ns_xdp"] > 0, f"the XDP program answered nothing: {stats}"
        self.box.systemctl("stop", "ndproxyd")
        os.remove(os.path.join(self.box.root, FAST_PATH_DROP_IN.lstrip("/")))
        self.box.systemctl("daemon-reload")
        self.configure(PREFIX)
        note(f"ok: with the CAP_BPF drop-in auto loads the filter and xdp answers (CapEff "
             f"{WITH_BPF}); without it auto is off, with one line")

    def reinstall_restarts(self):
        self.box.systemctl("start", "ndproxyd")
        pid = self.main_pid()
        self.box.run("dpkg", "-i", self.deb, timeout=120)
        new = self.main_pid()
        assert self.active() == "active", f"after reinstalling ndproxyd is {self.active()}"
        assert new not in (0, pid), f"reinstalling kept the running daemon (MainPID {pid})"
        note(f"ok: reinstalling restarted the service (MainPID {pid} -> {new})")

    def purge_removes(self):
        os.remove(os.path.join(self.box.root, DROP_IN.lstrip("/")))   # the operator's own file
        self.box.run("apt-get", "purge", "-y", "ndproxy", timeout=120)
        assert self.active() != "active", "purge left ndproxyd running"
        left = [path for path in ("/etc/ndproxy", "/usr/sbin/ndproxyd", "/usr/bin/ndproxyctl",
                                  "/lib/systemd/system/ndproxyd.service",
                                  "/usr/lib/systemd/system/ndproxyd.service",
                                  "/etc/systemd/system/multi-user.target.wants/ndproxyd.service",
                                  "/usr/lib/sysusers.d/ndproxy.conf", "/run/ndproxyd")
                if self.box.exists(path)]
        assert not left, f"purge left {left}"
        # The user ndproxy stays: Debian removes no system user (dh_installsysusers), so that
        # files it owned elsewhere never pass to a later user with the same uid.
        note("ok: purge removed the package's files, configuration and unit")


def main():
    root, deb = sys.argv[1], os.environ["NDPROXY_TEST_DEB"]
    box = Container(root)
    operator = Operator(box, deb)
    try:
        operator.run()
    except BaseException:
        print("\n--- container boot log (tail)\n" + box.log(), flush=True)
        if box.leader:
            for cmd in (("systemctl", "--no-pager", "status", "ndproxyd"),
                        ("journalctl", "--no-pager", "-u", "ndproxyd", "-o", "short-monotonic")):
                print(f"--- {' '.join(cmd)}\n" + box.run(*cmd, check=False).stdout, flush=True)
        print("--- proxy table on ext:", proxy_table(HOST), flush=True)
        raise
    finally:
        box.shutdown()
        note("the container has shut down")
    note("PASS: the package works under systemd as an operator uses it")


if __name__ == "__main__":
    main()

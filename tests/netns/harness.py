"""Runs ndproxyd and ndproxyctl against the throwaway topology, and a unittest base class for it.

Every process started here is registered and killed (SIGTERM, then SIGKILL) when its test ends and
again at interpreter exit; run-isolated's PID namespace is the last line of defence.
"""

import atexit
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import topology
from topology import HOST, PREFIX, run

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary(env_var, name):
    """The binary under test: $NDPROXYD / $NDPROXYCTL (ctest sets them), else the build tree."""
    path = os.environ.get(env_var) or os.path.join(REPO, "build", "src", name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{name} not found at {path} (set {env_var})")
    return path


_children = []
_T0 = time.monotonic()


def elapsed():
    return time.monotonic() - _T0


def note(text):
    """Logs a test step on the same clock as the daemon's log lines."""
    print(f"[{elapsed():7.3f}] test: {text}", file=sys.stderr, flush=True)


def _timestamp_lines(pipe, log):
    with log:
        for raw in iter(pipe.readline, b""):
            log.write(f"[{elapsed():7.3f}] {raw.decode(errors='replace')}")
            log.flush()


def spawn(cmd, **kwargs):
    """Starts a long-running helper process and registers it for killing."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kwargs)
    _children.append(proc)
    return proc


def terminate(proc, grace=1.0):
    """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@atexit.register
def _kill_children():
    for proc in _children:
        terminate(proc)


class NaSniffer:
    """Captures Neighbor Advertisements for one target in the router namespace, in the
    background, for a fixed time (ndp_tool.py sniff)."""

    def __init__(self, target, seconds, ns=topology.ROUTER, iface="down0"):
        self._start(ns, ["sniff", iface, target, str(seconds)], seconds)

    def _start(self, ns, tool_args, seconds):
        self.seconds = seconds
        self.proc = spawn(["ip", "netns", "exec", ns, "/usr/bin/python3", topology.NDP_TOOL,
                           *tool_args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Scapy takes a second to import; nothing may happen before the capture runs.
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            terminate(self.proc)
            raise AssertionError(f"NA sniffer did not start: {line!r} {self.proc.stderr.read()}")

    def advertisements(self):
        """Waits for the capture to end; returns the NAs seen (dicts, see ndp_tool.py)."""
        out, err = self.proc.communicate(timeout=self.seconds + 30)
        if self.proc.returncode != 0:
            raise AssertionError(f"NA sniffer failed ({self.proc.returncode}): {err}")
        return json.loads(out.strip().splitlines()[-1])


class NaCounter(NaSniffer):
    """Every Neighbor Advertisement reaching the router, at any rate, for a fixed time
    (ndp_tool.py count); advertisements() is {"solicited": N, "unsolicited": [...]}."""

    def __init__(self, seconds, ns=topology.ROUTER, iface="down0"):
        self._start(ns, ["count", iface, str(seconds)], seconds)


def proc_status(pid, field):
    """The number a field of /proc/PID/status starts with (VmRSS: KiB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def rss_kib(pid):
    """Resident set size of process `pid` in KiB (VmRSS)."""
    return proc_status(pid, "VmRSS")


# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print when they find
# something (a build with -DNDPROXY_SANITIZE=ON; see scripts/test).
_SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: |"
                               r"SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer")


def sanitizer_findings(text):
    """The lines of a log that are sanitizer reports."""
    return [line for line in text.splitlines() if _SANITIZER_REPORT.search(line)]


def sanitized():
    """Whether the binaries under test are a sanitizer build (ctest says so). Its allocator keeps
    freed memory in quarantine and maps shadow memory, so resident-set sizes say nothing about
    what the daemon holds; LeakSanitizer checks that instead, at exit."""
    return os.environ.get("NDPROXY_SANITIZED") == "1"


def ctl_command(socket_path, *args):
    return [binary("NDPROXYCTL", "ndproxyctl"), "--socket", socket_path, *args]


class Daemon:
    """One ndproxyd process in the host namespace (possibly started several times)."""

    def __init__(self, workdir, name="ndproxyd", socket_path=None):
        self.workdir = workdir
        self.name = name
        self.socket = socket_path or os.path.join(workdir, f"{name}.sock")
        # The test's own: the default (/var/lib/ndproxy) would be shared by tests running at once.
        self.state_file = os.path.join(workdir, f"{name}.state")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.notify_path = os.path.join(workdir, f"{name}.notify")
        self.proc = None
        self.runs = 0
        self.signalled = False      # the test stopped it: an exit is no crash

    def start(self, *args, ready=True, ns=HOST, wrapper=(), program=None, user="root"):
        """Starts ndproxyd ARGS --user USER --control-socket SOCK --state-file STATE in `ns`
        (no --state-file if ARGS has one); waits for READY=1 unless told not. `user`: root by default, whatever users the machine has (with the
        package installed, the daemon would switch to ndproxy); None: no --user. `wrapper`: a
        command that runs the daemon (setpriv ...); `program`: the ndproxyd to run, if not the
        one under test."""
        assert self.proc is None or self.proc.poll() is not None, "daemon already running"
        # sd_notify: the daemon says READY=1 once its first reconcile is done. That is the one
        # moment a test may assume the table reflects the start state.
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        os.chmod(self.notify_path, 0o666)   # a daemon that switched users reports too
        self.runs += 1
        self.signalled = False
        state = () if "--state-file" in args else ("--state-file", self.state_file)
        self.args = [*wrapper, program or binary("NDPROXYD", "ndproxyd"), *args,
                     *(("--user", user) if user else ()), "--control-socket", self.socket, *state]
        log = open(self.log_path, "a")
        log.write(f"[{elapsed():7.3f}] ===== run {self.runs}: {' '.join(self.args)}\n")
        log.flush()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        # `ip netns exec` execs the daemon in place, so self.proc.pid is the daemon itself.
        self.proc = spawn(["ip", "netns", "exec", ns, *self.args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        # The daemon's lines get timestamps on the same clock as note(), to line up with
        # what the test did.
        self.pump = threading.Thread(target=_timestamp_lines, args=(self.proc.stdout, log),
                                     daemon=True)
        self.pump.start()
        if ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ndproxyd exited with status {self.proc.returncode} before "
                                     f"READY=1; log:\n{self.log_tail()}")
            self.notify.settimeout(0.1)
            try:
                message = self.notify.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            if "READY=1" in message.split("\n"):
                return
        raise AssertionError(f"ndproxyd sent no READY=1 within {timeout}s; log:\n{self.log_tail()}")

    def died(self):
        """Exited without the test asking it to (a crash, or an exit on an error)."""
        return self.proc is not None and self.proc.poll() is not None and not self.signalled

    def stop(self, sig=signal.SIGTERM, within=1.0):
        """Sends `sig`; asserts the daemon exits within `within` seconds; returns its status."""
        self.signalled = True
        self.proc.send_signal(sig)
        started = time.monotonic()
        try:
            rc = self.proc.wait(within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"ndproxyd still running {within}s after {sig.name}")
        self.exit_seconds = time.monotonic() - started
        self._finish()
        return rc

    def kill(self):
        if self.proc is not None:
            self.signalled = True
            terminate(self.proc)
            self._finish()

    def _finish(self):
        self.notify.close()
        self.pump.join(5)       # the log is complete once the pipe is drained

    def ctl(self, *args):
        """`ndproxyctl --socket SOCK ARGS --json`, parsed."""
        proc = run(*ctl_command(self.socket, *args, "--json"), check=False, timeout=10)
        if proc.returncode != 0:
            raise AssertionError(f"ndproxyctl {' '.join(args)} failed ({proc.returncode}): "
                                 f"{proc.stderr.strip()}")
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"ndproxyctl {' '.join(args)} printed no JSON: {proc.stdout!r}") from e

    def request(self, command):
        """One raw control-protocol request (e.g. "resync", which ndproxyctl does not offer)."""
        return request(self.socket, command)

    def stats(self):
        return self.ctl("stats")

    def status(self):
        return self.ctl("status")

    def entries(self):
        """`ndproxyctl list`, keyed by address."""
        return {e["address"]: e for e in self.ctl("list")}

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, head=60, tail=200):
        lines = self.log_text().splitlines()
        if len(lines) > head + tail:
            lines = lines[:head] + [f"... ({len(lines) - head - tail} lines left out) ..."] + lines[-tail:]
        return "\n".join(lines)


def request(socket_path, command):
    """One raw control-protocol request to the daemon at `socket_path`; the reply, parsed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(socket_path)
        s.sendall(json.dumps({"command": command}).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


def world_readable_copy(test, path):
    """A copy of `path` that any user can run, for what a test runs as another user (nobody):
    the checkout may sit where only root can reach it (/root is 0700 on Debian). In a fresh
    0755 directory on the sandbox's private /run, removed when `test` ends."""
    directory = tempfile.mkdtemp(prefix="ndproxy-world-readable-", dir="/run")
    test.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    os.chmod(directory, 0o755)
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy(path, copy)
    os.chmod(copy, 0o755)
    return copy


# For tests that choose the responder mode themselves (ndproxyd rejects a repeated option).
RESPONDER_BASE_ARGS = ("-e", "ext", "-i", "br0", "-p", PREFIX, "--log-level", "debug")


class NetnsCase(unittest.TestCase):
    """Builds the topology for each test; kills daemons and prints their logs if the test failed."""

    VMS = (1, 2)         # VM numbers to build at setUp
    BRIDGE = True        # False: the test builds br0 itself
    BASE_ARGS = ("-e", "ext", "-i", "br0", "-p", PREFIX, "--responder", "off", "--log-level", "debug")

    def setUp(self):
        if os.environ.get("NDPROXY_TEST_ISOLATED") != "1":
            self.fail("namespace tests run only under tests/netns/run-isolated")
        self.workdir = tempfile.mkdtemp(prefix="ndproxy-test-", dir="/run")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.topo = self.new_topology()
        self.addCleanup(self.topo.teardown)
        self.daemons = []
        self.addCleanup(self._stop_daemons_and_report)    # cleanups run last-in, first-out
        self.build_topology()

    def new_topology(self):
        """The network this test runs in (torn down after it); two_hosts.TwoHosts for some."""
        return topology.Topology()

    def build_topology(self):
        self.topo.build(vms=self.VMS, bridge=self.BRIDGE)

    def daemon(self, *extra, name="ndproxyd", ready=True):
        """Starts a new ndproxyd with BASE_ARGS + extra, and with --fast-path as
        NDPROXY_FAST_PATH says where the test chooses none (the responder's tests run in
        every mode: tests/netns/CMakeLists.txt)."""
        d = Daemon(self.workdir, name)
        self.daemons.append(d)
        args = [*self.BASE_ARGS, *extra]
        mode = os.environ.get("NDPROXY_FAST_PATH")
        if mode and "--fast-path" not in args:
            args += ["--fast-path", mode]
        return d.start(*args, ready=ready)

    def _stop_daemons_and_report(self):
        failed = self._has_failed()
        state = self._kernel_state() if failed else []      # before the daemons go
        died = [(d, d.proc.returncode) for d in self.daemons if d.died()]
        for d in self.daemons:
            d.kill()
        # After the kill: LeakSanitizer reports at exit. Any report fails the test, whatever
        # the exit status (a test may expect the daemon to fail, or kill it with SIGKILL).
        died += [(d, f"{d.proc.returncode}, sanitizer report: {sanitizer_findings(d.log_text())[0]}")
                 for d in self.daemons if d.proc is not None and sanitizer_findings(d.log_text())]
        if failed or died:
            out = [f"----- {self.id()}: state at the end:", *state]
            for d in self.daemons:
                out += [f"----- {d.name} log ({d.log_path}):", d.log_tail()]
            print("\n".join(out), file=sys.stderr)
        if died:
            # A crash the assertions happened not to notice still fails the test.
            raise AssertionError("; ".join(f"{d.name} died during the test with status {rc}"
                                           for d, rc in died))

    def _has_failed(self):
        # unittest records a failure in the result as it happens; cleanups run after that.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return True
        return any(test is self for test, _ in [*result.failures, *result.errors])

    def _kernel_state(self):
        if HOST not in self.topo.namespaces:
            return []
        out = []
        for what, args in (("proxy table (host)", ("-6", "neigh", "show", "proxy")),
                           ("neighbours (host br0)", ("-6", "neigh", "show", "dev", "br0"))):
            proc = topology.ip(HOST, *args, check=False)
            lines = (proc.stdout + proc.stderr).splitlines()
            out += [f"{what}: {len(lines)} lines", *lines[:40]]
        return out

    # --- assertions shared by the tests ---------------------------------------------------------

    def wait_owned(self, expected, timeout=5, what=None):
        """Waits until the owned (proto 71) entries on ext are exactly `expected`."""
        expected = sorted(expected)
        wait_what = what or f"owned proxy entries == {expected}"
        try:
            topology.wait_until(lambda: topology.owned(topology.proxy_table()) == expected,
                                timeout, wait_what)
        except AssertionError:
            got = topology.owned(topology.proxy_table())
            shown = got if len(got) <= 10 else f"{len(got)} entries, e.g. {got[:5]}"
            raise AssertionError(f"timed out after {timeout}s waiting for {wait_what}; "
                                 f"owned entries: {shown}") from None

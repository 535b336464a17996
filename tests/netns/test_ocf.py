"""The Pacemaker resource agent ocf:ndproxy:ndproxyd (ocf/ndproxyd): ocf-tester's compliance run,
and the exit codes a cluster acts on. Monitor must tell "not running" (7) from "there, but not
answering" (1): a 7 for a stuck daemon would make Pacemaker start a second one or fail over.

The agent runs in the host namespace (`ip netns exec host`), like the daemon it starts; the
daemon it leaves behind dies with the sandbox's PID namespace at the latest. Needs resource-agents
(ocf-shellfuncs, ocf-tester) and libxml2-utils (xmllint, for ocf-tester's meta-data check)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET

import harness
import topology
from harness import note
from topology import HOST, PREFIX, owned, proxy_table, vm_addr

AGENT = os.path.join(harness.REPO, "ocf", "ndproxyd")
OCF_ROOT = "/usr/lib/ocf"
INSTANCE = "ndproxy_test"

# OCF exit codes (ocf-returncodes)
SUCCESS, ERR_GENERIC, ERR_ARGS, ERR_PERM, ERR_INSTALLED, ERR_CONFIGURED, NOT_RUNNING = \
    0, 1, 2, 4, 5, 6, 7

# The operation timeout the agent is told (ms), as ocf-tester does: bounds its waits.
OP_TIMEOUT_MS = 20000

# A stand-in daemon for the start failures: passes --check-config like a good configuration,
# then exits at run time with $FAKE_STATUS, as ndproxyd does on a failure (1) or on a
# configuration error the check did not catch (2).
FAKE_DAEMON = """#!/bin/sh
for arg in "$@"; do
    [ "$arg" = --check-config ] && exit 0
done
echo "ndproxyd: error: fake failure at run time" >&2
exit "${FAKE_STATUS:-1}"
"""


def run_agent(agent_path, action, params, env=None):
    """Runs the agent in the host namespace as Pacemaker would: the parameters in OCF_RESKEY_*
    (None: unset), the operation's timeout in OCF_RESKEY_CRM_meta_timeout. Returns the
    completed process and how long it took."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
    environment.update({
        "OCF_ROOT": OCF_ROOT, "OCF_RA_VERSION_MAJOR": "1", "OCF_RA_VERSION_MINOR": "0",
        "OCF_RESOURCE_INSTANCE": INSTANCE, "OCF_RESOURCE_TYPE": "ndproxyd",
        "OCF_RESOURCE_PROVIDER": "ndproxy", "OCF_RESKEY_CRM_meta_timeout": str(OP_TIMEOUT_MS),
        "OCF_RESKEY_CRM_meta_interval": "10000" if action == "monitor" else "0",
    })
    environment.update({f"OCF_RESKEY_{k}": v for k, v in params.items() if v is not None})
    environment.update(env or {})
    started = time.monotonic()
    # The timeout is Pacemaker's: an agent that outlives its operation timeout has failed.
    proc = subprocess.run(["ip", "netns", "exec", HOST, agent_path, action],
                          env=environment, capture_output=True, text=True,
                          timeout=OP_TIMEOUT_MS / 1000)
    return proc, time.monotonic() - started


def alive(pid):
    """Whether process `pid` exists and is no zombie (as the agent judges it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


class FakeJournal:
    """A stand-in for journald's stream socket in the sandbox's private /run, to see what
    systemd-cat sends: the stream header (identifier first), then the daemon's lines."""

    PATH = "/run/systemd/journal/stdout"
    # The stream protocol's header: identifier, unit, priority, level prefix, and whether to
    # forward to syslog, kmsg and the console. The daemon's lines follow.
    HEADER_LINES = 7

    def __init__(self):
        os.makedirs(os.path.dirname(self.PATH), exist_ok=True)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.PATH)
        self.server.listen(4)
        self.data = b""
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        conn, _ = self.server.accept()
        with conn:
            while chunk := conn.recv(65536):
                self.data += chunk
        self.closed.set()

    def lines(self):
        return self.data.decode(errors="replace").splitlines()

    def close(self):
        self.server.close()
        os.unlink(self.PATH)


class OcfCase(harness.NetnsCase):
    VMS = (1,)

    def setUp(self):
        missing = [what for what, present in (
            ("ocf-shellfuncs (resource-agents)",
             os.path.exists(f"{OCF_ROOT}/lib/heartbeat/ocf-shellfuncs")),
            ("ocf-tester (resource-agents)", shutil.which("ocf-tester")),
            ("xmllint (libxml2-utils)", shutil.which("xmllint"))) if not present]
        if missing:
            self.fail(f"missing {', '.join(missing)}: apt-get install resource-agents "
                      f"libxml2-utils (scripts/lib.sh installs them)")
        super().setUp()
        self.config = os.path.join(self.workdir, "ndproxyd.conf")
        with open(self.config, "w") as f:
            f.write("# written by test_ocf.py\n"
                    f"external = ext\ninternal = br0\nprefix = {PREFIX}\n"
                    "responder = off\nlog-level = debug\n")
        self.daemon_log = os.path.join(self.workdir, "ocf-daemon.log")
        self.params = {
            "config": self.config,
            "socket": os.path.join(self.workdir, "ocf", "control.sock"),
            "binary": harness.binary("NDPROXYD", "ndproxyd"),
            "ctl": harness.binary("NDPROXYCTL", "ndproxyctl"),
            # In a directory that does not exist yet: the agent creates it, as under /run.
            "pidfile": os.path.join(self.workdir, "run", f"ocf-{INSTANCE}.pid"),
            "logfile": self.daemon_log,
            # Root, whatever users the machine has: the daemon switching users is
            # test_privileges.py's subject, which also runs it through this agent.
            "user": "root",
        }
        self.pidfile = self.params["pidfile"]
        # ocf-tester runs the agent as nobody too (its permissions check).
        self.agent_path = harness.world_readable_copy(self, AGENT)
        self.transcript = []
        # Cleanups run last-in, first-out: this stop comes before the topology goes.
        self.addCleanup(self._stop_and_report)

    def _stop_and_report(self):
        self.agent("stop")
        log = ""
        if os.path.exists(self.daemon_log):
            with open(self.daemon_log, errors="replace") as f:
                log = f.read()
        # As for the harness's daemons: under a sanitizer build, any report fails the test.
        findings = harness.sanitizer_findings(log)
        if self._has_failed() or findings:
            print("\n".join(["----- agent calls:", *self.transcript,
                             f"----- daemon log ({self.daemon_log}):", log]),
                  file=sys.stderr)
        if findings:
            raise AssertionError(f"sanitizer report in the daemon's log: {findings[0]}")

    def agent(self, action, env=None, **params):
        """Runs the agent as Pacemaker would (run_agent), with self.params overridden by
        `params` (None: unset), and keeps a transcript."""
        proc, took = run_agent(self.agent_path, action, {**self.params, **params}, env)
        output = (proc.stdout if action != "meta-data" else "") + proc.stderr
        line = f"{action} -> {proc.returncode} in {took:.1f}s" + \
            "".join(f"\n    | {out}" for out in output.splitlines())
        self.transcript.append(line)
        note(f"agent {line}")
        return proc

    def assert_agent(self, action, expected, env=None, **params):
        proc = self.agent(action, env=env, **params)
        self.assertEqual(proc.returncode, expected,
                         f"{action} returned {proc.returncode}, expected {expected}:\n"
                         f"{proc.stdout if action != 'meta-data' else ''}{proc.stderr}")
        return proc

    def daemon_pid(self):
        with open(self.pidfile) as f:
            return int(f.read())

    def assert_nothing_runs(self):
        self.assertFalse(os.path.exists(self.pidfile), "the pidfile is left behind")
        self.assert_agent("monitor", NOT_RUNNING)


class OcfTest(OcfCase):

    def test_ocf_tester_passes(self):
        """ocf-tester: meta-data against ra-api-1.dtd, as nobody too; probes and monitors of a
        stopped resource (7, also with the binaries "missing"); start, start again, stop, stop
        again, with monitors between them."""
        args = [arg for key, value in self.params.items() for arg in ("-o", f"{key}={value}")]
        proc = topology.run("ip", "netns", "exec", HOST, "ocf-tester", "-n", INSTANCE, *args,
                            self.agent_path, check=False, timeout=110)
        note("ocf-tester:\n" + proc.stdout + proc.stderr)
        self.assertEqual(proc.returncode, 0, f"ocf-tester failed:\n{proc.stdout}{proc.stderr}")
        self.assertIn("passed all tests", proc.stdout)
        self.assert_nothing_runs()

    def test_exit_codes_through_a_life(self):
        self.assert_agent("validate-all", SUCCESS)
        self.assert_agent("monitor", NOT_RUNNING)
        self.assert_agent("start", SUCCESS)
        pid = self.daemon_pid()
        self.assertTrue(alive(pid))
        self.assertEqual(os.path.basename(os.readlink(f"/proc/{pid}/exe")), "ndproxyd",
                         "the pidfile names the daemon itself, not a wrapper")
        self.assert_agent("monitor", SUCCESS)
        self.assert_agent("start", SUCCESS)
        self.assertEqual(self.daemon_pid(), pid, "a second start started a second daemon")

        # It is the daemon with the configuration file, in the host namespace, doing its job.
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])

        # Stuck (SIGSTOP): the process is there, the socket accepts, no answer comes. That is
        # a failure to recover (1), never "not running" (7).
        os.kill(pid, signal.SIGSTOP)
        try:
            proc = self.assert_agent("monitor", ERR_GENERIC)
            self.assertIn("does not answer", proc.stderr)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assert_agent("monitor", SUCCESS)

        self.assert_agent("stop", SUCCESS)
        self.assertFalse(alive(pid), "ndproxyd still runs after stop")
        self.assert_agent("stop", SUCCESS)
        self.assert_nothing_runs()
        # Without --flush-on-exit the entries stay: the kernel goes on answering for the VM.
        self.assertEqual(owned(proxy_table()), [vm_addr(1)])

    def test_reload_checks_then_signals(self):
        """reload: the daemon's own check of the file first, then SIGHUP; a broken file is
        refused with its file:line and the daemon keeps running as it was; parameters that
        change the daemon's command line cannot be reloaded."""
        proc = self.assert_agent("reload", NOT_RUNNING)
        self.assertIn("not running", proc.stderr)
        self.assert_agent("start", SUCCESS)
        pid = self.daemon_pid()
        ctl = harness.binary("NDPROXYCTL", "ndproxyctl")

        def prefixes():
            out = topology.ns_exec(HOST, ctl, "--socket", self.params["socket"], "status",
                                   "--json").stdout
            return json.loads(out)["prefixes"]

        self.assertEqual(prefixes(), [PREFIX])
        with open(self.config) as f:
            good = f.read()
        with open(self.config, "w") as f:
            f.write(good.replace(f"prefix = {PREFIX}", "prefix = 2001:db8:5::/64"))
        self.assert_agent("reload", SUCCESS)
        topology.wait_until(lambda: prefixes() == ["2001:db8:5::/64"], 5, "the new prefix")
        self.assertEqual(self.daemon_pid(), pid)

        with open(self.config, "a") as f:
            f.write("prefx = 2001:db8:6::/64\n")
        proc = self.assert_agent("reload", ERR_ARGS)
        self.assertIn("ndproxyd.conf:", proc.stderr)
        self.assertIn("prefx", proc.stderr)
        self.assert_agent("monitor", SUCCESS)
        self.assertEqual(prefixes(), ["2001:db8:5::/64"])

        with open(self.config, "w") as f:
            f.write(good)
        proc = self.assert_agent("reload", ERR_GENERIC, options="--no-announce")
        self.assertIn("restart", proc.stderr)
        self.assertTrue(alive(pid))

    def test_stop_ends_a_stopped_daemon(self):
        """SIGTERM does nothing to a SIGSTOPped process until it runs again: stop continues it."""
        self.assert_agent("start", SUCCESS)
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGSTOP)
        proc = self.assert_agent("stop", SUCCESS)
        self.assertNotIn("SIGKILL", proc.stderr, "it took SIGKILL, not SIGTERM")
        self.assertFalse(alive(pid))
        self.assert_nothing_runs()

    def test_killed_daemon_is_not_running(self):
        """SIGKILL leaves a stale pidfile and a stale socket file: nothing runs, nothing listens,
        so 7; and start starts it again. Also: without logfile and without a journal, the
        daemon's log is discarded with a warning, and it runs all the same."""
        proc = self.assert_agent("start", SUCCESS, logfile=None)
        self.assertIn("discarded", proc.stderr)
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGKILL)
        topology.wait_until(lambda: not alive(pid), 5, "the killed daemon to be gone")
        self.assertTrue(os.path.exists(self.pidfile) and os.path.exists(self.params["socket"]))
        self.assert_agent("monitor", NOT_RUNNING)
        self.assert_agent("start", SUCCESS)
        self.assertNotEqual(self.daemon_pid(), pid)
        self.assert_agent("monitor", SUCCESS)
        self.assert_agent("stop", SUCCESS)
        self.assert_nothing_runs()

    def test_daemon_not_started_by_the_agent(self):
        """A daemon answering on the socket without the agent's pidfile (started by hand) is
        running (0): start starts no second one, a stuck one is 1, and stop stops it."""
        foreign = harness.Daemon(self.workdir, "foreign", socket_path=self.params["socket"])
        self.daemons.append(foreign)
        foreign.start("--config", self.config)
        self.assert_agent("monitor", SUCCESS)
        self.assert_agent("start", SUCCESS)
        self.assertFalse(os.path.exists(self.pidfile), "start started a daemon of its own")
        os.kill(foreign.proc.pid, signal.SIGSTOP)
        try:
            proc = self.assert_agent("monitor", ERR_GENERIC)
            self.assertIn("listens", proc.stderr)
        finally:
            foreign.signalled = True    # the agent's stop ends it: no crash
            self.assert_agent("stop", SUCCESS)
        self.assertEqual(foreign.proc.wait(5), 0, "the daemon did not exit cleanly on SIGTERM")
        self.assert_agent("monitor", NOT_RUNNING)

    def test_invalid_configuration_and_missing_programs(self):
        broken = os.path.join(self.workdir, "broken.conf")
        with open(broken, "w") as f:
            f.write(f"external = ext\ninternal = br0\nprefx = {PREFIX}\n")
        proc = self.assert_agent("validate-all", ERR_ARGS, config=broken)
        self.assertIn("prefx", proc.stderr, "the exit reason does not name the fault")
        self.assert_agent("start", ERR_ARGS, config=broken)
        self.assert_nothing_runs()
        missing = os.path.join(self.workdir, "missing")
        self.assert_agent("validate-all", ERR_ARGS, config=f"{missing}.conf")
        self.assert_agent("validate-all", ERR_ARGS, options="--no-such-option")
        self.assert_agent("validate-all", ERR_CONFIGURED, socket="relative.sock")
        self.assert_agent("validate-all", ERR_INSTALLED, binary=f"{missing}/ndproxyd")
        self.assert_agent("validate-all", ERR_INSTALLED, ctl=f"{missing}/ndproxyctl")
        self.assert_agent("start", ERR_INSTALLED, binary=f"{missing}/ndproxyd")
        # A log file that cannot be written (its "directory" is a file) is no configuration
        # error of the daemon's.
        self.assert_agent("start", ERR_PERM, logfile=os.path.join(self.config, "daemon.log"))
        # A probe on a node without the package: not running.
        self.assert_agent("monitor", NOT_RUNNING, binary=f"{missing}/ndproxyd",
                          ctl=f"{missing}/ndproxyctl")
        self.assert_nothing_runs()

    def test_daemon_failing_at_start(self):
        """A daemon that exits while starting: the agent notices (no wait for the timeout),
        says why, and returns 1 for a failure, 2 for a configuration error."""
        fake = os.path.join(self.workdir, "fake", "ndproxyd")
        os.makedirs(os.path.dirname(fake))
        with open(fake, "w") as f:
            f.write(FAKE_DAEMON)
        os.chmod(fake, 0o755)
        proc = self.assert_agent("start", ERR_GENERIC, binary=fake)
        self.assertIn("exited with status 1", proc.stderr)
        self.assertIn("fake failure at run time", proc.stderr, "no hint from the daemon's log")
        self.assertFalse(os.path.exists(self.pidfile))
        self.assert_agent("start", ERR_ARGS, binary=fake, env={"FAKE_STATUS": "2"})
        self.assertFalse(os.path.exists(self.pidfile))

    def test_default_log_goes_to_the_journal(self):
        """Without logfile, the daemon's log goes to journald's stream socket through
        systemd-cat, which execs the daemon: the pidfile still names ndproxyd itself."""
        journal = FakeJournal()
        self.addCleanup(journal.close)
        self.assert_agent("start", SUCCESS, logfile=None)
        pid = self.daemon_pid()
        self.assertEqual(os.path.basename(os.readlink(f"/proc/{pid}/exe")), "ndproxyd")
        topology.wait_until(lambda: len(journal.lines()) > FakeJournal.HEADER_LINES, 5,
                            "a daemon log line in the journal stream")
        self.assertEqual(journal.lines()[0], "ndproxyd", "stream identifier")
        self.assert_agent("stop", SUCCESS)
        self.assertTrue(journal.closed.wait(5), "the journal stream stays open after stop")
        self.assert_nothing_runs()

    def test_meta_data(self):
        """Valid against ra-api-1.dtd, every parameter with its default, the actions with
        timeouts; readable by anyone (ocf-tester checks as nobody)."""
        proc = self.assert_agent("meta-data", SUCCESS)
        dtd_dir = "/usr/share/resource-agents"
        lint = subprocess.run(["xmllint", "--noout", "--valid", "-"], input=proc.stdout,
                              capture_output=True, text=True, cwd=dtd_dir, timeout=30)
        self.assertEqual(lint.returncode, 0, lint.stderr)
        root = ET.fromstring(proc.stdout)
        defaults = {p.get("name"): p.find("content").get("default")
                    for p in root.iter("parameter")}
        self.assertEqual(defaults, {
            "config": "/etc/ndproxy/ndproxyd.conf",
            "socket": "/run/ndproxyd/control.sock",
            "binary": "/usr/sbin/ndproxyd",
            "ctl": "/usr/bin/ndproxyctl",
            "pidfile": f"/run/ndproxy/ocf-{INSTANCE}.pid",
            "options": "",
            "logfile": "",
            "user": "",
        })
        actions = {a.get("name"): a.get("timeout") for a in root.iter("action")}
        self.assertEqual(set(actions),
                         {"start", "stop", "monitor", "reload", "validate-all", "meta-data"})
        self.assertTrue(all(actions.values()))
        self.assert_agent("usage", SUCCESS)
        self.assert_agent("no-such-action", 3)      # OCF_ERR_UNIMPLEMENTED


if __name__ == "__main__":
    unittest.main()

"""`ndproxyctl monitor`: the daemon's events as they happen, from the real daemon. A VM's
address added and withdrawn, a bound hit and reloads reach a subscriber, in JSON and in text;
a subscriber that never reads costs the daemon nothing but a count of what it missed."""

import json
import os
import signal
import socket
import subprocess
import threading
import unittest

import faults
import harness
import test_uplinks
import topology
from topology import HOST, OWNER_PROTO, ip, proxy_table, vm_addr

BURST = 5000


def write_config(path, extra=""):
    with open(path, "w") as f:
        f.write("# written by test_monitor\n"
                "external = ext\n"
                "internal = br0\n"
                f"prefix = {topology.PREFIX}\n"
                "responder = off\n"
                "withdraw-after = 1\n"
                "max-addresses-per-mac = 1\n"
                f"{extra}")


class Monitor:
    """`ndproxyctl monitor [--json]`, its output lines collected as they come."""

    def __init__(self, socket_path, *args):
        self.proc = harness.spawn(harness.ctl_command(socket_path, "monitor", *args),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def seen(self):
        with self.lock:
            return list(self.lines)

    def events(self):
        return [json.loads(line) for line in self.seen()]

    def wait_for(self, predicate, what, timeout=10):
        """The first event (of --json) that `predicate` accepts."""
        return topology.wait_until(lambda: next(filter(predicate, self.events()), None),
                                   timeout, what)

    def interrupt(self):
        """SIGINT, as an operator's ^C: the exit status."""
        self.proc.send_signal(signal.SIGINT)
        status = self.proc.wait(5)
        self.reader.join(5)
        return status


def subscribed(d, monitors):
    """Reloads until each of `monitors` has seen one: then each is surely subscribed."""
    def all_saw_one():
        d.proc.send_signal(signal.SIGHUP)
        return all(any(" reload " in f" {line} " or '"reload"' in line for line in m.seen())
                   for m in monitors)
    topology.wait_until(all_saw_one, 10, "every monitor to see a reload", interval=0.5)


class MonitorTest(harness.NetnsCase):

    def start_with_file(self):
        self.config = os.path.join(self.workdir, "ndproxyd.conf")
        write_config(self.config)
        d = harness.Daemon(self.workdir)
        self.daemons.append(d)
        return d.start("-c", self.config, "--log-level", "debug")

    def test_a_vm_a_bound_and_reloads(self):
        d = self.start_with_file()
        watcher = Monitor(d.socket, "--json")
        text = Monitor(d.socket)
        subscribed(d, [watcher, text])
        reload = watcher.wait_for(lambda e: e["event"] == "reload", "a reload")
        self.assertEqual(reload["result"], "applied")
        self.assertNotIn("address", reload)
        self.assertIsInstance(reload["time"], float)

        self.topo.vm_speak(1)
        added = watcher.wait_for(lambda e: e["event"] == "added", "vm1 added")
        self.assertEqual(added["address"], vm_addr(1))
        self.assertEqual((added["origin"], added["path"], added["interface"]),
                         ("mirror", "kernel", "br0"))
        self.assertEqual(added["lladdr"], topology.link_mac("vm1", "vif0"))
        self.assertNotIn("uplink", added, "one uplink: none named")

        # vm1's MAC may hold one address (max-addresses-per-mac = 1): a second one is refused.
        invented = "2001:db8:1::6:1"
        ip(HOST, "-6", "neigh", "replace", invented, "lladdr", added["lladdr"], "dev", "br0",
           "nud", "reachable")
        bound = watcher.wait_for(lambda e: e["event"] == "bound", "the per-MAC bound")
        self.assertEqual((bound["address"], bound["counter"], bound["lladdr"]),
                         (invented, "mac_address_limit", added["lladdr"]))

        self.topo.remove_vm(1)
        ip(HOST, "-6", "neigh", "del", vm_addr(1), "dev", "br0")
        withdrawn = watcher.wait_for(
            lambda e: e["event"] == "withdrawn" and e["address"] == vm_addr(1), "vm1 withdrawn")
        self.assertEqual(withdrawn["path"], "kernel")

        write_config(self.config, extra="prefx = 2001:db8:2::/64\n")
        d.proc.send_signal(signal.SIGHUP)
        rejected = watcher.wait_for(lambda e: e.get("result") == "rejected", "a rejected reload")
        self.assertIn('unknown key "prefx"', rejected["error"])

        # The same stream in text, one line an event, like `ip monitor`.
        topology.wait_until(lambda: any(f" added {vm_addr(1)} origin=mirror path=kernel" in line
                                        for line in text.seen()), 5, "the text line")
        self.assertTrue(any(line.split()[1:3] == ["reload", "-"] for line in text.seen()))
        self.assertEqual(watcher.interrupt(), 0, "^C is how a monitor ends")
        self.assertEqual(text.interrupt(), 0)
        self.assertEqual(d.stats()["monitor_events_dropped"], 0, "both kept up")

    def test_a_subscriber_that_never_reads(self):
        d = self.daemon("--withdraw-after", "1")
        hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(hog.close)
        hog.connect(d.socket)
        hog.sendall(b'{"command":"monitor"}\n')
        hog.settimeout(5)
        self.assertTrue(hog.recv(12).startswith(b'{"ok":true}'), "subscribed")
        # From here on the hog reads nothing while some ten thousand events happen.
        addresses = [f"2001:db8:1::a:{i:x}" for i in range(BURST)]
        faults.run_batch([f"neigh add {a} lladdr 02:00:00:aa:{i >> 8:02x}:{i & 0xff:02x} "
                          "dev br0 nud permanent" for i, a in enumerate(addresses)])
        expected = sorted((a, OWNER_PROTO) for a in addresses)
        topology.wait_until(lambda: proxy_table() == expected, 60,
                            f"all {BURST} entries mirrored", interval=0.5)
        self.assertEqual(len(d.ctl("list")), BURST, "the list is answered meanwhile")
        faults.run_batch([f"neigh del {a} dev br0" for a in addresses])
        topology.wait_until(lambda: proxy_table() == [], 90, "every entry withdrawn", interval=0.5)
        dropped = d.stats()["monitor_events_dropped"]
        # Its socket and its queue (4,096 events) hold fewer than the 10,000 events.
        self.assertGreater(dropped, 0, "the hog missed nothing: the test proved nothing")
        self.assertFalse(d.died())

        # Once it reads, it gets what was queued, then the count of what it missed.
        received = b""
        while not received.endswith(b"\n") or b'"dropped"' not in received.rsplit(b"\n", 2)[-2]:
            chunk = hog.recv(1 << 16)
            self.assertTrue(chunk, "the daemon hung up on the hog")
            received += chunk
        last = json.loads(received.rsplit(b"\n", 2)[-2])
        self.assertEqual(last["event"], "dropped")
        self.assertEqual(last["count"], dropped)


class MonitorUplinksTest(harness.NetnsCase):
    """With several uplinks, each event names the uplink whose services raised it."""
    VMS = ()
    BRIDGE = False
    BASE_ARGS = (*test_uplinks.UPLINK_ARGS, "--responder", "off")
    build_topology = test_uplinks.UplinksTest.build_topology

    def test_events_name_their_uplink(self):
        d = self.daemon()
        watcher = Monitor(d.socket, "--json")
        subscribed(d, [watcher])
        self.topo.vm_speak(1)
        test_uplinks.vm2_speak()
        for address, uplink in ((vm_addr(1), "ext"), (test_uplinks.VM2, test_uplinks.EXT2)):
            added = watcher.wait_for(
                lambda e, address=address: e["event"] == "added" and e["address"] == address,
                f"{address} added")
            self.assertEqual(added["uplink"], uplink)
        self.assertNotIn("uplink", watcher.wait_for(lambda e: e["event"] == "reload", "reload"),
                         "a reload is the daemon's, not an uplink's")
        self.assertEqual(watcher.interrupt(), 0)


if __name__ == "__main__":
    unittest.main()

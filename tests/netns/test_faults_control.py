"""Fault: control-socket abuse. Garbage, an oversized line, a client that never reads its
replies, and 100 clients at once: the daemon answers what it can, refuses what is beyond its
bounds (64 clients by default), keeps mirroring meanwhile, and holds no more memory or file
descriptors afterwards than before."""

import os
import socket
import unittest

import faults
import harness
import topology
from harness import note
from topology import vm_addr

MAX_CLIENTS = 64                # ndproxyd's default --max-control-clients
CROWD = 100
RSS_SLACK_KIB = 2048


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue                                # closed while we looked
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes


def held_fds(pid, control_path):
    """(open files apart from control connections, control connections) of the daemon.

    A client that has read its reply and exited may still be open in the daemon until its next
    loop turn: on a loaded machine, a count taken right after `ndproxyctl stats` returned held
    that connection (14 files, 13 a moment later), and the test then waited for 14 in vain.
    Accepted sockets carry the listener's path in /proc/net/unix (state 03: connected), so the
    daemon's connections are counted apart from everything else it holds. An accepted socket
    belongs to the connecting client's network namespace, so both tables are read."""
    inodes = socket_inodes(pid)
    connected = set()
    for table_path in (f"/proc/{pid}/net/unix", "/proc/self/net/unix"):
        with open(table_path) as table:
            next(table)                             # Num RefCount Protocol Flags Type St Inode Path
            for line in table:
                fields = line.split()
                if len(fields) >= 8 and fields[7] == control_path and fields[5] == "03":
                    connected.add(int(fields[6]))
    connections = len(connected & inodes)
    return len(os.listdir(f"/proc/{pid}/fd")) - connections, connections


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking: with a full listen backlog a Unix socket's connect() waits for the daemon to
    # accept, where a socket with a timeout would fail at once (EAGAIN).
    s.connect(path)
    s.settimeout(10)
    return s


class ControlAbuseTest(faults.FaultCase):

    def test_garbage_oversized_silent_and_crowds(self):
        d = self.daemon()
        self.topo.vm_speak(1)
        self.wait_owned([vm_addr(1)])
        d.stats()                                   # the reply paths have run once
        pid = d.proc.pid
        rss_before, (fds_before, _) = harness.rss_kib(pid), held_fds(pid, d.socket)

        # Garbage, one bad line after another, on one connection that stays usable.
        garbage = [b"\x00\xff\xfe\x01", b"not json", b"[1, 2, 3]", b'{"command": 7}',
                   b'{"command": "\xc3\x28"}', b'{"command": "shutdown"}', b"{" * 3000,
                   b"[" * 2000 + b"]" * 2000, b'{"command": "list"} trailing', b""]
        with connect(d.socket) as s:
            s.sendall(b"\n".join(garbage) + b"\n" + b'{"command": "status"}\n')
            replies = [harness.json.loads(line) for line in faults.read_lines(s, len(garbage) + 1)]
        self.assertEqual(len(replies), len(garbage) + 1)
        self.assertTrue(all(r["ok"] is False and r["error"] for r in replies[:-1]), replies)
        self.assertIs(replies[-1]["ok"], True)

        # An oversized line: refused, and the connection closed before the daemon holds it all.
        with connect(d.socket) as s:
            sent = 0
            try:
                while sent < (1 << 20):
                    sent += s.send(b"x" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
            lines = faults.read_lines(s, 1)
        self.assertEqual(harness.json.loads(lines[0]),
                         {"ok": False, "error": "request line too long"})
        note(f"oversized line: the daemon hung up after {sent} bytes")

        # A client that never reads: it asks until its socket is full, and stays connected.
        hog = connect(d.socket)
        hog.setblocking(False)
        asked = 0
        try:
            while asked < 100000:
                hog.send(b'{"command": "list"}\n')
                asked += 1
        except BlockingIOError:
            pass
        note(f"the silent client asked {asked} times before its socket was full")

        # 100 clients at once: all connect, then all ask. The silent one holds a slot.
        crowd = [connect(d.socket) for _ in range(CROWD)]
        for s in crowd:
            try:
                s.sendall(b'{"command": "stats"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass            # refused and closed already; its refusal is still to be read
        # Meanwhile a VM arrives: mirroring goes on.
        self.topo.vm_speak(2)
        answers = [faults.read_lines(s, 1) for s in crowd]
        served = sum(1 for a in answers if a and harness.json.loads(a[0]).get("ok") is True)
        refused = sum(1 for a in answers
                      if a and harness.json.loads(a[0]) == {"ok": False,
                                                            "error": "too many control clients"})
        self.assertEqual((served, refused), (MAX_CLIENTS - 1, CROWD - MAX_CLIENTS + 1))
        self.wait_owned([vm_addr(1), vm_addr(2)], what="vm2 mirrored during the crowd")
        # The silent client and the served crowd are held, the refused ones are not.
        self.assertEqual(held_fds(pid, d.socket), (fds_before, MAX_CLIENTS))
        for s in crowd:
            s.close()
        hog.close()

        # Everyone gone: served again, counted, and nothing held.
        def closed_all():
            return held_fds(pid, d.socket) == (fds_before, 0)
        what = f"the daemon back at {fds_before} open files and no control connection"
        topology.wait_until(closed_all, 5, what)
        stats = d.stats()
        self.assertEqual(stats["control_clients_rejected"], CROWD - MAX_CLIENTS + 1)
        topology.wait_until(closed_all, 5, what)
        rss_after = harness.rss_kib(pid)
        note(f"RSS {rss_before} -> {rss_after} KiB, fds {fds_before}")
        if not harness.sanitized():     # RSS means nothing under AddressSanitizer
            self.assertLessEqual(rss_after - rss_before, RSS_SLACK_KIB)
        self.assert_exact(d, [vm_addr(1), vm_addr(2)])


if __name__ == "__main__":
    unittest.main()

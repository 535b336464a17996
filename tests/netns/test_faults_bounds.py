"""Resource bounds against the real kernel: a full entry table refuses new addresses (counted,
logged once) and keeps the entries it has; when room comes back, the refused addresses are found
again without any new event for them. Too many control clients are refused and counted."""

import json
import socket
import unittest

import faults
import topology
from faults import bulk_addresses, neighbour_batch, stable_proxy_table
from topology import owned, vm_addr

MAX_ENTRIES = 100
BULK = 150
GOING = 60


class BoundsTest(faults.FaultCase):
    VMS = ()

    def test_full_table_refuses_new_addresses_and_recovers(self):
        # A one-second slow timer: refused addresses come in at its next tick once there is room.
        d = self.daemon("--max-entries", str(MAX_ENTRIES), "--withdraw-after", "1",
                        "--resync-interval", "1")
        bulk = bulk_addresses(BULK)
        faults.run_batch(neighbour_batch("add", bulk))
        topology.wait_until(lambda: d.stats()["entries_limit"] >= BULK - MAX_ENTRIES, 10,
                            "the refusals to be counted")
        self.assertEqual(d.status()["entries"], MAX_ENTRIES)
        mirrored = owned(stable_proxy_table())
        self.assertEqual(len(mirrored), MAX_ENTRIES)
        self.assertLessEqual(set(mirrored), set(bulk))
        self.assertEqual(d.log_text().count("the entry table is full"), 1, "logged once")
        self.assert_admin_untouched("with the table full")

        # 60 of the mirrored addresses go: withdrawn once confirmed gone, and the 50 refused
        # ones take their place. 90 live addresses fit: the table ends exactly right.
        going = mirrored[:GOING]
        faults.run_batch(neighbour_batch("del", going))
        live = sorted(set(bulk) - set(going))
        self.assert_exact(d, live, timeout=15)
        self.assertIn("the entry table has room again", d.log_text())

    def test_too_many_control_clients_are_refused_and_counted(self):
        self.topo.add_vm(1)
        d = self.daemon("--max-control-clients", "4")
        self.topo.vm_speak(1)
        clients = []
        for _ in range(6):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket)
            s.settimeout(5)
            clients.append(s)
        for s in clients:
            try:
                s.sendall(b'{"command": "status"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
        replies = [reply_of(s) for s in clients]
        self.assertEqual(sum(r.get("ok") is True for r in replies), 4)
        self.assertEqual(replies.count({"ok": False, "error": "too many control clients"}), 2)
        for s in clients:
            s.close()

        def rejected():
            try:
                return d.stats()["control_clients_rejected"]
            except AssertionError:      # refused: the daemon has not seen them all go yet
                return None
        self.assertEqual(topology.wait_until(rejected, 5, "a free slot to ask in"), 2)
        self.assert_exact(d, [vm_addr(1)])


def reply_of(s):
    """The one reply line a client got, parsed; {} if the connection closed without one."""
    lines = faults.read_lines(s, 1)
    return json.loads(lines[0]) if lines and lines[0] else {}


if __name__ == "__main__":
    unittest.main()

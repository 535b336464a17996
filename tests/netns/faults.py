"""Shared by the fault-injection tests (test_faults_*.py).

Every fault test runs with the administrator's own proxy entries in place (untagged, and tagged
with other protocol numbers, one of them 72, next to ndproxyd's 71), and ends with
FaultCase.assert_exact(): the kernel's proxy table on ext is exactly one ndproxyd entry per live
VM plus those administrator entries, unchanged, and the daemon is settled (it is confirming no
address gone), so nothing will change any more. Waiting for "settled" instead of sleeping is
what lets a test tell "not withdrawn yet" from "not withdrawn".
"""

import re
import subprocess

import harness
import topology
from topology import BRIDGE_MAC, GATEWAY, HOST, HOST_LL, OWNER_PROTO, PREFIX, ip, proxy_table

# (address, protocol): None is an entry added without a protocol, as `ip neigh add proxy` does.
ADMIN_ENTRIES = sorted([("2001:db8:1::97", 72), ("2001:db8:1::98", 4), ("2001:db8:1::99", None)])


def add_admin_entries():
    for address, proto in ADMIN_ENTRIES:
        extra = ("proto", str(proto)) if proto is not None else ()
        ip(HOST, "-6", "neigh", "add", "proxy", address, "dev", "ext", *extra)


def stable_proxy_table():
    """proxy_table() of a table that is not changing, read reliably. The kernel keeps every
    namespace's proxy entries in one hash table, and a dump resumes by counting entries, the
    other namespaces' included: while a test running in parallel adds or removes proxy entries,
    a dump of ours may repeat or skip one (ndproxyd guards its own dumps the same way). A
    repeat is harmless here; a skipped entry shows up in another read, so this is the union of
    reads until three in a row add nothing."""
    seen = set(proxy_table())
    quiet = 0
    while quiet < 3:
        more = set(proxy_table()) - seen
        seen |= more
        quiet = 0 if more else quiet + 1
    return sorted(seen)


def foreign(table):
    """The entries of a proxy_table() that ndproxyd does not own, with their protocols."""
    return sorted((addr, proto) for addr, proto in table if proto != OWNER_PROTO)


def bulk_addresses(count, block="b"):
    """`count` addresses inside the prefix, clear of the gateway, the VMs and the admin entries:
    2001:db8:1::b:0 and up (block "b")."""
    return [f"2001:db8:1::{block}:{i:x}" if i < 0x10000 else
            f"2001:db8:1::{block}{i >> 16:x}:{i & 0xffff:x}" for i in range(count)]


def neighbour_batch(verb, addresses, dev="br0"):
    """The `ip -batch` lines that add (nud permanent: other states are capped at gc_thresh3,
    which a namespace cannot raise) or delete a neighbour for each address."""
    if verb == "add":
        return [f"neigh add {a} lladdr 02:00:00:bb:{i >> 8 & 0xff:02x}:{i & 0xff:02x} dev {dev} "
                f"nud permanent" for i, a in enumerate(addresses)]
    return [f"neigh del {a} dev {dev}" for a in addresses]


def run_batch(lines, timeout=120):
    """Runs `ip -batch` in the host namespace: the kernel emits the events as fast as it
    processes the requests."""
    topology.run("ip", "-n", HOST, "-batch", "-", input="\n".join(lines) + "\n", timeout=timeout)


def spawn_batch(lines):
    """The same in the background; returns the process (wait() it). Registered with the
    harness, so that it is killed if the test ends first."""
    proc = subprocess.Popen(["ip", "-n", HOST, "-batch", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    harness._children.append(proc)
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.close()
    return proc


def forget_neighbour(address, dev="br0"):
    """The VM is gone and the kernel has noticed: its neighbour entry is deleted (the kernel would
    take gc_stale_time to do so itself)."""
    ip(HOST, "-6", "neigh", "del", address, "dev", dev, check=False)


def rename_link(old, new):
    """Renames a host link the way an administrator must: down, rename, up (the kernel refuses
    to rename a link that is up). Going down flushes its IPv6 addresses, routes and neighbours."""
    ip(HOST, "link", "set", old, "down")
    ip(HOST, "link", "set", old, "name", new)
    ip(HOST, "link", "set", new, "up")


def restore_bridge_addresses(dev="br0"):
    """Puts back what a link-down flushed from a bridge: the VMs' gateway and the route to them."""
    ip(HOST, "addr", "add", f"{HOST_LL}/64", "dev", dev, "nodad")
    ip(HOST, "addr", "add", f"{GATEWAY}/128", "dev", dev, "nodad")
    ip(HOST, "-6", "route", "replace", PREFIX, "dev", dev)


def new_bridge(dev="br0"):
    """A fresh bridge named `dev`, up, with the gateway addresses; no ports yet."""
    ip(HOST, "link", "add", dev, "address", BRIDGE_MAC, "type", "bridge", "stp_state", "0",
       "forward_delay", "0", "mcast_snooping", "0")
    ip(HOST, "link", "set", dev, "up")
    restore_bridge_addresses(dev)


_WRITE = re.compile(r"\] ndproxyd: info: (add|withdraw) proxy entry (\S+) on ")


def kernel_writes(daemon, run=None):
    """{address: ["add", "withdraw", ...]} from the daemon's log: every proxy-table write it made,
    in order; only those of start number `run` (1, 2, ...) if given."""
    writes = {}
    current = 0
    for line in daemon.log_text().splitlines():
        if "===== run " in line:
            current = int(line.split("===== run ")[1].split(":")[0])
            continue
        match = _WRITE.search(line)
        if match and (run is None or run == current):
            writes.setdefault(match.group(2), []).append(match.group(1))
    return writes


def read_lines(s, count):
    """Reads until `count` lines or EOF; returns the lines (bytes, without newlines)."""
    data = b""
    while data.count(b"\n") < count:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


class FaultCase(harness.NetnsCase):
    """NetnsCase with the administrator's entries in place from the start."""

    def setUp(self):
        super().setUp()
        add_admin_entries()

    def assert_admin_untouched(self, what):
        self.assertEqual(foreign(stable_proxy_table()), ADMIN_ENTRIES,
                         f"administrator entries {what}")

    def assert_exact(self, daemon, live, timeout=15, admin=ADMIN_ENTRIES):
        """The comparison every fault test ends with: the proxy table is exactly an owned entry
        for each address in `live` plus the administrator's entries, with their protocols; the
        daemon lists exactly `live`, all in the kernel, and none of them is being confirmed gone,
        so that this is the final state, not a moment on the way (settled once is settled)."""
        live = sorted(set(live))
        expected = sorted([(a, OWNER_PROTO) for a in live] + list(admin))

        def settled():
            # One read: a torn one cannot equal the expected table, it only delays the match.
            if proxy_table() != expected:
                return False
            entries = daemon.entries()
            return (sorted(entries) == live and
                    all(e["kernel"] and e["state"] != "probing" for e in entries.values()))
        try:
            topology.wait_until(settled, timeout, "the exact table and a settled daemon",
                                interval=0.2)
        except AssertionError:
            table = stable_proxy_table()
            got, want = set(table), set(expected)
            entries = daemon.entries()
            probing = sorted(a for a, e in entries.items() if e["state"] == "probing")
            raise AssertionError(
                f"after {timeout}s the proxy table is not exactly the live VMs and the "
                f"administrator's entries: missing {sorted(want - got)[:10]} "
                f"({len(want - got)}), unexpected {sorted(got - want)[:10]} ({len(got - want)}); "
                f"daemon lists {len(entries)} (live: {len(live)}), probing {probing[:10]} "
                f"({len(probing)})") from None

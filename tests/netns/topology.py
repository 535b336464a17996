"""The throwaway network for ndproxy's namespace tests, and small helpers to drive it.

Runs only inside `run-isolated`, which puts this process in a fresh network namespace (only `lo`),
a private /run and its own PID namespace. Every further host is an `ip netns add` namespace created
from here, and every link is created directly inside those namespaces, so the machine's own
namespace is never touched.

    router (down0: fe80::ff, lo: 2001:db8:ff::1, route 2001:db8:1::/64 dev down0)
      | veth
    host   (ext; br0: fe80::1 and 2001:db8:1::1/128 = the VMs' gateway; 2001:db8:1::/64 dev br0)
      | br0 ports vm1p, vm2p ... (veth)
    vmN    (vif0: 2001:db8:1::N0/64, default via 2001:db8:1::1)

The router sees 2001:db8:1::/64 as on-link on down0, so it reaches a VM only if the host answers
Neighbor Discovery for the VM's address on ext: exactly what ndproxyd is for.
"""

import json
import os
import re
import subprocess
import time

HOST, ROUTER = "host", "router"
PREFIX = "2001:db8:1::/64"
GATEWAY = "2001:db8:1::1"          # the host's /128 on br0; VMs resolving it teach the host their address
HOST_LL = "fe80::1"
ROUTER_LL = "fe80::ff"
OFFLINK_SRC = "2001:db8:ff::1"     # on the router's lo: pinging from here makes the VM answer via the host
OWNER_PROTO = 71                   # the neighbour protocol number ndproxyd tags its entries with
BRIDGE_MAC = "02:00:00:00:01:01"   # fixed, so br0 keeps its address when ports come and go
EXT_MAC = "02:00:00:00:0e:01"
DOWN0_MAC = "02:00:00:00:0e:ff"
NDP_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ndp_tool.py")


class CommandError(AssertionError):
    """A setup command failed; an AssertionError so unittest reports it as the test's failure."""


def run(*cmd, check=True, timeout=30, input=None):
    """Runs a command, returns the CompletedProcess (text). Raises CommandError naming the command."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        raise CommandError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check and proc.returncode != 0:
        raise CommandError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return proc


def ns_exec(ns, *cmd, check=True, timeout=30):
    """Runs a command inside network namespace `ns`."""
    return run("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)


def ip(ns, *args, check=True):
    """`ip -n NS ARGS...`; -N so protocols print as numbers (`proto 4`, not `proto static`)."""
    return run("ip", "-N", "-n", ns, *args, check=check)


def ip_json(ns, *args):
    out = ip(ns, "-j", *args).stdout.strip()
    return json.loads(out) if out else []


def sysctl(ns, key, value=None):
    """Reads (value None) or writes a sysctl inside `ns`. Returns the value as a string."""
    if value is None:
        return ns_exec(ns, "sysctl", "-n", key).stdout.strip()
    ns_exec(ns, "sysctl", "-q", "-w", f"{key}={value}")
    return str(value)


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls `predicate` until it returns something truthy (returned), or fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def hold_for(predicate, duration, what, interval=0.1):
    """Asserts that `predicate` stays truthy for `duration` seconds (checked every `interval`).

    An observation that completes after the deadline is ignored: on a slow machine it may show
    a legitimate change that happened after the deadline."""
    start = time.monotonic()
    deadline = start + duration
    while True:
        holds = predicate()
        now = time.monotonic()
        if now > deadline:
            return
        if not holds:
            raise AssertionError(f"{what} stopped holding {now - start:.1f}s into {duration:.1f}s")
        time.sleep(min(interval, deadline - now))


def proxy_table(ns=HOST, dev="ext"):
    """The kernel's proxy entries on `dev`: sorted list of (address, protocol or None)."""
    entries = ip_json(ns, "-6", "neigh", "show", "proxy", "dev", dev)
    return sorted((e["dst"], int(e["protocol"]) if "protocol" in e else None) for e in entries)


def owned(table):
    """The addresses in a proxy_table() tagged with ndproxyd's protocol number."""
    return sorted(addr for addr, proto in table if proto == OWNER_PROTO)


def neigh(ns, dev):
    """Neighbour entries on `dev` (not proxies): list of dicts with dst, lladdr, state (a list)."""
    return ip_json(ns, "-6", "neigh", "show", "dev", dev)


def link_exists(ns, dev):
    return ip(ns, "link", "show", "dev", dev, check=False).returncode == 0


def link_is_up(ns, dev):
    """Administratively up and with carrier (LOWER_UP): packets can flow."""
    links = ip_json(ns, "link", "show", "dev", dev) if link_exists(ns, dev) else []
    return bool(links) and {"UP", "LOWER_UP"} <= set(links[0].get("flags", []))


def link_mac(ns, dev):
    return ip_json(ns, "link", "show", "dev", dev)[0]["address"]


def link_local(ns, dev):
    """The link-local address of `dev` (e.g. ext's: the source of the responder's answers)."""
    for info in ip_json(ns, "-6", "addr", "show", "dev", dev, "scope", "link"):
        for addr in info.get("addr_info", []):
            return addr["local"]
    raise AssertionError(f"{dev} in {ns} has no link-local address")


def vm_name(n):
    return f"vm{n}"


def vm_addr(n):
    return f"2001:db8:1::{n}0"        # vm1 -> 2001:db8:1::10, vm2 -> 2001:db8:1::20


def new_namespace(ns, forwarding):
    """Creates a namespace with quiet, deterministic IPv6: no DAD delays, no autoconfiguration."""
    run("ip", "netns", "add", ns)
    ip(ns, "link", "set", "lo", "up")
    # `default` first: links created later inherit it. DAD is skipped only if `all` is off too.
    for scope in ("default", "all"):
        sysctl(ns, f"net.ipv6.conf.{scope}.accept_dad", 0)
        sysctl(ns, f"net.ipv6.conf.{scope}.accept_ra", 0)
        sysctl(ns, f"net.ipv6.conf.{scope}.forwarding", 1 if forwarding else 0)


class Topology:
    """Builds router, host (ext + br0) and VMs. All names are fixed; the sandbox keeps runs apart."""

    def __init__(self):
        self.namespaces = []
        self.vms = set()

    # --- construction -------------------------------------------------------------------------

    def build(self, vms=(1, 2), bridge=True):
        self.build_uplink()
        if bridge:
            self.build_bridge(vms)
        return self

    def build_uplink(self, ext="ext", router=ROUTER, prefix=PREFIX, offlink=OFFLINK_SRC,
                     ext_mac=EXT_MAC, down_mac=DOWN0_MAC):
        """router and host, joined by the veth pair ext (host) <-> down0 (router). Called again
        with another `ext`, `router`, `prefix` and `offlink` (the router's lo address): a second
        uplink to a router of its own, which reaches the host's VMs in `prefix` only. The host's
        default route stays on the first; `offlink` of another is routed to its own router."""
        for ns in (router, HOST):
            if ns not in self.namespaces:
                new_namespace(ns, forwarding=True)
                self.namespaces.append(ns)
        ip(HOST, "link", "add", ext, "address", ext_mac, "type", "veth",
           "peer", "name", "down0", "address", down_mac, "netns", router)
        ip(router, "addr", "add", f"{ROUTER_LL}/64", "dev", "down0", "nodad")
        ip(router, "addr", "add", f"{offlink}/128", "dev", "lo")
        ip(router, "link", "set", "down0", "up")
        ip(HOST, "link", "set", ext, "up")
        self.wait_link(router, "down0")
        self.wait_link(HOST, ext)
        # The router treats the whole /64 as on-link, like a provider's router in front of a server.
        ip(router, "-6", "route", "add", prefix, "dev", "down0")
        if ext == "ext":
            self.restore_default_route()
        else:
            ip(HOST, "-6", "route", "add", f"{offlink}/128", "via", ROUTER_LL, "dev", ext)

    def restore_default_route(self):
        """(Re)adds the host's default route; an administrative down of ext deletes it."""
        ip(HOST, "-6", "route", "replace", "default", "via", ROUTER_LL, "dev", "ext")

    def build_bridge(self, vms=(1, 2)):
        """br0 with the gateway addresses, and a VM on a port for each number in `vms`."""
        ip(HOST, "link", "add", "br0", "address", BRIDGE_MAC, "type", "bridge",
           "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0")
        ip(HOST, "link", "set", "br0", "up")
        ip(HOST, "addr", "add", f"{HOST_LL}/64", "dev", "br0", "nodad")
        ip(HOST, "addr", "add", f"{GATEWAY}/128", "dev", "br0", "nodad")
        # The /128 gives no on-link route; the VMs' /64 sits behind br0.
        ip(HOST, "-6", "route", "add", PREFIX, "dev", "br0")
        for n in vms:
            if vm_name(n) in self.namespaces:
                self.attach_vm(n)
            else:
                self.add_vm(n)

    def build_named_bridge(self, name, vms, route):
        """Another bridge `name` (Docker's br-<hash>, a customer's own), with the host's gateway
        address, `route` behind it, and a VM on a port for each number in `vms`."""
        ip(HOST, "link", "add", name, "type", "bridge", "stp_state", "0", "forward_delay", "0",
           "mcast_snooping", "0")
        ip(HOST, "link", "set", name, "up")
        ip(HOST, "addr", "add", f"{GATEWAY}/128", "dev", name, "nodad")
        ip(HOST, "-6", "route", "add", route, "dev", name)
        for n in vms:
            self.add_vm(n, bridge=name)

    def add_vm(self, n, addressed=True, bridge="br0"):
        """Creates namespace vmN with vif0, bridged to the host through port vmNp. Not
        `addressed`: vif0 gets neither vm_addr(n) nor a route, for a program that answers on a
        packet socket for any number of VMs (bench/vm_farm)."""
        vm = vm_name(n)
        new_namespace(vm, forwarding=False)
        self.namespaces.append(vm)
        ip(vm, "link", "add", "vif0", "address", f"02:00:00:00:{n:02x}:10", "type", "veth",
           "peer", "name", f"{vm}p", "address", f"02:00:00:00:{n:02x}:01", "netns", HOST)
        if addressed:
            ip(vm, "addr", "add", f"{vm_addr(n)}/64", "dev", "vif0", "nodad")
        ip(vm, "link", "set", "vif0", "up")
        self.attach_vm(n, bridge)
        if addressed:
            ip(vm, "-6", "route", "add", "default", "via", GATEWAY, "dev", "vif0")
        self.vms.add(n)

    def attach_vm(self, n, bridge="br0"):
        """(Re-)attaches the VM's existing host-side port to `bridge` and waits until it forwards."""
        port = f"{vm_name(n)}p"
        ip(HOST, "link", "set", port, "master", bridge)
        ip(HOST, "link", "set", port, "up")
        self.wait_link(HOST, port)
        self.wait_link(vm_name(n), "vif0")
        self.wait_link(HOST, bridge)
        wait_until(lambda: self.port_forwarding(port), 5, f"bridge port {port} forwarding")

    def port_forwarding(self, port):
        info = ip_json(HOST, "-d", "link", "show", "dev", port)[0]
        return info.get("linkinfo", {}).get("info_slave_data", {}).get("state") == "forwarding"

    def remove_vm(self, n):
        """The VM is gone: its namespace is deleted, and with it both ends of its veth."""
        vm = vm_name(n)
        run("ip", "netns", "del", vm)
        self.namespaces.remove(vm)
        self.vms.discard(n)
        # Namespace teardown is asynchronous; the host-side port goes with it.
        wait_until(lambda: not link_exists(HOST, f"{vm}p"), 10, f"{vm}p to disappear")

    def delete_bridge(self):
        """Deletes br0; the VM ports stay in the host, detached (down, and the VMs lose carrier)."""
        ip(HOST, "link", "del", "br0")

    def wait_link(self, ns, dev, timeout=5):
        wait_until(lambda: link_is_up(ns, dev), timeout, f"{dev} in {ns} up with carrier")

    def teardown(self):
        """Deletes the namespaces. (The sandbox would drop them anyway; the demo prefers tidy.)"""
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()

    # --- traffic ------------------------------------------------------------------------------

    def vm_speak(self, n):
        """VM n pings the host's global gateway address. It resolves that address on br0 with its
        global address as source, so the host learns the VM's global address."""
        ns_exec(vm_name(n), "ping", "-6", "-c", "1", "-W", "2", GATEWAY)

    def vm_speak_link_local(self, n):
        """VM n talks only to the host's fe80::1: the host learns only the VM's link-local."""
        ns_exec(vm_name(n), "ping", "-6", "-c", "1", "-W", "2", f"{HOST_LL}%vif0")

    def router_ping(self, addr, wait=3, router=ROUTER, source=OFFLINK_SRC):
        """Pings `addr` from the router's off-link address; True if answered."""
        return ns_exec(router, "ping", "-6", "-c", "1", "-W", str(wait), "-I", source, addr,
                       check=False, timeout=wait + 5).returncode == 0

    def host_neigh_state(self, addr, dev="br0"):
        """The host's neighbour state for `addr` on `dev` (e.g. ["STALE"]), or None if absent."""
        for entry in neigh(HOST, dev):
            if entry["dst"] == addr:
                return entry.get("state", [])
        return None

    def host_knows(self, addr, dev="br0"):
        state = self.host_neigh_state(addr, dev)
        return state is not None and "FAILED" not in state and "INCOMPLETE" not in state

    def router_ping_rtt(self, addr, wait=3):
        """Pings `addr` once from the router's off-link address; the round trip in ms (which
        includes resolving `addr`: the echo request waits for it), or None if unanswered."""
        proc = ns_exec(ROUTER, "ping", "-6", "-c", "1", "-W", str(wait), "-I", OFFLINK_SRC, addr,
                       check=False, timeout=wait + 5)
        match = re.search(r"time=([0-9.]+) ms", proc.stdout)
        return float(match.group(1)) if proc.returncode == 0 and match else None

    def router_exchange(self, solicitations, listen=0.5, router=ROUTER):
        """The router sends `solicitations` (dicts, see ndp_tool.solicitation_frame) from down0
        and captures every Neighbor Advertisement until `listen` seconds after the last one.
        Returns {"sent": [times], "advertisements": [...]}, times relative to the first send."""
        timeout = listen + sum(float(s.get("delay", 0)) for s in solicitations) + 30
        out = ns_exec(router, "/usr/bin/python3", NDP_TOOL, "exchange", "down0", str(listen),
                      json.dumps(solicitations), timeout=timeout).stdout
        return json.loads(out.strip().splitlines()[-1])

    def router_unicast_probe(self, target, timeout=2):
        """The router sends a unicast NS for `target` to host ext's MAC; returns the answer dict."""
        out = ns_exec(ROUTER, "/usr/bin/python3", NDP_TOOL, "probe", "down0", ROUTER_LL,
                      link_mac(HOST, "ext"), target, str(timeout), timeout=timeout + 30).stdout
        return json.loads(out.strip().splitlines()[-1])

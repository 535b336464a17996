"""Two hosts on one external segment, and a VM that live-migrates between them (issue 7).

    router namespace                         hostA                        hostB
    lo: 2001:db8:ff::1 (off-link source)
    seg (bridge, fe80::ff, 2001:db8:1::/64 on-link)
      |-- upA  <== veth ==>  ext (02:..:0e:0a)  br0 [vm1p <== veth ==> vm1:vif0]
      '-- upB  <== veth ==>                                     ext (02:..:0e:0b)  br0

Each host looks like topology.py's host: br0 carries the VMs' gateway 2001:db8:1::1/128 and
fe80::1, the /64 is routed to br0, the default route points at the router's fe80::ff on ext. Both
br0 have the same MAC, as a migration-friendly cluster configures them (identical gateway on every
host), so that nothing but the upstream router's cache has to change when a VM moves.

Used by tests/netns/test_migration.py and bench/migration. Everything is created inside the
current network namespace's `ip netns` namespaces; callers run it in run-isolated's sandbox.
"""

import subprocess
import time

import harness
import topology
from topology import (GATEWAY, HOST_LL, OFFLINK_SRC, PREFIX, ROUTER_LL, ip, ip_json, new_namespace,
                      ns_exec, run, sysctl, wait_until)

ROUTER = "router"
HOST_A, HOST_B = "hostA", "hostB"
HOSTS = (HOST_A, HOST_B)
VM = "vm1"
VM_ADDR = "2001:db8:1::10"
VM_MAC = "02:00:00:00:01:10"        # a migration keeps the VM's MAC and address
VM_PORT = "vm1p"                    # the VM's port on whichever host's br0 it sits
SEG = "seg"                         # the router's interface: a bridge holding the segment
SEG_MAC = "02:00:00:00:0e:ff"
BRIDGE_MAC = "02:00:00:00:01:01"    # the same on both hosts (see above)
EXT_MAC = {HOST_A: "02:00:00:00:0e:0a", HOST_B: "02:00:00:00:0e:0b"}
UPLINK = {HOST_A: "upA", HOST_B: "upB"}     # the router-side end of each host's ext

# The router's NUD timers on seg, shortened in ITS OWN namespace so that reachability detection
# (what converges without announcements) takes seconds instead of tens of seconds. The kernel
# defaults are base_reachable_time_ms 30000 (REACHABLE lasts 15-45 s), delay_first_probe_time 5
# and retrans_time_ms 1000 (3 unicast probes, 1 s apart); retrans_time_ms stays at its default.
ROUTER_NUD = (("base_reachable_time_ms", 1000), ("delay_first_probe_time", 1))


def other(host):
    return HOST_B if host == HOST_A else HOST_A


def proxies(host, addr=VM_ADDR):
    """Whether `host` has an ndproxyd-owned proxy entry for `addr` on ext."""
    return addr in topology.owned(topology.proxy_table(host))


class TwoHosts:

    def __init__(self):
        self.namespaces = []
        self.vm_host = None

    # --- construction -------------------------------------------------------------------------

    def build(self, router_nud=True):
        new_namespace(ROUTER, forwarding=True)
        self.namespaces.append(ROUTER)
        ip(ROUTER, "link", "add", SEG, "address", SEG_MAC, "type", "bridge", "stp_state", "0",
           "forward_delay", "0", "mcast_snooping", "0")
        ip(ROUTER, "addr", "add", f"{ROUTER_LL}/64", "dev", SEG, "nodad")
        ip(ROUTER, "addr", "add", f"{OFFLINK_SRC}/128", "dev", "lo")
        ip(ROUTER, "link", "set", SEG, "up")
        if router_nud:
            for key, value in ROUTER_NUD:
                sysctl(ROUTER, f"net.ipv6.neigh.{SEG}.{key}", value)
        for host in HOSTS:
            self._build_host(host)
        # The router treats the whole /64 as on-link on the segment, like a provider's router.
        ip(ROUTER, "-6", "route", "add", PREFIX, "dev", SEG)
        return self

    def _build_host(self, host):
        new_namespace(host, forwarding=True)
        self.namespaces.append(host)
        up = UPLINK[host]
        ip(host, "link", "add", "ext", "address", EXT_MAC[host], "type", "veth",
           "peer", "name", up, "netns", ROUTER)
        ip(ROUTER, "link", "set", up, "master", SEG)
        ip(ROUTER, "link", "set", up, "up")
        ip(host, "link", "set", "ext", "up")
        ip(host, "link", "add", "br0", "address", BRIDGE_MAC, "type", "bridge", "stp_state", "0",
           "forward_delay", "0", "mcast_snooping", "0")
        ip(host, "link", "set", "br0", "up")
        ip(host, "addr", "add", f"{HOST_LL}/64", "dev", "br0", "nodad")
        ip(host, "addr", "add", f"{GATEWAY}/128", "dev", "br0", "nodad")
        ip(host, "-6", "route", "add", PREFIX, "dev", "br0")
        self.wait_link(host, "ext")
        self.wait_link(ROUTER, up)
        wait_until(lambda: self._port_forwarding(ROUTER, up), 5, f"segment port {up} forwarding")
        ip(host, "-6", "route", "replace", "default", "via", ROUTER_LL, "dev", "ext")

    def add_vm(self, host):
        """Creates the VM namespace and plugs it into `host`'s br0."""
        new_namespace(VM, forwarding=False)
        self.namespaces.append(VM)
        self._plug(host)

    def _plug(self, host):
        """A new veth pair: vif0 (the VM's MAC and address) in the VM, vm1p on `host`'s br0."""
        ip(VM, "link", "add", "vif0", "address", VM_MAC, "type", "veth",
           "peer", "name", VM_PORT, "netns", host)
        ip(VM, "addr", "add", f"{VM_ADDR}/64", "dev", "vif0", "nodad")
        ip(VM, "link", "set", "vif0", "up")
        ip(host, "link", "set", VM_PORT, "master", "br0")
        ip(host, "link", "set", VM_PORT, "up")
        self.wait_link(host, VM_PORT)
        self.wait_link(VM, "vif0")
        wait_until(lambda: self._port_forwarding(host, VM_PORT), 5,
                   f"{VM_PORT} on {host} forwarding")
        ip(VM, "-6", "route", "replace", "default", "via", GATEWAY, "dev", "vif0")
        self.vm_host = host

    def unplug(self):
        """The VM leaves its host: its veth goes (both ends). Returns the host it left."""
        host = self.vm_host
        ip(VM, "link", "del", "vif0")
        wait_until(lambda: not topology.link_exists(host, VM_PORT), 5,
                   f"{VM_PORT} gone from {host}")
        self.vm_host = None
        return host

    def plug(self, host):
        self._plug(host)

    def forget_vm(self, host):
        """`host`'s kernel forgets the VM's neighbour entry (what its garbage collector would do
        after gc_stale_time; see test_migration.py for why the tests do it themselves)."""
        ip(host, "-6", "neigh", "del", VM_ADDR, "dev", "br0", check=False)

    def wait_link(self, ns, dev, timeout=5):
        wait_until(lambda: topology.link_is_up(ns, dev), timeout, f"{dev} in {ns} up with carrier")

    def _port_forwarding(self, ns, port):
        info = ip_json(ns, "-d", "link", "show", "dev", port)[0]
        return info.get("linkinfo", {}).get("info_slave_data", {}).get("state") == "forwarding"

    def teardown(self):
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()

    # --- traffic and observation --------------------------------------------------------------

    def vm_speak(self):
        """The VM pings its gateway once: the host it sits on learns its global address."""
        ns_exec(VM, "ping", "-6", "-c", "1", "-W", "2", GATEWAY)

    def router_ping(self, wait=1.0):
        """One ping from the router's off-link source to the VM; True if answered."""
        return ns_exec(ROUTER, "ping", "-6", "-c", "1", "-W", str(wait), "-I", OFFLINK_SRC,
                       VM_ADDR, check=False, timeout=wait + 5).returncode == 0

    def router_entry(self):
        """The router's neighbour entry for the VM on seg: (lladdr or None, state list), or None."""
        for entry in topology.neigh(ROUTER, SEG):
            if entry["dst"] == VM_ADDR:
                return entry.get("lladdr"), entry.get("state", [])
        return None

    def router_lladdr(self):
        entry = self.router_entry()
        return entry[0] if entry else None

    def start_traffic(self, interval=0.2):
        """A background ping from the router to the VM: the traffic that drives the router's
        reachability detection (an idle STALE entry is never re-checked). Returns the process;
        harness.terminate() it."""
        return harness.spawn(["ip", "netns", "exec", ROUTER, "ping", "-6", "-n",
                              "-i", str(interval), "-W", "1", "-I", OFFLINK_SRC, VM_ADDR],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def measure_switch(self, to_host, t0, timeout, from_host=None, log=None):
        """Polls until the router's entry for the VM carries `to_host`'s ext MAC and a ping from
        the router's off-link source is answered. Times are seconds after `t0` (monotonic):
        {"mac": first poll showing the new MAC, "reached": the answered ping returned,
         "withdrawn": first poll showing `from_host` without the entry (None if not seen)}."""
        target = EXT_MAC[to_host]
        result = {"mac": None, "reached": None, "withdrawn": None}
        last = object()
        while True:
            now = time.monotonic()
            if from_host is not None and result["withdrawn"] is None and not proxies(from_host):
                result["withdrawn"] = now - t0
            entry = self.router_entry()
            if log is not None and entry != last:
                log(f"router's entry for {VM_ADDR}: {entry}")
                last = entry
            if entry is not None and entry[0] == target:
                if result["mac"] is None:
                    result["mac"] = now - t0
                if self.router_ping(wait=0.5):
                    result["reached"] = time.monotonic() - t0
                    return result
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"the router did not switch to {to_host} ({target}) within "
                                     f"{timeout}s; its entry: {entry}; so far: {result}")
            time.sleep(0.02)

    def state(self):
        """The tables that explain a failure: proxies and neighbours of both hosts, the router's."""
        out = []
        for ns, args in [*((h, ("-6", "neigh", "show", "proxy")) for h in HOSTS),
                         *((h, ("-6", "neigh", "show", "dev", "br0")) for h in HOSTS),
                         (ROUTER, ("-6", "neigh", "show", "dev", SEG))]:
            if ns not in self.namespaces:
                continue
            proc = ip(ns, *args, check=False)
            lines = (proc.stdout + proc.stderr).splitlines()
            out += [f"{ns}: ip {' '.join(args)}: {len(lines)} lines", *lines[:40]]
        return out


class TwoHostsCase(harness.NetnsCase):
    """A namespace test on this topology, the VM on host A's br0, one daemon per host."""

    def new_topology(self):
        return TwoHosts()

    def build_topology(self):
        self.topo.build()
        self.topo.add_vm(HOST_A)

    def _kernel_state(self):
        return self.topo.state()

    def host_daemon(self, host, *extra):
        d = harness.Daemon(self.workdir, f"ndproxyd-{host}")
        self.daemons.append(d)
        return d.start(*self.BASE_ARGS, *extra, ns=host)

"""README's "Topologies", as test_topologies.py reads and builds them.

README marks each topology's configuration with `<!-- topology: NAME -->` right before its
```ini block, and the host setup a test runs with `<!-- topology-setup: NAME -->` right before
its ```sh block (`uplink` is the part every topology shares). A setup block holds only `ip` and
`sysctl` commands, one a line, which the tests run one by one inside the host namespace: never a
shell, so nothing in README can reach the machine's own network.

The host here is README's: the uplink `enp1s0`, joined to a router namespace that treats the
/64 as on-link and answers at README's `fe80::1`; guests are namespaces with a veth each, whose
host end carries whatever name the topology gives it (a bridge port, `tap100i0`, `vif5.0`).
"""

import json
import os
import re
import shlex
import subprocess

import harness
import topology
from topology import HOST, OFFLINK_SRC, ip, ns_exec, run, wait_until

README = os.path.join(harness.REPO, "README.md")

# The topologies issue 14 asks README to give, in its order.
TOPOLOGIES = ("bridged", "proxmox-routed", "xen-vif-route", "libvirt-routed", "docker-incus",
              "wireguard", "two-customers", "vlan-uplink")

UPLINK = "enp1s0"
ROUTER_LL = "fe80::1"              # README's provider router
PREFIX = "2001:db8:10:20::/64"
PREFIX2 = "2001:db8:10:21::/64"

_MARKED = re.compile(r"^<!-- (topology|topology-setup): ([a-z0-9-]+) -->\n```(\w*)\n(.*?)^```",
                     re.MULTILINE | re.DOTALL)
_SETUP_PROGRAMS = ("ip", "sysctl")


def marked_blocks():
    """{(kind, name): (fence language, text)} for every marked block in README."""
    with open(README) as f:
        text = f.read()
    blocks = {}
    for kind, name, language, body in _MARKED.findall(text):
        if (kind, name) in blocks:
            raise AssertionError(f"README marks {kind} {name} twice")
        blocks[(kind, name)] = (language, body)
    return blocks


def configuration(name):
    """The configuration README gives for topology `name`."""
    language, body = marked_blocks()[("topology", name)]
    if language != "ini":
        raise AssertionError(f"README's {name} configuration is a ```{language} block, not ```ini")
    return body


def setup_commands(name):
    """README's setup commands for `name`: a list of argument lists (comments dropped)."""
    language, body = marked_blocks()[("topology-setup", name)]
    if language != "sh":
        raise AssertionError(f"README's {name} setup is a ```{language} block, not ```sh")
    commands = []
    for line in body.splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        if argv[0] not in _SETUP_PROGRAMS:
            raise AssertionError(f"README's {name} setup runs {argv[0]!r}; the tests run only "
                                 f"{', '.join(_SETUP_PROGRAMS)}: {line}")
        commands.append(argv)
    return commands


def run_setup(*names):
    """Runs README's setup blocks `names`, in order, in the host namespace."""
    for name in names:
        for argv in setup_commands(name):
            ns_exec(HOST, *argv)


def build_router(topo, router=topology.ROUTER, host_link=UPLINK, prefixes=(PREFIX,)):
    """A provider's router namespace joined to the host's `host_link` (its down0), with the
    `prefixes` on-link there and OFFLINK_SRC on its lo; the host namespace first, if needed."""
    for ns, forwarding in ((HOST, True), (router, True)):
        if ns not in topo.namespaces:
            topology.new_namespace(ns, forwarding=forwarding)
            topo.namespaces.append(ns)
    ip(HOST, "link", "add", host_link, "type", "veth", "peer", "name", "down0", "netns", router)
    ip(router, "addr", "add", f"{ROUTER_LL}/64", "dev", "down0", "nodad")
    ip(router, "addr", "add", f"{OFFLINK_SRC}/128", "dev", "lo")
    pair = ((router, "down0"), (HOST, host_link))
    for ns, dev in pair:
        ip(ns, "link", "set", dev, "up")
    for ns, dev in pair:
        topo.wait_link(ns, dev)
    for prefix in prefixes:
        ip(router, "-6", "route", "add", prefix, "dev", "down0")


def add_guest(topo, n, host_link, address, gateway, bridge=None, plen=64):
    """Guest namespace vmN with vif0 (`address`/`plen`, default route via `gateway`), whose
    veth peer `host_link` sits in the host, on `bridge` if given, up."""
    vm = topology.vm_name(n)
    topology.new_namespace(vm, forwarding=False)
    topo.namespaces.append(vm)
    ip(vm, "link", "add", "vif0", "address", f"02:00:00:00:{n:02x}:10", "type", "veth",
       "peer", "name", host_link, "netns", HOST)
    ip(vm, "addr", "add", f"{address}/{plen}", "dev", "vif0", "nodad")
    ip(vm, "link", "set", "vif0", "up")
    if bridge is not None:
        ip(HOST, "link", "set", host_link, "master", bridge)
    ip(HOST, "link", "set", host_link, "up")
    topo.wait_link(HOST, host_link)
    topo.wait_link(vm, "vif0")
    if bridge is not None:
        wait_until(lambda: topo.port_forwarding(host_link), 5, f"{host_link} forwarding")
    ip(vm, "-6", "route", "add", "default", "via", gateway, "dev", "vif0")
    topo.vms.add(n)


def add_bridge(name, gateway, block):
    """A bridge as Docker or Incus makes one: `gateway` (the block's first address) on it, which
    routes `block` there."""
    ip(HOST, "link", "add", name, "type", "bridge", "stp_state", "0", "forward_delay", "0",
       "mcast_snooping", "0")
    ip(HOST, "link", "set", name, "up")
    ip(HOST, "-6", "addr", "add", f"{gateway}/{block.split('/')[1]}", "dev", name, "nodad")


def speak(n, destination):
    """Guest n pings `destination` (its gateway): the host learns the guest's address."""
    ns_exec(topology.vm_name(n), "ping", "-6", "-c", "1", "-W", "2", destination)


def answered(router, target, listen=1.0):
    """Whether `router` gets an advertisement for `target` within `listen` seconds of its
    multicast solicitation on down0 (ndisc6 would not do: it ignores answers from any source
    but the target, and the kernel answers for proxy entries from the uplink's address)."""
    spec = json.dumps([{"target": target, "source": ROUTER_LL}])
    out = ns_exec(router, "/usr/bin/python3", topology.NDP_TOOL, "exchange", "down0", str(listen),
                  spec, timeout=listen + 30).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return any(na["target"] == target for na in result["advertisements"])


def pinged(router, address):
    """Whether `address` answers a ping from `router`'s off-link address."""
    return ns_exec(router, "ping", "-6", "-c", "1", "-W", "3", "-I", OFFLINK_SRC, address,
                   check=False, timeout=10).returncode == 0


def owned_on(dev):
    """The daemon's (proto 71) proxy entries on `dev`."""
    return topology.owned(topology.proxy_table(HOST, dev))


def hold_tun(test, name):
    """A layer-3 point-to-point link without neighbour discovery (POINTOPOINT, NOARP), as
    WireGuard's is (test kernels may lack wireguard): a tun device kept open, so that it has
    carrier, by a helper process for the rest of `test`."""
    holder = ("import fcntl, os, signal, struct\n"
              "fd = os.open('/dev/net/tun', os.O_RDWR)\n"
              "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', NAME.encode(), 0x0001 | 0x1000))\n"
              "print('ready', flush=True)\n"
              "signal.pause()\n").replace("NAME", repr(name))
    proc = harness.spawn(["ip", "netns", "exec", HOST, "/usr/bin/python3", "-c", holder],
                         stdout=subprocess.PIPE, text=True)
    test.addCleanup(harness.terminate, proc)
    if proc.stdout.readline().strip() != "ready":
        raise AssertionError(f"could not open tun device {name}")
    ip(HOST, "link", "set", name, "up")
    wait_until(lambda: topology.link_is_up(HOST, name), 5, f"{name} up with carrier")


def check_config(path):
    """`ndproxyd -c PATH --check-config`: the CompletedProcess."""
    return run(harness.binary("NDPROXYD", "ndproxyd"), "-c", path, "--check-config", check=False)

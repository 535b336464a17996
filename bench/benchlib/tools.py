"""The programs the benchmarks drive: bench/ns_client (the upstream router's side), ndppd, and the
kernel's tables, on tests/netns/topology.py's network (router -- ext/host/br0 -- VMs)."""

import os
import subprocess
import sys
import time

import harness
import topology
from topology import DOWN0_MAC, HOST, PREFIX, ROUTER, ip, sysctl

from .figures import field


def log(text):
    """A progress line on stderr, seconds since the run started (before the sandbox)."""
    started = float(os.environ.get("NDPROXY_BENCH_STARTED", time.time()))
    print(f"[{time.time() - started:6.1f} s] {text}", file=sys.stderr, flush=True)


def build_network(vms=(), farm=None):
    """topology.py's router and host (ext; br0 with the VMs' gateway) and VMs `vms`; `farm`: the
    number of a VM with no address of its own, for bench/vm_farm. The router does not forward,
    so that an answer to a source it does not own costs the host no ICMPv6 error."""
    topo = topology.Topology()
    topo.build(vms=vms)
    if farm is not None:
        topo.add_vm(farm, addressed=False)
    for scope in ("default", "all"):
        sysctl(ROUTER, f"net.ipv6.conf.{scope}.forwarding", 0)
    return topo


def add_neighbours(ns, dev, addresses, mac, verb="replace"):
    """Permanent neighbour entries for `addresses` on `dev`, in one `ip -batch`."""
    lines = "".join(f"neigh {verb} {a} lladdr {mac} dev {dev} nud permanent\n" for a in addresses)
    topology.run("ip", "-n", ns, "-batch", "-", input=lines, timeout=300)


def router_sources(base, count):
    """The client's sources: BASE+1 ... BASE+COUNT (fe80::e:0 -> fe80::e:1 ...)."""
    prefix = base[:-1] if base.endswith("0") else base
    return [f"{prefix}{i:x}" for i in range(1, count + 1)]


def teach_host_sources(*groups):
    """The host knows the router's sources, permanently (gc_thresh3 caps the rest at 1024):
    ndppd answers through the IP stack, which must resolve the asker first; ndproxyd and the
    kernel need none. `groups`: (source base, count) pairs."""
    addresses = [a for base, count in groups for a in router_sources(base, count)]
    add_neighbours(HOST, "ext", addresses, DOWN0_MAC)


class Client:
    """bench/ns_client on the router's down0: solicitations as whole frames, answers timed at
    their kernel receive timestamps. Each call returns the line of figures it printed."""

    def __init__(self, build, ns=ROUTER, iface="down0"):
        self.program = os.path.join(build, "bench", "ns_client")
        self.ns = ns
        self.iface = iface

    def run(self, mode, *args, dump=None, timeout=900):
        """`ns_client MODE IFACE ARGS...`; a failure (nothing answered) still prints figures, a
        usage error raises.
        `dump`: a file for the per-solicitation lines it prints on stderr."""
        with open(dump, "w") if dump else open(os.devnull, "w") as err:
            proc = subprocess.run(["ip", "netns", "exec", self.ns, self.program, mode,
                                   self.iface, *map(str, args)], stdout=subprocess.PIPE,
                                  stderr=err if dump else None, text=True, timeout=timeout)
        if proc.returncode == 2:
            raise AssertionError(f"ns_client {mode}: usage error (arguments {args})")
        return proc.stdout.strip()

    def latency(self, target, count, *options, **kwargs):
        return self.run("latency", target, count, *options, **kwargs)

    def flood(self, seconds, prefix, *options):
        return self.run("flood", seconds, prefix, *options)

    def sweep(self, base, span, sample, *options):
        return self.run("sweep", base, span, sample, *options)

    def appear(self, first, count, *options):
        return self.run("appear", first, count, *options)

    def answered_once(self, target, *options):
        return field("answered", self.latency(target, 1, "--timeout-ms", 300, *options)) == "1"


class Ndppd:
    """ndppd (Debian's 0.2.5) in the host namespace, one proxy on ext."""

    def __init__(self, workdir):
        self.conf = os.path.join(workdir, "ndppd.conf")
        self.log_path = os.path.join(workdir, "ndppd.log")
        self.proc = None

    def start(self, rules, router=False):
        """`rules`: (prefix, method) pairs, e.g. ("2001:db8:1::/64", "iface br0")."""
        lines = ["proxy ext {", *([] if router else ["    router no"])]
        for prefix, method in rules:
            lines += [f"    rule {prefix} {{", f"        {method}", "    }"]
        with open(self.conf, "w") as conf:
            conf.write("\n".join([*lines, "}", ""]))
        with open(self.log_path, "a") as out:
            self.proc = harness.spawn(["ip", "netns", "exec", HOST, "ndppd", "-c", self.conf],
                                      stdout=out, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        harness.terminate(self.proc)


def ndproxyd(workdir, *args, name="ndproxyd", ready=True):
    """ndproxyd on ext and br0 for the /64, in the host namespace (harness.Daemon), with no
    announcements and its kernel entries withdrawn at exit."""
    daemon = harness.Daemon(workdir, name)
    return daemon.start("-e", "ext", "-i", "br0", "-p", PREFIX, "--no-announce",
                        "--flush-on-exit", *args, ready=ready)


# The stats counters that move while the daemon is still doing start-up work: installing kernel
# entries, promoting into freed slots, probing, announcing (3 per address, 1 s apart by default).
STARTUP_COUNTERS = ("neighbours_seen", "entries_added", "kernel_promotions", "kernel_demotions",
                    "probes_sent", "announcements_sent", "kernel_errors", "resyncs")


def wait_quiescent(daemon, settle=1.5, timeout=60):
    """After READY=1: returns once none of STARTUP_COUNTERS moved for `settle` seconds
    (longer than --announce-interval, so that a pause between two rounds of announcements does
    not pass for the end of them); the seconds waited. The daemon has no "nothing pending"
    field, so a quiet spell is the condition; it holds whether or not the daemon announces."""
    started = time.monotonic()

    def startup_work():
        stats = daemon.stats()
        return tuple(stats[key] for key in STARTUP_COUNTERS)

    last, since = startup_work(), time.monotonic()

    def settled():
        nonlocal last, since
        now = startup_work()
        if now != last:
            last, since = now, time.monotonic()
        return time.monotonic() - since >= settle

    topology.wait_until(settled, timeout, "ndproxyd's start-up counters to settle", interval=0.1)
    return time.monotonic() - started


def stop_ndproxyd(daemon):
    """SIGTERM, and its withdrawals done (a large table takes a while)."""
    daemon.stop(within=60)


def proxy_count(ns=HOST):
    """The host's proxy entries (text output: a table of 100,000 is too much for JSON)."""
    return len(ip(ns, "-6", "neigh", "show", "proxy").stdout.splitlines())


def proxies(ns=HOST):
    """The addresses of the host's proxy entries."""
    return {line.split()[0] for line in ip(ns, "-6", "neigh", "show", "proxy").stdout.splitlines()}


def cpu_line():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def version(program):
    """The first line `PROGRAM --version` prints."""
    proc = subprocess.run([program, "--version"], capture_output=True, text=True)
    return ((proc.stdout + proc.stderr).splitlines() or ["?"])[0]


def ndppd_version():
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ndppd"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "?"


def cores():
    return len(os.sched_getaffinity(0))

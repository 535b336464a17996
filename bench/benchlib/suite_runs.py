"""bench/suite's measurements: ndproxyd, ndppd and the kernel's static proxy entries, one after
the other on one topology, floods first (suite_floods.py), then at each N (see
bench/results/table.md, "How each figure is taken")."""

import ipaddress
import json
import os
import time
from dataclasses import dataclass

import harness
import topology
from topology import HOST

from . import tools
from .figures import field, hwm_kib, switches
from .suite_floods import FLOOD_BASE, FLOOD_SOURCES, Floods

SAMPLE = 200                      # addresses spread over the N (first and last included)
KERNEL_SHARE = 10                 # ndproxyd's samples: at least 1 in 10 hold a kernel entry
LATENCY_SOURCES = 16              # the clients rotate over these
REFERENCE = 1000                  # the bare kernel's entries for the latency gaps
LATENCY_BASE = "fe80::e:0"
FARM = 15                         # vm15: bench/vm_farm answers there for LIVE_PREFIX
# The address plan, all in 2001:db8:1::/64 (the offsets below are added to the low 32 bits):
TABLE_BASE = "2001:db8:1:0:bbbb::"   # ndproxyd's N VMs: permanent neighbours on br0, never answer
APPEAR_BASE = "2001:db8:1:0:cccc::"  # neighbours appearing one at a time (silent too); + N << 4
KERNEL_BASE = "2001:db8:1:0:dddd::"  # the kernel's N static proxy entries
LIVE_BASE = "2001:db8:1:0:aaaa::"    # VMs that answer on br0 (vm_farm): ndppd's N ...
LIVE_PREFIX = "2001:db8:1:0:aaaa::/80"
SILENT_BASE = {"ndppd": "2001:db8:1:0:aaaa:1::",        # ... and the first-answer targets,
               "ndproxyd": "2001:db8:1:0:aaaa:2::",     # fresh ones per daemon
               "ndproxyd_k0": "2001:db8:1:0:aaaa:3::",
               "ndproxyd_xdp": "2001:db8:1:0:aaaa:4::"}
# ndproxyd with every address in the responder's table: answered by its socket (k0, --fast-path
# auto: the filter) or by the XDP program on the uplink (after each address's first answer).
RESPONDER_ONLY = {"ndproxyd_k0": ("--kernel-entries", "0"),
                  "ndproxyd_xdp": ("--kernel-entries", "0", "--fast-path", "xdp")}
# ndproxyd with its kernel entries as shipped and the XDP program, which answers them too
# (docs/design.md §The XDP responder): the kernel-held path with --fast-path xdp.
XDP_KERNEL_HELD = ("ndproxyd_xdp_held", ("--fast-path", "xdp"))


@dataclass
class Plan:
    sizes: tuple
    reps: int
    flood_seconds: int
    flood_rounds: int
    iterations: int
    silent: int
    appear: int
    idle_seconds: int
    kernel_cap: int
    quick: bool


QUICK = Plan((1000, 10000), 1, 2, 1, 300, 200, 100, 5, 20, True)
FULL = Plan((1000, 10000, 100000), 3, 5, 3, 1000, 500, 200, 10, 60, False)


def addr(base, i):
    """BASE + I, in the canonical form `ip` prints (RFC 5952)."""
    return str(ipaddress.IPv6Address(base) + i)


def block_length(n):
    """The longest prefix length whose block fits in N addresses (64 ... 120)."""
    b = 0
    while 2 ** (b + 1) <= n and b < 64:
        b += 1
    return min(128 - b, 120)


def pooled(path, which=None):
    """"count= answered= p50_us= p99_us=" over a samples file's "PATH µs" lines (PATH `which`,
    or all); an unanswered solicitation is -1."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return "count=0 answered=0"
    with open(path) as f:
        values = [line.split()[1] for line in f if which is None or line.split()[0] == which]
    answered = sorted((v for v in values if float(v) >= 0), key=float)
    m = len(answered)
    p50 = answered[int(0.5 * m)] if m else ""
    p99 = answered[min(int(0.99 * m), m - 1)] if m else ""
    return f"count={len(values)} answered={m} p50_us={p50} p99_us={p99}"


class Suite(Floods):
    def __init__(self, plan, build, work, raw):
        self.plan, self.work, self.raw = plan, work, raw
        self.R = {}          # every figure, by "peer.measure.N..."
        self.client = tools.Client(build)
        self.farm_program = os.path.join(build, "bench", "vm_farm")
        self.daemon = None   # the ndproxyd (harness.Daemon) or tools.Ndppd running
        self.pid = None      # its process
        self.topo = None

    def record(self, key, value):
        self.R[key] = value
        with open(os.path.join(self.raw, "figures.txt"), "a") as f:
            f.write(f"{key}: {value}\n")

    # --- topology: router (down0) -- veth -- host (ext; br0) -- vm15 (vm_farm) ---------------

    def build(self):
        self.topo = tools.build_network(farm=FARM)
        # The kernel peer: proxy_ndp on, no random delay (ndproxyd sets the same for itself).
        for key in ("conf.all.proxy_ndp", "conf.ext.proxy_ndp", "neigh.ext.proxy_delay"):
            topology.sysctl(HOST, f"net.ipv6.{key}", 0 if key.endswith("delay") else 1)
        self.teach_sources()
        with open(os.path.join(self.raw, "vm_farm.txt"), "w") as out:
            harness.spawn(["ip", "netns", "exec", topology.vm_name(FARM), self.farm_program,
                           "vif0", LIVE_PREFIX], stdout=out, stderr=out)

    def teach_sources(self):
        tools.teach_host_sources((LATENCY_BASE, LATENCY_SOURCES), (FLOOD_BASE, FLOOD_SOURCES))

    # --- the tools ------------------------------------------------------------------------------

    def latency(self, target, count, *options, **kwargs):
        return self.client.latency(target, count, "--sources", LATENCY_SOURCES,
                                   "--source-base", LATENCY_BASE, *options, **kwargs)

    def sweep(self, base, span, timeout_s=60):
        return self.client.sweep(base, span, SAMPLE, "--sources", LATENCY_SOURCES,
                                 "--source-base", LATENCY_BASE, "--timeout-ms", timeout_s * 1000)

    def wait_answering(self, target):
        topology.wait_until(lambda: self.client.answered_once(
            target, "--sources", LATENCY_SOURCES, "--source-base", LATENCY_BASE), 10,
            f"an answer for {target}")

    # --- the peers ------------------------------------------------------------------------------

    def start_ndproxyd(self, mode, *args):
        """Returns at once: the caller times readiness."""
        self.daemon = tools.ndproxyd(self.work, "--responder", mode, *args, ready=False)
        self.pid = self.daemon.proc.pid     # ip netns exec execs the daemon in place

    def start_ndppd(self, method, prefix):
        self.daemon = tools.Ndppd(self.work).start([(prefix, method)])
        self.pid = self.daemon.pid

    def stop_daemon(self):
        if isinstance(self.daemon, harness.Daemon):
            tools.stop_ndproxyd(self.daemon)
        else:
            self.daemon.stop()
        # ndproxyd --flush-on-exit withdraws its kernel entries
        topology.wait_until(lambda: tools.proxy_count() == 0, 60, "no proxy entry left")
        self.daemon = self.pid = None

    def kernel_insert(self, base, n, cap):
        """Static proxy entries, 1,000 per batch, until N or CAP seconds."""
        i, capped, start = 0, 0, time.time()
        while i < n:
            end = min(i + 1000, n)
            lines = "".join(f"neigh add proxy {addr(base, k)} dev ext\n" for k in range(i, end))
            topology.run("ip", "-n", HOST, "-batch", "-", input=lines, timeout=300)
            i = end
            if i < n and time.time() - start >= cap:
                capped = 1
                break
        return f"inserted={i} insert_seconds={time.time() - start:.3f} capped={capped}"

    def kernel_clear(self):
        """The link going down drops its proxy entries in one pass (and the neighbours)."""
        topology.ip(HOST, "link", "set", "ext", "down")
        topology.wait_until(lambda: tools.proxy_count() == 0, 120, "no proxy entry left")
        topology.ip(HOST, "link", "set", "ext", "up")
        self.topo.wait_link(HOST, "ext", timeout=10)
        self.topo.restore_default_route()
        self.teach_sources()

    # --- 1, 2, 4, 5, 6 against N ----------------------------------------------------------------

    def since(self, start, out):
        """Seconds from `start` (time.time()) to the sweep's last first answer."""
        return f"{float(field('last_at', out) or 0) - start:.3f}"

    def sample_targets(self, base, span, proxies):
        """The SAMPLE targets spread over `span` addresses from `base` (as ns_client --spread
        picks them), with every KERNEL_SHARE-th one that holds no kernel entry replaced by one
        that does, when fewer than 1 in KERNEL_SHARE do: at N over --kernel-entries the spread
        alone may hit no kernel entry at all, and the kernel-held path is still measured among
        the responder's, as a router's mix would ask."""
        points = [addr(base, k * (span - 1) // (SAMPLE - 1)) for k in range(SAMPLE)]
        held = [a for a in points if a in proxies]
        if len(held) * KERNEL_SHARE >= SAMPLE:
            return points
        spare = sorted(set(proxies) - set(points), key=ipaddress.IPv6Address)
        for k in range(0, SAMPLE, KERNEL_SHARE):
            if points[k] not in proxies and spare:
                points[k] = spare.pop(len(spare) // 2)
        return points

    def measured_latency(self, name, n, rep, base, span, count, proxies=None, suffix=""):
        """`count` solicitations over the sample spread over `span` addresses from `base`;
        every sample goes to raw/NAME.latency.N.samples as "PATH µs", PATH "kernel" when the
        target held a kernel proxy entry, "responder" otherwise ("any" without `proxies`)."""
        dump = os.path.join(self.work, "dump")
        if proxies is None:
            sample = ("--spread", span, "--points", SAMPLE)
        else:
            targets = os.path.join(self.work, "targets")
            with open(targets, "w") as f:
                f.write("".join(f"{a}\n" for a in self.sample_targets(base, span, proxies)))
            sample = ("--targets", targets)
        out = self.latency(base, count, *sample, "--dump", dump=dump)
        self.record(f"{name}.latency.{n}.{rep}", out + suffix)
        this_rep = os.path.join(self.work, "samples")
        with open(dump) as lines, open(this_rep, "w") as samples:
            for line in lines:
                _, target, micros = line.split()
                path = "any" if proxies is None else "kernel" if target in proxies else "responder"
                samples.write(f"{path} {micros}\n")
        with open(this_rep) as f, open(os.path.join(self.raw, f"{name}.latency.{n}.samples"),
                                       "a") as pool:
            pool.write(f.read())
        if proxies is not None:     # the paths' figures of this repetition, for the gaps
            for path in ("kernel", "responder"):
                self.record(f"{name}.latency_{path}_held.{n}.{rep}", pooled(this_rep, path))

    def memory(self, key):
        self.record(key, f"rss_kib={harness.rss_kib(self.pid)} hwm_kib={hwm_kib(self.pid)}")

    def idle(self, key):
        before = switches(self.pid)
        time.sleep(self.plan.idle_seconds)      # the measurement itself: wake-ups over this time
        self.record(key, f"switches={switches(self.pid) - before} seconds={self.plan.idle_seconds}")

    def ndproxyd_run(self, name, n, rep, *args):
        """Start, time until the sample answers, memory, table, latency."""
        tools.log(f"N={n} rep {rep}: {name}")
        start = time.time()
        self.start_ndproxyd("verify", *args)
        out = self.sweep(TABLE_BASE, n, 60)
        self.record(f"{name}.answerable.{n}.{rep}", f"{out} seconds={self.since(start, out)}")
        try:
            self.daemon.wait_ready(10)
            # Sampled once its start-up work is over (kernel writes, probes, announcements), as
            # a daemon that has been running a while: README "Why bench/suite's latency
            # differed".
            settled = f"{tools.wait_quiescent(self.daemon):.1f}"
        except AssertionError:
            settled = "never"   # the figures below say what state it is in
        self.memory(f"{name}.rss.{n}.{rep}")
        status = self.daemon.status()
        keys = ("entries", "kernel_entries", "responder_entries", "kernel_ceiling")
        self.record(f"{name}.status.{n}.{rep}",
                    json.dumps({k: status.get(k) for k in keys}, separators=(",", ":")))
        # The sample's addresses in turn: some hold kernel entries, the rest the responder's table.
        proxies = tools.proxies()
        self.measured_latency(name, n, rep, TABLE_BASE, n, self.plan.iterations, proxies,
                              suffix=f" settled_after_s={settled}")
        if n == self.plan.sizes[0]:
            target = addr(TABLE_BASE, 0)
            self.one_address_floods(name, rep, target, target in proxies)
        if rep == 1 and n == self.plan.sizes[-1]:
            self.counted_flood(f"{name}.flood_n", self.pid, f"{TABLE_BASE}/{block_length(n)}")

    def silent(self, name):
        self.record(f"{name}.silent", self.latency(SILENT_BASE[name], self.plan.silent, "--fresh",
                                                   "--gap-us", 2000))

    def add_table(self, have, n):
        """Permanent neighbours TABLE_BASE + have ... n-1 on br0 (MACs 02:bb:...)."""
        tools.log(f"N={n}: adding {n - have} permanent neighbours on br0")
        lines = "".join(f"neigh add {addr(TABLE_BASE, i)} lladdr 02:bb:{(i >> 24) & 255:02x}:"
                        f"{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x} dev br0 "
                        f"nud permanent\n" for i in range(have, n))
        topology.run("ip", "-n", HOST, "-batch", "-", input=lines, timeout=600)

    def size(self, n):
        plan = self.plan
        first, last = n == plan.sizes[0], n == plan.sizes[-1]
        for rep in range(1, plan.reps + 1):
            # ndproxyd, verify: the N VMs are neighbours on br0 that never answer, so only its
            # table (kernel entries up to --kernel-entries, the responder's own table beyond)
            # can answer them.
            self.ndproxyd_run("ndproxyd", n, rep)
            if rep == 1:
                self.record(f"ndproxyd.appear.{n}", self.client.appear(
                    addr(APPEAR_BASE, n << 4), plan.appear, "--netns", f"/run/netns/{HOST}",
                    "--internal", "br0", "--sources", LATENCY_SOURCES, "--source-base",
                    LATENCY_BASE, "--gap-us", 1000, "--timeout-ms", 2000))
                if first:
                    self.silent("ndproxyd")
                if last:
                    time.sleep(1)   # let the appear run's last answers go out before idling
                    self.idle("ndproxyd.idle")
                self.record(f"ndproxyd.stats.{n}",
                            json.dumps(self.daemon.stats(), separators=(",", ":")))
            self.stop_daemon()
            if first:
                self.kernel_held_off(rep, addr(TABLE_BASE, 0))

            # ndppd, `iface br0`: it keeps no table, it asks br0 (where vm_farm answers).
            tools.log(f"N={n} rep {rep}: ndppd")
            start = time.time()
            self.start_ndppd("iface br0", topology.PREFIX)
            out = self.sweep(LIVE_BASE, n, 60)
            self.record(f"ndppd.answerable.{n}.{rep}", f"{out} seconds={self.since(start, out)}")
            self.memory(f"ndppd.rss.{n}.{rep}")
            self.measured_latency("ndppd", n, rep, LIVE_BASE, n, plan.iterations)
            if rep == 1 and last:
                self.counted_flood("ndppd.flood_n", self.pid, f"{LIVE_BASE}/{block_length(n)}")
            if rep == 1 and first:
                self.silent("ndppd")
            if rep == 1 and last:
                self.idle("ndppd.idle")
            self.stop_daemon()

            # ndproxyd with no kernel entries at all: the responder answers every address.
            for name, args in RESPONDER_ONLY.items():
                self.ndproxyd_run(name, n, rep, *args)
                if rep == 1 and first:
                    self.silent(name)
                if rep == 1:
                    self.record(f"{name}.stats.{n}",
                                json.dumps(self.daemon.stats(), separators=(",", ":")))
                self.stop_daemon()
            name, args = XDP_KERNEL_HELD
            self.ndproxyd_run(name, n, rep, *args)
            self.stop_daemon()
            self.kernel_reference(n, rep)

        # The kernel: N static entries, inserted with a time cap; then the sample must answer.
        tools.log(f"N={n}: kernel, inserting up to {n} static proxy entries "
                  f"(cap {plan.kernel_cap} s)")
        start = time.time()
        ins = self.kernel_insert(KERNEL_BASE, n, plan.kernel_cap)
        inserted = int(field("inserted", ins))
        out = self.sweep(KERNEL_BASE, inserted, 30)
        self.record(f"kernel.answerable.{n}", f"{ins} {out} seconds={self.since(start, out)}")
        self.measured_latency("kernel", n, 1, KERNEL_BASE, inserted, plan.iterations * plan.reps,
                              suffix=f" entries={inserted}")
        if last:
            self.counted_flood("kernel.flood_n", None, f"{KERNEL_BASE}/{block_length(n)}")
        tools.log(f"N={n}: kernel, removing {inserted} entries")
        start = time.time()
        self.kernel_clear()
        self.record(f"kernel.clear.{n}", f"seconds={time.time() - start:.3f}")

    def kernel_reference(self, n, rep):
        """The bare kernel with REFERENCE entries, in every repetition between ndproxyd's runs
        (with the N neighbours on br0): the figure the gaps divide by. Measured once at the end,
        it was a different moment of a shared machine from ndproxyd's figures."""
        self.kernel_insert(KERNEL_BASE, REFERENCE, self.plan.kernel_cap)
        self.sweep(KERNEL_BASE, REFERENCE, 30)
        self.measured_latency("kernel_ref", n, rep, KERNEL_BASE, REFERENCE, self.plan.iterations)
        if n == self.plan.sizes[0]:
            self.one_address_floods("kernel_ref", rep, addr(KERNEL_BASE, 0), True)
        self.kernel_clear()

    def sizes(self):
        have = 0
        for n in self.plan.sizes:
            self.add_table(have, n)
            have = n
            self.size(n)
        # Every peer's latency samples of all repetitions, pooled.
        for peer in ("ndproxyd", *RESPONDER_ONLY, XDP_KERNEL_HELD[0], "ndppd", "kernel"):
            for n in self.plan.sizes:
                self.record(f"{peer}.latency.{n}",
                            pooled(os.path.join(self.raw, f"{peer}.latency.{n}.samples")))
        for peer in ("ndproxyd", XDP_KERNEL_HELD[0]):
            for n in self.plan.sizes:
                samples = os.path.join(self.raw, f"{peer}.latency.{n}.samples")
                self.record(f"{peer}.latency_kernel_held.{n}", pooled(samples, "kernel"))
                self.record(f"{peer}.latency_responder_held.{n}", pooled(samples, "responder"))
        self.record("kernel.entries", "".join(
            f"{n}={field('inserted', self.R[f'kernel.answerable.{n}'])} " for n in self.plan.sizes))

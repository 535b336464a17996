"""bench/suite's floods: many sources at the flood prefix (every peer, interleaved rounds), and
the fast path's one-address floods at the first N (issue 16: a kernel-held address with and
without the socket filter, a responder-held one from a single source), each against the bare
kernel in the same repetition."""

import os
import time

import harness

from . import tools
from .figures import cpu_ticks

FLOOD_SOURCES = 8192              # the flood's sources: fe80::f:1 ... fe80::f:8192
FLOOD_BASE = "fe80::f:0"
FLOOD_PREFIX = "2001:db8:1:0:ffff::/116"  # 4,096 addresses: the kernel can hold them all
FLOOD_KERNEL_BASE = "2001:db8:1:0:ffff::"
ONE_ADDRESS_SECONDS = 3           # the 3 s floods for one address
# The responder shares its overall budget between the sources that asked in the last 2 s
# (docs/design.md §Bounds, in XDP too): a single-source flood right after the 16 sources of the
# latency run would get a 17th of it. One source alone is the condition measured.
ACTIVE_SOURCES_SECONDS = 2.1
# ndproxyd `--responder always` in the flood rounds, one run per --fast-path mode: the default
# (auto, the socket filter where it loads), off, and the XDP responder.
# ndproxyd_xdp_uncapped: the XDP responder with the overall budget out of the way
# (--answer-rate-total at its maximum), for what the program could answer here.
FLOOD_DAEMONS = (("ndproxyd", ()), ("ndproxyd_off", ("--fast-path", "off")),
                 ("ndproxyd_xdp", ("--fast-path", "xdp")),
                 ("ndproxyd_xdp_uncapped", ("--fast-path", "xdp", "--answer-rate-total",
                                            "10000000")))


class Floods:
    """Mixed into Suite: uses its client, plan, daemon, pid, record and peer starters."""

    def flood(self, prefix, sources, seconds=None):
        return self.client.flood(seconds or self.plan.flood_seconds, prefix, "--sources",
                                 sources, "--source-base", FLOOD_BASE)

    def counted_flood(self, key, pid=None, prefix=FLOOD_PREFIX, sources=FLOOD_SOURCES,
                      seconds=None):
        """The client's figures, the daemon's CPU time (s) and, for ndproxyd, what its fast
        path decided (`stats`: ns_filtered, ns_xdp), so that a mode that failed to load shows."""
        ticks = cpu_ticks(pid) if pid else 0
        out = self.flood(prefix, sources, seconds)
        if pid:
            out += f" daemon_cpu_s={(cpu_ticks(pid) - ticks) / os.sysconf('SC_CLK_TCK'):.2f}"
        if pid and isinstance(self.daemon, harness.Daemon):
            stats = self.daemon.stats()
            out += f" ns_filtered={stats.get('ns_filtered')} ns_xdp={stats.get('ns_xdp')}"
        self.record(key, out)

    def floods(self):
        """ndproxyd `--responder always` in each mode, ndppd `static`, the kernel with an entry
        for each of the 4,096 targets; interleaved, flood_rounds rounds."""
        for r in range(1, self.plan.flood_rounds + 1):
            for name, args in FLOOD_DAEMONS:
                tools.log(f"flood round {r}: {name}")
                self.start_ndproxyd("always", *args)
                self.wait_answering(FLOOD_KERNEL_BASE)
                self.counted_flood(f"{name}.flood.{r}", self.pid)
                self.stop_daemon()
            tools.log(f"flood round {r}: ndppd")
            self.start_ndppd("static", FLOOD_PREFIX)
            self.wait_answering(FLOOD_KERNEL_BASE)
            self.counted_flood(f"ndppd.flood.{r}", self.pid)
            self.stop_daemon()
            tools.log(f"flood round {r}: kernel")
            self.record(f"kernel.flood_insert.{r}", self.kernel_insert(FLOOD_KERNEL_BASE, 4096, 60))
            self.wait_answering(FLOOD_KERNEL_BASE)
            self.counted_flood(f"kernel.flood.{r}")
            self.kernel_clear()

    def one_address_floods(self, name, rep, target, kernel_held):
        """3 s floods for one address at the first N: from FLOOD_SOURCES sources when the
        kernel holds it (the daemon's CPU is the figure: it has nothing to do), from one source
        when the responder does (answered/s against the bare kernel's). The bare kernel
        (`kernel_ref`) gets both. The target was answered once already (the sweep asks for it),
        so that the XDP responder, not the daemon's first answer, is what is measured."""
        pid = None if name == "kernel_ref" else self.pid
        if kernel_held:
            self.counted_flood(f"{name}.flood_kernel_held.{rep}", pid, f"{target}/128",
                               FLOOD_SOURCES, ONE_ADDRESS_SECONDS)
        if not kernel_held or name == "kernel_ref":
            time.sleep(ACTIVE_SOURCES_SECONDS)  # the condition: no other source active (above)
            self.counted_flood(f"{name}.flood_single.{rep}", pid, f"{target}/128", 1,
                               ONE_ADDRESS_SECONDS)

    def kernel_held_off(self, rep, target):
        """`ndproxyd` again without the socket filter (--fast-path off), for the kernel-held
        flood only: what the filter saves."""
        tools.log(f"rep {rep}: ndproxyd_off, a kernel-held flood")
        self.start_ndproxyd("verify", "--fast-path", "off")
        self.daemon.wait_ready(10)      # its kernel entries are written before READY=1
        tools.wait_quiescent(self.daemon)
        self.wait_answering(target)
        self.one_address_floods("ndproxyd_off", rep, target, target in tools.proxies())
        self.stop_daemon()

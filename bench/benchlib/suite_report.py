"""bench/suite's report, bench/results/table.md: every figure of a run (Suite.R) in tables."""

import os
import time

from . import tools
from .figures import field, fmt_int, num, ratio, stat
from .suite_floods import FLOOD_SOURCES
from .suite_goals import goals
from .suite_method import method
from .suite_runs import KERNEL_SHARE, REFERENCE, SAMPLE, block_length

PEERS = ("ndproxyd", "ndproxyd_k0", "ndproxyd_xdp", "ndppd", "kernel")


def human(n):
    return {1000: "1k", 10000: "10k", 100000: "100k"}.get(n, str(n))


# Each path's latency samples (suite_runs' keys), compared with the bare kernel's.
GAP_PATHS = ("ndproxyd.latency_kernel_held", "ndproxyd.latency_responder_held",
             "ndproxyd_k0.latency", "ndproxyd_xdp.latency",
             "ndproxyd_xdp_held.latency_kernel_held")


class Report:
    def __init__(self, plan, R, ndproxyd):
        self.plan, self.R, self.ndproxyd = plan, R, ndproxyd

    def get(self, key):
        return self.R.get(key, "")

    def lat(self, key):
        """"p50 / p99 µs (answered/count)"."""
        v = self.get(key)
        if not v:
            return "n/a"
        return (f"{field('p50_us', v)} / {field('p99_us', v)} "
                f"({field('answered', v)}/{field('count', v)})")

    def lat_ratio(self, a, b):
        a, b = self.get(a), self.get(b)
        if not a or not b:
            return "n/a"
        return (f"{ratio(field('p50_us', a), field('p50_us', b))} / "
                f"{ratio(field('p99_us', a), field('p99_us', b))}")

    def reps(self, prefix, key):
        """KEY's values over the repetitions PREFIX.1 ..."""
        return [field(key, self.get(f"{prefix}.{r}")) for r in range(1, self.plan.reps + 1)]

    def floods(self, peer, key):
        return [field(key, self.get(f"{peer}.flood.{r}"))
                for r in range(1, self.plan.flood_rounds + 1)]

    def answerable(self, peer, n):
        """"median (max) s", or the failure."""
        answered = self.reps(f"{peer}.answerable.{n}", "answered")
        least = "" if "" in answered else min(answered, key=int)
        if least != str(SAMPLE):
            return f"**not all answered** ({least}/{SAMPLE})"
        seconds = self.reps(f"{peer}.answerable.{n}", "seconds")
        return f"{float(stat('median', seconds)):.3f} ({float(stat('max', seconds)):.3f}) s"

    def flood_n(self, peer):
        v = self.get(f"{peer}.flood_n")
        if not v:
            return "n/a"
        return f"{fmt_int(field('answered_per_s', v))} (sent {fmt_int(field('sent_per_s', v))}/s)"

    def per_cpu(self, peer):
        """Answers per second of the daemon's CPU time, per round."""
        out = []
        for r in range(1, self.plan.flood_rounds + 1):
            v = self.get(f"{peer}.flood.{r}")
            answered, cpu = field("answered", v), field("daemon_cpu_s", v)
            if cpu and float(cpu) > 0:
                out.append(f"{float(answered or 0) / float(cpu):.0f}")
        return out

    def idle(self, peer):
        v = self.get(f"{peer}.idle")
        if not v:
            return "n/a"
        return f"{float(field('switches', v)) / float(field('seconds', v)):.2f}"

    def median_min(self, peer, key):
        return (f"{fmt_int(stat('median', self.floods(peer, key)))} "
                f"({fmt_int(stat('min', self.floods(peer, key)))})")

    def summary(self, load_at_start, load_at_end):
        p = self.plan
        sizes, big = p.sizes, p.sizes[-1]
        out = [
            f"# ndproxy benchmark suite{' (quick mode)' if p.quick else ''}",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; kernel "
            f"{os.uname().release}; {tools.cores()} cores ({tools.cpu_line()});",
            f"load average at the start {load_at_start}, at the end {load_at_end} (the machine "
            f"is shared).",
            f"{tools.version(self.ndproxyd)} (`--responder verify`, `--kernel-entries` default)",
            f"against ndppd {tools.ndppd_version()} (`iface br0` / `static`) and the kernel's "
            f"static proxy entries",
            "(`ip neigh add proxy ADDR dev ext`, proxy_ndp=1, proxy_delay=0, no daemon). Peers "
            "run one after",
            "the other on the same topology in the same run, interleaved by repetition. Wall "
            "time: WALL_TIME.",
            "",
            "## Summary",
            "",
            "ndproxyd runs four times per repetition: as shipped (default `--kernel-entries`, "
            "the ceiling shown below,",
            "and `--fast-path auto`: the socket filter), with `--kernel-entries 0` (k0: its "
            "responder answers every",
            "address, no kernel entry), with `--kernel-entries 0 --fast-path xdp` (xdp: the "
            "XDP program on the",
            "uplink answers every address after the daemon's first answer for it) and with "
            "`--fast-path xdp` alone",
            "(xdp_held: the program answers the kernel entries too; in the latency tables "
            "below). Each ndproxyd's",
            f"latency sample has at least 1 in {KERNEL_SHARE} targets with a kernel entry where "
            "it holds any.",
            "",
            "| measure | ndproxyd | ndproxyd k0 | ndproxyd xdp | ndppd | kernel entries | "
            "ndproxyd / ndppd |",
            "|---|---|---|---|---|---|---|",
        ]
        for n in sizes:
            out.append(f"| 1. NS→NA latency, known targets, N={human(n)}, p50 / p99 µs "
                       f"(answered/sent) | {self.lat(f'ndproxyd.latency.{n}')} | "
                       f"{self.lat(f'ndproxyd_k0.latency.{n}')} | "
                       f"{self.lat(f'ndproxyd_xdp.latency.{n}')} | "
                       f"{self.lat(f'ndppd.latency.{n}')} | {self.lat(f'kernel.latency.{n}')} | "
                       f"{self.lat_ratio(f'ndproxyd.latency.{n}', f'ndppd.latency.{n}')} |")
        out.append(f"| 2. silent VM, first answer, p50 / p99 µs (answered/sent) | "
                   f"{self.lat('ndproxyd.silent')} | {self.lat('ndproxyd_k0.silent')} | "
                   f"{self.lat('ndproxyd_xdp.silent')} | {self.lat('ndppd.silent')} | n/a | "
                   f"{self.lat_ratio('ndproxyd.silent', 'ndppd.silent')} |")
        a = stat("median", self.floods("ndproxyd", "answered_per_s"))
        b = stat("median", self.floods("ndppd", "answered_per_s"))
        out.append(f"| 3. answered/s under a flood from {FLOOD_SOURCES} sources, median (min) of "
                   f"{p.flood_rounds} × {p.flood_seconds} s | "
                   f"{self.median_min('ndproxyd', 'answered_per_s')} | (as ndproxyd: `always`) | "
                   f"{self.median_min('ndproxyd_xdp', 'answered_per_s')} (`always`) | "
                   f"{self.median_min('ndppd', 'answered_per_s')} | "
                   f"{self.median_min('kernel', 'answered_per_s')} | **{ratio(a, b)}** |")
        bl = block_length(big)
        held = fmt_int(field("inserted", self.get(f"kernel.answerable.{big}")))
        a, b = (field("answered_per_s", self.get(f"{peer}.flood_n"))
                for peer in ("ndproxyd", "ndppd"))
        out.append(f"| 3. answered/s under a {p.flood_seconds} s flood at N={human(big)}, verify "
                   f"/ `iface br0`: random targets among the first {fmt_int(2 ** (128 - bl))} of "
                   f"the N (/{bl}) | {self.flood_n('ndproxyd')} | {self.flood_n('ndproxyd_k0')} | "
                   f"{self.flood_n('ndproxyd_xdp')} | {self.flood_n('ndppd')} | "
                   f"{self.flood_n('kernel')} (holds {held}) | {ratio(a, b)} |")
        a, c, b = (stat("median", self.per_cpu(peer))
                   for peer in ("ndproxyd", "ndproxyd_xdp", "ndppd"))
        out.append(f"| 3. answers per second of the daemon's own CPU time, same floods (median) "
                   f"| {fmt_int(a)} | | {fmt_int(c)} | {fmt_int(b)} | n/a (softirq) | "
                   f"{ratio(a, b)} |")
        sent = [fmt_int(stat("median", self.floods(peer, "sent_per_s")))
                for peer in ("ndproxyd", "ndproxyd_xdp", "ndppd", "kernel")]
        out.append(f"| 3. the flood client's send rate, median (solicitations/s) | {sent[0]} | | "
                   f"{sent[1]} | {sent[2]} | {sent[3]} | |")
        for n in sizes:
            out.append(f"| 4. neighbour appears on br0 → answerable upstream, N={human(n)}, p50 / "
                       f"p99 µs | {self.lat(f'ndproxyd.appear.{n}')} | | | n/a (no table: see 2.) "
                       f"| n/a (no automation) | |")
        for n in sizes:
            ins = self.get(f"kernel.answerable.{n}")
            if field("capped", ins) == "1":
                kcell = (f"**capped**: {fmt_int(field('inserted', ins))} of {fmt_int(n)} "
                         f"inserted in {field('insert_seconds', ins)} s")
            else:
                kcell = f"{float(field('seconds', ins) or 0):.3f} s"
            r = ratio(stat("median", self.reps(f"ndproxyd.answerable.{n}", "seconds")),
                      stat("median", self.reps(f"ndppd.answerable.{n}", "seconds")))
            out.append(f"| 5. time until N={human(n)} answerable (sample of {SAMPLE}), median "
                       f"(max) of {p.reps} | {self.answerable('ndproxyd', n)} | "
                       f"{self.answerable('ndproxyd_k0', n)} | "
                       f"{self.answerable('ndproxyd_xdp', n)} | {self.answerable('ndppd', n)} | "
                       f"{kcell} | {r} |")
        for n in sizes:
            a, c, x, b = (stat("max", self.reps(f"{peer}.rss.{n}", "rss_kib"))
                          for peer in ("ndproxyd", "ndproxyd_k0", "ndproxyd_xdp", "ndppd"))
            out.append(f"| 5. RSS at N={human(n)} after the sample answered, max of {p.reps} "
                       f"(KiB) | {fmt_int(a)} | {fmt_int(c)} | {fmt_int(x)} | {fmt_int(b)} | "
                       f"n/a (kernel memory) | {ratio(a, b)} |")
        out.append(f"| 6. idle wake-ups per second (N={human(big)}, over {p.idle_seconds} s) | "
                   f"{self.idle('ndproxyd')} | | | {self.idle('ndppd')} | n/a (no process) | |")
        return (out + goals(self) + self.cost() + self.gaps() + self.targets() +
                method(self.plan))

    def cost(self):
        p = self.plan
        out = [
            "",
            "## Per-packet cost against N",
            "",
            f"NS→NA latency, p50 / p99 µs (answered/sent): {p.iterations} solicitations per "
            f"repetition ({p.reps}), cycling",
            f"over the {SAMPLE} sample addresses spread over the N, pooled. ndproxyd split by "
            "which path held",
            "the address: a kernel proxy entry (up to `--kernel-entries`) or the responder's "
            "table. The",
            "kernel peer: its own entries, as many as it inserted within the cap.",
            "",
            "| N | ndproxyd, all | ndproxyd, kernel-held | ndproxyd, responder-held | ndproxyd k0 "
            "| ndproxyd xdp | ndppd | kernel entries |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for n in p.sizes:
            held = fmt_int(field("inserted", self.get(f"kernel.answerable.{n}")))
            out.append(f"| {human(n)} | {self.lat(f'ndproxyd.latency.{n}')} | "
                       f"{self.lat(f'ndproxyd.latency_kernel_held.{n}')} | "
                       f"{self.lat(f'ndproxyd.latency_responder_held.{n}')} | "
                       f"{self.lat(f'ndproxyd_k0.latency.{n}')} | "
                       f"{self.lat(f'ndproxyd_xdp.latency.{n}')} | "
                       f"{self.lat(f'ndppd.latency.{n}')} | {self.lat(f'kernel.latency.{n}')} "
                       f"with {held} entries |")
        out += ["", "ndproxyd's table at each N (`ndproxyctl status --json`, first repetition):",
                ""]
        for n in p.sizes:
            out.append(f"- N={human(n)}: `{self.get(f'ndproxyd.status.{n}.1') or 'n/a'}`; k0: "
                       f"`{self.get(f'ndproxyd_k0.status.{n}.1') or 'n/a'}`; xdp: "
                       f"`{self.get(f'ndproxyd_xdp.status.{n}.1') or 'n/a'}`")
        return out

    def per_rep(self, key, n):
        """A latency figure over the repetitions: "median p50 / median p99 µs" and the p50s
        (None for a repetition without samples on that path)."""
        shown = [field("p50_us", self.get(f"{key}.{n}.{r}")) for r in range(1, self.plan.reps + 1)]
        p99s = [field("p99_us", self.get(f"{key}.{n}.{r}")) for r in range(1, self.plan.reps + 1)]
        p50s = [num(v, None) for v in shown]
        if all(v is None for v in p50s):
            return "n/a", p50s
        return f"{stat('median', shown)} / {stat('median', p99s)}", p50s

    def gaps(self):
        """Each path's p50 against the bare kernel's, repetition by repetition: measured
        minutes apart on a shared machine, the same two peers differed 0.9× to 2.1× from one
        run to the next (README "Why bench/suite's latency differed")."""
        p = self.plan
        out = ["", "## Latency against the bare kernel, interleaved", "",
               "In every repetition, right after ndproxyd's runs (which sample once its "
               "start-up counters settled),", f"the bare kernel with {REFERENCE:,} static "
               f"entries and no daemon is measured the same way. Cells: median over the {p.reps}",
               "repetitions of each one's p50 / p99 µs; ×: median over the repetitions of the "
               "p50's ratio to",
               "that repetition's bare kernel.", "",
               f"| N | bare kernel, {REFERENCE:,} entries | ndproxyd, kernel-held | × | "
               "ndproxyd, responder-held | × | ndproxyd k0 | × | ndproxyd xdp | × | "
               "ndproxyd xdp, kernel-held | × |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for n in p.sizes:
            cells = [self.per_rep("kernel_ref.latency", n)[0]]
            for key in GAP_PATHS:
                cells += self.gap(key, n)
            out.append(f"| {human(n)} | " + " | ".join(cells) + " |")
        return out

    def gap(self, key, n):
        """[median p50 / p99 over the repetitions, median of each one's p50 ratio to that
        repetition's bare kernel with REFERENCE entries]."""
        figure, p50s = self.per_rep(key, n)
        base = self.per_rep("kernel_ref.latency", n)[1]
        ratios = [f"{a / b:.2f}" for a, b in zip(p50s, base) if a is not None and b]
        return [figure, stat("median", ratios)]

    def targets(self):
        p = self.plan
        n0, big = p.sizes[0], p.sizes[-1]
        seconds = self.reps(f"ndproxyd.answerable.{big}", "seconds")
        t, tmax = stat("median", seconds), stat("max", seconds)
        rss = stat("max", self.reps(f"ndproxyd.rss.{big}", "hwm_kib"))
        small, large = self.get(f"ndproxyd.latency.{n0}"), self.get(f"ndproxyd.latency.{big}")
        p1, p2 = field("p50_us", small), field("p50_us", large)
        q1, q2 = field("p99_us", small), field("p99_us", large)
        ia = self.idle("ndproxyd")
        fa = stat("median", self.floods("ndproxyd", "answered_per_s"))
        fb = stat("median", self.floods("ndppd", "answered_per_s"))
        la, lb = p2, field("p50_us", self.get(f"ndppd.latency.{big}"))
        all_answered = "not all" not in self.answerable("ndproxyd", big)

        def check(ok):
            return "met" if ok else "**NOT met**"

        return [
            "",
            "## Acceptance targets",
            "",
            "| target | measured | |",
            "|---|---|---|",
            f"| N={human(big)} answerable within 5 s of start | median {t} s, max {tmax} s | "
            f"{check(all_answered and num(tmax) <= 5)} |",
            f"| RSS < 64 MB at N={human(big)} (peak, VmHWM) | {fmt_int(rss)} KiB | "
            f"{check(num(rss) < 65536)} |",
            f"| no per-packet cost growing with N (p50 latency over the sample) | "
            f"N={human(n0)}: {p1} µs, N={human(big)}: {p2} µs (p99 {q1} → {q2} µs) | "
            f"{check(num(p2) <= 1.5 * num(p1, 0) + 10)} (p50 within 1.5× + 10 µs) |",
            f"| 0 idle wake-ups | {ia} per second | {check(num(ia) == 0)} |",
            f"| ≥ 4× ndppd's answered rate under flood | {ratio(fa, fb)}× | "
            f"{check(num(fb, 0) > 0 and num(fa, 0) >= 4 * num(fb, 0))} |",
            f"| latency no worse than ndppd (p50, known target, N={human(big)}) | {la} vs {lb} µs "
            f"| {check(num(la) <= num(lb, 0))} |",
        ]

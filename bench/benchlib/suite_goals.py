"""The fast path's goals (issue 16) in bench/suite's report: each measured in the same run as the
bare kernel and ndppd (suite_floods.py, suite_runs.py)."""

import json

from .figures import field, fmt_int, num, stat
from .suite_floods import FLOOD_SOURCES, ONE_ADDRESS_SECONDS

MANY_SOURCES_GOAL = 4 * 160000      # 4× the many-source rate the issue started from
CPU_GOAL_PCT = 5.0
LATENCY_GOAL = 1.2
# The many-source flood's ndproxyd runs: (key, mode as shown).
FLOOD_MODES = (("ndproxyd_off", "off"), ("ndproxyd", "filter (auto)"), ("ndproxyd_xdp", "xdp"),
               ("ndproxyd_xdp_uncapped", "xdp with `--answer-rate-total 10000000`"))


def check(ok, measured=True):
    if not measured:
        return "not measured"
    return "met" if ok else "**NOT met**"


def values(report, key, what, count):
    """WHAT of KEY.1 ... KEY.COUNT, missing ones left out."""
    found = (field(what, report.get(f"{key}.{r}")) for r in range(1, count + 1))
    return [v for v in found if v != ""]


def cpu_pct(report, key, count):
    """The daemon's CPU time over each flood, % of one core."""
    out = []
    for r in range(1, count + 1):
        v = report.get(f"{key}.{r}")
        cpu, seconds = field("daemon_cpu_s", v), field("seconds", v)
        if cpu and num(seconds, 0) > 0:
            out.append(f"{100 * float(cpu) / float(seconds):.1f}")
    return out


def cpu_per_answer(v):
    """The daemon's CPU time per answer of one flood, µs ("" without answers)."""
    cpu, answered = field("daemon_cpu_s", v), num(field("answered", v), 0)
    return f"{1e6 * float(cpu) / answered:.2f}" if cpu and answered else ""


def rate(report, key, count):
    """"median answered/s [each repetition's]"."""
    rates = values(report, key, "answered_per_s", count)
    return f"{fmt_int(stat('median', rates))} [{', '.join(fmt_int(v) for v in rates)}]"


def row(*cells):
    return "| " + " | ".join(cells) + " |"


def goal_cpu(report, reps):
    """1: a kernel-held address, where the daemon has nothing to do."""
    filt = cpu_pct(report, "ndproxyd.flood_kernel_held", reps)
    off = cpu_pct(report, "ndproxyd_off.flood_kernel_held", reps)
    dropped = values(report, "ndproxyd.flood_kernel_held", "ns_filtered", reps)
    answered = "; ".join(f"{rate(report, f'{key}.flood_kernel_held', reps)} {how}" for key, how in
                         (("ndproxyd", "with the filter"), ("ndproxyd_off", "off"),
                          ("kernel_ref", "bare")))
    xdp = cpu_pct(report, "ndproxyd_xdp_held.flood_kernel_held", reps)
    measured = (f"filter (auto): {stat('median', filt)}% [{', '.join(filt)}], the filter "
                f"dropped {fmt_int(stat('median', dropped))}; off: {stat('median', off)}% "
                f"[{', '.join(off)}]. Answered/s by the kernel: {answered}. With xdp the "
                f"program answers: "
                f"{rate(report, 'ndproxyd_xdp_held.flood_kernel_held', reps)}, daemon "
                f"{stat('median', xdp)}% [{', '.join(xdp)}]")
    return row(f"1. daemon CPU during a {ONE_ADDRESS_SECONDS} s flood at a kernel-held address "
               f"({FLOOD_SOURCES} sources), % of one core, median [repetitions]",
               f"under {CPU_GOAL_PCT:.0f}%", measured,
               check(num(stat("median", filt)) < CPU_GOAL_PCT, bool(filt)))


def goal_single(report, reps):
    """2: one source, one responder-held address, against the bare kernel's rate."""
    xdp = values(report, "ndproxyd_xdp.flood_single", "answered_per_s", reps)
    bare = values(report, "kernel_ref.flood_single", "answered_per_s", reps)
    ratios = [f"{float(a) / float(b):.2f}" for a, b in zip(xdp, bare) if num(b, 0) > 0]
    sent = stat("median", values(report, "ndproxyd_xdp.flood_single", "sent_per_s", reps))
    measured = (f"xdp: {rate(report, 'ndproxyd_xdp.flood_single', reps)} (sent "
                f"{fmt_int(sent)}/s), {stat('median', ratios)}× the bare kernel's "
                f"{rate(report, 'kernel_ref.flood_single', reps)}; k0 (the daemon's socket): "
                f"{rate(report, 'ndproxyd_k0.flood_single', reps)}")
    return row(f"2. single-source {ONE_ADDRESS_SECONDS} s flood for a responder-held address, "
               "answered/s, median [repetitions]", "at least the bare kernel's", measured,
               check(num(stat("median", ratios)) >= 1, bool(ratios)))


def goal_many(report, plan):
    """3: the many-source floods, each mode's answers and the daemon's CPU per answer."""
    rounds, cells = plan.flood_rounds, []
    for key, mode in FLOOD_MODES:
        per = [cpu_per_answer(report.get(f"{key}.flood.{r}")) for r in range(1, rounds + 1)]
        cells.append(f"{mode}: {rate(report, f'{key}.flood', rounds)}, "
                     f"{stat('median', per)} µs CPU per answer")
    big = plan.sizes[-1]
    at_n = [f"{name}: {fmt_int(field('answered_per_s', report.get(f'{key}.flood_n')))}/s, "
            f"{cpu_per_answer(report.get(f'{key}.flood_n')) or 'n/a'} µs"
            for key, name in (("ndproxyd", "as shipped"), ("ndproxyd_k0", "k0"),
                              ("ndproxyd_xdp", "xdp"))]
    uncapped = "ndproxyd_xdp_uncapped.flood"
    best = stat("median", values(report, uncapped, "answered_per_s", rounds))
    sent = stat("median", values(report, uncapped, "sent_per_s", rounds))
    stats = report.get(f"ndproxyd_xdp.stats.{plan.sizes[0]}")
    budget = fmt_int(json.loads(stats).get("answer_budget", "n/a")) if stats else "n/a"
    return (f"| 3. many-source flood ({FLOOD_SOURCES} sources, `--responder always`, "
            f"{plan.flood_seconds} s), answered/s median [rounds], daemon CPU per answer | at "
            f"least {fmt_int(MANY_SOURCES_GOAL)}/s | {'; '.join(cells)}. The client sent "
            f"{fmt_int(sent)}/s in the uncapped xdp rounds; the overall answer budget, in XDP too, is "
            f"{budget}/s (`--answer-rate-total`, as shipped). At N={big:,} (verify, first answers "
            f"included): {'; '.join(at_n)} | {check(num(best, 0) >= MANY_SOURCES_GOAL)}"
            f"{' (the client cannot send that many)' if num(sent, 0) < MANY_SOURCES_GOAL else ''}"
            " |")


def goal_latency(report, plan):
    """4: each path's p50 at the first and last N against the bare kernel with 1,000 entries,
    repetition by repetition."""
    rows = []
    for n in (plan.sizes[0], plan.sizes[-1]):
        for key, path in (("ndproxyd.latency_kernel_held", "kernel-held, the kernel (auto)"),
                          ("ndproxyd_xdp_held.latency_kernel_held", "kernel-held, XDP"),
                          ("ndproxyd_k0.latency", "responder-held, the daemon's socket (k0)"),
                          ("ndproxyd_xdp.latency", "responder-held, XDP")):
            figure, times = report.gap(key, n)
            samples = field("answered", report.get(f"{key}.{n}")) or "0"
            rows.append(f"| 4. p50 latency, {path}, N={n:,} | within {LATENCY_GOAL}× of the "
                        f"bare kernel's 1,000-address figure | {times}× ({figure} µs over "
                        f"{samples} samples; bare kernel "
                        f"{report.per_rep('kernel_ref.latency', n)[0]} µs) | "
                        f"{check(num(times) <= LATENCY_GOAL, times != 'n/a')} |")
    return rows


def goals(report):
    p = report.plan
    return [
        "",
        "## The fast path's goals (issue 16)",
        "",
        "Measured in this run, beside the bare kernel and ndppd: medians over interleaved "
        "repetitions. The bare",
        "kernel's latency is taken with 1,000 static entries in every repetition (§Latency "
        "against the bare kernel);",
        "a latency ratio is the median over the repetitions of each one's ratio. XDP in "
        "generic mode (`--fast-path xdp`):",
        "native mode cannot be measured on veth (its answers never reach the peer, "
        "docs/design.md §The XDP responder).",
        "",
        "| measure | goal | measured | |",
        "|---|---|---|---|",
        goal_cpu(report, p.reps),
        goal_single(report, p.reps),
        goal_many(report, p),
        *goal_latency(report, p),
    ]

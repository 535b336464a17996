"""bench/suite's plot, bench/results/cost.png (gnuplot): per-packet latency and the time until N
addresses are answerable, against N; its data files go to raw/."""

import os
import subprocess
import sys
import time

from . import tools
from .figures import field, stat
from .suite_report import PEERS
from .suite_runs import SAMPLE

COLOURS = {"ndproxyd": "#1f77b4", "ndproxyd_k0": "#ff7f0e", "ndproxyd_xdp": "#e377c2",
           "ndppd": "#d62728", "kernel": "#2ca02c"}


def write_data(plan, R, raw):
    reps = range(1, plan.reps + 1)
    for peer in PEERS:
        with open(os.path.join(raw, f"latency_{peer}.dat"), "w") as f:
            for n in plan.sizes:
                v = R.get(f"{peer}.latency.{n}", "")
                f.write(f"{n} {field('p50_us', v)} {field('p99_us', v)}\n")
        with open(os.path.join(raw, f"answerable_{peer}.dat"), "w") as f:
            for n in plan.sizes:
                if peer == "kernel":
                    v = R.get(f"kernel.answerable.{n}", "")
                    f.write(f"{n} {field('seconds', v)} {field('inserted', v)}\n")
                else:
                    seconds = [field("seconds", R.get(f"{peer}.answerable.{n}.{r}", ""))
                               for r in reps]
                    f.write(f"{n} {stat('median', seconds)} {n}\n")
    for path in ("kernel_held", "responder_held"):
        with open(os.path.join(raw, f"latency_ndproxyd_{path}.dat"), "w") as f:
            for n in plan.sizes:
                v = R.get(f"ndproxyd.latency_{path}.{n}", "")
                if field("p50_us", v):
                    f.write(f"{n} {field('p50_us', v)} {field('p99_us', v)}\n")


def _lines(raw, peer, pt, title):
    """The p50 (solid) and p99 (dashed) lines of one peer."""
    data, colour = os.path.join(raw, f"latency_{peer}.dat"), COLOURS[peer]
    return (f'"{data}" u 1:2 w lp lw 2 pt {pt} lc rgb "{colour}" t "{title} p50", \\\n'
            f'     "{data}" u 1:3 w lp lw 1 pt {pt - 1} dt 2 lc rgb "{colour}" t "{title} p99"')


def plot(plan, R, results, raw, load_at_start):
    write_data(plan, R, raw)
    held = {p: os.path.join(raw, f"latency_ndproxyd_{p}.dat")
            for p in ("kernel_held", "responder_held")}
    answerable = {p: os.path.join(raw, f"answerable_{p}.dat") for p in PEERS}
    script = f"""set terminal pngcairo size 1400,560 font "sans,10"
set output "{results}/cost.png"
set multiplot layout 1,2 title "ndproxy suite, {time.strftime('%Y-%m-%d', time.gmtime())}, \
kernel {os.uname().release}, {tools.cores()} cores; load {load_at_start}"
set logscale x
set logscale y
set grid
set key top left
set xrange [500:200000]
set xlabel "N (addresses)"
set ylabel "NS -> NA latency, µs"
set title "1. Per-packet cost: NS -> NA latency over {SAMPLE} known targets spread over the N"
plot {_lines(raw, "ndproxyd", 7, "ndproxyd")}, \\
     {_lines(raw, "ndproxyd_k0", 13, "ndproxyd k0")}, \\
     {_lines(raw, "ndproxyd_xdp", 11, "ndproxyd xdp")}, \\
     {_lines(raw, "ndppd", 5, "ndppd")}, \\
     {_lines(raw, "kernel", 9, "kernel entries")}, \\
     "{held['kernel_held']}" u 1:2 w lp lw 1 pt 2 lc rgb "#9467bd" t "ndproxyd p50, kernel-held only", \\
     "{held['responder_held']}" u 1:2 w lp lw 1 pt 3 lc rgb "#17becf" t "ndproxyd p50, responder-held only"
set ylabel "seconds"
set title "5. Time until N addresses are answerable (kernel: capped at {plan.kernel_cap} s)"
plot "{answerable['ndproxyd']}" u 1:2 w lp lw 2 pt 7 lc rgb "#1f77b4" t "ndproxyd (from start)", \\
     "{answerable['ndproxyd_k0']}" u 1:2 w lp lw 2 pt 13 lc rgb "#ff7f0e" t "ndproxyd k0 (from start)", \\
     "{answerable['ndproxyd_xdp']}" u 1:2 w lp lw 2 pt 11 lc rgb "{COLOURS['ndproxyd_xdp']}" t "ndproxyd xdp (from start)", \\
     "{answerable['ndppd']}" u 1:2 w lp lw 2 pt 5 lc rgb "#d62728" t "ndppd (from start)", \\
     "{answerable['kernel']}" u 1:2 w lp lw 2 pt 9 lc rgb "#2ca02c" t "kernel (insertion)", \\
     "{answerable['kernel']}" u 1:($3 < $1 ? $2 : 1/0):(sprintf("%d inserted", $3)) w labels offset 0,1 tc rgb "#2ca02c" notitle
unset multiplot
"""
    if subprocess.run(["gnuplot"], input=script, text=True).returncode != 0:
        print("bench/suite: gnuplot failed", file=sys.stderr)

"""The end of bench/suite's report, bench/results/table.md: how each figure is taken."""

from .suite_floods import FLOOD_PREFIX, FLOOD_SOURCES, ONE_ADDRESS_SECONDS
from .suite_runs import LATENCY_SOURCES, LIVE_PREFIX, SAMPLE


def method(p):
    """The method section of table.md, for plan `p`."""
    return [
        "",
        "## How each figure is taken",
        "",
        "- Topology: router (down0) —veth— host (ext; br0, the /64 routed to br0) —veth— "
        "farm. In the",
        f"  farm namespace `bench/vm_farm` answers every solicitation for {LIVE_PREFIX} with "
        "an NA",
        "  from a MAC derived from the target, standing in for any number of VMs. Clients run "
        "in the",
        "  router's namespace (`bench/ns_client`, AF_PACKET): from just before the send to "
        "the kernel's",
        f"  receive timestamp of the answer; {LATENCY_SOURCES} sources, 1 ms apart "
        f"({p.iterations} per figure).",
        f"- 1: {p.iterations} solicitations per repetition cycling over the {SAMPLE} sample "
        "addresses of 5.",
        "  ndproxyd's N VMs are `nud permanent` neighbours on br0 that never answer (so only "
        "its",
        "  table can answer them); ndppd's are vm_farm addresses (its session is cached after "
        "the first",
        "  answer); the kernel's are its static entries. ndproxyd is sampled once READY=1 "
        "came and its",
        "  start-up counters (kernel writes, probes, announcements) stood still for 1.5 s.",
        f"- 2: {p.silent} fresh targets, 2 ms apart, that vm_farm answers and the host has no "
        "neighbour for.",
        f"- 3: random targets in {FLOOD_PREFIX} from {FLOOD_SOURCES} sources that the host "
        "has permanent",
        "  neighbour entries for (ndppd answers through the IP stack); ndproxyd `--responder "
        "always` in",
        "  each `--fast-path` mode (auto: the filter, off, xdp), ndppd `static`, the kernel "
        "with 4,096",
        "  entries (all of them). Answers counted at the router. The daemon's CPU time from "
        "/proc.",
        "- 3 at N: the same flood in the configuration of 1 and 5 (ndproxyd verify, ndppd "
        "`iface br0`",
        "  asking vm_farm), for random targets in a block of addresses among the N of each "
        "peer: most",
        "  are asked for the first time there, and each first answer is the daemon's, in xdp "
        "too.",
        f"- Fast path, at N={p.sizes[0]:,} in every repetition: {ONE_ADDRESS_SECONDS} s "
        "floods for one address the",
        "  sweep already had answered: the first of ndproxyd's N, kernel-held as shipped "
        f"(from {FLOOD_SOURCES}",
        "  sources; ndproxyd again with `--fast-path off` for this flood alone), "
        "responder-held in k0",
        "  and xdp (from one source); the bare kernel of the latency gaps gets both floods for "
        "the first",
        "  of its 1,000 entries. A single-source flood starts 2 s after the last other "
        "source asked: the",
        "  responder shares its budget between the sources active in the last 2 s "
        "(docs/design.md §Bounds).",
        "  XDP native mode is not measured: on veth its answers never reach the peer "
        "(docs/design.md §The",
        "  XDP responder).",
        f"- 4: a neighbour added on br0 over rtnetlink (permanent, one at a time, {p.appear} "
        "per N), then",
        "  solicited every 100 µs until answered; from just before the RTM_NEWNEIGH to the "
        "answer.",
        "- 5: from the daemon's start (ndproxyd with the N neighbours already on br0; ndppd "
        "with no",
        f"  state) to the last first answer of {SAMPLE} addresses spread over the N (first "
        "and last",
        "  included), each solicited every 20 ms until answered; the kernel: from the first "
        "insertion",
        f"  (`ip -batch`, 1,000 a call) to the sample answering, capped at {p.kernel_cap} s. "
        "RSS: VmRSS then.",
        f"- 6: voluntary + involuntary context switches of the idle daemon over "
        f"{p.idle_seconds} s.",
        "- Raw figures: `bench/results/raw/figures.txt`; the plot `bench/results/cost.png`.",
    ]

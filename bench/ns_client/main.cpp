// The upstream router's side of the benchmarks (bench/suite, bench/responder, bench/sources):
// sends Neighbor Solicitations as whole frames on an AF_PACKET socket and times or counts the
// Neighbor Advertisements that come back. No project library: only libmnl, for `appear`.
//
//   ns_client latency IFACE TARGET COUNT [options]
//       One solicitation at a time, TARGET (or TARGET, TARGET+1, ... with --fresh), each timed
//       from just before send() to the kernel's receive timestamp of the matching answer (an NA
//       for the target with S set): the client's own scheduling is not in the figure.
//       Prints: count= answered= p50_us= p99_us= max_us= mean_us=
//   ns_client flood IFACE SECONDS PREFIX [options]
//       Sends solicitations for random targets in PREFIX (/64 or longer, e.g.
//       2001:db8:1:0:ffff::/80; a /128 is one target) as fast as the socket takes them (or at
//       --rate) for SECONDS, and counts the answers (NAs with S set, for a target in PREFIX; to
//       the sources' MAC unless --forged) that arrive until --drain-ms after the last send.
//       Prints: sent= seconds= sent_per_s= answered= answered_per_s= answered_pct=
//   ns_client sweep IFACE BASE SPAN SAMPLE [options]
//       Asks for SAMPLE targets spread evenly over BASE ... BASE+SPAN-1 (the first and the last
//       included) in rounds: each round solicits every target not answered yet, then collects
//       answers until the round ends (--round-ms). Stops when all are answered or after
//       --timeout-ms. Times are CLOCK_REALTIME seconds (kernel receive timestamps), so that a
//       script can subtract the moment it started a daemon.
//       Prints: sample= answered= started_at= first_at= last_at=
//   ns_client appear IFACE FIRST COUNT --netns PATH --internal IFACE [options]
//       Measures how long an address takes to become answerable on IFACE after its neighbour
//       appears: for FIRST, FIRST+1, ... (COUNT of them), adds a permanent neighbour entry on the
//       internal interface (in the network namespace at PATH, e.g. /run/netns/host, over
//       rtnetlink; lladdr 02:be:...) and then solicits the address every --resend-us until the
//       first answer, timed from just before the RTM_NEWNEIGH to the answer's kernel receive
//       timestamp. Prints: count= answered= p50_us= p99_us= max_us= mean_us=
//   options:
//       --sources N         rotate over N sources: SOURCE_BASE+1 ... SOURCE_BASE+N (default 1)
//       --source-base ADDR  link-local base of the sources (default fe80::e:0)
//       --forged            random link-local sources and random source MACs instead
//       --mac MAC           the sources' MAC (default: the interface's), e.g. another host
//                           forging the router's address
//       --rate N            flood: at most N solicitations per second (default: no pause)
//       --fresh             latency: a new target each time (TARGET + i)
//       --gap-us N          latency: pause between solicitations (default 1000)
//       --spread SPAN       latency: cycle over --points P targets spread evenly over TARGET ...
//                           TARGET+SPAN-1 (first and last included; the same ones sweep asks for)
//       --points P          (default 200)
//       --targets FILE      latency: cycle over the addresses in FILE (one a line) instead
//       --timeout-ms N      latency: give up on one solicitation after N ms (default 1500)
//       --drain-ms N        flood: keep counting this long after the last send (default 500)
//       --dump              latency: also print every sample to stderr (index, target, µs or -1)
//       --round-ms N        sweep: length of a round (default 20)
//       --resend-us N       appear: solicit again after this long without an answer (default 100)

#include <cstdlib>
#include <string>
#include <vector>

#include "modes.hpp"

int main(int argc, char** argv) {
    using namespace ns_client;
    std::vector<std::string> positional;
    const Options options = parse_options(argc, argv, positional);
    const auto number = [&](std::size_t i) { return std::atoi(positional[i].c_str()); };
    if (positional.size() == 4 && positional[0] == "latency") {
        return latency(look_up(positional[1]), parse_address(positional[2]), number(3), options);
    }
    if (positional.size() == 4 && positional[0] == "flood") {
        return flood(look_up(positional[1]), std::atof(positional[2].c_str()), positional[3],
                     options);
    }
    if (positional.size() == 4 && positional[0] == "appear") {
        return appear(look_up(positional[1]), parse_address(positional[2]), number(3), options);
    }
    if (positional.size() == 5 && positional[0] == "sweep") {
        return sweep(look_up(positional[1]), parse_address(positional[2]),
                     std::strtoull(positional[3].c_str(), nullptr, 0), number(4), options);
    }
    usage(
        "usage: ns_client latency IFACE TARGET COUNT | flood IFACE SECONDS PREFIX | "
        "sweep IFACE BASE SPAN SAMPLE | appear IFACE FIRST COUNT [options]");
}

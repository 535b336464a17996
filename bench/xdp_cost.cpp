// The XDP responder's own cost per answer (issue 16), timed by the kernel: RUNS separate
// BPF_PROG_TEST_RUNs on a fresh solicitation each (a repeated run would see its own answer, and
// live frames are recycled with the answer in them), each building one answer; the median and
// p99 of the kernel's time for the program. The driver's receive and transmit are not in it.
// Usage (as root; it touches no link): xdp_cost RUNS
// Prints runs=... answered=... p50_ns=... p99_ns=... answers_per_core_s=... (at the median)
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"
#include "linux/solicitation_filter.hpp"

using namespace ndproxy;

int main(int argc, char** argv) {
    const int runs = argc == 2 ? std::atoi(argv[1]) : 0;
    if (runs <= 0) {
        std::fprintf(stderr, "usage: xdp_cost RUNS\n");
        return 2;
    }
    try {
        SolicitationFilter filter(64);
        filter.enable_answers(XdpResponder::Attach::generic);
        const Ipv6Address target = *Ipv6Address::parse("2001:db8:1::20");
        if (!filter.set_scope({*Ipv6Prefix::parse("2001:db8:1::/64")}) ||
            !filter.set_targets({{target, FilterTarget::answer}}, false) ||
            !filter.note_answered(target)) {
            std::fprintf(stderr, "xdp_cost: cannot fill the maps\n");
            return 1;
        }
        // Limits high enough never to refuse: the cost of a granted answer is what is measured.
        FastAnswerSettings settings;
        settings.per_source = 4000000000U;
        settings.total = 4000000000U;
        filter.set_answers(settings);
        const MacAddress uplink{{0x02, 0, 0, 0, 0x0e, 0x01}};
        const MacAddress router{{0x02, 0, 0, 0, 0x0e, 0xff}};
        filter.set_uplink(uplink, *Ipv6Address::parse("fe80::1"));
        const Ipv6Address source = *Ipv6Address::parse("fe80::ff");
        const Ipv6Address group = target.solicited_node();
        std::vector<std::uint8_t> frame =
            ndp::build_icmpv6_frame(router, ndp::multicast_mac(group), source, group,
                                    ndp::build_solicitation(target, router));
        std::vector<std::uint32_t> times;
        std::vector<std::uint8_t> answer;
        for (int i = 0; i < runs; ++i) {
            std::uint32_t nanoseconds = 0;
            if (filter.responder()->run(frame, answer, 1, &nanoseconds) != XDP_TX) {
                std::fprintf(stderr, "xdp_cost: run %d was not answered\n", i);
                return 1;
            }
            times.push_back(nanoseconds);
        }
        std::sort(times.begin(), times.end());
        const std::uint32_t p50 = times[times.size() / 2];
        const std::uint32_t p99 = times[times.size() * 99 / 100];
        std::printf("runs=%d answered=%llu p50_ns=%u p99_ns=%u answers_per_core_s=%.0f\n", runs,
                    static_cast<unsigned long long>(filter.answer_counts().answered), p50, p99,
                    p50 > 0 ? 1e9 / p50 : 0.0);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "xdp_cost: %s\n", error.what());
        return 1;
    }
}

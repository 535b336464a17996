#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/fast_path.hpp"
#include "core/ipv6.hpp"
#include "core/unique_fd.hpp"

struct ns_responder;  // the bpftool skeleton of bpf/ns_responder.bpf.c

namespace ndproxy {

// The fast path's XDP responder (docs/design.md §Fast path) on the uplink: answers the
// solicitations for responder-held addresses and the daemon's kernel entries where they arrive. It
// reads the socket filter's maps (the targets and the prefixes), so that one write serves both; its
// own are the routed blocks, its counters and its limiter.
class XdpResponder {
public:
    enum class Attach {
        // XDP_FLAGS_SKB_MODE: after the driver, on the socket buffer. Every driver has it, and
        // attaching touches nothing of the driver's.
        generic,
        // XDP_FLAGS_DRV_MODE: in the driver, before any socket buffer. Faster, but attaching
        // reconfigures some NICs' queues (a moment without link), and a veth's XDP_TX reaches
        // its peer only if that runs XDP or GRO itself (the answers are lost otherwise).
        native,
    };

    // Loads the program over the maps whose fds are given. Throws std::system_error.
    XdpResponder(int targets_fd, int prefixes_fd, Attach attach);
    ~XdpResponder();
    XdpResponder(const XdpResponder&) = delete;
    XdpResponder& operator=(const XdpResponder&) = delete;

    // Moves the program to `ifindex` (0: detaches). The attachment is a BPF link owned by this
    // process: the kernel detaches the program when the process ends, however it ends. False
    // (logged) if it could not attach; the responder's socket then answers.
    bool attach(int ifindex);
    [[nodiscard]] bool attached() const { return static_cast<bool>(link_); }
    [[nodiscard]] int program_fd() const;
    void set_answers(const FastAnswerSettings& settings);
    void set_uplink(const MacAddress& mac, const std::optional<Ipv6Address>& link_local);
    // False (logged) if an old block could not be taken out: the program would go on answering
    // it. A block that does not fit is logged, and the responder's socket answers it.
    bool set_routed_blocks(const std::vector<Ipv6Prefix>& blocks);
    [[nodiscard]] FastAnswerCounts counts() const;

    // For the tests: the program's verdict on `frame` (BPF_PROG_TEST_RUN) and the frame it
    // leaves in `out`; -1 if it could not run. With `repeat`, it runs that many times, and
    // `nanoseconds` gets the kernel's average time per run (bench/xdp_cost).
    long run(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out, int repeat = 1,
             std::uint32_t* nanoseconds = nullptr) const;

private:
    void publish();  // settings_ and the uplink into the program's configuration

    ::ns_responder* skeleton_ = nullptr;
    Attach attach_;
    UniqueFd link_;  // the BPF link: closing it detaches the program
    int ifindex_ = 0;
    std::vector<Ipv6Prefix> blocks_;
    FastAnswerSettings settings_;
    bool uplink_known_ = false;
};

}  // namespace ndproxy

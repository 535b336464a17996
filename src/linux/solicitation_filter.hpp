#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/fast_path.hpp"
#include "core/ipv6.hpp"
#include "linux/xdp_responder.hpp"

struct solicitation_filter;  // the bpftool skeleton of bpf/solicitation_filter.bpf.c

namespace ndproxy {

// The fast path's eBPF socket filter (docs/design.md §Fast path) and its maps: what the host
// answers itself, what a kernel proxy entry answers, and the responder's prefixes. Loading it
// takes CAP_BPF; once loaded, the maps are written through their fds, which needs none.
class SolicitationFilter {
public:
    // Loads the program and creates the maps, room for `max_targets` addresses. Throws
    // std::system_error saying why not (no CAP_BPF, a kernel without BPF, ...).
    explicit SolicitationFilter(std::size_t max_targets);
    ~SolicitationFilter();
    SolicitationFilter(const SolicitationFilter&) = delete;
    SolicitationFilter& operator=(const SolicitationFilter&) = delete;

    // Adds the XDP responder over the same maps (--fast-path xdp). Throws std::system_error.
    void enable_answers(XdpResponder::Attach attach);
    [[nodiscard]] bool answers() const { return responder_ != nullptr; }

    // For SO_ATTACH_BPF.
    [[nodiscard]] int program_fd() const;
    // The link whose solicitations pass (0: none), as the classic filter's ifindex test; the
    // XDP responder moves there too.
    void set_ifindex(int ifindex);
    // False if a prefix could not be added: the filter would drop what the responder answers.
    [[nodiscard]] bool set_scope(const std::vector<Ipv6Prefix>& prefixes);
    // False if an address could not be taken out: the filter would go on dropping what the
    // kernel may no longer answer, and must be given up.
    [[nodiscard]] bool set_targets(const FilterTargets& targets, bool replace);
    [[nodiscard]] FilterCounts counts() const;
    // The XDP responder's side (PacketPort::set_fast_answers and the rest); no-ops without it.
    void set_answers(const FastAnswerSettings& settings);
    void set_uplink(const MacAddress& mac, const std::optional<Ipv6Address>& link_local);
    [[nodiscard]] bool set_blocks(const std::vector<Ipv6Prefix>& blocks);
    [[nodiscard]] bool note_answered(const Ipv6Address& target);
    [[nodiscard]] FastAnswerCounts answer_counts() const;
    [[nodiscard]] const XdpResponder* responder() const { return responder_.get(); }
    [[nodiscard]] std::optional<TimePoint> last_seen(const Ipv6Prefix& prefix) const;
    // What the program returns for `frame` arriving on the loopback interface (ifindex 1;
    // BPF_PROG_TEST_RUN), for the tests: 0 dropped, else passed; -1 if it could not run.
    [[nodiscard]] long verdict(std::span<const std::uint8_t> frame) const;

private:
    bool write(const Ipv6Address& address, FilterTarget target);
    // `kind` (the map's, bpf/fast_path.h) for `target`.
    bool write_kind(const Ipv6Address& address, FilterTarget target, std::uint8_t kind);

    ::solicitation_filter* skeleton_ = nullptr;
    std::size_t max_targets_;
    std::unordered_map<Ipv6Address, FilterTarget> held_;  // what the targets map holds
    // FilterTarget::answer addresses the responder's socket has answered once: these the XDP
    // responder answers; the others it passes (ND_TARGET_HELD).
    std::unordered_set<Ipv6Address> answered_;
    std::unique_ptr<XdpResponder> responder_;
    std::vector<Ipv6Prefix> scope_;
    bool full_logged_ = false;
};

}  // namespace ndproxy

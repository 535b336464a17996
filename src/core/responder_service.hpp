#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/monitor_events.hpp"
#include "core/ndp_types.hpp"
#include "core/packet_port.hpp"
#include "core/responder_policy.hpp"

namespace ndproxy {

struct ResponderServiceSettings {
    ResponderSettings policy;
    bool router = false;
    AnswerSource answer_source = AnswerSource::self;
};

struct ResponderStats {
    std::uint64_t ns_received = 0;
    std::uint64_t ns_filtered = 0;  // of those, dropped by the fast path (in outcomes too)
    std::uint64_t ns_xdp = 0;       // of those, answered or refused in the kernel (in outcomes too)
    std::uint64_t ns_answered = 0;
    std::uint64_t send_errors = 0;
    std::uint64_t socket_drops = 0;  // solicitations the kernel dropped before we read them
    std::uint64_t backlogs = 0;      // reads that left solicitations queued
    std::uint64_t groups_limit = 0;  // targets answered without joining their group (full)
    std::array<std::uint64_t, ndp::kDropReasonCount> invalid{};  // by ndp::DropReason
    std::array<std::uint64_t, kOutcomeCount> outcomes{};         // by Outcome
};

// Connects the responder policy to the external link: counts the solicitations the packet port
// hands over, answers with whole frames, and verifies unknown targets through the mirror.
class ResponderService {
public:
    ResponderService(ResponderServiceSettings settings, MirrorService& mirror, PacketPort& packets);

    void on_frames_readable(TimePoint now);
    void handle_solicitation(const ndp::SolicitationOrDrop& parsed, TimePoint now);
    // Call before the mirror sees the same advertisement, so that a verification is credited.
    void on_advertisement(const ReceivedAdvertisement& received, TimePoint now);
    void on_timer(TimePoint now);
    void reconfigure(ResponderServiceSettings settings);
    // Where verifications and the bounds the responder hits go as events; nullptr: nowhere.
    void set_monitor(monitor::Sink* sink);
    // Leaves the groups of addresses the kernel now answers for, or that are gone; on the slow
    // timer, since nothing is lost by staying a member a little longer.
    void prune_memberships();
    [[nodiscard]] std::size_t memberships() const { return joined_targets_.size(); }

    [[nodiscard]] std::optional<TimePoint> next_wakeup() const { return policy_.next_wakeup(); }
    [[nodiscard]] const ResponderPolicy& policy() const { return policy_; }
    // Its own counts and the packet port's fast path's (core/fast_path.hpp).
    [[nodiscard]] ResponderStats stats() const;
    [[nodiscard]] bool enabled() const { return settings_.policy.mode != ResponderMode::off; }
    [[nodiscard]] FastPathState fast_path() const { return packets_.fast_path_state(); }
    // Whether the frame socket reads the uplink's solicitations (the owner says: it opens it).
    void set_listening(bool listening) { listening_ = listening; }
    [[nodiscard]] bool listening() const { return listening_; }
    // When a solicitation for an address of `prefix` (not one of the host's own) last reached
    // the uplink, answered or not, by us or by the kernel: none for long suggests that the
    // provider routes the prefix to the host rather than putting it on-link (`ndproxyctl
    // doctor`, README "Troubleshooting").
    [[nodiscard]] std::optional<TimePoint> last_solicitation(const Ipv6Prefix& prefix) const;

private:
    void execute(const std::vector<ResponderAction>& actions);
    void answer(const respond::Answer& answer);
    void join_for(const Ipv6Address& target);
    void note_target(const Ipv6Address& target, TimePoint now);
    [[nodiscard]] bool monitored() const { return monitor_ != nullptr && monitor_->active(); }
    void publish_bound(std::string_view counter, const Ipv6Address& target);

    ResponderServiceSettings settings_;
    MirrorService& mirror_;
    PacketPort& packets_;
    ResponderPolicy policy_;
    ResponderStats stats_;
    bool listening_ = false;
    std::map<Ipv6Prefix, TimePoint> last_solicited_;
    monitor::Sink* monitor_ = nullptr;
    // RFC 4861 §7.2.8: a proxy joins the solicited-node groups of the addresses it answers for.
    // Several targets share a group, so groups are counted. At most kMaxGroups: every group
    // lengthens the uplink's multicast list, which the kernel walks for each multicast packet
    // it receives. Beyond it solicitations still arrive (the frame socket is in ALLMULTI) unless
    // an MLD-snooping switch withholds them (README "Scale").
    static constexpr std::size_t kMaxGroups = 1024;
    int joined_ifindex_ = 0;
    std::unordered_map<Ipv6Address, Ipv6Address> joined_targets_;  // target -> group
    std::unordered_map<Ipv6Address, unsigned> group_members_;      // group -> targets
};

}  // namespace ndproxy

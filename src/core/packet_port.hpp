#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/clock.hpp"
#include "core/fast_path.hpp"
#include "core/ipv6.hpp"
#include "core/ndp_types.hpp"

namespace ndproxy {

// A Neighbor Advertisement that arrived on one of the host's links and passed RFC 4861 §7.1.2.
struct ReceivedAdvertisement {
    int ifindex = 0;
    Ipv6Address source;
    ndp::Advertisement advert;
};

// The daemon's access to the wire: ICMPv6 on every link (probes, announcements, the VMs'
// advertisements) and whole frames on the external link (the responder). LinuxPacketPort
// implements it with a raw ICMPv6 socket and an AF_PACKET socket, and the codec turns its
// messages into bytes and back; the unit tests' fake does the same in memory.
class PacketPort {
public:
    virtual ~PacketPort() = default;

    // Readable when advertisements are queued (for the event loop; ownership stays here).
    [[nodiscard]] virtual int fd() const = 0;
    // Sends a Neighbor Solicitation for `target` on `ifindex` to `destination`, with a source
    // link-layer option when `source_lladdr` is given (RFC 4861 §4.3); hop limit 255 and the
    // kernel's choice of source address (link-local for link-local destinations). False on
    // failure.
    virtual bool send_solicitation(int ifindex, const Ipv6Address& destination,
                                   const Ipv6Address& target,
                                   const std::optional<MacAddress>& source_lladdr) = 0;
    // Sends a Neighbor Advertisement the same way (RFC 4861 §4.4). False on failure.
    virtual bool send_advertisement(int ifindex, const Ipv6Address& destination,
                                    const ndp::Advertisement& advert) = 0;
    // The advertisements queued, a bounded number per call (as read_solicitations), without
    // blocking.
    virtual std::vector<ReceivedAdvertisement> read_advertisements() = 0;

    // Joins or leaves a multicast group on `ifindex`, so that switches snooping MLD deliver
    // what is sent to it. False on failure.
    virtual bool join_group(int ifindex, const Ipv6Address& group) = 0;
    virtual bool leave_group(int ifindex, const Ipv6Address& group) = 0;

    // Readable when solicitations from the external link are queued.
    [[nodiscard]] virtual int frame_fd() const = 0;
    // Starts receiving Neighbor Solicitations on `ifindex` (0: stops).
    virtual void listen_for_solicitations(int ifindex) = 0;
    // Hands each queued frame to `sink`, as a solicitation checked as RFC 4861 §7.1.1 requires
    // or as the reason it is not one, without blocking: a bounded number per call, so that a
    // flood cannot hold up the event loop (it comes back while the fd stays readable). Returns
    // false if frames were left queued: a backlog, the sign of a reader at its limit.
    using SolicitationSink = std::function<void(const ndp::SolicitationOrDrop&)>;
    virtual bool read_solicitations(const SolicitationSink& sink) = 0;
    // Solicitations lost because they arrived faster than they were read, since the last call.
    virtual std::uint64_t take_frame_drops() = 0;
    // Sends an advertisement as a whole Ethernet frame on `ifindex`, addressed as `answer`
    // says, bypassing the IP stack's neighbour resolution. False on failure.
    virtual bool send_answer(int ifindex, const ndp::AnswerFrame& answer) = 0;

    // The fast path, where the port has one (the defaults: none, every solicitation is read).
    // The prefixes of the responder's scope (ResponderPolicy::in_scope).
    virtual void set_filter_scope(const std::vector<Ipv6Prefix>& /*prefixes*/) {}
    // Changes to what it knows of addresses; `replace` drops every address not listed.
    virtual void set_filter_targets(const FilterTargets& /*targets*/, bool /*replace*/) {}
    // What it dropped since the port was made (running totals).
    [[nodiscard]] virtual FilterCounts filter_counts() const { return {}; }
    // When it last decided a solicitation for an address of `prefix` (dropped one for a
    // kernel-held address, or answered one).
    [[nodiscard]] virtual std::optional<TimePoint> filter_last_seen(
        const Ipv6Prefix& /*prefix*/) const {
        return std::nullopt;
    }
    // Its in-kernel responder, where it has one: how to answer, for whom (the blocks answered
    // whole, FilterTarget::kernel addresses, and FilterTarget::answer addresses once the
    // responder has answered them itself: that answer joins the target's group, RFC 4861
    // §7.2.8), from which uplink, and what it decided.
    virtual void set_fast_answers(const FastAnswerSettings& /*settings*/) {}
    virtual void set_fast_blocks(const std::vector<Ipv6Prefix>& /*blocks*/) {}
    virtual void set_fast_uplink(const MacAddress& /*mac*/,
                                 const std::optional<Ipv6Address>& /*link_local*/) {}
    virtual void note_answered(const Ipv6Address& /*target*/) {}
    [[nodiscard]] virtual FastAnswerCounts fast_answer_counts() const { return {}; }
    [[nodiscard]] virtual FastPathState fast_path_state() const { return FastPathState::off; }
};

}  // namespace ndproxy

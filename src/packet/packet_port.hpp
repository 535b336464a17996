#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "ndproxy/ipv6.hpp"
#include "packet/frame_codec.hpp"
#include "packet/ndp_codec.hpp"

namespace ndproxy {

// A Neighbor Advertisement that arrived on one of the host's links and passed RFC 4861 §7.1.2.
struct ReceivedAdvertisement {
    int ifindex = 0;
    Ipv6Address source;
    ndp::Advertisement advert;
};

// The daemon's access to the wire: ICMPv6 on every link (probes, announcements, the VMs'
// advertisements) and whole frames on the external link (the responder). LinuxPacketPort
// implements it with a raw ICMPv6 socket and an AF_PACKET socket.
class PacketPort {
public:
    virtual ~PacketPort() = default;

    // Readable when advertisements are queued (for the event loop; ownership stays here).
    [[nodiscard]] virtual int fd() const = 0;
    // Sends one ICMPv6 message on `ifindex` to `destination` with hop limit 255; the kernel
    // picks the source address (link-local for link-local destinations). False on failure.
    virtual bool send(int ifindex, const Ipv6Address& destination,
                      std::span<const std::uint8_t> icmp) = 0;
    // The advertisements queued, a bounded number per call (as read_frames), without blocking.
    virtual std::vector<ReceivedAdvertisement> read_advertisements() = 0;

    // Joins or leaves a multicast group on `ifindex`, so that switches snooping MLD deliver
    // what is sent to it. False on failure.
    virtual bool join_group(int ifindex, const Ipv6Address& group) = 0;
    virtual bool leave_group(int ifindex, const Ipv6Address& group) = 0;

    // Readable when solicitations from the external link are queued.
    [[nodiscard]] virtual int frame_fd() const = 0;
    // Starts receiving Neighbor Solicitations on `ifindex` (0: stops).
    virtual void listen_for_solicitations(int ifindex) = 0;
    // Hands the queued frames, each with how the link delivered it, to `sink`, without
    // blocking: a bounded number per call, so that a flood cannot hold up the event loop (it
    // comes back while the fd stays readable). Returns false if frames were left queued: a
    // backlog, the sign of a reader at its limit.
    using FrameSink = std::function<void(std::span<const std::uint8_t>, ndp::Delivery)>;
    virtual bool read_frames(const FrameSink& sink) = 0;
    // Solicitations lost because they arrived faster than they were read, since the last call.
    virtual std::uint64_t take_frame_drops() = 0;
    // Sends a whole Ethernet frame on `ifindex`. False on failure.
    virtual bool send_frame(int ifindex, std::span<const std::uint8_t> frame) = 0;
};

}  // namespace ndproxy

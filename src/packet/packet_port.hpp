#pragma once

#include <optional>
#include <span>
#include <vector>

#include "ndproxy/ipv6.hpp"
#include "packet/ndp_codec.hpp"

namespace ndproxy {

// A Neighbor Advertisement that arrived on one of the host's links and passed RFC 4861 §7.1.2.
struct ReceivedAdvertisement {
    int ifindex = 0;
    Ipv6Address source;
    ndp::Advertisement advert;
};

// The daemon's access to the wire. Icmpv6Socket implements it with a raw ICMPv6 socket.
class PacketPort {
public:
    virtual ~PacketPort() = default;
    // Readable when packets are queued (for the event loop; ownership stays here).
    [[nodiscard]] virtual int fd() const = 0;
    // Sends one ICMPv6 message on `ifindex` to `destination` with hop limit 255; the kernel
    // picks the source address (link-local for link-local destinations). False on failure.
    virtual bool send(int ifindex, const Ipv6Address& destination,
                      std::span<const std::uint8_t> icmp) = 0;
    virtual std::vector<ReceivedAdvertisement> read_advertisements() = 0;
};

}  // namespace ndproxy

#pragma once

#include "core/packet_port.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {

// A raw ICMPv6 socket that sends ND messages on any link and receives Neighbor Advertisements.
class Icmpv6Socket {
public:
    // Throws std::system_error when the socket cannot be made (no CAP_NET_RAW).
    Icmpv6Socket();

    [[nodiscard]] int fd() const { return socket_.get(); }
    bool send(int ifindex, const Ipv6Address& destination, std::span<const std::uint8_t> icmp);
    std::vector<ReceivedAdvertisement> read_advertisements();
    bool membership(int ifindex, const Ipv6Address& group, bool join);

private:
    UniqueFd socket_;
};

}  // namespace ndproxy

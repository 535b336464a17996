#pragma once

#include "ndproxy/unique_fd.hpp"
#include "packet/packet_port.hpp"

namespace ndproxy {

class Icmpv6Socket final : public PacketPort {
public:
    // Throws std::system_error when the socket cannot be made (no CAP_NET_RAW).
    Icmpv6Socket();

    [[nodiscard]] int fd() const override { return socket_.get(); }

    bool send(int ifindex, const Ipv6Address& destination,
              std::span<const std::uint8_t> icmp) override;
    std::vector<ReceivedAdvertisement> read_advertisements() override;

private:
    UniqueFd socket_;
};

}  // namespace ndproxy

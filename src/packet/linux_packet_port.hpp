#pragma once

#include "packet/frame_socket.hpp"
#include "packet/icmpv6_socket.hpp"
#include "packet/packet_port.hpp"

namespace ndproxy {

class LinuxPacketPort final : public PacketPort {
public:
    [[nodiscard]] int fd() const override { return icmp_.fd(); }
    bool send(int ifindex, const Ipv6Address& destination,
              std::span<const std::uint8_t> icmp) override {
        return icmp_.send(ifindex, destination, icmp);
    }
    std::vector<ReceivedAdvertisement> read_advertisements() override {
        return icmp_.read_advertisements();
    }

    bool join_group(int ifindex, const Ipv6Address& group) override {
        return icmp_.membership(ifindex, group, true);
    }
    bool leave_group(int ifindex, const Ipv6Address& group) override {
        return icmp_.membership(ifindex, group, false);
    }

    [[nodiscard]] int frame_fd() const override { return frames_.fd(); }
    void listen_for_solicitations(int ifindex) override { frames_.listen(ifindex); }
    bool read_frames(const FrameSink& sink) override { return frames_.read(sink); }
    std::uint64_t take_frame_drops() override { return frames_.take_drops(); }
    bool send_frame(int ifindex, std::span<const std::uint8_t> frame) override {
        return frames_.send(ifindex, frame);
    }

private:
    Icmpv6Socket icmp_;
    FrameSocket frames_;
};

}  // namespace ndproxy

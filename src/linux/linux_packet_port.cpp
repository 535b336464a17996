#include "linux/linux_packet_port.hpp"

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"

namespace ndproxy {

bool LinuxPacketPort::send_solicitation(int ifindex, const Ipv6Address& destination,
                                        const Ipv6Address& target,
                                        const std::optional<MacAddress>& source_lladdr) {
    return icmp_.send(ifindex, destination, ndp::build_solicitation(target, source_lladdr));
}

bool LinuxPacketPort::send_advertisement(int ifindex, const Ipv6Address& destination,
                                         const ndp::Advertisement& advert) {
    return icmp_.send(ifindex, destination,
                      ndp::build_advertisement(advert.target, advert.flags, advert.target_lladdr));
}

bool LinuxPacketPort::read_solicitations(const SolicitationSink& sink) {
    return frames_.read([&](std::span<const std::uint8_t> frame, ndp::Delivery delivery) {
        sink(ndp::parse_solicitation_frame(frame, delivery));
    });
}

bool LinuxPacketPort::send_answer(int ifindex, const ndp::AnswerFrame& answer) {
    const auto icmp = ndp::build_advertisement(answer.advert.target, answer.advert.flags,
                                               answer.advert.target_lladdr);
    return frames_.send(ifindex,
                        ndp::build_icmpv6_frame(answer.ether_source, answer.ether_destination,
                                                answer.source, answer.destination, icmp));
}

}  // namespace ndproxy

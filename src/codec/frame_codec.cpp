#include "codec/frame_codec.hpp"

#include "codec/ndp_codec.hpp"

#include <algorithm>

namespace ndproxy::ndp {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kIpv6Header = 40;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;
constexpr std::uint8_t kNextHeaderIcmpv6 = 58;
constexpr std::uint8_t kTypeSolicitation = 135;
constexpr std::size_t kSolicitationFixed = 24;

std::uint16_t read16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return static_cast<std::uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        sum += read16(bytes, i);
    }
    if (i < bytes.size()) {
        sum += static_cast<std::uint32_t>(bytes[i] << 8);
    }
    return sum;
}

}  // namespace

std::uint16_t icmpv6_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                              std::span<const std::uint8_t> message) {
    std::uint32_t sum = sum_words(source.bytes, 0);
    sum = sum_words(destination.bytes, sum);
    const auto length = static_cast<std::uint32_t>(message.size());
    sum += length >> 16;
    sum += length & 0xffff;
    sum += kNextHeaderIcmpv6;
    sum = sum_words(message, sum);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> build_icmpv6_frame(const MacAddress& ether_source,
                                             const MacAddress& ether_destination,
                                             const Ipv6Address& source,
                                             const Ipv6Address& destination,
                                             std::span<const std::uint8_t> icmp) {
    std::vector<std::uint8_t> frame;
    frame.reserve(kEthernetHeader + kIpv6Header + icmp.size());
    frame.insert(frame.end(), ether_destination.bytes.begin(), ether_destination.bytes.end());
    frame.insert(frame.end(), ether_source.bytes.begin(), ether_source.bytes.end());
    frame.push_back(kEthertypeIpv6 >> 8);
    frame.push_back(kEthertypeIpv6 & 0xff);
    const auto length = static_cast<std::uint16_t>(icmp.size());
    const std::uint8_t ip_fixed[8] = {0x60,
                                      0,
                                      0,
                                      0,
                                      static_cast<std::uint8_t>(length >> 8),
                                      static_cast<std::uint8_t>(length),
                                      kNextHeaderIcmpv6,
                                      255};
    frame.insert(frame.end(), std::begin(ip_fixed), std::end(ip_fixed));
    frame.insert(frame.end(), source.bytes.begin(), source.bytes.end());
    frame.insert(frame.end(), destination.bytes.begin(), destination.bytes.end());
    const std::size_t icmp_at = frame.size();
    frame.insert(frame.end(), icmp.begin(), icmp.end());
    frame[icmp_at + 2] = 0;
    frame[icmp_at + 3] = 0;
    const std::uint16_t checksum =
        icmpv6_checksum(source, destination, std::span(frame).subspan(icmp_at));
    frame[icmp_at + 2] = static_cast<std::uint8_t>(checksum >> 8);
    frame[icmp_at + 3] = static_cast<std::uint8_t>(checksum);
    return frame;
}

SolicitationOrDrop parse_solicitation_frame(std::span<const std::uint8_t> frame,
                                            Delivery delivery) {
    if (delivery == Delivery::to_other_host) {
        return DropReason::other_host;
    }
    if (delivery == Delivery::outgoing) {
        return DropReason::outgoing;
    }
    if (frame.size() < kEthernetHeader + kIpv6Header) {
        return DropReason::truncated;
    }
    // The I/G bit, the least significant bit of the first octet (IEEE 802-2014 §8.2).
    if ((frame[6] & 0x01) != 0) {
        return DropReason::multicast_ether_source;
    }
    if (read16(frame, 12) != kEthertypeIpv6) {
        return DropReason::not_ipv6;
    }
    const std::span<const std::uint8_t> ip = frame.subspan(kEthernetHeader);
    if ((ip[0] >> 4) != 6) {
        return DropReason::not_ipv6;
    }
    const std::size_t payload_length = read16(ip, 4);
    // Ethernet pads short frames, so the IPv6 payload length, not the frame, says where it ends.
    if (kIpv6Header + payload_length > ip.size()) {
        return DropReason::truncated;
    }
    if (ip[6] != kNextHeaderIcmpv6) {
        return DropReason::not_icmpv6;
    }
    const std::span<const std::uint8_t> icmp = ip.subspan(kIpv6Header, payload_length);
    if (icmp.size() < 4) {
        return DropReason::truncated;
    }
    if (icmp[0] != kTypeSolicitation) {
        return DropReason::not_solicitation;
    }
    Solicitation ns;
    std::copy_n(frame.begin() + 6, 6, ns.ether_source.bytes.begin());
    ns.source = Ipv6Address::from_bytes(ip.subspan<8, 16>());
    ns.destination = Ipv6Address::from_bytes(ip.subspan<24, 16>());
    if (ns.source.is_multicast()) {
        return DropReason::multicast_source;
    }
    // RFC 4861 §7.1.1, in the order it lists the checks.
    if (ip[7] != 255) {
        return DropReason::hop_limit;
    }
    if (icmpv6_checksum(ns.source, ns.destination, icmp) != 0) {
        return DropReason::bad_checksum;
    }
    if (icmp[1] != 0) {
        return DropReason::bad_code;
    }
    if (icmp.size() < kSolicitationFixed) {
        return DropReason::too_short;
    }
    ns.target = Ipv6Address::from_bytes(icmp.subspan<8, 16>());
    if (ns.target.is_multicast()) {
        return DropReason::multicast_target;
    }
    const auto lladdr = scan_options(icmp.subspan(kSolicitationFixed), kOptionSourceLinkLayer);
    if (!lladdr) {
        return DropReason::bad_option;
    }
    ns.source_lladdr = *lladdr;
    if (ns.is_dad()) {
        if (!ns.destination.is_solicited_node_multicast()) {
            return DropReason::dad_bad_destination;
        }
        if (ns.source_lladdr) {
            return DropReason::dad_with_source_lladdr;
        }
    }
    return ns;
}

}  // namespace ndproxy::ndp

#pragma once

// Pure parsing and building of whole Ethernet frames for the responder: the Neighbor
// Solicitations it receives from an AF_PACKET socket, checked as RFC 4861 §7.1.1 requires, and
// the advertisements it sends back on the same socket.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "core/ipv6.hpp"
#include "core/ndp_types.hpp"

namespace ndproxy::ndp {

SolicitationOrDrop parse_solicitation_frame(std::span<const std::uint8_t> frame, Delivery delivery);

// Ethernet + IPv6 (hop limit 255, RFC 4861 §7.1) + the ICMPv6 message with its checksum set.
std::vector<std::uint8_t> build_icmpv6_frame(const MacAddress& ether_source,
                                             const MacAddress& ether_destination,
                                             const Ipv6Address& source,
                                             const Ipv6Address& destination,
                                             std::span<const std::uint8_t> icmp);

// RFC 4443 §2.3: the ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1) and the message.
std::uint16_t icmpv6_checksum(const Ipv6Address& source, const Ipv6Address& destination,
                              std::span<const std::uint8_t> message);

}  // namespace ndproxy::ndp

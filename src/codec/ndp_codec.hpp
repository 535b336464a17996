#pragma once

// Pure building and parsing of Neighbor Discovery messages (RFC 4861 §4.3, §4.4). The bytes are
// the ICMPv6 message alone: raw ICMPv6 sockets add the IPv6 header and the checksum.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/ipv6.hpp"
#include "core/ndp_types.hpp"

namespace ndproxy::ndp {

inline constexpr std::uint8_t kOptionSourceLinkLayer = 1;
inline constexpr std::uint8_t kOptionTargetLinkLayer = 2;

// Walks the options of an ND message (RFC 4861 §4.6). nullopt when one has length 0 or runs
// past the end (§7.1.1, §7.1.2: such a message is dropped); otherwise the Ethernet address
// carried by the first link-layer option of `lladdr_type`, if there is one.
std::optional<std::optional<MacAddress>> scan_options(std::span<const std::uint8_t> options,
                                                      std::uint8_t lladdr_type);

// Validates per RFC 4861 §7.1.2 what can be checked from the message itself (the hop limit and
// the destination are the caller's). nullopt for anything invalid.
std::optional<Advertisement> parse_advertisement(std::span<const std::uint8_t> icmp);

std::vector<std::uint8_t> build_solicitation(const Ipv6Address& target,
                                             const std::optional<MacAddress>& source_lladdr);

std::vector<std::uint8_t> build_advertisement(const Ipv6Address& target, AdvertisementFlags flags,
                                              const std::optional<MacAddress>& target_lladdr);

}  // namespace ndproxy::ndp

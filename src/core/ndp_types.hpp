#pragma once

// Neighbor Discovery in the project's own terms: the messages the services send and receive
// through the PacketPort, and why a received frame was refused. The bytes are the codec's
// business (codec/ndp_codec.hpp, codec/frame_codec.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "core/ipv6.hpp"

namespace ndproxy::ndp {

inline constexpr std::uint8_t kNeighborSolicitation = 135;
inline constexpr std::uint8_t kNeighborAdvertisement = 136;
// RFC 4861 §7.1: ND messages must arrive with hop limit 255, proving they were not forwarded.
inline constexpr int kHopLimit = 255;

struct AdvertisementFlags {
    bool router = false;
    bool solicited = false;
    bool override_flag = false;
};

struct Advertisement {
    Ipv6Address target;
    AdvertisementFlags flags;
    std::optional<MacAddress> target_lladdr;
};

// How the link layer delivered a frame: the kernel's packet types (PACKET_HOST ... in
// linux/if_packet.h), in the project's own terms, so that the parser needs no socket header.
enum class Delivery { to_host, broadcast, multicast, to_other_host, outgoing };

// Why a frame was not a solicitation we may act on. Each one is counted separately.
enum class DropReason {
    // Frames the kernel's own IPv6 stack would never see or would drop, so the host must not
    // answer them either (the hostile-tenants issue):
    other_host,              // to another host's MAC: seen only because the uplink is
                             // promiscuous (a bridge port, tcpdump); ip6_rcv_core drops it
    outgoing,                // one of the host's own frames, looped back to the socket
    multicast_ether_source,  // IEEE 802-2014 §8.2: a group address is never a frame's source;
                             // answering it would send to the broadcast or a group address
    multicast_source,        // RFC 4291 §2.7: never a source address; ip6_rcv_core drops it
    truncated,               // shorter than its headers or its payload length claims
    not_ipv6,                // ethertype or IP version
    not_icmpv6,              // next header is not ICMPv6 (extension headers included)
    not_solicitation,        // another ICMPv6 type
    hop_limit,               // §7.1.1: IP Hop Limit is not 255
    bad_checksum,            // §7.1.1: ICMP checksum invalid
    bad_code,                // §7.1.1: ICMP Code is not 0
    too_short,               // §7.1.1: ICMP length below 24 octets
    multicast_target,        // §7.1.1: Target Address is multicast
    bad_option,              // §7.1.1: an option of length 0, or running past the end
    dad_bad_destination,     // §7.1.1: unspecified source, not to a solicited-node group
    dad_with_source_lladdr   // §7.1.1: unspecified source, with a source link-layer option
};
inline constexpr std::size_t kDropReasonCount = 16;
std::string_view to_string(DropReason reason);

struct Solicitation {
    MacAddress ether_source;
    Ipv6Address source;
    Ipv6Address destination;
    Ipv6Address target;
    std::optional<MacAddress> source_lladdr;

    // RFC 4862 §5.4.2: Duplicate Address Detection probes come from the unspecified address.
    [[nodiscard]] bool is_dad() const { return source.is_unspecified(); }
};

using SolicitationOrDrop = std::variant<Solicitation, DropReason>;

// An advertisement sent as a whole Ethernet frame by the responder: the addresses of both
// headers are its decision (RFC 4861 §7.2.4), the bytes the codec's.
struct AnswerFrame {
    MacAddress ether_source;
    MacAddress ether_destination;
    Ipv6Address source;
    Ipv6Address destination;
    Advertisement advert;
};

// RFC 2464 §7: 33:33 followed by the low 32 bits of the group.
MacAddress multicast_mac(const Ipv6Address& group);

}  // namespace ndproxy::ndp

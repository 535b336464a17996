// libFuzzer target for the responder's frame codec: any bytes as one Ethernet frame read from
// the AF_PACKET socket on the uplink, where anyone on the provider's link can send anything.
// libFuzzer hands over an exactly sized heap copy, so AddressSanitizer catches any read past it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"

using namespace ndproxy;

namespace {

std::uint16_t read16(const std::uint8_t* bytes) {
    return static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
}

// What RFC 4861 §7.1.1 requires of an accepted solicitation, checked on the raw bytes
// independently of the parser.
void check_accepted(std::span<const std::uint8_t> frame, const ndp::Solicitation& ns) {
    const std::uint8_t* ip = frame.data() + 14;
    const std::size_t payload = read16(ip + 4);
    const std::uint8_t* icmp = ip + 40;
    const bool valid =
        frame.size() >= 14 + 40 + 24 && read16(frame.data() + 12) == 0x86dd && (ip[0] >> 4) == 6 &&
        ip[6] == 58 && ip[7] == 255 && payload >= 24 && 14 + 40 + payload <= frame.size() &&
        icmp[0] == 135 && icmp[1] == 0 && !ns.target.is_multicast() &&
        (!ns.is_dad() ||
         (ns.destination.is_solicited_node_multicast() && !ns.source_lladdr.has_value()));
    if (!valid) {
        std::abort();
    }
    // What the kernel's IPv6 stack would drop is never accepted: a group address as the
    // Ethernet source (IEEE 802 I/G bit), a multicast IPv6 source (RFC 4291 §2.7).
    if ((frame[6] & 0x01) != 0 || ns.source.is_multicast() || ns.ether_source.bytes[0] & 0x01) {
        std::abort();
    }
    // The checksum covers exactly the payload, with the pseudo-header of the addresses read.
    if (ndp::icmpv6_checksum(ns.source, ns.destination, {icmp, payload}) != 0) {
        std::abort();
    }
}

// Building the same solicitation again (as the daemon's own probes are built) and parsing the
// frame gives the same fields back.
void check_round_trip(const ndp::Solicitation& ns, std::span<const std::uint8_t> frame) {
    MacAddress destination;
    std::copy_n(frame.begin(), 6, destination.bytes.begin());
    const auto icmp = ndp::build_solicitation(ns.target, ns.source_lladdr);
    const auto again = ndp::parse_solicitation_frame(
        ndp::build_icmpv6_frame(ns.ether_source, destination, ns.source, ns.destination, icmp),
        ndp::Delivery::multicast);
    const auto* parsed = std::get_if<ndp::Solicitation>(&again);
    if (parsed == nullptr || parsed->target != ns.target || parsed->source != ns.source ||
        parsed->destination != ns.destination || parsed->ether_source != ns.ether_source ||
        parsed->source_lladdr != ns.source_lladdr) {
        std::abort();
    }
}

// A frame the link did not deliver to this host is dropped for that reason whatever it holds; one
// that it did is judged on its bytes alone, the same whether it came unicast, broadcast or
// multicast.
void check_deliveries(std::span<const std::uint8_t> frame, const ndp::SolicitationOrDrop& parsed) {
    const auto dropped_as = [&](ndp::Delivery delivery, ndp::DropReason expected) {
        const auto result = ndp::parse_solicitation_frame(frame, delivery);
        const auto* reason = std::get_if<ndp::DropReason>(&result);
        return reason != nullptr && *reason == expected;
    };
    if (!dropped_as(ndp::Delivery::to_other_host, ndp::DropReason::other_host) ||
        !dropped_as(ndp::Delivery::outgoing, ndp::DropReason::outgoing)) {
        std::abort();
    }
    for (const ndp::Delivery delivery : {ndp::Delivery::to_host, ndp::Delivery::broadcast}) {
        const auto result = ndp::parse_solicitation_frame(frame, delivery);
        if (result.index() != parsed.index() ||
            (std::holds_alternative<ndp::DropReason>(result) &&
             std::get<ndp::DropReason>(result) != std::get<ndp::DropReason>(parsed))) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    const auto parsed = ndp::parse_solicitation_frame(frame, ndp::Delivery::multicast);
    check_deliveries(frame, parsed);
    if (const auto* reason = std::get_if<ndp::DropReason>(&parsed)) {
        // Every reason is one the stats can name.
        if (static_cast<std::size_t>(*reason) >= ndp::kDropReasonCount ||
            ndp::to_string(*reason) == "unknown") {
            std::abort();
        }
        return 0;
    }
    const auto& ns = std::get<ndp::Solicitation>(parsed);
    check_accepted(frame, ns);
    check_round_trip(ns, frame);
    return 0;
}

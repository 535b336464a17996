#include "core/ndp_types.hpp"

namespace ndproxy::ndp {

std::string_view to_string(DropReason reason) {
    switch (reason) {
        case DropReason::other_host:
            return "other_host";
        case DropReason::outgoing:
            return "outgoing";
        case DropReason::multicast_ether_source:
            return "multicast_ether_source";
        case DropReason::multicast_source:
            return "multicast_source";
        case DropReason::truncated:
            return "truncated";
        case DropReason::not_ipv6:
            return "not_ipv6";
        case DropReason::not_icmpv6:
            return "not_icmpv6";
        case DropReason::not_solicitation:
            return "not_solicitation";
        case DropReason::hop_limit:
            return "hop_limit";
        case DropReason::bad_checksum:
            return "bad_checksum";
        case DropReason::bad_code:
            return "bad_code";
        case DropReason::too_short:
            return "too_short";
        case DropReason::multicast_target:
            return "multicast_target";
        case DropReason::bad_option:
            return "bad_option";
        case DropReason::dad_bad_destination:
            return "dad_bad_destination";
        case DropReason::dad_with_source_lladdr:
            return "dad_with_source_lladdr";
    }
    return "unknown";
}

MacAddress multicast_mac(const Ipv6Address& group) {
    return MacAddress{
        {0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]}};
}

}  // namespace ndproxy::ndp

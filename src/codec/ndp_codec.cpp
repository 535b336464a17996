#include "codec/ndp_codec.hpp"

#include <algorithm>

namespace ndproxy::ndp {
namespace {

constexpr std::size_t kFixedPart = 24;  // type, code, checksum, flags/reserved, target

void append_link_layer_option(std::vector<std::uint8_t>& out, std::uint8_t type,
                              const MacAddress& mac) {
    // RFC 4861 §4.6.1: length is in units of 8 octets; 2 + 6 octets for Ethernet.
    out.push_back(type);
    out.push_back(1);
    out.insert(out.end(), mac.bytes.begin(), mac.bytes.end());
}

std::vector<std::uint8_t> fixed_part(std::uint8_t type, std::uint8_t flags,
                                     const Ipv6Address& target) {
    std::vector<std::uint8_t> out(kFixedPart, 0);
    out[0] = type;
    out[4] = flags;
    std::copy(target.bytes.begin(), target.bytes.end(), out.begin() + 8);
    return out;
}

}  // namespace

std::optional<Advertisement> parse_advertisement(std::span<const std::uint8_t> icmp) {
    // RFC 4861 §7.1.2: code 0, ICMP length 24 or more, target not multicast, every option
    // length non-zero.
    if (icmp.size() < kFixedPart || icmp[0] != kNeighborAdvertisement || icmp[1] != 0) {
        return std::nullopt;
    }
    Advertisement advert;
    advert.target = Ipv6Address::from_bytes(icmp.subspan<8, 16>());
    if (advert.target.is_multicast()) {
        return std::nullopt;
    }
    advert.flags.router = (icmp[4] & 0x80) != 0;
    advert.flags.solicited = (icmp[4] & 0x40) != 0;
    advert.flags.override_flag = (icmp[4] & 0x20) != 0;
    const auto lladdr = scan_options(icmp.subspan(kFixedPart), kOptionTargetLinkLayer);
    if (!lladdr) {
        return std::nullopt;
    }
    advert.target_lladdr = *lladdr;
    return advert;
}

std::optional<std::optional<MacAddress>> scan_options(std::span<const std::uint8_t> options,
                                                      std::uint8_t lladdr_type) {
    std::optional<MacAddress> lladdr;
    while (!options.empty()) {
        if (options.size() < 2 || options[1] == 0 || options[1] * 8u > options.size()) {
            return std::nullopt;
        }
        const std::size_t length = options[1] * 8u;
        // RFC 4861 §4.6.1: on Ethernet the option is 8 octets, the address right after the
        // type and length.
        if (options[0] == lladdr_type && length == 8 && !lladdr) {
            MacAddress mac;
            std::copy_n(options.begin() + 2, 6, mac.bytes.begin());
            lladdr = mac;
        }
        options = options.subspan(length);
    }
    return lladdr;
}

std::vector<std::uint8_t> build_solicitation(const Ipv6Address& target,
                                             const std::optional<MacAddress>& source_lladdr) {
    std::vector<std::uint8_t> out = fixed_part(kNeighborSolicitation, 0, target);
    // RFC 4861 §7.2.2: a multicast solicitation SHOULD carry the sender's link-layer address.
    if (source_lladdr) {
        append_link_layer_option(out, kOptionSourceLinkLayer, *source_lladdr);
    }
    return out;
}

std::vector<std::uint8_t> build_advertisement(const Ipv6Address& target, AdvertisementFlags flags,
                                              const std::optional<MacAddress>& target_lladdr) {
    const auto bits =
        static_cast<std::uint8_t>((flags.router ? 0x80 : 0) | (flags.solicited ? 0x40 : 0) |
                                  (flags.override_flag ? 0x20 : 0));
    std::vector<std::uint8_t> out = fixed_part(kNeighborAdvertisement, bits, target);
    if (target_lladdr) {
        append_link_layer_option(out, kOptionTargetLinkLayer, *target_lladdr);
    }
    return out;
}

}  // namespace ndproxy::ndp

#include "core/ipv6.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>

namespace ndproxy {

std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) {
    // inet_pton needs a terminated string; addresses are short, so a fixed buffer suffices.
    char buffer[INET6_ADDRSTRLEN + 1];
    // An embedded NUL would end inet_pton's string early and pass what follows it over.
    if (text.empty() || text.size() >= sizeof(buffer) ||
        text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    Ipv6Address address;
    if (::inet_pton(AF_INET6, buffer, address.bytes.data()) != 1) {
        return std::nullopt;
    }
    return address;
}

Ipv6Address Ipv6Address::from_bytes(std::span<const std::uint8_t, 16> raw) {
    Ipv6Address address;
    std::copy(raw.begin(), raw.end(), address.bytes.begin());
    return address;
}

std::string Ipv6Address::to_string() const {
    char buffer[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, bytes.data(), buffer, sizeof(buffer));
    return buffer;
}

bool Ipv6Address::is_unspecified() const {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

bool Ipv6Address::is_loopback() const {
    return std::all_of(bytes.begin(), bytes.end() - 1, [](std::uint8_t b) { return b == 0; }) &&
           bytes[15] == 1;
}

bool Ipv6Address::is_global_unicast() const {
    return !is_unspecified() && !is_loopback() && !is_multicast() && !is_link_local();
}

Ipv6Address Ipv6Address::solicited_node() const {
    Ipv6Address group{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0}};
    std::copy(bytes.begin() + 13, bytes.end(), group.bytes.begin() + 13);
    return group;
}

bool Ipv6Address::is_solicited_node_multicast() const {
    const Ipv6Address group = solicited_node();
    return std::equal(bytes.begin(), bytes.begin() + 13, group.bytes.begin());
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    MacAddress mac;
    for (std::size_t i = 0; i < mac.bytes.size(); ++i) {
        const std::size_t at = i * 3;
        if (text.size() < at + 2 || (i < 5 && (text.size() < at + 3 || text[at + 2] != ':'))) {
            return std::nullopt;
        }
        auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 2, mac.bytes[i], 16);
        if (ec != std::errc{} || end != text.data() + at + 2) {
            return std::nullopt;
        }
    }
    if (text.size() != 17) {
        return std::nullopt;
    }
    return mac;
}

std::string MacAddress::to_string() const {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                       bytes[3], bytes[4], bytes[5]);
}

std::optional<Ipv6Prefix> Ipv6Prefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    auto network = Ipv6Address::parse(text.substr(0, slash));
    const std::string_view length_text = text.substr(slash + 1);
    unsigned length = 0;
    auto [end, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (!network || length_text.empty() || ec != std::errc{} ||
        end != length_text.data() + length_text.size() || length > 128) {
        return std::nullopt;
    }
    // Reject host bits: "2001:db8::1/64" is almost always a mistake for "2001:db8::/64".
    for (unsigned bit = length; bit < 128; ++bit) {
        if (network->bytes[bit / 8] & (0x80 >> (bit % 8))) {
            return std::nullopt;
        }
    }
    return Ipv6Prefix{*network, length};
}

Ipv6Prefix Ipv6Prefix::covering(const Ipv6Address& address, unsigned length) {
    Ipv6Prefix prefix{address, std::min(length, 128u)};
    for (unsigned bit = prefix.length; bit < 128; ++bit) {
        prefix.network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return prefix;
}

bool Ipv6Prefix::contains(const Ipv6Address& address) const {
    const unsigned full = length / 8;
    if (!std::equal(network.bytes.begin(), network.bytes.begin() + full, address.bytes.begin())) {
        return false;
    }
    const unsigned rest = length % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (network.bytes[full] & mask) == (address.bytes[full] & mask);
}

std::string Ipv6Prefix::to_string() const {
    return fmt::format("{}/{}", network.to_string(), length);
}

}  // namespace ndproxy

namespace {

// The splitmix64 finaliser: every input bit affects every output bit, so addresses that differ
// only in their last octet (the common case inside one /64) spread over all buckets.
std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Keyed per process, so that a flood of chosen addresses (RFC 6583) cannot aim at one bucket.
const std::uint64_t hash_key =
    std::random_device{}() * 0x9e3779b97f4a7c15ULL + std::random_device{}();

}  // namespace

std::size_t std::hash<ndproxy::Ipv6Address>::operator()(
    const ndproxy::Ipv6Address& a) const noexcept {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, a.bytes.data(), 8);
    std::memcpy(&low, a.bytes.data() + 8, 8);
    return mix(low ^ mix(high ^ hash_key));
}

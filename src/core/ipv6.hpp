#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace ndproxy {

struct Ipv6Address {
    std::array<std::uint8_t, 16> bytes{};

    static std::optional<Ipv6Address> parse(std::string_view text);
    static Ipv6Address from_bytes(std::span<const std::uint8_t, 16> raw);
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] bool is_unspecified() const;
    [[nodiscard]] bool is_multicast() const { return bytes[0] == 0xff; }
    [[nodiscard]] bool is_link_local() const {
        return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
    }
    [[nodiscard]] bool is_loopback() const;
    // RFC 4291 §2.4: everything that is not unspecified, loopback, multicast or link-local.
    // Unique local addresses (fc00::/7) count too: operators route them to VMs the same way.
    [[nodiscard]] bool is_global_unicast() const;
    // RFC 4291 §2.7.1: ff02::1:ffXX:XXXX from the low 24 bits.
    [[nodiscard]] Ipv6Address solicited_node() const;
    [[nodiscard]] bool is_solicited_node_multicast() const;

    auto operator<=>(const Ipv6Address&) const = default;
};

struct MacAddress {
    std::array<std::uint8_t, 6> bytes{};

    static std::optional<MacAddress> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    auto operator<=>(const MacAddress&) const = default;
};

struct Ipv6Prefix {
    Ipv6Address network;
    unsigned length = 0;

    // Accepts "2001:db8::/64"; host bits must be zero so that a typo is not silently widened.
    static std::optional<Ipv6Prefix> parse(std::string_view text);
    // The prefix of `length` bits that contains `address` (its host bits cleared).
    static Ipv6Prefix covering(const Ipv6Address& address, unsigned length);
    [[nodiscard]] bool contains(const Ipv6Address& address) const;
    [[nodiscard]] std::string to_string() const;
    auto operator<=>(const Ipv6Prefix&) const = default;
};

inline constexpr Ipv6Address kAllNodes{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};

}  // namespace ndproxy

template <>
struct std::hash<ndproxy::Ipv6Address> {
    std::size_t operator()(const ndproxy::Ipv6Address& a) const noexcept;
};

template <>
struct fmt::formatter<ndproxy::Ipv6Address> : fmt::formatter<std::string_view> {
    auto format(const ndproxy::Ipv6Address& a, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};

template <>
struct fmt::formatter<ndproxy::MacAddress> : fmt::formatter<std::string_view> {
    auto format(const ndproxy::MacAddress& a, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};

template <>
struct fmt::formatter<ndproxy::Ipv6Prefix> : fmt::formatter<std::string_view> {
    auto format(const ndproxy::Ipv6Prefix& p, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(p.to_string(), ctx);
    }
};

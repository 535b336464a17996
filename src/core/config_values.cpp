#include "core/config_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace ndproxy::config_values {
namespace {

constexpr double kMinSeconds = 0.1;
constexpr double kMaxSeconds = 86400;

}  // namespace

void reject(const Setting& setting, std::string_view reason) {
    if (setting.from_file()) {
        throw ConfigError(fmt::format("{}: invalid {} \"{}\" ({})", setting.where(), setting.key,
                                      setting.value, reason));
    }
    throw ConfigError(
        fmt::format("{}: invalid value \"{}\" ({})", setting.where(), setting.value, reason));
}

bool parse_bool(const Setting& setting) {
    std::string lower = setting.value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true" || lower == "yes" || lower == "1") {
        return true;
    }
    if (lower == "false" || lower == "no" || lower == "0") {
        return false;
    }
    reject(setting, "expected true, false, yes, no, 1 or 0");
}

std::chrono::milliseconds parse_seconds(const Setting& setting) {
    const std::string& text = setting.value;
    double seconds = 0;
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), seconds, std::chars_format::fixed);
    // The negated comparison also rejects NaN.
    if (error != std::errc{} || end != text.data() + text.size() ||
        !(seconds >= kMinSeconds && seconds <= kMaxSeconds)) {
        reject(setting, fmt::format("expected seconds from {} to {}", kMinSeconds, kMaxSeconds));
    }
    return std::chrono::milliseconds(std::llround(seconds * 1000));
}

std::uint64_t parse_unsigned(const Setting& setting, std::uint64_t min, std::uint64_t max) {
    const std::string& text = setting.value;
    std::uint64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc{} || end != text.data() + text.size() || number < min || number > max) {
        reject(setting, fmt::format("expected a whole number from {} to {}", min, max));
    }
    return number;
}

// The kernel's own rules for a device name (dev_valid_name), so a name we accept can exist.
std::string parse_interface(const Setting& setting) {
    const std::string& name = setting.value;
    if (name.empty() || name.size() > 15) {
        reject(setting, "interface names are 1 to 15 characters");
    }
    if (name == "." || name == ".." || std::any_of(name.begin(), name.end(), [](unsigned char c) {
            return c == '/' || c == ':' || std::isspace(c) != 0;
        })) {
        reject(setting, "not a valid interface name");
    }
    return name;
}

// The shortest prefix accepted: a typo such as "2001:db8::/3" would put a sixteenth of the
// internet in scope, and no provider routes more than a /32 to one host.
constexpr unsigned kShortestPrefix = 32;

Ipv6Prefix parse_prefix(const Setting& setting) {
    if (const auto prefix = Ipv6Prefix::parse(setting.value)) {
        if (prefix->length >= 10 && prefix->network.is_link_local()) {
            reject(setting, "link-local addresses are never proxied");
        }
        if (prefix->length >= 8 && prefix->network.is_multicast()) {
            reject(setting, "multicast addresses are never proxied");
        }
        if (prefix->length < kShortestPrefix) {
            reject(setting,
                   fmt::format("shorter than /{}; no host is routed more", kShortestPrefix));
        }
        return *prefix;
    }
    // Host bits are the usual mistake (an address pasted from `ip addr`), so suggest the fix.
    const std::string_view text = setting.value;
    const std::size_t slash = text.find('/');
    const auto address = Ipv6Address::parse(text.substr(0, slash));
    unsigned length = 0;
    const std::string_view length_text = text.substr(std::min(slash + 1, text.size()));
    const auto [end, error] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (slash == std::string_view::npos || !address || length_text.empty() ||
        error != std::errc{} || end != length_text.data() + length_text.size() || length > 128) {
        reject(setting, "expected ADDRESS/LENGTH, e.g. 2001:db8:1::/64");
    }
    Ipv6Address network = *address;
    for (unsigned bit = length; bit < 128; ++bit) {
        network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    reject(setting,
           fmt::format("host bits set; did you mean {}?", Ipv6Prefix{network, length}.to_string()));
}

}  // namespace ndproxy::config_values

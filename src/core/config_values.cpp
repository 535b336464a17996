#include "core/config_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace ndproxy::config_values {
namespace {

constexpr double kMinSeconds = 0.1;
constexpr double kMaxSeconds = 86400;
constexpr std::size_t kMaxNetlinkBuffer = std::size_t{1} << 30;

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

Config build_config(const Settings& settings, const std::string& config_path) {
    const auto single = [&](std::string_view key) -> const Setting* {
        const auto found = settings.find(key);
        return found == settings.end() ? nullptr : &found->second.front();
    };
    const auto flag = [&](std::string_view key) {
        const Setting* setting = single(key);
        return setting != nullptr && parse_bool(*setting);
    };
    Config config;
    config.config_path = config_path;

    const Setting* external = single("external");
    if (external == nullptr) {
        throw ConfigError("missing --external");
    }
    config.external = parse_interface(*external);
    const auto internal = settings.find("internal");
    if (internal == settings.end()) {
        throw ConfigError("missing --internal");
    }
    for (const Setting& setting : internal->second) {
        std::string name = parse_interface(setting);
        if (name == config.external) {
            throw ConfigError(
                fmt::format("{}: \"{}\" is the external interface, it cannot also be "
                            "internal",
                            setting.where(), name));
        }
        if (std::find(config.internal.begin(), config.internal.end(), name) ==
            config.internal.end()) {
            config.internal.push_back(std::move(name));
        }
    }
    if (const auto prefixes = settings.find("prefix"); prefixes != settings.end()) {
        for (const Setting& setting : prefixes->second) {
            const Ipv6Prefix prefix = parse_prefix(setting);
            if (std::find(config.prefixes.begin(), config.prefixes.end(), prefix) ==
                config.prefixes.end()) {
                config.prefixes.push_back(prefix);
            }
        }
    }
    if (const Setting* responder = single("responder")) {
        config.responder =
            parse_choice(*responder, std::array{ResponderMode::off, ResponderMode::known,
                                                ResponderMode::verify, ResponderMode::always});
    }
    if (const Setting* source = single("answer-source")) {
        config.answer_source =
            parse_choice(*source, std::array{AnswerSource::self, AnswerSource::target});
    }
    if (const Setting* level = single("log-level")) {
        config.log_level = parse_choice(
            *level, std::array{LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug});
    }
    if (const Setting* socket = single("control-socket")) {
        if (socket->value.empty()) {
            reject(*socket, "expected a path");
        }
        config.control_socket = socket->value;
    }
    if (const Setting* user = single("user")) {
        if (user->value.empty()) {
            reject(*user, "expected a user name");
        }
        config.user = user->value;
    }
    config.router = flag("router");
    config.announce = !flag("no-announce");
    config.manage_sysctls = !flag("no-sysctl");
    config.flush_on_exit = flag("flush-on-exit");
    config.dry_run = flag("dry-run");
    config.check_config = flag("check-config");

    if (const Setting* setting = single("withdraw-after")) {
        config.withdraw_after = parse_seconds(*setting);
    }
    if (const Setting* setting = single("resync-interval")) {
        config.resync_interval = parse_seconds(*setting);
    }
    if (const Setting* setting = single("announce-count")) {
        config.announce_count = static_cast<unsigned>(parse_unsigned(*setting, 0, 10));
    }
    if (const Setting* setting = single("announce-interval")) {
        config.announce_interval = parse_seconds(*setting);
    }
    if (const Setting* setting = single("netlink-buffer")) {
        config.netlink_buffer = parse_unsigned(*setting, 4096, kMaxNetlinkBuffer);
    }
    // The upper limits only catch typos (an extra digit or two); none is a real capacity.
    if (const Setting* setting = single("max-entries")) {
        config.max_entries = parse_unsigned(*setting, 1, kMaxEntriesCeiling);
    }
    if (const Setting* setting = single("kernel-entries")) {
        config.kernel_entries = parse_unsigned(*setting, 0, kMaxEntriesCeiling);
    }
    if (const Setting* setting = single("max-verifications")) {
        config.max_verifications = parse_unsigned(*setting, 1, 1u << 16);
    }
    if (const Setting* setting = single("negative-cache")) {
        config.negative_cache = parse_unsigned(*setting, 1, 1u << 20);
    }
    if (const Setting* setting = single("answer-rate")) {
        config.answer_rate = static_cast<unsigned>(parse_unsigned(*setting, 1, 10000000));
    }
    if (const Setting* setting = single("answer-rate-total")) {
        // Spent in windows of 100 ms: below 10 a window would have no answer to give.
        config.answer_rate_total = static_cast<unsigned>(parse_unsigned(*setting, 10, 10000000));
    }
    if (const Setting* setting = single("max-control-clients")) {
        // Each client is a file descriptor; systemd's default soft limit is 1024.
        config.max_control_clients = parse_unsigned(*setting, 1, 512);
    }
    if (const Setting* setting = single("max-addresses-per-mac")) {
        config.max_addresses_per_mac = parse_unsigned(*setting, 1, kMaxEntriesCeiling);
    }
    if (const Setting* setting = single("new-addresses-per-minute")) {
        config.new_addresses_per_minute =
            static_cast<unsigned>(parse_unsigned(*setting, 1, 1000000));
    }
    // Scope is explicit: without a prefix a VM could make the host claim, and announce with
    // the override flag, any global address it shows up with, other customers' included.
    // Checked last, so that a file's value errors are reported first.
    if (config.prefixes.empty()) {
        throw ConfigError("missing --prefix");
    }
    return config;
}

}  // namespace ndproxy::config_values

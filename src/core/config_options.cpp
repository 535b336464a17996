#include "core/config_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <sstream>
#include <type_traits>

#include "core/link_tracker.hpp"

namespace ndproxy::config_options {
namespace {

using config_values::parse_bool;
using config_values::parse_choice;
using config_values::parse_interface;
using config_values::parse_prefix;
using config_values::parse_seconds;
using config_values::parse_unsigned;
using config_values::reject;

constexpr std::uint64_t kMaxNetlinkBuffer = std::uint64_t{1} << 30;

// Config's own default for the field, so that --help cannot show another.
template <auto Field>
std::string shown_value() {
    return fmt::format("{}", Config{}.*Field);
}

// A flag; `Sets` is what giving it puts into the field (--no-announce: announce = false).
template <auto Field, bool Sets = true>
constexpr Binding boolean() {
    return {[](Config& config, std::span<const Setting> settings) {
        config.*Field = parse_bool(settings.front()) == Sets;
    }};
}

template <auto Field, std::uint64_t Min, std::uint64_t Max>
constexpr Binding whole_number() {
    return {[](Config& config, std::span<const Setting> settings) {
                using Field_type = std::remove_cvref_t<decltype(config.*Field)>;
                config.*Field = static_cast<Field_type>(parse_unsigned(settings.front(), Min, Max));
            },
            &shown_value<Field>, nullptr, Min, Max};
}

template <auto Field>
constexpr Binding seconds() {
    return {
        [](Config& config, std::span<const Setting> settings) {
            config.*Field = parse_seconds(settings.front());
        },
        [] { return fmt::format("{}", std::chrono::duration<double>(Config{}.*Field).count()); }};
}

// One of `Choices`, by its to_string() name.
template <auto Field, auto... Choices>
constexpr Binding choice() {
    return {[](Config& config, std::span<const Setting> settings) {
                config.*Field = parse_choice(settings.front(), std::array{Choices...});
            },
            [] { return std::string(to_string(Config{}.*Field)); },
            [] { return fmt::format("{}", fmt::join(std::array{to_string(Choices)...}, " | ")); }};
}

// An option parsed by a function of its own; `shown_default` for its {default}.
constexpr Binding custom(void (*apply)(Config&, std::span<const Setting>),
                         std::string (*shown_default)() = nullptr) {
    return {apply, shown_default};
}

// An option parse_command_line acts on before any Config is built (config.cpp).
constexpr Binding read_first(std::string (*shown_default)() = nullptr) {
    return {nullptr, shown_default};
}

// Several uplinks: each serves the prefixes that name it with `via` (docs/design.md §Uplinks).
void apply_external(Config& config, std::span<const Setting> settings) {
    for (const Setting& setting : settings) {
        std::string name = parse_interface(setting);
        if (std::find(config.externals.begin(), config.externals.end(), name) !=
            config.externals.end()) {
            throw ConfigError(fmt::format("{}: the external interface \"{}\" is given twice",
                                          setting.where(), name));
        }
        if (config.externals.size() == kMaxUplinks) {
            throw ConfigError(
                fmt::format("{}: more than {} external interfaces", setting.where(), kMaxUplinks));
        }
        config.externals.push_back(std::move(name));
    }
    config.external = config.externals.front();
}

// After --external, which the table lists first.
void apply_internal(Config& config, std::span<const Setting> settings) {
    for (const Setting& setting : settings) {
        std::string name = parse_interface(setting);
        for (const std::string& external : config.externals) {
            if (name == external) {
                throw ConfigError(fmt::format(
                    "{}: \"{}\" is {} external interface, it cannot also be internal",
                    setting.where(), name, config.externals.size() == 1 ? "the" : "an"));
            }
            // A pattern that matched an uplink would make it internal the moment it appears.
            if (interface_matches(name, external)) {
                throw ConfigError(
                    fmt::format("{}: the pattern \"{}\" matches the external interface \"{}\"",
                                setting.where(), name, external));
            }
        }
        if (std::find(config.internal.begin(), config.internal.end(), name) ==
            config.internal.end()) {
            config.internal.push_back(std::move(name));
        }
    }
}

// Whether `name` (a name or a pattern from `on`) is one of the internal interfaces: named,
// given as a pattern, or a name a pattern matches.
bool names_internal(const Config& config, const std::string& name) {
    return std::any_of(
        config.internal.begin(), config.internal.end(),
        [&](const std::string& internal) { return interface_matches(internal, name); });
}

// The words after the prefix: "on IFACE,..." and "via IFACE", each at most once, in either
// order.
struct PrefixWords {
    std::vector<std::string> on;
    std::string via;
};

PrefixWords read_prefix_words(const Config& config, const Setting& setting,
                              std::istringstream& words) {
    PrefixWords read;
    bool seen_on = false;
    for (std::string word; words >> word;) {
        std::string list;
        const bool repeated = word == "on" ? seen_on : !read.via.empty();
        if ((word != "on" && word != "via") || repeated || !(words >> list)) {
            reject(setting, "expected PREFIX [on IFACE,...] [via IFACE]");
        }
        if (word == "via") {
            if (std::find(config.externals.begin(), config.externals.end(), list) ==
                config.externals.end()) {
                reject(setting, fmt::format("\"{}\" is not {} external interface", list,
                                            config.externals.size() == 1 ? "the" : "an"));
            }
            read.via = list;
            continue;
        }
        seen_on = true;
        std::istringstream names(list);
        for (std::string name; std::getline(names, name, ',');) {
            if (name.empty() || !names_internal(config, name)) {
                reject(setting,
                       fmt::format("\"{}\" is not an internal interface (--internal)", name));
            }
            read.on.push_back(name);
        }
    }
    if (read.via.empty()) {
        if (config.externals.size() > 1) {
            reject(setting, "several external interfaces: name this prefix's with \"via IFACE\"");
        }
        read.via = config.external;
    }
    return read;
}

bool overlap(const Ipv6Prefix& a, const Ipv6Prefix& b) {
    return a.length <= b.length ? a.contains(b.network) : b.contains(a.network);
}

// "PREFIX [on IFACE,...] [via IFACE]", after --external and --internal.
void apply_prefix(Config& config, std::span<const Setting> settings) {
    for (const Setting& setting : settings) {
        std::istringstream words(setting.value);
        Setting prefix_text = setting;
        words >> prefix_text.value;
        const Ipv6Prefix prefix = parse_prefix(prefix_text);
        PrefixWords read = read_prefix_words(config, setting, words);
        // An address is proxied on one uplink: two that both answer for it would each draw
        // the other's traffic.
        for (const auto& [other, uplink] : config.via) {
            if (uplink != read.via && overlap(prefix, other)) {
                reject(setting, fmt::format("overlaps {}, which {} serves; a prefix has one uplink",
                                            other.to_string(), uplink));
            }
        }
        if (config.via.contains(prefix)) {
            continue;  // given twice: the first says where it applies
        }
        config.prefixes.push_back(prefix);
        config.via.emplace(prefix, std::move(read.via));
        if (!read.on.empty()) {
            config.bindings.push_back({prefix, std::move(read.on)});
        }
    }
}

void apply_control_socket(Config& config, std::span<const Setting> settings) {
    if (settings.front().value.empty()) {
        reject(settings.front(), "expected a path");
    }
    config.control_socket = settings.front().value;
}

void apply_state_file(Config& config, std::span<const Setting> settings) {
    if (settings.front().value.empty()) {
        reject(settings.front(), "expected a path");
    }
    config.state_file = settings.front().value;
}

void apply_user(Config& config, std::span<const Setting> settings) {
    if (settings.front().value.empty()) {
        reject(settings.front(), "expected a user name");
    }
    config.user = settings.front().value;
}

using enum Kind;
using enum Scope;
using enum Group;
using enum Need;

// The upper limits of the counts only catch typos (an extra digit or two); none is a real
// capacity.
constexpr auto kOptions = std::to_array<OptionSpec>({
    {"config", 'c', value, command_line_only, general, optional, "PATH",
     "configuration file (default {default}; a missing default file is fine)",
     read_first(&shown_value<&Config::config_path>)},
    {"external", 'e', repeatable, anywhere, general, required, "IFACE",
     "the uplink (required); repeat for several, each prefix then names its own with "
     "\"via IFACE\"",
     custom(&apply_external)},
    {"internal", 'i', repeatable, anywhere, general, required, "IFACE",
     "an interface the VMs sit behind, or a glob pattern (tap*); repeat for several (required)",
     custom(&apply_internal)},
    // Scope is explicit: without a prefix a VM could make the host claim, and announce with
    // the override flag, any global address it shows up with, other customers' included.
    {"prefix", 'p', repeatable, anywhere, general, required_last, "PREFIX",
     "proxy only inside PREFIX (at least one, /32 or longer; required); repeat for several; "
     "\"PREFIX on IFACE,...\" only behind those internal interfaces; \"PREFIX via IFACE\" "
     "served by that uplink",
     custom(&apply_prefix)},
    {"responder", 0, value, anywhere, general, optional, "MODE", "{choices} (default {default})",
     choice<&Config::responder, ResponderMode::off, ResponderMode::known, ResponderMode::verify,
            ResponderMode::always>()},
    {"router", 0, flag, anywhere, general, optional, "", "set the router flag in answers",
     boolean<&Config::router>()},
    {"answer-source", 0, value, anywhere, general, optional, "SRC",
     "{choices}: IPv6 source of the responder's answers (default {default})",
     choice<&Config::answer_source, AnswerSource::self, AnswerSource::target>()},
    {"fast-path", 0, value, anywhere, general, optional, "MODE",
     "{choices}: drop in the kernel, before they reach the daemon, the solicitations it would "
     "only drop; xdp also answers the proxied addresses on the uplink's generic XDP hook "
     "(xdp-native: the driver's); all but off need CAP_BPF at startup, auto is filter "
     "where it can be had (default {default}; read at startup only)",
     choice<&Config::fast_path, FastPath::off, FastPath::filter, FastPath::xdp,
            FastPath::xdp_native, FastPath::automatic>()},
    {"no-announce", 0, flag, anywhere, general, optional, "",
     "do not send unsolicited advertisements for new entries", boolean<&Config::announce, false>()},
    {"no-sysctl", 0, flag, anywhere, general, optional, "", "do not change sysctls, only warn",
     boolean<&Config::manage_sysctls, false>()},
    {"control-socket", 0, value, anywhere, general, optional, "PATH", "default {default}",
     custom(&apply_control_socket, &shown_value<&Config::control_socket>)},
    {"state-file", 0, value, anywhere, general, optional, "PATH",
     "where the addresses the responder answers are kept, so that a restart does not "
     "announce them again (default {default})",
     custom(&apply_state_file, &shown_value<&Config::state_file>)},
    {"user", 0, value, anywhere, general, optional, "NAME",
     "started as root, run as NAME with only CAP_NET_ADMIN and CAP_NET_RAW; root: stay root "
     "(default {default}, if that user exists)",
     custom(&apply_user, [] { return std::string(kDefaultUser); })},
    {"flush-on-exit", 0, flag, anywhere, general, optional, "", "withdraw owned entries at exit",
     boolean<&Config::flush_on_exit>()},
    {"dry-run", 0, flag, anywhere, general, optional, "", "log what would change, change nothing",
     boolean<&Config::dry_run>()},
    {"check-config", 0, flag, command_line_only, general, optional, "",
     "validate the configuration and exit", boolean<&Config::check_config>()},
    {"log-level", 0, value, anywhere, general, optional, "LEVEL", "{choices} (default {default})",
     choice<&Config::log_level, LogLevel::error, LogLevel::warn, LogLevel::info,
            LogLevel::debug>()},
    {"version", 'V', flag, command_line_only, general, optional, "", "print the version and exit",
     read_first()},
    {"help", 'h', flag, command_line_only, general, optional, "", "print this help and exit",
     read_first()},
    {"withdraw-after", 0, value, anywhere, tuning, optional, "SECONDS",
     "how long a vanished address must stay silent to our probes before its entry is withdrawn "
     "(default {default})",
     seconds<&Config::withdraw_after>()},
    {"resync-interval", 0, value, anywhere, tuning, optional, "SECONDS",
     "re-read the kernel's proxy table this often (default {default})",
     seconds<&Config::resync_interval>()},
    {"announce-count", 0, value, anywhere, tuning, optional, "N",
     "unsolicited advertisements per new entry, {min} to {max} (default {default})",
     whole_number<&Config::announce_count, 0, 10>()},
    {"announce-interval", 0, value, anywhere, tuning, optional, "SECONDS",
     "time between those advertisements (default {default})",
     seconds<&Config::announce_interval>()},
    // docs/design.md §Announcements: why 200.
    {"announce-rate", 0, value, anywhere, tuning, optional, "N",
     "most unsolicited advertisements per second on each uplink; changed addresses go first "
     "(default {default})",
     whole_number<&Config::announce_rate, 1, 100000>()},
    {"netlink-buffer", 0, value, anywhere, tuning, optional, "BYTES",
     "receive buffer of the netlink event socket, at least {min} (default {default})",
     whole_number<&Config::netlink_buffer, 4096, kMaxNetlinkBuffer>()},
    {"max-entries", 0, value, anywhere, tuning, optional, "N",
     "most proxy entries the daemon keeps; new addresses beyond it are not proxied "
     "(default {default})",
     whole_number<&Config::max_entries, 1, kMaxEntriesCeiling>()},
    {"kernel-entries", 0, value, anywhere, tuning, optional, "N",
     "most addresses answered by kernel proxy entries; the responder answers the rest, "
     "0 for none (default {default}; unlimited with --responder off)",
     whole_number<&Config::kernel_entries, 0, kMaxEntriesCeiling>()},
    {"max-verifications", 0, value, anywhere, tuning, optional, "N",
     "most responder verifications in flight (default {default})",
     whole_number<&Config::max_verifications, 1, 1u << 16>()},
    {"negative-cache", 0, value, anywhere, tuning, optional, "N",
     "most targets remembered as verified absent (default {default})",
     whole_number<&Config::negative_cache, 1, 1u << 20>()},
    {"answer-rate", 0, value, anywhere, tuning, optional, "N",
     "most responder answers per second to one source, told apart by its Ethernet and IPv6 "
     "addresses (default {default})",
     whole_number<&Config::answer_rate, 1, 10000000>()},
    // Spent in windows of 100 ms: below 10 a window would have no answer to give.
    {"answer-rate-total", 0, value, anywhere, tuning, optional, "N",
     "most responder answers per second in all, shared fairly between sources "
     "(default {default})",
     whole_number<&Config::answer_rate_total, 10, 10000000>()},
    // Each client is a file descriptor; systemd's default soft limit is 1024.
    {"max-control-clients", 0, value, anywhere, tuning, optional, "N",
     "most control-socket clients at once (default {default})",
     whole_number<&Config::max_control_clients, 1, 512>()},
    {"max-addresses-per-mac", 0, value, anywhere, tuning, optional, "N",
     "most addresses one VM (MAC) may have proxied (default {default})",
     whole_number<&Config::max_addresses_per_mac, 1, kMaxEntriesCeiling>()},
    {"new-addresses-per-minute", 0, value, anywhere, tuning, optional, "N",
     "most new addresses one VM (MAC) may add per minute, in a burst of as many "
     "(default {default})",
     whole_number<&Config::new_addresses_per_minute, 1, 1000000>()},
});

}  // namespace

std::span<const OptionSpec> options() {
    return kOptions;
}

const OptionSpec* find_option(std::string_view name) {
    const auto found = std::find_if(kOptions.begin(), kOptions.end(),
                                    [&](const OptionSpec& spec) { return spec.name == name; });
    return found == kOptions.end() ? nullptr : &*found;
}

std::string help_of(const OptionSpec& spec) {
    const Binding& binding = spec.binding;
    return fmt::format(
        fmt::runtime(spec.help),
        fmt::arg("default", binding.shown_default ? binding.shown_default() : std::string()),
        fmt::arg("choices", binding.choices ? binding.choices() : std::string()),
        fmt::arg("min", binding.min), fmt::arg("max", binding.max));
}

Config build_config(const Settings& settings, const std::string& config_path) {
    Config config;
    config.config_path = config_path;
    const auto given = [&](const OptionSpec& spec) -> std::span<const Setting> {
        const auto found = settings.find(spec.name);
        return found == settings.end() ? std::span<const Setting>() : found->second;
    };
    for (const OptionSpec& spec : kOptions) {
        const std::span<const Setting> values = given(spec);
        if (values.empty() && spec.need == required) {
            throw ConfigError(fmt::format("missing --{}", spec.name));
        }
        if (!values.empty() && spec.binding.apply != nullptr) {
            spec.binding.apply(config, values);
        }
    }
    for (const OptionSpec& spec : kOptions) {
        if (spec.need == required_last && given(spec).empty()) {
            throw ConfigError(fmt::format("missing --{}", spec.name));
        }
    }
    return config;
}

}  // namespace ndproxy::config_options

// libFuzzer target for the configuration file: any bytes as the text of ndproxyd.conf. The file
// is the administrator's, but a typo, a stray binary or an editor's backup file must still end
// in a clean error that names the file and the line, never in a crash or a stray exception.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

using namespace ndproxy;

namespace {

constexpr const char* kPath = "fuzz.conf";

// Every error about the file's content names "fuzz.conf:LINE:" with a line the file has; the
// only other errors are the three required settings missing altogether.
void check_error(std::string_view text, std::string_view message) {
    if (message == "missing --external" || message == "missing --internal" ||
        message == "missing --prefix") {
        return;
    }
    const std::string_view prefix = "fuzz.conf:";
    if (!message.starts_with(prefix)) {
        std::abort();
    }
    message.remove_prefix(prefix.size());
    std::size_t line = 0;
    std::size_t digits = 0;
    while (digits < message.size() && message[digits] >= '0' && message[digits] <= '9') {
        line = line * 10 + static_cast<std::size_t>(message[digits] - '0');
        ++digits;
    }
    const std::size_t lines =
        1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    if (digits == 0 || digits >= message.size() || message[digits] != ':' || line == 0 ||
        line > lines) {
        std::abort();
    }
}

void check_config(const Config& config) {
    if (config.external.empty() || config.internal.empty() || config.prefixes.empty() ||
        config.max_entries == 0 || config.max_verifications == 0 || config.negative_cache == 0 ||
        config.answer_rate == 0 || config.max_control_clients == 0 ||
        config.netlink_buffer < 4096) {
        std::abort();
    }
    for (const Ipv6Prefix& prefix : config.prefixes) {
        if (prefix.length < 32) {
            std::abort();
        }
    }
    if (config.externals.empty() || config.externals.front() != config.external ||
        config.externals.size() > kMaxUplinks || config.via.size() != config.prefixes.size()) {
        std::abort();
    }
    for (const std::string& name : config.internal) {
        if (std::find(config.externals.begin(), config.externals.end(), name) !=
            config.externals.end()) {
            std::abort();
        }
    }
    // Every prefix is served by one of the uplinks, and prefixes of two uplinks never overlap.
    for (const auto& [prefix, uplink] : config.via) {
        if (std::find(config.externals.begin(), config.externals.end(), uplink) ==
            config.externals.end()) {
            std::abort();
        }
        for (const auto& [other, other_uplink] : config.via) {
            if (other_uplink != uplink &&
                (prefix.contains(other.network) || other.contains(prefix.network))) {
                std::abort();
            }
        }
    }
}

void parse(std::string_view text, const std::vector<std::string>& arguments) {
    try {
        check_config(parse_config_text(text, kPath, arguments));
    } catch (const ConfigError& error) {
        check_error(text, error.what());
    }
    // Anything else thrown escapes, and libFuzzer reports it as a crash.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    parse(text, {});
    // Again with the interfaces given on the command line, as the systemd unit may, so that a
    // file without them still gets its other lines checked.
    parse(text, {"-e", "eth0", "-i", "br0"});
    return 0;
}

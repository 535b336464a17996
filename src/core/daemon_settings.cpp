#include "core/daemon_settings.hpp"

#include <algorithm>

namespace ndproxy {
namespace {

std::vector<Ipv6Prefix> prefixes_via(const Config& config, std::string_view uplink) {
    std::vector<Ipv6Prefix> prefixes;
    std::copy_if(config.prefixes.begin(), config.prefixes.end(), std::back_inserter(prefixes),
                 [&](const Ipv6Prefix& prefix) {
                     const auto found = config.via.find(prefix);
                     // A Config built by hand may leave `via` out: then the first uplink's.
                     return found == config.via.end() ? uplink == config.external
                                                      : found->second == uplink;
                 });
    return prefixes;
}

}  // namespace

ServiceSettings service_settings(const Config& config) {
    ServiceSettings settings;
    settings.external = config.external;
    settings.internal = config.internal;
    settings.bindings = config.bindings;
    settings.router = config.router;
    settings.dry_run = config.dry_run;
    settings.announce_rate = config.announce_rate;
    settings.mirror.prefixes = config.prefixes;
    settings.mirror.withdraw_after = config.withdraw_after;
    settings.mirror.announce_count = config.announce ? config.announce_count : 0;
    settings.mirror.announce_interval = config.announce_interval;
    settings.mirror.max_entries = config.max_entries;
    settings.mirror.mac_quota = {config.max_addresses_per_mac, config.new_addresses_per_minute};
    // Without the responder nobody would answer for entries beyond the kernel's share.
    settings.mirror.kernel_entries =
        config.responder == ResponderMode::off ? config.max_entries : config.kernel_entries;
    return settings;
}

ResponderServiceSettings responder_settings(const Config& config) {
    ResponderServiceSettings settings;
    settings.policy.mode = config.responder;
    settings.policy.prefixes = config.prefixes;
    settings.policy.max_verifications = config.max_verifications;
    settings.policy.max_negative = config.negative_cache;
    settings.policy.limits.per_source = config.answer_rate;
    settings.policy.limits.total = config.answer_rate_total;
    settings.router = config.router;
    settings.answer_source = config.answer_source;
    return settings;
}

ServiceSettings service_settings(const Config& config, std::string_view uplink) {
    ServiceSettings settings = service_settings(config);
    settings.external = std::string(uplink);
    settings.mirror.prefixes = prefixes_via(config, uplink);
    std::erase_if(settings.bindings, [&](const PrefixBinding& binding) {
        return std::find(settings.mirror.prefixes.begin(), settings.mirror.prefixes.end(),
                         binding.prefix) == settings.mirror.prefixes.end();
    });
    return settings;
}

ResponderServiceSettings responder_settings(const Config& config, std::string_view uplink) {
    ResponderServiceSettings settings = responder_settings(config);
    settings.policy.prefixes = prefixes_via(config, uplink);
    return settings;
}

}  // namespace ndproxy

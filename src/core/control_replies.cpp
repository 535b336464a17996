#include "core/control_replies.hpp"

#include <algorithm>

namespace ndproxy::control {
namespace {

double seconds(Duration duration) {
    return std::chrono::duration<double>(duration).count();
}

nlohmann::json link_json(const TrackedLink& link) {
    nlohmann::json json{{"name", link.name}, {"up", link.up}};
    json["ifindex"] = link.present() ? nlohmann::json(link.ifindex) : nlohmann::json(nullptr);
    return json;
}

}  // namespace

nlohmann::json stats_payload(const MirrorService& service, const ResponderService& responder) {
    const MirrorCounters& mirror = service.policy().counters();
    const ServiceCounters& io = service.counters();
    const ResponderStats& answers = responder.stats();
    const ResponderCounters& verification = responder.policy().counters();
    nlohmann::json dropped = nlohmann::json::object();
    for (std::size_t i = 0; i < answers.invalid.size(); ++i) {
        if (answers.invalid[i] != 0) {
            dropped[std::string(ndp::to_string(static_cast<ndp::DropReason>(i)))] =
                answers.invalid[i];
        }
    }
    // Valid solicitations the responder left alone, by why; "answered" and "verifying" are
    // not drops.
    for (std::size_t i = 0; i < answers.outcomes.size(); ++i) {
        const auto outcome = static_cast<Outcome>(i);
        if (answers.outcomes[i] != 0 && outcome != Outcome::answered &&
            outcome != Outcome::verifying) {
            dropped[std::string(to_string(outcome))] = answers.outcomes[i];
        }
    }
    return {
        {"neighbours_seen", mirror.neighbours_seen},
        {"entries", service.policy().entries().size()},
        {"kernel_entries", service.policy().kernel_path_count()},
        {"responder_entries", service.policy().responder_path_count()},
        {"entries_added", mirror.entries_added},
        {"entries_withdrawn", mirror.entries_withdrawn},
        {"entries_limit", mirror.entries_limit},
        {"mac_address_limit", mirror.mac_address_limit},
        {"mac_rate_limit", mirror.mac_rate_limit},
        {"kernel_promotions", mirror.kernel_promotions},
        {"kernel_demotions", mirror.kernel_demotions},
        {"address_conflicts", mirror.address_conflicts},
        {"conflict_defences", mirror.conflict_defences},
        {"defences_held_off", mirror.defences_held_off},
        {"claims_held_off", mirror.claims_held_off},
        {"probes_sent", io.probes_sent},
        {"probe_answers", mirror.probe_answers},
        {"announcements_sent", io.announcements_sent},
        {"resyncs", io.resyncs},
        {"netlink_overflows", io.netlink_overflows},
        {"proxy_repairs", mirror.proxy_repairs},
        {"kernel_errors", io.kernel_errors},
        {"send_errors", io.send_errors},
        {"ns_received", answers.ns_received},
        {"ns_answered", answers.ns_answered},
        {"ns_dropped", dropped},
        {"answer_errors", answers.send_errors},
        {"ns_socket_drops", answers.socket_drops},
        {"ns_backlogs", answers.backlogs},
        {"answer_budget", responder.policy().answer_budget()},
        {"groups_limit", answers.groups_limit},
        {"verifications", verification.verifications},
        {"verified", verification.verified},
        {"verification_misses", verification.verification_misses},
        {"verifications_in_flight", responder.policy().verifications_in_flight()},
        {"negative_cache", responder.policy().negative_cache_size()},
        {"negative_cache_evictions", verification.negative_evictions},
    };
}

nlohmann::json status_payload(const MirrorService& service, const Config& config, Duration uptime) {
    nlohmann::json internal = nlohmann::json::array();
    for (const TrackedLink& link : service.links().internal()) {
        internal.push_back(link_json(link));
    }
    nlohmann::json prefixes = nlohmann::json::array();
    for (const Ipv6Prefix& prefix : config.prefixes) {
        prefixes.push_back(prefix.to_string());
    }
    return {
        {"version", NDPROXY_VERSION},
        {"uptime", seconds(uptime)},
        {"external", link_json(service.links().external())},
        {"internal", internal},
        {"prefixes", prefixes},
        {"responder", to_string(config.responder)},
        {"router", config.router},
        {"announce", config.announce},
        {"dry_run", config.dry_run},
        {"manage_sysctls", config.manage_sysctls},
        {"entries", service.policy().entries().size()},
        {"kernel_entries", service.policy().kernel_path_count()},
        {"responder_entries", service.policy().responder_path_count()},
        {"kernel_ceiling", service.policy().settings().kernel_entries},
    };
}

std::string status_line(const MirrorService& service) {
    const TrackedLink& external = service.links().external();
    const std::size_t entries = service.policy().entries().size();
    return fmt::format("{} {} on {}{}, {} in the kernel, {} answered by the responder", entries,
                       entries == 1 ? "entry" : "entries", external.name,
                       external.present() ? "" : " (waiting for it)",
                       service.policy().kernel_path_count(),
                       service.policy().responder_path_count());
}

}  // namespace ndproxy::control

#include "core/control_replies.hpp"

#include <algorithm>

#include "core/stats_table.hpp"

namespace ndproxy::control {
namespace {

double seconds(Duration duration) {
    return std::chrono::duration<double>(duration).count();
}

nlohmann::json link_json(const TrackedLink& link) {
    nlohmann::json json{{"name", link.name}, {"up", link.up}};
    if (!link.pattern.empty()) {
        json["pattern"] = link.pattern;
    }
    json["ifindex"] = link.present() ? nlohmann::json(link.ifindex) : nlohmann::json(nullptr);
    return json;
}

// The ns_dropped object: solicitations the responder read and did not answer, by reason.
nlohmann::json dropped_json(const ResponderStats& answers) {
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
    return dropped;
}

nlohmann::json value_of(stats::Id id, const MirrorService& service,
                        const ResponderService& responder, const ControlCounters& control) {
    const MirrorPolicy& policy = service.policy();
    const MirrorCounters& mirror = policy.counters();
    const ServiceCounters& io = service.counters();
    const ResponderStats& answers = responder.stats();
    const ResponderCounters& verification = responder.policy().counters();
    using stats::Id;
    switch (id) {
        case Id::neighbours_seen:
            return mirror.neighbours_seen;
        case Id::entries_added:
            return mirror.entries_added;
        case Id::entries_withdrawn:
            return mirror.entries_withdrawn;
        case Id::kernel_promotions:
            return mirror.kernel_promotions;
        case Id::kernel_demotions:
            return mirror.kernel_demotions;
        case Id::probes_sent:
            return io.probes_sent;
        case Id::probe_answers:
            return mirror.probe_answers;
        case Id::announcements_sent:
            return io.announcements_sent;
        case Id::announcements_delayed:
            return service.pacer().counters().delayed;
        case Id::announcements_dropped:
            return service.pacer().counters().dropped;
        case Id::address_conflicts:
            return mirror.address_conflicts;
        case Id::conflict_defences:
            return mirror.conflict_defences;
        case Id::defences_held_off:
            return mirror.defences_held_off;
        case Id::claims_held_off:
            return mirror.claims_held_off;
        case Id::ns_received:
            return answers.ns_received;
        case Id::ns_filtered:
            return answers.ns_filtered;
        case Id::ns_xdp:
            return answers.ns_xdp;
        case Id::ns_answered:
            return answers.ns_answered;
        case Id::ns_dropped:
            return dropped_json(answers);
        case Id::ns_socket_drops:
            return answers.socket_drops;
        case Id::ns_backlogs:
            return answers.backlogs;
        case Id::verifications:
            return verification.verifications;
        case Id::verified:
            return verification.verified;
        case Id::verification_misses:
            return verification.verification_misses;
        case Id::negative_cache_evictions:
            return verification.negative_evictions;
        case Id::resyncs:
            return io.resyncs;
        case Id::netlink_overflows:
            return io.netlink_overflows;
        case Id::proxy_repairs:
            return mirror.proxy_repairs;
        case Id::kernel_errors:
            return io.kernel_errors;
        case Id::send_errors:
            return io.send_errors;
        case Id::answer_errors:
            return answers.send_errors;
        case Id::entries_limit:
            return mirror.entries_limit;
        case Id::mac_address_limit:
            return mirror.mac_address_limit;
        case Id::interface_refused:
            return mirror.interface_refused;
        case Id::mac_rate_limit:
            return mirror.mac_rate_limit;
        case Id::routes_limit:
            return mirror.routes_limit;
        case Id::groups_limit:
            return answers.groups_limit;
        case Id::control_clients_rejected:
            return control.clients_rejected;
        case Id::control_requests_refused:
            return control.requests_refused;
        case Id::monitor_events_dropped:
            return control.events_dropped;
        case Id::entries:
            return policy.entries().size();
        case Id::kernel_entries:
            return policy.kernel_path_count();
        case Id::responder_entries:
            return policy.responder_path_count();
        case Id::routed_blocks:
            return policy.routed_blocks().size();
        case Id::verifications_in_flight:
            return responder.policy().verifications_in_flight();
        case Id::negative_cache:
            return responder.policy().negative_cache_size();
        case Id::answer_budget:
            return responder.policy().answer_budget();
        case Id::announcements_waiting:
            return service.pacer().waiting();
    }
    return nullptr;  // not reached: the switch names every Id
}

void add_routed_blocks(nlohmann::json& blocks, const MirrorService& service) {
    for (const auto& routed : service.policy().routed_blocks().blocks()) {
        const auto& [block, ifindex] = routed.first;
        const TrackedLink* link = service.links().internal_by_index(ifindex);
        blocks.push_back({{"prefix", block.to_string()},
                          {"interface", link != nullptr ? link->name : ""},
                          {"origin", "route"}});
    }
}

// Seconds since the last solicitation for each prefix (null: none since the start), or null as
// a whole while the responder reads none (off, --dry-run, the uplink missing).
nlohmann::json solicitations_json(const ResponderService& responder,
                                  const std::vector<Ipv6Prefix>& prefixes, TimePoint now) {
    if (!responder.listening()) {
        return nullptr;
    }
    nlohmann::json seen = nlohmann::json::object();
    for (const Ipv6Prefix& prefix : prefixes) {
        const auto last = responder.last_solicitation(prefix);
        seen[prefix.to_string()] = last ? nlohmann::json(seconds(now - *last)) : nullptr;
    }
    return seen;
}

// Counters and levels add up over the uplinks; the drops add up reason by reason.
void add_to(nlohmann::json& sum, const nlohmann::json& value) {
    if (sum.is_null()) {
        sum = value;
    } else if (sum.is_object() && value.is_object()) {
        for (const auto& [key, count] : value.items()) {
            add_to(sum[key], count);
        }
    } else if (sum.is_number_unsigned() && value.is_number_unsigned()) {
        sum = sum.get<std::uint64_t>() + value.get<std::uint64_t>();
    }
}

}  // namespace

nlohmann::json stats_payload(std::span<const UplinkView> uplinks, const ControlCounters& control) {
    nlohmann::json payload = nlohmann::json::object();
    for (const stats::Metric& metric : stats::kTable) {
        nlohmann::json& sum = payload[std::string(metric.name)];
        bool first = true;
        for (const UplinkView& uplink : uplinks) {
            // The control socket's counters, once: they are the daemon's, not an uplink's.
            add_to(sum, value_of(metric.id, uplink.service, uplink.responder,
                                 first ? control : ControlCounters{}));
            first = false;
        }
    }
    return payload;
}

nlohmann::json stats_payload(const MirrorService& service, const ResponderService& responder,
                             const ControlCounters& control) {
    const UplinkView uplink{service, responder};
    return stats_payload(std::span(&uplink, 1), control);
}

nlohmann::json status_payload(std::span<const UplinkView> uplinks, const Config& config,
                              Duration uptime, TimePoint now) {
    nlohmann::json status = status_payload(uplinks.front().service, config, uptime);
    std::size_t entries = 0;
    std::size_t kernel = 0;
    std::size_t responder = 0;
    nlohmann::json list = nlohmann::json::array();
    for (const UplinkView& uplink : uplinks) {
        const MirrorPolicy& policy = uplink.service.policy();
        if (&uplink != &uplinks.front()) {  // the first's are in already
            add_routed_blocks(status["routed_blocks"], uplink.service);
        }
        entries += policy.entries().size();
        kernel += policy.kernel_path_count();
        responder += policy.responder_path_count();
        nlohmann::json json = link_json(uplink.service.links().external());
        nlohmann::json prefixes = nlohmann::json::array();
        for (const Ipv6Prefix& prefix : policy.settings().prefixes) {
            prefixes.push_back(prefix.to_string());
        }
        json["prefixes"] = std::move(prefixes);
        json["solicitations"] =
            solicitations_json(uplink.responder, policy.settings().prefixes, now);
        json["fast_path"] = to_string(uplink.responder.fast_path());
        json["entries"] = policy.entries().size();
        json["kernel_entries"] = policy.kernel_path_count();
        json["responder_entries"] = policy.responder_path_count();
        list.push_back(std::move(json));
    }
    status["entries"] = entries;
    status["kernel_entries"] = kernel;
    status["responder_entries"] = responder;
    status["uplinks"] = std::move(list);
    status["fast_path"] = to_string(uplinks.front().responder.fast_path());
    return status;
}

nlohmann::json status_payload(const MirrorService& service, const Config& config, Duration uptime) {
    nlohmann::json internal = nlohmann::json::array();
    for (const TrackedLink& link : service.links().internal()) {
        internal.push_back(link_json(link));
    }
    nlohmann::json patterns = nlohmann::json::array();
    for (const std::string& name : config.internal) {
        if (is_interface_pattern(name)) {
            patterns.push_back(name);
        }
    }
    nlohmann::json prefixes = nlohmann::json::array();
    for (const Ipv6Prefix& prefix : config.prefixes) {
        prefixes.push_back(prefix.to_string());
    }
    nlohmann::json blocks = nlohmann::json::array();
    add_routed_blocks(blocks, service);
    nlohmann::json bindings = nlohmann::json::object();
    for (const PrefixBinding& binding : config.bindings) {
        bindings[binding.prefix.to_string()] = binding.interfaces;
    }
    return {
        {"version", NDPROXY_VERSION},
        {"uptime", seconds(uptime)},
        {"external", link_json(service.links().external())},
        {"internal", internal},
        {"internal_patterns", patterns},
        {"prefixes", prefixes},
        {"prefix_bindings", bindings},
        {"routed_blocks", blocks},
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

std::string status_line(std::span<const UplinkView> uplinks) {
    std::string line;
    for (const UplinkView& uplink : uplinks) {
        line += (line.empty() ? "" : "; ") + status_line(uplink.service);
    }
    return line;
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

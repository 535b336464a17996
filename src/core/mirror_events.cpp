// The mirror service's events for `ndproxyctl monitor` (core/monitor_events.hpp): what the
// policy did to the table, the bounds it hit and the conflicts it saw, as the service executes
// its actions.

#include "core/mirror_service.hpp"
#include "core/stats_table.hpp"

namespace ndproxy {
namespace {

monitor::Event bound_hit(stats::Id counter, const std::optional<Ipv6Address>& address) {
    monitor::Event event{monitor::Kind::bound, address};
    event.details["counter"] = stats::kTable[static_cast<std::size_t>(counter)].name;
    return event;
}

nlohmann::ordered_json name_or_null(const TrackedLink* link) {
    return link != nullptr ? nlohmann::ordered_json(link->name) : nlohmann::ordered_json(nullptr);
}

}  // namespace

void MirrorService::set_monitor(monitor::Sink* sink) {
    monitor_ = sink;
    policy_.record_changes(sink != nullptr);
    routes_limit_published_ = policy_.counters().routes_limit;
}

void MirrorService::publish_events(const Actions& actions) {
    const std::vector<TableChange> changes = policy_.take_changes();
    const std::uint64_t routes_limit = policy_.counters().routes_limit;
    const std::uint64_t routes_refused = routes_limit - routes_limit_published_;
    routes_limit_published_ = routes_limit;
    if (monitor_ == nullptr || !monitor_->active()) {
        return;
    }
    for (const TableChange& change : changes) {
        if (change.refused) {
            monitor_->publish(bound_hit(stats::Id::entries_limit, change.address));
            continue;
        }
        monitor::Event event{monitor::Kind::added, change.address};
        if (change.to == Path::pending) {
            event.kind = monitor::Kind::withdrawn;
            event.details["path"] = to_string(change.from);
        } else if (change.from != Path::pending) {
            event.kind =
                change.to == Path::kernel ? monitor::Kind::promoted : monitor::Kind::demoted;
        } else {
            const auto found = policy_.entries().find(change.address);
            const MirrorEntry* entry = found != policy_.entries().end() ? &found->second : nullptr;
            event.details["origin"] = to_string(entry ? entry->origin : Origin::mirror);
            event.details["path"] = to_string(change.to);
            event.details["interface"] =
                name_or_null(entry ? links_.internal_by_index(entry->ifindex) : nullptr);
            event.details["lladdr"] = entry && entry->lladdr
                                          ? nlohmann::ordered_json(entry->lladdr->to_string())
                                          : nlohmann::ordered_json(nullptr);
        }
        monitor_->publish(std::move(event));
    }
    for (const Action& action : actions) {
        if (const auto* mac = std::get_if<action::MacRefused>(&action)) {
            monitor::Event event = bound_hit(mac->verdict == MacVerdict::too_many_addresses
                                                 ? stats::Id::mac_address_limit
                                                 : stats::Id::mac_rate_limit,
                                             mac->address);
            event.details["lladdr"] = mac->mac.to_string();
            monitor_->publish(std::move(event));
        } else if (const auto* wrong = std::get_if<action::InterfaceRefused>(&action)) {
            monitor::Event event = bound_hit(stats::Id::interface_refused, wrong->address);
            event.details["interface"] = name_or_null(links_.internal_by_index(wrong->ifindex));
            monitor_->publish(std::move(event));
        } else if (const auto* conflict = std::get_if<action::Conflict>(&action)) {
            monitor::Event event{monitor::Kind::conflict, conflict->address};
            event.details["claimed_by"] =
                conflict->claimant ? nlohmann::ordered_json(conflict->claimant->to_string())
                                   : nlohmann::ordered_json(nullptr);
            event.details["interface"] = name_or_null(links_.internal_by_index(conflict->ifindex));
            monitor_->publish(std::move(event));
        } else if (const auto* over = std::get_if<action::ConflictOver>(&action)) {
            monitor_->publish({monitor::Kind::conflict_over, over->address});
        }
    }
    if (routes_refused > 0) {
        // The policy does not say which routes; the count does.
        monitor::Event event = bound_hit(stats::Id::routes_limit, std::nullopt);
        event.details["count"] = routes_refused;
        monitor_->publish(std::move(event));
    }
}

}  // namespace ndproxy

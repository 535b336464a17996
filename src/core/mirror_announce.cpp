// Announcements (docs/design.md §Announcements): the mirror announces changes, not state, and
// its service sends them at the pace of --announce-rate, changes first.

#include "core/log.hpp"
#include "core/mirror_service.hpp"

namespace ndproxy {

void MirrorPolicy::start_announcing(MirrorEntry& entry, unsigned count, TimePoint now,
                                    Actions& out) {
    // RFC 4861 §7.2.6: up to MAX_NEIGHBOR_ADVERTISEMENT unsolicited advertisements, so that
    // caches still pointing at another host's MAC (a VM that migrated here) switch at once.
    if (count == 0) {
        return;
    }
    out.push_back(action::Announce{entry.address});
    entry.announcements_left = count - 1;
    entry.next_announcement = now + settings_.announce_interval;
    reschedule(entry);
}

std::optional<Actions> MirrorPolicy::announce(const Ipv6Address& address, unsigned count,
                                              TimePoint now) {
    auto found = entries_.find(address);
    if (found == entries_.end()) {
        return std::nullopt;
    }
    Actions out;
    start_announcing(found->second, count, now, out);
    return out;
}

bool MirrorService::announce(const Ipv6Address& address, unsigned count, TimePoint now) {
    const std::optional<Actions> actions = policy_.announce(address, count, now);
    if (actions) {
        log::info("announcing {} on request", address);
        execute(*actions, now);
    }
    return actions.has_value();
}

std::size_t MirrorService::announce_all(unsigned count, TimePoint now) {
    std::vector<Ipv6Address> addresses;
    addresses.reserve(policy_.entries().size());
    for (const auto& [address, entry] : policy_.entries()) {
        if (entry.path != Path::pending) {
            addresses.push_back(address);
        }
    }
    const std::size_t swept = addresses.size();
    log::info("announcing all {} addresses on {}, {} times each, at up to {} a second", swept,
              links_.external().name, count, pacer_.rate());
    pacer_.sweep(std::move(addresses), count, settings_.mirror.announce_interval, now);
    execute({}, now);
    return swept;
}

void MirrorService::announce_new_uplink_mac(TimePoint now) {
    // RFC 4861 §7.2.6: a node whose link-layer address changed tells its neighbours. Every
    // address we answer for now has the uplink's new MAC, and caches hold the old one.
    const TrackedLink& external = links_.external();
    if (!external.present() || !external.lladdr) {
        return;
    }
    const bool changed = uplink_mac_ && *uplink_mac_ != *external.lladdr;
    uplink_mac_ = external.lladdr;
    if (changed && settings_.mirror.announce_count > 0) {
        log::info("{} has a new MAC address, {}", external.name, external.lladdr->to_string());
        announce_all(settings_.mirror.announce_count, now);
    }
}

std::optional<TimePoint> MirrorService::next_wakeup() const {
    const auto policy = policy_.next_wakeup();
    const auto pacer = pacer_.next_wakeup();
    if (!policy || !pacer) {
        return policy ? policy : pacer;
    }
    return std::min(*policy, *pacer);
}

void MirrorService::send_due_announcements(TimePoint now) {
    // Withdrawn while waiting: announcing it now would draw traffic nobody forwards.
    const auto answered = [this](const Ipv6Address& address) {
        const auto found = policy_.entries().find(address);
        return found != policy_.entries().end() && found->second.path != Path::pending;
    };
    for (const Ipv6Address& address : pacer_.take(now, answered)) {
        send_announcement(address);
    }
    // Once per backlog: a queue this long means changes are arriving faster than the pace.
    const std::size_t queued = pacer_.queued();
    if (queued == 0) {
        backlog_logged_ = false;
    } else if (!backlog_logged_ && queued > pacer_.rate() * kBacklogSeconds) {
        backlog_logged_ = true;
        log::warn(
            "{} unsolicited advertisements wait on {}, more than {} s at --announce-rate {}; "
            "counted as announcements_delayed, and beyond {} as announcements_dropped",
            queued, links_.external().name, kBacklogSeconds, pacer_.rate(), pacer_.queue_limit());
    }
}

void MirrorService::send_announcement(const Ipv6Address& address) {
    const TrackedLink& external = links_.external();
    if (settings_.dry_run || !external.present()) {
        return;
    }
    // RFC 4861 §7.2.6: unsolicited, to all-nodes, S clear; O set so that caches holding another
    // host's MAC for this address (a VM that migrated here) switch to ours.
    const ndp::Advertisement advert{address, {settings_.router, false, true}, external.lladdr};
    if (packets_.send_advertisement(external.ifindex, kAllNodes, advert)) {
        ++counters_.announcements_sent;
    } else {
        ++counters_.send_errors;
    }
}

}  // namespace ndproxy

#include "core/mirror_policy.hpp"

#include <algorithm>

namespace ndproxy {

std::string_view to_string(Origin origin) {
    switch (origin) {
        case Origin::mirror:
            return "mirror";
        case Origin::responder:
            return "responder";
        case Origin::verified:
            return "verified";
        case Origin::route:
            return "route";
    }
    return "mirror";
}

std::string_view to_string(Path path) {
    switch (path) {
        case Path::pending:
            return "pending";
        case Path::kernel:
            return "kernel";
        case Path::responder:
            return "responder";
    }
    return "pending";
}

std::string_view nud_state_name(std::uint16_t state) {
    if (state & nud::permanent)
        return "permanent";
    if (state & nud::noarp)
        return "noarp";
    if (state & nud::reachable)
        return "reachable";
    if (state & nud::stale)
        return "stale";
    if (state & nud::delay)
        return "delay";
    if (state & nud::probe)
        return "probe";
    if (state & nud::failed)
        return "failed";
    if (state & nud::incomplete)
        return "incomplete";
    return "none";
}

bool MirrorPolicy::in_scope(const Ipv6Address& address) const {
    if (!address.is_global_unicast() || own_addresses_.contains(address)) {
        return false;
    }
    // No prefix, no scope: the configuration requires one, and an empty list fails closed.
    return std::any_of(settings_.prefixes.begin(), settings_.prefixes.end(),
                       [&](const Ipv6Prefix& prefix) { return prefix.contains(address); });
}

bool MirrorPolicy::allowed_on(const Ipv6Address& address, int ifindex) const {
    return allowed_on(Ipv6Prefix{address, 128}, ifindex);
}

bool MirrorPolicy::admissible_on(const Ipv6Address& address, int ifindex, Actions& out) {
    if (allowed_on(address, ifindex)) {
        return true;
    }
    ++counters_.interface_refused;
    out.push_back(action::InterfaceRefused{address, ifindex});
    return false;
}

Actions MirrorPolicy::on_neighbour(const NeighbourUpdate& update, TimePoint now) {
    Actions out;
    if (!in_scope(update.address) || outlived_its_route(update)) {
        return out;
    }
    ++counters_.neighbours_seen;
    if (!update.deleted && nud_vouches_alive(update.state)) {
        if (!admissible_on(update.address, update.ifindex, out)) {
            return out;
        }
        if (MirrorEntry* entry = admit(update.address, update.lladdr, now, out)) {
            entry->nud_state = update.state;
            if (!shows_alive(*entry, update.state)) {
                return out;
            }
            // Speaking here again while we were confirming it gone: it may have been behind
            // another host meanwhile (migrated there and back), whose announcements the
            // upstream router followed. An answer to our probe, by contrast, says only that
            // it never left, so on_advertisement() does not announce; nor does a VM that
            // answers while another host claims it, which make_live() defends instead.
            // Only after its neighbour went: one confirmed because nothing vouched for it (adopted
            // at the start, or verified and checked on the slow timer) never left.
            const bool returned = entry->gone_since.has_value() && entry->vanished &&
                                  entry->path != Path::pending && !entry->claim.confirming;
            entry->answered = false;
            make_live(*entry, update.ifindex, update.lladdr, now, out);
            if (returned) {
                start_announcing(*entry, settings_.announce_count, now, out);
            }
        }
        return out;
    }
    auto found = entries_.find(update.address);
    // A stale report from an interface the address has since moved away from says nothing.
    if (found == entries_.end() ||
        (found->second.ifindex != 0 && found->second.ifindex != update.ifindex)) {
        return out;
    }
    MirrorEntry& entry = found->second;
    entry.nud_state = update.deleted ? nud::none : update.state;
    // The kernel deletes idle entries after gc_stale_time and marks unanswered ones FAILED;
    // neither proves the VM is gone (docs/design.md §Withdrawal), so ask it ourselves.
    if (update.deleted || (update.state & nud::failed)) {
        // The kernel's entry from before a claim is gone: whatever the VM says next is fresh,
        // and said while we confirm it gone, it is a return, whichever came first, the claim
        // or the deletion.
        entry.claim.confirming = false;
        entry.vanished = true;
        start_confirming_gone(entry, now, out);
    }
    return out;
}

Actions MirrorPolicy::on_advertisement(int ifindex, const Ipv6Address& target,
                                       const std::optional<MacAddress>& lladdr, TimePoint now) {
    Actions out;
    auto found = entries_.find(target);
    if (found == entries_.end() || !in_scope(target) || !admissible_on(target, ifindex, out)) {
        return out;
    }
    if (found->second.gone_since) {
        ++counters_.probe_answers;
    }
    found->second.answered = true;
    make_live(found->second, ifindex, lladdr, now, out);
    return out;
}

bool MirrorPolicy::kernel_answers(const Ipv6Address& address) const {
    if (foreign_proxies_.contains(address)) {
        return true;
    }
    const auto found = entries_.find(address);
    return found != entries_.end() && found->second.in_kernel;
}

Actions MirrorPolicy::on_verified(int ifindex, const Ipv6Address& address,
                                  const std::optional<MacAddress>& lladdr, TimePoint now) {
    Actions out;
    if (!in_scope(address) || !admissible_on(address, ifindex, out)) {
        return out;
    }
    const bool fresh = !entries_.contains(address);
    MirrorEntry* entry = admit(address, lladdr, now, out);
    if (entry == nullptr) {
        return out;
    }
    if (fresh) {
        entry->origin = Origin::verified;
    }
    entry->answered = true;
    make_live(*entry, ifindex, lladdr, now, out);
    return out;
}

Actions MirrorPolicy::on_own_address(const AddressUpdate& update) {
    Actions out;
    fast_path_.note(update.address);
    if (update.deleted) {
        own_addresses_.erase(update.address);
        return out;
    }
    own_addresses_.insert(update.address);
    // The host now answers for this address itself; a proxy entry would only shadow it.
    if (entries_.contains(update.address)) {
        withdraw(update.address, out);
        rebalance(out);
    }
    return out;
}

Actions MirrorPolicy::set_probing_possible(bool possible, TimePoint now) {
    Actions out;
    const bool resuming = possible && probing_paused_;
    probing_paused_ = !possible;
    for (auto& [address, entry] : entries_) {
        if (!entry.gone_since) {
            continue;
        }
        if (resuming) {
            entry.gone_since.reset();
            start_confirming_gone(entry, now, out);
        } else {
            reschedule(entry);
        }
    }
    return out;
}

Actions MirrorPolicy::on_interface_gone(int ifindex, TimePoint now) {
    Actions out;
    // The kernel deletes the link's routes and says so; should that word be lost, the routes
    // go here all the same.
    for (auto route = routes_.begin(); route != routes_.end();) {
        if (route->ifindex == ifindex) {
            const RouteKey gone = *route;
            route = routes_.erase(route);
            unfollow(gone, out);
        } else {
            ++route;
        }
    }
    for (auto& [address, entry] : entries_) {
        if (entry.ifindex == ifindex) {
            entry.nud_state = nud::none;
            entry.vanished = true;
            start_confirming_gone(entry, now, out);
        }
    }
    return out;
}

void MirrorPolicy::on_install_failed(const Ipv6Address& address) {
    if (auto found = entries_.find(address); found != entries_.end()) {
        set_in_kernel(found->second, false);
    }
}

void MirrorPolicy::on_foreign_proxy(const Ipv6Address& address) {
    foreign_proxies_.insert(address);
    fast_path_.note(address);
    on_install_failed(address);
}

Actions MirrorPolicy::on_timer(TimePoint now) {
    Actions out;
    while (!wakeups_.empty() && wakeups_.begin()->first <= now) {
        const Ipv6Address address = wakeups_.begin()->second;
        wakeups_.erase(wakeups_.begin());
        auto found = entries_.find(address);
        if (found == entries_.end()) {
            continue;
        }
        found->second.scheduled = TimePoint::max();
        run_timers(found->second, now, out);
    }
    rebalance(out);
    return out;
}

std::optional<TimePoint> MirrorPolicy::next_wakeup() const {
    if (wakeups_.empty()) {
        return std::nullopt;
    }
    return wakeups_.begin()->first;
}

std::size_t MirrorPolicy::kernel_entry_count() const {
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& item) { return item.second.in_kernel; }));
}

void MirrorPolicy::make_live(MirrorEntry& entry, int ifindex,
                             const std::optional<MacAddress>& lladdr, TimePoint now, Actions& out) {
    entry.ifindex = ifindex;
    if (lladdr && lladdr != entry.lladdr) {
        if (entry.lladdr) {
            quota_.release(*entry.lladdr);
        }
        quota_.charge(*lladdr);
        entry.lladdr = lladdr;
    }
    if (entry.gone_since && entry.claim.confirming) {
        note_conflict(entry, ifindex, now, out);
    }
    entry.claim.confirming = false;
    entry.gone_since.reset();
    entry.vanished = false;
    if (entry.path == Path::pending || (entry.path == Path::kernel && !entry.in_kernel)) {
        install(entry, now, out);
    }
    reschedule(entry);
}

void MirrorPolicy::install(MirrorEntry& entry, TimePoint now, Actions& out) {
    if (foreign_proxies_.contains(entry.address)) {
        // The administrator's entry already answers; writing ours would take it over, since
        // the kernel replaces a proxy entry's protocol in place.
        set_in_kernel(entry, false);
        return;
    }
    const bool fresh = entry.path == Path::pending;
    if (fresh) {
        set_path(entry, kernel_path_ < settings_.kernel_entries ? Path::kernel : Path::responder);
    }
    if (entry.path == Path::kernel) {
        out.push_back(action::Install{entry.address});
        set_in_kernel(entry, true);
        ++counters_.entries_added;
    }
    // Whoever answers later, kernel or responder, the announcement is ours to make; but only
    // for an address that arrived while we run (docs/design.md §Announcements). Putting back
    // a kernel entry that vanished changes nothing upstream.
    if (fresh && entry.new_here) {
        start_announcing(entry, settings_.announce_count, now, out);
    }
    reschedule(entry);
}

void MirrorPolicy::start_confirming_gone(MirrorEntry& entry, TimePoint now, Actions& out) {
    // A routed address stays while its route does, whatever the neighbour table says.
    if (entry.gone_since || entry.origin == Origin::route) {
        return;
    }
    // RFC 7048: a single unanswered solicitation proves nothing, so probe with exponential
    // back-off until `withdraw_after` has passed.
    entry.gone_since = now;
    // The rest of its announcements would pull the router back here, away from the host the
    // VM may have moved to.
    entry.announcements_left = 0;
    // At least three probes however short withdraw_after is.
    entry.probe_gap = std::min(settings_.first_probe_gap, settings_.withdraw_after / 4);
    entry.next_probe = now + entry.probe_gap;
    out.push_back(action::Probe{entry.address, 0});
    reschedule(entry);
}

void MirrorPolicy::withdraw(const Ipv6Address& address, Actions& out) {
    auto found = entries_.find(address);
    if (found == entries_.end()) {
        return;
    }
    if (found->second.in_kernel) {
        out.push_back(action::Withdraw{address});
        ++counters_.entries_withdrawn;
    }
    forget(found);
}

void MirrorPolicy::run_timers(MirrorEntry& entry, TimePoint now, Actions& out) {
    if (entry.announcements_left > 0 && entry.next_announcement <= now) {
        out.push_back(action::Announce{entry.address, true});
        --entry.announcements_left;
        entry.next_announcement = now + settings_.announce_interval;
    }
    run_claim_timers(entry, now, out);
    if (entry.gone_since && !probing_paused_) {
        if (now - *entry.gone_since >= settings_.withdraw_after) {
            withdraw(entry.address, out);
            return;
        }
        if (entry.next_probe <= now) {
            out.push_back(action::Probe{entry.address, 0});
            entry.probe_gap *= 2;
            entry.next_probe = now + entry.probe_gap;
        }
    }
    reschedule(entry);
}

void MirrorPolicy::reschedule(MirrorEntry& entry) {
    TimePoint next = claim_deadline(entry);
    if (entry.announcements_left > 0) {
        next = std::min(next, entry.next_announcement);
    }
    if (entry.gone_since && !probing_paused_) {
        next = std::min({next, entry.next_probe, *entry.gone_since + settings_.withdraw_after});
    }
    if (next == entry.scheduled) {
        return;
    }
    wakeups_.erase({entry.scheduled, entry.address});
    entry.scheduled = next;
    if (next != TimePoint::max()) {
        wakeups_.emplace(next, entry.address);
    }
}

}  // namespace ndproxy

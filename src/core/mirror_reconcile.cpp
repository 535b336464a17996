#include <algorithm>
#include <unordered_set>
#include <vector>

#include "core/mirror_policy.hpp"

// The mark-and-sweep half of the mirror (docs/design.md §Mirror, §Ownership and §Netlink):
// bringing what the policy holds in line with complete views of the kernel, and with new
// settings.

namespace ndproxy {

Actions MirrorPolicy::reconcile(const KernelSnapshot& snapshot, TimePoint now) {
    Actions out;
    // The start's state is not news to the router: nothing admitted now is announced.
    quiet_ = !started_;
    started_ = true;
    refused_since_reconcile_ = false;
    own_addresses_ = {snapshot.own_addresses.begin(), snapshot.own_addresses.end()};
    fast_path_.note_everything();
    // Entries the configuration no longer covers are forgotten here; if the kernel still holds
    // them, adopt_or_withdraw() below withdraws them.
    std::unordered_set<Ipv6Address> misplaced;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (!in_scope(it->first)) {
            it = forget(it);
            continue;
        }
        // Behind a present link none of its prefixes applies to any more (a reload bound them
        // elsewhere): withdrawn below, so that adopt_or_withdraw() does not take it back.
        // Behind a link that went, it is confirmed gone by probing (§Withdrawal).
        const int ifindex = it->second.ifindex;
        if (!bound_.empty() && !allowed_on(it->first, ifindex) &&
            std::find(internal_links_.begin(), internal_links_.end(), ifindex) !=
                internal_links_.end()) {
            misplaced.insert(it->first);
        }
        ++it;
    }
    for (const Ipv6Address& address : misplaced) {
        withdraw(address, out);
    }
    foreign_proxies_ = {snapshot.proxies.foreign.begin(), snapshot.proxies.foreign.end()};
    std::unordered_set<Ipv6Address> present(snapshot.proxies.owned.begin(),
                                            snapshot.proxies.owned.end());
    for (auto& [address, entry] : entries_) {
        set_in_kernel(entry, present.contains(address));
        if (entry.in_kernel) {
            set_path(entry, Path::kernel);  // whatever the ceiling; rebalance() sees to it
        }
    }
    reconcile_routes(snapshot.routes, snapshot.neighbours, now, out);
    std::unordered_set<Ipv6Address> vouched;
    for (const NeighbourUpdate& neighbour : snapshot.neighbours) {
        const auto leftover = unrouted_.find(neighbour.address);
        if (!neighbour.deleted && nud_vouches_alive(neighbour.state) &&
            in_scope(neighbour.address) && allowed_on(neighbour.address, neighbour.ifindex) &&
            (leftover == unrouted_.end() || leftover->second != neighbour.ifindex)) {
            vouched.insert(neighbour.address);
        }
    }
    // What just went (misplaced, or its route gone) is not to be adopted back below.
    for (const Action& action : out) {
        if (const auto* withdrawn = std::get_if<action::Withdraw>(&action)) {
            misplaced.insert(withdrawn->address);
        }
    }
    std::vector<Ipv6Address> owned = snapshot.proxies.owned;
    std::erase_if(owned, [&](const Ipv6Address& address) { return misplaced.contains(address); });
    // Mark: neighbours the kernel vouches for are live, and get an entry if they lack one.
    for (const NeighbourUpdate& neighbour : snapshot.neighbours) {
        if (!vouched.contains(neighbour.address)) {
            continue;
        }
        MirrorEntry* entry = admit(neighbour.address, neighbour.lladdr, now, out);
        if (entry == nullptr) {
            continue;  // full; adopt_or_withdraw() removes it if an earlier run installed it
        }
        set_in_kernel(*entry, present.contains(neighbour.address));
        if (entry->in_kernel) {
            set_path(*entry, Path::kernel);
        }
        entry->nud_state = neighbour.state;
        // A dump says what the kernel holds, not that the VM spoke since another host claimed
        // the address (an entry stays REACHABLE for up to 45 s): the probes decide those.
        if (!entry->claim.confirming) {
            make_live(*entry, neighbour.ifindex, neighbour.lladdr, now, out);
        }
    }
    // Everything else we know of has lost its neighbour while we were not looking.
    for (auto& [address, entry] : entries_) {
        if (!vouched.contains(address)) {
            entry.vanished = entry.vanished || nud_vouches_alive(entry.nud_state);
            entry.nud_state = nud::none;
            start_confirming_gone(entry, now, out);
        }
    }
    adopt_or_withdraw(owned, now, out);
    if (quiet_) {
        adopt_remembered(now, out);
    }
    remembered_ = {};
    // Entries that are wanted but missing from the kernel go (back) in.
    for (auto& [address, entry] : entries_) {
        if (entry.path == Path::pending || (entry.path == Path::kernel && !entry.in_kernel)) {
            install(entry, now, out);
        }
    }
    rebalance(out);
    quiet_ = false;
    return out;
}

Actions MirrorPolicy::sync_proxy_table(const ProxyTable& table, TimePoint now) {
    Actions out;
    std::unordered_set<Ipv6Address> foreign(table.foreign.begin(), table.foreign.end());
    for (const auto& [changed, other] :
         {std::pair{&foreign, &foreign_proxies_}, std::pair{&foreign_proxies_, &foreign}}) {
        for (const Ipv6Address& address : *changed) {
            if (!other->contains(address)) {
                fast_path_.note(address);
            }
        }
    }
    foreign_proxies_ = std::move(foreign);
    std::unordered_set<Ipv6Address> present(table.owned.begin(), table.owned.end());
    adopt_or_withdraw(table.owned, now, out);
    for (auto& [address, entry] : entries_) {
        if (present.contains(address)) {
            set_in_kernel(entry, true);
            set_path(entry, Path::kernel);
            continue;
        }
        if (entry.path == Path::responder) {
            continue;
        }
        // Proxy entries vanish without a netlink event (administrative link-down flushes them,
        // and so does `ip neigh flush proxy`), so this is the only place we notice.
        if (entry.in_kernel) {
            ++counters_.proxy_repairs;
        }
        set_in_kernel(entry, false);
        install(entry, now, out);
    }
    rebalance(out);
    return out;
}

Actions MirrorPolicy::withdraw_all() {
    Actions out;
    std::vector<Ipv6Address> all;
    all.reserve(entries_.size());
    for (const auto& [address, entry] : entries_) {
        all.push_back(address);
    }
    for (const Ipv6Address& address : all) {
        withdraw(address, out);
    }
    return out;
}

Actions MirrorPolicy::reconfigure(MirrorSettings settings) {
    Actions out;
    settings_ = std::move(settings);
    quota_.reconfigure(settings_.mac_quota);  // bounds on what comes next; nothing is dropped
    std::vector<Ipv6Address> leaving;
    for (const auto& [address, entry] : entries_) {
        if (!in_scope(address)) {
            leaving.push_back(address);
        }
    }
    for (const Ipv6Address& address : leaving) {
        withdraw(address, out);
    }
    rebalance(out);
    return out;
}

void MirrorPolicy::adopt_or_withdraw(std::span<const Ipv6Address> owned_proxies, TimePoint now,
                                     Actions& out) {
    for (const Ipv6Address& address : owned_proxies) {
        if (entries_.contains(address)) {
            continue;
        }
        if (!in_scope(address)) {
            // Ours, but the configuration no longer covers it.
            out.push_back(action::Withdraw{address});
            ++counters_.entries_withdrawn;
            continue;
        }
        // Left by an earlier run: keep it while we find out whether the VM is still there, so
        // that a restart never flaps a live entry.
        MirrorEntry* entry = admit(address, std::nullopt, now, out);
        if (entry == nullptr) {
            // No room (--max-entries was lowered): an entry we cannot track would be left
            // behind stale, so it goes.
            out.push_back(action::Withdraw{address});
            ++counters_.entries_withdrawn;
            continue;
        }
        set_in_kernel(*entry, true);
        set_path(*entry, Path::kernel);
        start_confirming_gone(*entry, now, out);
    }
}

void MirrorPolicy::adopt_remembered(TimePoint now, Actions& out) {
    for (const Ipv6Address& address : remembered_) {
        if (entries_.contains(address) || !in_scope(address) ||
            foreign_proxies_.contains(address)) {
            continue;
        }
        MirrorEntry* entry = admit(address, std::nullopt, now, out);
        if (entry == nullptr) {
            return;  // full: the rest come back when a VM speaks or a verification finds them
        }
        start_confirming_gone(*entry, now, out);
    }
}

Actions MirrorPolicy::confirm_unvouched(TimePoint now) {
    Actions out;
    for (auto& [address, entry] : entries_) {
        if (!entry.gone_since && !nud_vouches_alive(entry.nud_state)) {
            start_confirming_gone(entry, now, out);
        }
    }
    return out;
}

}  // namespace ndproxy

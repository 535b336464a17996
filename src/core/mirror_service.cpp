#include "core/mirror_service.hpp"

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "core/kernel_rows.hpp"
#include "core/log.hpp"

namespace ndproxy {

MirrorService::MirrorService(ServiceSettings settings, KernelPort& kernel, PacketPort& packets,
                             ExternalHook on_external)
    : settings_(std::move(settings)),
      kernel_(kernel),
      packets_(packets),
      on_external_(std::move(on_external)),
      links_(settings_.external, settings_.internal),
      policy_(settings_.mirror),
      pacer_(settings_.announce_rate) {}

void MirrorService::full_resync(TimePoint now) {
    ++counters_.resyncs;
    const LinkTracker::Change change =
        links_.rebuild(only<LinkUpdate>(kernel_.dump(KernelTable::links)));
    for (const int ifindex : change.internal_gone) {
        execute(policy_.on_interface_gone(ifindex, now), now);
    }
    const TrackedLink& external = links_.external();
    log_presence(external, "external");
    if (external.ifindex != external_hooked_ifindex_) {
        external_hooked_ifindex_ = external.ifindex;
        if (on_external_) {
            on_external_(external);
        }
    }
    bool any_internal = false;  // where a probe can be answered
    for (const TrackedLink& link : links_.internal()) {
        log_presence(link, "internal");
        any_internal = any_internal || (link.present() && !link.without_discovery);
    }
    forget_departed_links();
    execute(policy_.set_probing_possible(any_internal, now), now);

    KernelSnapshot snapshot;
    addresses_.clear();
    for (const AddressUpdate& address : only<AddressUpdate>(kernel_.dump(KernelTable::addresses))) {
        note_address(address);
        snapshot.own_addresses.push_back(address.address);
    }
    for (NeighbourUpdate& neighbour :
         only<NeighbourUpdate>(kernel_.dump(KernelTable::neighbours))) {
        if (resolves_neighbours(neighbour.ifindex)) {
            snapshot.neighbours.push_back(std::move(neighbour));
        }
    }
    for (RouteUpdate& route : only<RouteUpdate>(kernel_.dump(KernelTable::routes))) {
        if (links_.is_internal(route.ifindex)) {
            snapshot.routes.push_back(route);
        }
    }
    snapshot.proxies = read_proxy_table();
    bind_prefixes();
    execute(policy_.reconcile(snapshot, now), now);
    rewrite_router_flags();
    announce_new_uplink_mac(now);
}

void MirrorService::on_kernel_readable(TimePoint now) {
    KernelPort::Drained drained = kernel_.read_events();
    if (drained.overflowed) {
        // docs/design.md §Netlink: notifications were lost, so what we hold may be wrong.
        ++counters_.netlink_overflows;
        log::warn("netlink notifications were lost (ENOBUFS); resynchronising");
        full_resync(now);
        return;
    }
    bool resync = false;
    for (const KernelEvent& event : drained.events) {
        if (const auto* neighbour = std::get_if<NeighbourUpdate>(&event)) {
            if (resolves_neighbours(neighbour->ifindex)) {
                execute(policy_.on_neighbour(*neighbour, now), now);
            }
        } else if (const auto* route = std::get_if<RouteUpdate>(&event)) {
            execute(policy_.on_route(*route, now), now);
        } else if (const auto* link = std::get_if<LinkUpdate>(&event)) {
            const LinkTracker::Change change = links_.apply(*link);
            for (const int ifindex : change.internal_gone) {
                execute(policy_.on_interface_gone(ifindex, now), now);
            }
            resync = resync || change.relevant;
        } else if (const auto* address = std::get_if<AddressUpdate>(&event)) {
            note_address(*address);
            execute(policy_.on_own_address(*address), now);
        }
    }
    // A configured link appeared, went, was renamed or went down or up. The kernel flushes
    // proxy entries on link-down without telling anyone, so start from a fresh dump.
    if (resync) {
        full_resync(now);
    }
}

void MirrorService::on_advertisement(const ReceivedAdvertisement& received, TimePoint now) {
    if (links_.is_internal(received.ifindex)) {
        execute(policy_.on_advertisement(received.ifindex, received.advert.target,
                                         received.advert.target_lladdr, now),
                now);
        return;
    }
    const TrackedLink& external = links_.external();
    // RFC 4861 §7.2.6: an unsolicited advertisement with the override flag from another MAC
    // is another host taking the address over (a VM that migrated there). Our own
    // announcements do not come back (IPV6_MULTICAST_LOOP is off).
    if (received.ifindex == external.ifindex && received.advert.flags.override_flag &&
        !received.advert.flags.solicited && received.advert.target_lladdr &&
        received.advert.target_lladdr != external.lladdr) {
        execute(policy_.on_claimed_elsewhere(received.advert.target, received.advert.target_lladdr,
                                             now),
                now);
    }
}

void MirrorService::adopt_verified(int ifindex, const Ipv6Address& address,
                                   const std::optional<MacAddress>& lladdr, TimePoint now) {
    execute(policy_.on_verified(ifindex, address, lladdr, now), now);
}

void MirrorService::probe(const Ipv6Address& address) {
    send_probe(action::Probe{address, 0});
}

std::optional<Ipv6Address> MirrorService::external_link_local() const {
    const int external = links_.external().ifindex;
    for (auto it = addresses_.lower_bound({external, Ipv6Address{}});
         it != addresses_.end() && it->first == external; ++it) {
        if (it->second.is_link_local()) {
            return it->second;
        }
    }
    return std::nullopt;
}

bool MirrorService::resolves_neighbours(int ifindex) const {
    // A NOARP link's neighbour entries are made for whatever the host sends there (state
    // NOARP, no link-layer address): they prove nobody is behind it.
    const TrackedLink* link = links_.internal_by_index(ifindex);
    return link != nullptr && !link->without_discovery;
}

void MirrorService::note_address(const AddressUpdate& update) {
    if (update.deleted) {
        addresses_.erase({update.ifindex, update.address});
    } else {
        addresses_.insert({update.ifindex, update.address});
    }
}

void MirrorService::on_timer(TimePoint now) {
    execute(policy_.on_timer(now), now);
}

void MirrorService::refresh_proxy_table(TimePoint now) {
    if (links_.external().present()) {
        execute(policy_.sync_proxy_table(read_proxy_table(), now), now);
        rewrite_router_flags();
    }
    execute(policy_.confirm_unvouched(now), now);
    // Addresses refused while the table was full are known only to the kernel's neighbour
    // table, and a permanent neighbour sends no further events: once there is room again, a
    // fresh dump brings them in.
    if (policy_.refused_since_reconcile() &&
        policy_.entries().size() < policy_.settings().max_entries) {
        full_resync(now);
    }
}

void MirrorService::withdraw_all() {
    execute(policy_.withdraw_all(), last_now_);
}

void MirrorService::reconfigure(ServiceSettings settings, TimePoint now) {
    if (settings.external != settings_.external) {
        // Entries on the old uplink are ours to remove; the new one starts from a dump.
        execute(policy_.withdraw_all(), now);
        external_hooked_ifindex_ = 0;
    }
    settings_ = std::move(settings);
    pacer_.set_rate(settings_.announce_rate);
    links_ = LinkTracker(settings_.external, settings_.internal);
    execute(policy_.reconfigure(settings_.mirror), now);
    full_resync(now);
}

void MirrorService::tell_fast_path_uplink() {
    // An answer names the uplink's MAC and comes from its link-local address (RFC 4861
    // §7.2.4); both arrive as kernel events, which end here.
    const TrackedLink& external = links_.external();
    std::optional<FastPathUplink> uplink;
    if (external.present() && external.lladdr) {
        uplink = FastPathUplink{*external.lladdr, external_link_local()};
    }
    if (uplink && uplink != fast_path_uplink_) {
        packets_.set_fast_uplink(uplink->mac, uplink->link_local);
    }
    fast_path_uplink_ = uplink;
}

void MirrorService::execute(const Actions& actions, TimePoint now) {
    last_now_ = now;
    note_table_full();
    // The fast path forgets a kernel-held address before its entry is withdrawn, and learns
    // one once it is written: no solicitation is dropped that nobody answers.
    FastPathChanges filter_changes = policy_.take_fast_path_changes();
    packets_.set_filter_targets(fast_path::no_longer_kernel(policy_, filter_changes), false);
    std::vector<KernelPort::ProxyWrite> writes;
    for (const Action& action : actions) {
        if (const auto* install = std::get_if<action::Install>(&action)) {
            writes.push_back({ProxyOp::add, install->address, settings_.router});
        } else if (const auto* withdraw = std::get_if<action::Withdraw>(&action)) {
            writes.push_back({ProxyOp::remove, withdraw->address});
        }
    }
    // Kernel entries first: an announcement must not point the router at a host that does not
    // answer yet.
    write_proxies(writes);
    fast_path::merge(filter_changes, policy_.take_fast_path_changes());
    if (filter_changes.everything || !filter_changes.addresses.empty()) {
        packets_.set_filter_targets(fast_path::targets_for(policy_, filter_changes),
                                    filter_changes.everything);
    }
    if (filter_changes.blocks) {
        packets_.set_fast_blocks(fast_path::routed_blocks(policy_));
    }
    tell_fast_path_uplink();
    for (const Action& action : actions) {
        if (const auto* probe = std::get_if<action::Probe>(&action)) {
            send_probe(*probe);
        } else if (const auto* announce = std::get_if<action::Announce>(&action)) {
            pacer_.push(announce->address,
                        announce->repeat ? AnnouncementPacer::Priority::repeat
                                         : AnnouncementPacer::Priority::first,
                        now);
        } else if (const auto* refused = std::get_if<action::MacRefused>(&action)) {
            log_mac_refusal(*refused);
        } else if (const auto* wrong = std::get_if<action::InterfaceRefused>(&action)) {
            log_interface_refusal(*wrong);
        } else if (const auto* conflict = std::get_if<action::Conflict>(&action)) {
            if (may_log_conflict(conflict->at)) {
                log_conflict(*conflict);
            }
        } else if (const auto* over = std::get_if<action::ConflictOver>(&action)) {
            if (may_log_conflict(over->at)) {
                log::info(
                    "address conflict over: no other host has claimed {} for {} s", over->address,
                    std::chrono::duration_cast<std::chrono::seconds>(MirrorPolicy::kConflictOver)
                        .count());
            }
        }
    }
    send_due_announcements(now);
    publish_events(actions);
}

void MirrorService::log_mac_refusal(const action::MacRefused& refused) {
    // Once per MAC and bound: a VM inventing addresses must not fill the log either. The set
    // is cleared when it holds kLoggedMacs, so the log stays bounded and still speaks again.
    if (logged_macs_.size() >= kLoggedMacs) {
        logged_macs_.clear();
    }
    if (!logged_macs_.insert({refused.mac, refused.verdict}).second) {
        return;
    }
    const auto& quota = settings_.mirror.mac_quota;
    if (refused.verdict == MacVerdict::too_many_addresses) {
        log::warn(
            "not proxying {} and further addresses of MAC {}: it holds {} already "
            "(--max-addresses-per-mac; counted as mac_address_limit)",
            refused.address, refused.mac.to_string(), quota.max_addresses);
    } else {
        log::warn(
            "not proxying {} (yet) and further addresses of MAC {}: it adds more than {} "
            "a minute (--new-addresses-per-minute; counted as mac_rate_limit)",
            refused.address, refused.mac.to_string(), quota.new_per_minute);
    }
}

bool MirrorService::may_log_conflict(TimePoint now) {
    // Each conflict is logged once, but forged claims for every address, repeated after each
    // conflict ends, would still make a line per address a minute.
    if (now - conflict_log_window_ >= std::chrono::minutes(1)) {
        conflict_log_window_ = now;
        conflict_lines_ = 0;
    }
    if (conflict_lines_ == kConflictLinesPerMinute) {
        log::warn(
            "more than {} address conflicts began or ended this minute; the rest are counted "
            "in address_conflicts and shown by ndproxyctl list, not logged",
            kConflictLinesPerMinute);
    }
    return conflict_lines_++ < kConflictLinesPerMinute;
}

void MirrorService::log_conflict(const action::Conflict& conflict) {
    // Once per conflict (the policy reports only its start), and so at most once per entry.
    const TrackedLink* internal = links_.internal_by_index(conflict.ifindex);
    log::warn(
        "address conflict: {} on {} advertises {} as its own, but the VM still answers here{}{}; "
        "defending it at most once every {} s (counted as address_conflicts)",
        conflict.claimant ? conflict.claimant->to_string() : std::string("another host"),
        links_.external().name, conflict.address, internal ? " on " : "",
        internal ? internal->name : std::string(),
        std::chrono::duration_cast<std::chrono::seconds>(MirrorPolicy::kDefendInterval).count());
}

void MirrorService::note_table_full() {
    // Once per episode: a flood of refusals must not become a flood of log lines.
    const std::uint64_t refused = policy_.counters().entries_limit;
    if (!table_full_logged_ && refused != refusals_logged_) {
        log::warn(
            "the entry table is full ({} entries, --max-entries): new addresses are not "
            "proxied until entries are withdrawn",
            policy_.entries().size());
        table_full_logged_ = true;
    } else if (table_full_logged_ && policy_.entries().size() < policy_.settings().max_entries) {
        log::info("the entry table has room again; {} addresses were refused while it was full",
                  refused - refusals_logged_);
        table_full_logged_ = false;
        refusals_logged_ = refused;
    }
}

void MirrorService::send_probe(const action::Probe& probe) {
    for (const TrackedLink& link : links_.internal()) {
        // Nothing behind a tunnel or an `arp off` link answers a solicitation: its routes and
        // link state speak for it (docs/design.md §Routed addresses).
        if (!link.present() || link.without_discovery ||
            (probe.ifindex != 0 && probe.ifindex != link.ifindex)) {
            continue;
        }
        // Only where the address may be: a prefix bound to other links is not solicited here.
        if (!policy_.allowed_on(probe.address, link.ifindex)) {
            continue;
        }
        // RFC 4861 §7.2.2: to the target's solicited-node group, with our link-layer address.
        if (packets_.send_solicitation(link.ifindex, probe.address.solicited_node(), probe.address,
                                       link.lladdr)) {
            ++counters_.probes_sent;
        } else {
            ++counters_.send_errors;
        }
    }
}

}  // namespace ndproxy

#include "core/responder_service.hpp"

#include "core/log.hpp"

namespace ndproxy {

namespace {

FastAnswerSettings fast_answers(const ResponderServiceSettings& settings) {
    const ResponderSettings& policy = settings.policy;
    return {policy.mode == ResponderMode::always,
            settings.router,
            settings.answer_source == AnswerSource::target,
            policy.limits.per_source,
            policy.limits.total,
            policy.limits.hash_key};
}

}  // namespace

ResponderService::ResponderService(ResponderServiceSettings settings, MirrorService& mirror,
                                   PacketPort& packets)
    : settings_(std::move(settings)),
      mirror_(mirror),
      packets_(packets),
      policy_(settings_.policy, mirror.policy()) {
    packets_.set_filter_scope(settings_.policy.prefixes);
    packets_.set_fast_answers(fast_answers(settings_));
}

void ResponderService::reconfigure(ResponderServiceSettings settings) {
    // The hash key stays, as SourceLimits::reconfigure keeps it.
    const std::uint64_t key = settings_.policy.limits.hash_key;
    settings_ = std::move(settings);
    settings_.policy.limits.hash_key = key;
    policy_.reconfigure(settings_.policy);
    packets_.set_filter_scope(settings_.policy.prefixes);
    packets_.set_fast_answers(fast_answers(settings_));
}

ResponderStats ResponderService::stats() const {
    // What the fast path dropped before the copy to userspace, counted as the responder would
    // have counted it: its outcomes, and so ns_dropped, stay exact.
    ResponderStats stats = stats_;
    const FilterCounts filtered = packets_.filter_counts();
    stats.ns_filtered = filtered.kernel_answers + filtered.out_of_scope;
    stats.ns_received += stats.ns_filtered;
    stats.outcomes[static_cast<std::size_t>(Outcome::kernel_answers)] += filtered.kernel_answers;
    stats.outcomes[static_cast<std::size_t>(Outcome::out_of_scope)] += filtered.out_of_scope;
    // And what its in-kernel responder decided, answered or refused by the same limits.
    const FastAnswerCounts fast = packets_.fast_answer_counts();
    stats.ns_xdp = fast.decided();
    stats.ns_received += stats.ns_xdp;
    stats.ns_answered += fast.answered;
    stats.outcomes[static_cast<std::size_t>(Outcome::answered)] += fast.answered;
    stats.outcomes[static_cast<std::size_t>(Outcome::rate_limited)] += fast.rate_limited;
    stats.outcomes[static_cast<std::size_t>(Outcome::total_rate_limited)] +=
        fast.total_rate_limited;
    return stats;
}

void ResponderService::set_monitor(monitor::Sink* sink) {
    monitor_ = sink;
    policy_.record_misses(sink != nullptr);
}

void ResponderService::publish_bound(std::string_view counter, const Ipv6Address& target) {
    monitor::Event event{monitor::Kind::bound, target};
    event.details["counter"] = counter;
    monitor_->publish(std::move(event));
}

void ResponderService::on_frames_readable(TimePoint now) {
    const bool drained = packets_.read_solicitations(
        [&](const ndp::SolicitationOrDrop& parsed) { handle_solicitation(parsed, now); });
    if (!drained) {
        ++stats_.backlogs;
    }
    // Frames left queued do no harm: the socket holds 4 MiB, tens of milliseconds of reading,
    // and they are read on the next turn. Frames the kernel dropped do: the router's were as
    // likely to be among them as a flood's. Only then do the answers, which cost most, give way.
    const std::uint64_t lost = packets_.take_frame_drops();
    stats_.socket_drops += lost;
    if (lost > 0) {
        policy_.on_frames_lost(now);
    }
}

void ResponderService::handle_solicitation(const ndp::SolicitationOrDrop& parsed, TimePoint now) {
    ++stats_.ns_received;
    if (const auto* reason = std::get_if<ndp::DropReason>(&parsed)) {
        ++stats_.invalid[static_cast<std::size_t>(*reason)];
        return;
    }
    const auto& solicitation = std::get<ndp::Solicitation>(parsed);
    note_target(solicitation.target, now);
    const ResponderDecision decision = policy_.on_solicitation(
        {solicitation.source, solicitation.ether_source}, solicitation.target, now);
    ++stats_.outcomes[static_cast<std::size_t>(decision.outcome)];
    execute(decision.actions);
    // The responder's bounds (RFC 6583), named as the ns_dropped reasons that count them.
    switch (decision.outcome) {
        case Outcome::verification_limit:
        case Outcome::verification_share:
        case Outcome::rate_limited:
        case Outcome::total_rate_limited:
            if (monitored()) {
                publish_bound(to_string(decision.outcome), solicitation.target);
            }
            break;
        default:
            break;
    }
}

void ResponderService::note_target(const Ipv6Address& target, TimePoint now) {
    if (mirror_.policy().is_own_address(target)) {
        return;  // the router asks for the host's own address whether the prefix is routed or not
    }
    for (const Ipv6Prefix& prefix : settings_.policy.prefixes) {
        if (prefix.contains(target)) {
            last_solicited_[prefix] = now;
        }
    }
}

std::optional<TimePoint> ResponderService::last_solicitation(const Ipv6Prefix& prefix) const {
    const auto found = last_solicited_.find(prefix);
    std::optional<TimePoint> seen;
    if (found != last_solicited_.end()) {
        seen = found->second;
    }
    // The fast path keeps the solicitations for kernel-held addresses from us.
    if (const auto filtered = packets_.filter_last_seen(prefix); filtered && filtered > seen) {
        seen = filtered;
    }
    return seen;
}

void ResponderService::on_advertisement(const ReceivedAdvertisement& received, TimePoint now) {
    if (!mirror_.links().is_internal(received.ifindex)) {
        return;
    }
    // An answer from behind a link its prefix is not bound to verifies nothing: the router
    // must not be told that another customer's VM holds the address (docs/design.md §Mirror).
    if (!mirror_.policy().allowed_on(received.advert.target, received.ifindex)) {
        return;
    }
    ResponderPolicy::Resolved resolved = policy_.on_advertisement(received.advert.target, now);
    if (!resolved.verified) {
        return;
    }
    // The router is waiting: answer first, then mirror (a kernel entry takes ~30 µs more).
    execute(resolved.actions);
    if (monitored()) {
        monitor::Event event{monitor::Kind::verified, received.advert.target};
        const TrackedLink* link = mirror_.links().internal_by_index(received.ifindex);
        event.details["interface"] = link != nullptr ? link->name : std::string();
        monitor_->publish(std::move(event));
    }
    mirror_.adopt_verified(received.ifindex, received.advert.target, received.advert.target_lladdr,
                           now);
}

void ResponderService::on_timer(TimePoint now) {
    execute(policy_.on_timer(now));
    const std::vector<Ipv6Address> misses = policy_.take_misses();
    if (monitored()) {
        for (const Ipv6Address& target : misses) {
            monitor_->publish({monitor::Kind::verification_failed, target});
        }
    }
}

void ResponderService::execute(const std::vector<ResponderAction>& actions) {
    for (const ResponderAction& action : actions) {
        if (const auto* reply = std::get_if<respond::Answer>(&action)) {
            answer(*reply);
        } else if (const auto* verify = std::get_if<respond::Verify>(&action)) {
            mirror_.probe(verify->target);
        }
    }
}

void ResponderService::answer(const respond::Answer& reply) {
    const TrackedLink& external = mirror_.links().external();
    if (!external.present() || !external.lladdr) {
        ++stats_.send_errors;
        return;
    }
    // RFC 4861 §7.2.4 and RFC 4389 (proxies): S set for a solicited answer, O clear so that a
    // real owner of the address would win, and our link-layer address as the target's.
    // A DAD probe is answered to all-nodes with S clear.
    const ndp::Advertisement advert{
        reply.target, {settings_.router, !reply.dad, false}, external.lladdr};
    // RFC 4861 §7.2.4: the source is an address of the sending interface; some layer-2
    // filters and clients accept only the target itself (--answer-source target).
    Ipv6Address source = reply.target;
    if (settings_.answer_source == AnswerSource::self) {
        source = mirror_.external_link_local().value_or(reply.target);
    }
    const Ipv6Address destination = reply.dad ? kAllNodes : reply.to.source;
    const MacAddress ether_destination =
        reply.dad ? ndp::multicast_mac(kAllNodes) : reply.to.ether_source;
    // A whole frame to the asker's MAC: sending through the IP stack would make the kernel
    // resolve every asker first, and a flood of forged sources would fill its neighbour table
    // (RFC 6583 §6).
    const ndp::AnswerFrame frame{*external.lladdr, ether_destination, source, destination, advert};
    if (packets_.send_answer(external.ifindex, frame)) {
        ++stats_.ns_answered;
    } else {
        ++stats_.send_errors;
    }
    if (mirror_.policy().entries().contains(reply.target)) {
        join_for(reply.target);  // `always` addresses are too many to join one by one
        packets_.note_answered(reply.target);
    }
}

void ResponderService::join_for(const Ipv6Address& target) {
    const int external = mirror_.links().external().ifindex;
    if (joined_ifindex_ != external) {
        prune_memberships();
        joined_targets_.clear();
        group_members_.clear();
        joined_ifindex_ = external;
    }
    if (joined_targets_.contains(target)) {
        return;
    }
    const Ipv6Address group = target.solicited_node();
    if (group_members_.size() >= kMaxGroups && !group_members_.contains(group)) {
        ++stats_.groups_limit;
        if (monitored()) {
            publish_bound("groups_limit", target);
        }
        return;
    }
    if (group_members_[group]++ == 0) {
        packets_.join_group(external, group);
    }
    joined_targets_.emplace(target, group);
}

void ResponderService::prune_memberships() {
    const int external = mirror_.links().external().ifindex;
    for (auto it = joined_targets_.begin(); it != joined_targets_.end();) {
        const bool still_ours = external == joined_ifindex_ &&
                                mirror_.policy().entries().contains(it->first) &&
                                !mirror_.policy().kernel_answers(it->first);
        if (still_ours) {
            ++it;
            continue;
        }
        if (--group_members_[it->second] == 0) {
            group_members_.erase(it->second);
            packets_.leave_group(joined_ifindex_, it->second);
        }
        it = joined_targets_.erase(it);
    }
}

}  // namespace ndproxy

#include "core/responder_policy.hpp"

#include <algorithm>

namespace ndproxy {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::answered:
            return "answered";
        case Outcome::verifying:
            return "verifying";
        case Outcome::kernel_answers:
            return "kernel_answers";
        case Outcome::own_address:
            return "own_address";
        case Outcome::out_of_scope:
            return "out_of_scope";
        case Outcome::unknown_target:
            return "unknown_target";
        case Outcome::negative_cached:
            return "negative_cached";
        case Outcome::verification_limit:
            return "verification_limit";
        case Outcome::verification_share:
            return "verification_share";
        case Outcome::rate_limited:
            return "rate_limited";
        case Outcome::total_rate_limited:
            return "total_rate_limited";
        case Outcome::mode_off:
            return "mode_off";
    }
    return "unknown";
}

ResponderPolicy::ResponderPolicy(ResponderSettings settings, const MirrorPolicy& mirror)
    : settings_(std::move(settings)), mirror_(mirror), limits_(settings_.limits) {}

void ResponderPolicy::reconfigure(ResponderSettings settings) {
    settings_ = std::move(settings);
    limits_.reconfigure(settings_.limits);
    // What was verified absent under other prefixes or modes says nothing now.
    negative_.clear();
    negative_order_.clear();
}

bool ResponderPolicy::in_scope(const Ipv6Address& target) const {
    if (!target.is_global_unicast()) {
        return false;
    }
    // No prefix, no scope (as the mirror's): an empty list fails closed.
    return std::any_of(settings_.prefixes.begin(), settings_.prefixes.end(),
                       [&](const Ipv6Prefix& prefix) { return prefix.contains(target); });
}

ResponderDecision ResponderPolicy::on_solicitation(const Requester& from, const Ipv6Address& target,
                                                   TimePoint now) {
    if (settings_.mode == ResponderMode::off) {
        return {Outcome::mode_off, {}};
    }
    if (mirror_.is_own_address(target)) {
        return {Outcome::own_address, {}};
    }
    if (!in_scope(target)) {
        return {Outcome::out_of_scope, {}};
    }
    // docs/design.md §Answer paths: never a second answer beside the kernel's.
    if (mirror_.kernel_answers(target)) {
        return {Outcome::kernel_answers, {}};
    }
    const bool dad = from.source.is_unspecified();
    const bool known = mirror_.entries().contains(target);
    // docs/design.md §Routed addresses: within a routed block every address is answered, as
    // in `always`, since the route, not a neighbour entry, says it lives behind us.
    const bool answer_all =
        settings_.mode == ResponderMode::always || mirror_.routed_blocks().contains(target);
    const SourceLimits::Bucket source = limits_.bucket_of({from.ether_source, from.source});
    if (known || (answer_all && !dad)) {
        if (auto refused = refusal(limits_.take_answer(source, now))) {
            return {*refused, {}};
        }
        // RFC 4861 §7.2.4: a DAD probe (unspecified source) for an address in use is answered
        // to all-nodes with S clear; that tells the newcomer its address is taken.
        return {Outcome::answered, {respond::Answer{target, from, dad}}};
    }
    // A DAD probe for an address we cannot vouch for is never answered: it would make the
    // newcomer give up an address that may well be free (`always` included).
    if (settings_.mode != ResponderMode::verify) {
        return {Outcome::unknown_target, {}};
    }
    if (negatively_cached(target, now)) {
        return {Outcome::negative_cached, {}};
    }
    if (auto pending = verifications_.find(target); pending != verifications_.end()) {
        if (pending->second.waiters.size() < settings_.max_waiters) {
            pending->second.waiters.push_back(from);
        }
        return {Outcome::verifying, {}};
    }
    if (verifications_.size() >= settings_.max_verifications) {
        return {Outcome::verification_limit, {}};
    }
    if (!limits_.may_take_slot(source, settings_.max_verifications)) {
        return {Outcome::verification_share, {}};
    }
    // The probe and the answer it may bring are paid for now, from the source's budget.
    if (auto refused = refusal(limits_.take_answer(source, now))) {
        return {*refused, {}};
    }
    ++counters_.verifications;
    limits_.take_slot(source);
    const TimePoint next_probe = now + settings_.verify_retransmit;
    verifications_.emplace(target, Verification{now, next_probe, {from}, source});
    verification_deadlines_.emplace(std::min(next_probe, now + settings_.verify_timeout), target);
    return {Outcome::verifying, {respond::Verify{target}}};
}

ResponderPolicy::Resolved ResponderPolicy::on_advertisement(const Ipv6Address& target,
                                                            TimePoint /*now*/) {
    Resolved resolved;
    auto pending = verifications_.find(target);
    if (pending == verifications_.end()) {
        return resolved;
    }
    resolved.verified = true;
    ++counters_.verified;
    for (const Requester& waiter : pending->second.waiters) {
        resolved.actions.push_back(respond::Answer{target, waiter, waiter.source.is_unspecified()});
    }
    std::erase_if(verification_deadlines_,
                  [&](const auto& deadline) { return deadline.second == target; });
    limits_.release_slot(pending->second.source);
    verifications_.erase(pending);
    return resolved;
}

std::vector<ResponderAction> ResponderPolicy::on_timer(TimePoint now) {
    std::vector<ResponderAction> actions;
    while (!verification_deadlines_.empty() && verification_deadlines_.begin()->first <= now) {
        const Ipv6Address target = verification_deadlines_.begin()->second;
        verification_deadlines_.erase(verification_deadlines_.begin());
        auto pending = verifications_.find(target);
        if (pending == verifications_.end()) {
            continue;
        }
        Verification& verification = pending->second;
        const TimePoint deadline = verification.started + settings_.verify_timeout;
        if (now >= deadline) {
            ++counters_.verification_misses;
            if (recording_) {
                misses_.push_back(target);
            }
            limits_.release_slot(verification.source);
            verifications_.erase(pending);
            remember_absent(target, now);
            continue;
        }
        if (now >= verification.next_probe) {
            actions.push_back(respond::Verify{target});
            verification.next_probe = now + settings_.verify_retransmit;
        }
        verification_deadlines_.emplace(std::min(verification.next_probe, deadline), target);
    }
    return actions;
}

std::optional<TimePoint> ResponderPolicy::next_wakeup() const {
    if (verification_deadlines_.empty()) {
        return std::nullopt;
    }
    return verification_deadlines_.begin()->first;
}

std::optional<Outcome> ResponderPolicy::refusal(SourceLimits::Verdict verdict) {
    switch (verdict) {
        case SourceLimits::Verdict::granted:
            return std::nullopt;
        case SourceLimits::Verdict::source_rate:
            return Outcome::rate_limited;
        case SourceLimits::Verdict::total_rate:
            return Outcome::total_rate_limited;
    }
    return Outcome::total_rate_limited;
}

void ResponderPolicy::remember_absent(const Ipv6Address& target, TimePoint now) {
    while (negative_.size() >= settings_.max_negative && !negative_order_.empty()) {
        const auto [expiry, oldest] = negative_order_.front();
        negative_order_.pop_front();
        auto found = negative_.find(oldest);
        if (found != negative_.end() && found->second == expiry) {
            negative_.erase(found);
            ++counters_.negative_evictions;
        }
    }
    const TimePoint expiry = now + settings_.negative_ttl;
    negative_[target] = expiry;
    negative_order_.emplace_back(expiry, target);
}

bool ResponderPolicy::negatively_cached(const Ipv6Address& target, TimePoint now) {
    // Expired entries are dropped as they are met, so the cache needs no timer of its own.
    while (!negative_order_.empty() && negative_order_.front().first <= now) {
        const auto [expiry, oldest] = negative_order_.front();
        negative_order_.pop_front();
        auto found = negative_.find(oldest);
        if (found != negative_.end() && found->second == expiry) {
            negative_.erase(found);
        }
    }
    return negative_.contains(target);
}

}  // namespace ndproxy

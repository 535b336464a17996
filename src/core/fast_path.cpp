#include "core/fast_path.hpp"

#include "core/mirror_policy.hpp"

namespace ndproxy {

std::string_view to_string(FastPathState state) {
    switch (state) {
        case FastPathState::off:
            return "off";
        case FastPathState::filter:
            return "filter";
        case FastPathState::xdp:
            return "xdp";
    }
    return "unknown";
}

}  // namespace ndproxy

namespace ndproxy::fast_path {

FilterTarget target_of(const MirrorPolicy& policy, const Ipv6Address& address) {
    if (policy.is_own_address(address)) {
        return FilterTarget::own;
    }
    // The administrator's entry may carry another R flag than --router sets on ours
    // (NTF_ROUTER): the XDP responder leaves it to the kernel.
    if (policy.foreign_proxies().contains(address)) {
        return FilterTarget::foreign;
    }
    if (policy.kernel_answers(address)) {
        return FilterTarget::kernel;
    }
    // ResponderPolicy::on_solicitation: a known entry is answered at once.
    return policy.entries().contains(address) ? FilterTarget::answer : FilterTarget::none;
}

FilterTargets targets_for(const MirrorPolicy& policy, const FastPathChanges& changes) {
    FilterTargets targets;
    if (!changes.everything) {
        targets.reserve(changes.addresses.size());
        for (const Ipv6Address& address : changes.addresses) {
            targets.emplace_back(address, target_of(policy, address));
        }
        return targets;
    }
    for (const Ipv6Address& address : policy.own_addresses()) {
        targets.emplace_back(address, FilterTarget::own);
    }
    for (const Ipv6Address& address : policy.foreign_proxies()) {
        if (!policy.is_own_address(address)) {
            targets.emplace_back(address, FilterTarget::foreign);
        }
    }
    for (const auto& [address, entry] : policy.entries()) {
        if (!policy.is_own_address(address) && !policy.foreign_proxies().contains(address)) {
            targets.emplace_back(address,
                                 entry.in_kernel ? FilterTarget::kernel : FilterTarget::answer);
        }
    }
    return targets;
}

FilterTargets no_longer_kernel(const MirrorPolicy& policy, const FastPathChanges& changes) {
    FilterTargets targets;
    if (changes.everything) {
        return targets;
    }
    for (const Ipv6Address& address : changes.addresses) {
        if (const FilterTarget target = target_of(policy, address);
            target != FilterTarget::kernel && target != FilterTarget::foreign) {
            targets.emplace_back(address, target);
        }
    }
    return targets;
}

void merge(FastPathChanges& into, FastPathChanges later) {
    into.blocks = into.blocks || later.blocks;
    into.everything = into.everything || later.everything;
    if (into.everything) {
        into.addresses.clear();
        return;
    }
    into.addresses.insert(into.addresses.end(), later.addresses.begin(), later.addresses.end());
}

std::vector<Ipv6Prefix> routed_blocks(const MirrorPolicy& policy) {
    std::vector<Ipv6Prefix> blocks;
    for (const auto& [routed, routes] : policy.routed_blocks().blocks()) {
        if (blocks.empty() || blocks.back() != routed.first) {
            blocks.push_back(routed.first);  // ordered by block: a block on two links is adjacent
        }
    }
    return blocks;
}

}  // namespace ndproxy::fast_path

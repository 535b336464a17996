#include "core/fast_path.hpp"

#include "core/mirror_policy.hpp"

namespace ndproxy::fast_path {

FilterTarget target_of(const MirrorPolicy& policy, const Ipv6Address& address) {
    if (policy.is_own_address(address)) {
        return FilterTarget::own;
    }
    return policy.kernel_answers(address) ? FilterTarget::kernel : FilterTarget::none;
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
            targets.emplace_back(address, FilterTarget::kernel);
        }
    }
    for (const auto& [address, entry] : policy.entries()) {
        if (entry.in_kernel && !policy.is_own_address(address) &&
            !policy.foreign_proxies().contains(address)) {
            targets.emplace_back(address, FilterTarget::kernel);
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
            target != FilterTarget::kernel) {
            targets.emplace_back(address, target);
        }
    }
    return targets;
}

void merge(FastPathChanges& into, FastPathChanges later) {
    into.everything = into.everything || later.everything;
    if (into.everything) {
        into.addresses.clear();
        return;
    }
    into.addresses.insert(into.addresses.end(), later.addresses.begin(), later.addresses.end());
}

}  // namespace ndproxy::fast_path

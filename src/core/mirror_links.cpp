// MirrorService's part that follows the internal links: what the log says of them, and which
// prefixes apply behind which.

#include <algorithm>

#include "core/log.hpp"
#include "core/mirror_service.hpp"

namespace ndproxy {

void MirrorService::log_presence(const TrackedLink& link, std::string_view role) {
    auto [known, inserted] = logged_ifindex_.try_emplace(link.name, -1);
    if (known->second == link.ifindex) {
        return;
    }
    known->second = link.ifindex;
    if (link.present()) {
        log::info("{} interface {} is present (ifindex {}, {})", role, link.name, link.ifindex,
                  link.up ? "up" : "down");
    } else {
        log::info("waiting for {} interface {}", role, link.name);
    }
}

// What the log said of links a pattern matched is forgotten once they leave, so that the map
// holds only the links configured or present: tap names come and go without end.
void MirrorService::forget_departed_links() {
    std::erase_if(logged_ifindex_, [&](const auto& logged) {
        const std::string& name = logged.first;  // not a structured binding: clang 14
        const int ifindex = logged.second;       // cannot capture one in a lambda
        if (name == links_.external().name) {
            return false;
        }
        const auto& internal = links_.internal();
        if (std::any_of(internal.begin(), internal.end(),
                        [&](const TrackedLink& link) { return link.name == name; })) {
            return false;
        }
        if (ifindex > 0) {
            log::info("internal interface {} is gone", name);
        }
        return true;
    });
}

void MirrorService::bind_prefixes() {
    std::vector<int> internal;
    std::vector<int> without_discovery;
    for (const TrackedLink& link : links_.internal()) {
        if (link.present()) {
            internal.push_back(link.ifindex);
            if (link.without_discovery) {
                without_discovery.push_back(link.ifindex);
            }
        }
    }
    std::vector<MirrorPolicy::BoundPrefix> bound;
    for (const PrefixBinding& binding : settings_.bindings) {
        MirrorPolicy::BoundPrefix prefix{binding.prefix, {}};
        for (const TrackedLink& link : links_.internal()) {
            // A pattern in the binding names the links it matches, its own members included.
            const bool named = std::any_of(
                binding.interfaces.begin(), binding.interfaces.end(),
                [&](const std::string& name) { return interface_matches(name, link.name); });
            if (link.present() && named) {
                prefix.ifindexes.push_back(link.ifindex);
            }
        }
        bound.push_back(std::move(prefix));
    }
    policy_.set_links(std::move(internal), std::move(bound), std::move(without_discovery));
}

void MirrorService::log_interface_refusal(const action::InterfaceRefused& refused) {
    // Once per address and link, bounded as the MAC refusals are.
    if (logged_interface_refusals_.size() >= kLoggedMacs) {
        logged_interface_refusals_.clear();
    }
    if (!logged_interface_refusals_.insert({refused.address, refused.ifindex}).second) {
        return;
    }
    const TrackedLink* link = links_.internal_by_index(refused.ifindex);
    log::warn(
        "{} appeared behind {}, which no prefix containing it is bound to: not proxied "
        "(interface_refused)",
        refused.address, link != nullptr ? link->name : std::to_string(refused.ifindex));
}

}  // namespace ndproxy

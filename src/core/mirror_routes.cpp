// The mirror's routed addresses (docs/design.md §Routed addresses): routes through internal
// links, not neighbour entries, say that addresses live behind them.

#include <algorithm>
#include <climits>

#include "core/mirror_policy.hpp"

namespace ndproxy {

bool MirrorPolicy::allowed_on(const Ipv6Prefix& block, int ifindex) const {
    // Several customers on one host (docs/design.md §Mirror): a VM behind one customer's
    // interface must not make the host claim an address of another's prefix.
    return std::any_of(settings_.prefixes.begin(), settings_.prefixes.end(), [&](const auto& p) {
        if (p.length > block.length || !p.contains(block.network)) {
            return false;
        }
        const auto bound = std::find_if(bound_.begin(), bound_.end(),
                                        [&](const BoundPrefix& b) { return b.prefix == p; });
        return bound == bound_.end() || std::find(bound->ifindexes.begin(), bound->ifindexes.end(),
                                                  ifindex) != bound->ifindexes.end();
    });
}

bool MirrorPolicy::routed_here(const RouteUpdate& route, bool count, Actions& out) {
    const Ipv6Prefix& block = route.destination;
    // Not /64 or shorter: a bridge's on-link /64 is the neighbour table's to speak for.
    if (block.length <= 64 || block.length > 128 || !block.network.is_global_unicast()) {
        return false;
    }
    const auto contains_block = [&](const Ipv6Prefix& p) {
        return p.length <= block.length && p.contains(block.network);
    };
    if (std::none_of(settings_.prefixes.begin(), settings_.prefixes.end(), contains_block) ||
        std::find(internal_links_.begin(), internal_links_.end(), route.ifindex) ==
            internal_links_.end()) {
        return false;
    }
    if (block.length == 128) {
        if (own_addresses_.contains(block.network)) {
            return false;
        }
    } else if (!route.via_gateway && std::find(without_discovery_.begin(), without_discovery_.end(),
                                               route.ifindex) == without_discovery_.end()) {
        // An on-link block where Neighbor Discovery runs (a customer's /80 on a bridge): its
        // members are found there one by one, as on the /64.
        return false;
    }
    if (!allowed_on(block, route.ifindex)) {
        if (count) {
            ++counters_.interface_refused;
            out.push_back(action::InterfaceRefused{block.network, route.ifindex});
        }
        return false;
    }
    return true;
}

Actions MirrorPolicy::on_route(const RouteUpdate& route, TimePoint now) {
    Actions out;
    const RouteKey key = key_of(route);
    if (route.deleted) {
        if (routes_.erase(key) != 0) {
            unfollow(key, out);
            rebalance(out);
        }
        return out;
    }
    if (routes_.contains(key) || !routed_here(route, true, out)) {
        return out;
    }
    if (routes_.size() >= kMaxRoutes) {
        ++counters_.routes_limit;
        return out;
    }
    routes_.insert(key);
    follow(key, now, out);
    return out;
}

void MirrorPolicy::follow(const RouteKey& route, TimePoint now, Actions& out) {
    if (route.destination.length < 128) {
        blocks_.add(route.destination, route.ifindex);
        fast_path_.note_blocks();
        return;
    }
    unrouted_.erase(route.destination.network);
    MirrorEntry* entry = admit(route.destination.network, std::nullopt, now, out);
    if (entry == nullptr) {
        routes_.erase(route);  // the table is full; a later resync looks again
        return;
    }
    // The route is the authority from now on: no probe confirms it, no silence withdraws it.
    entry->origin = Origin::route;
    entry->claim = ClaimState{};
    make_live(*entry, route.ifindex, entry->lladdr, now, out);
}

void MirrorPolicy::unfollow(const RouteKey& route, Actions& out) {
    if (route.destination.length < 128) {
        blocks_.remove(route.destination, route.ifindex);
        fast_path_.note_blocks();
        return;
    }
    // Another route to the same address (another table or metric) still holds it.
    const auto other = routes_.lower_bound(RouteKey{route.destination, INT_MIN, 0, 0});
    if (other != routes_.end() && other->destination == route.destination) {
        return;
    }
    const auto found = entries_.find(route.destination.network);
    if (found != entries_.end() && found->second.origin == Origin::route) {
        // At once: the host no longer sends this address anywhere.
        withdraw(route.destination.network, out);
        if (unrouted_.size() < kMaxRoutes) {
            unrouted_[route.destination.network] = route.ifindex;
        }
    }
}

bool MirrorPolicy::outlived_its_route(const NeighbourUpdate& update) {
    const auto found = unrouted_.find(update.address);
    if (found == unrouted_.end() || found->second != update.ifindex) {
        return false;
    }
    if (update.deleted || !nud_vouches_alive(update.state)) {
        unrouted_.erase(found);  // gone: whatever comes next is news
    }
    return true;
}

void MirrorPolicy::reconcile_routes(const std::vector<RouteUpdate>& routes,
                                    const std::vector<NeighbourUpdate>& neighbours, TimePoint now,
                                    Actions& out) {
    std::set<RouteKey> fresh;
    for (const RouteUpdate& route : routes) {
        if (fresh.size() >= kMaxRoutes) {
            ++counters_.routes_limit;
            break;
        }
        // Refusals were counted when the routes came; a resync re-reads the same ones.
        if (!route.deleted && routed_here(route, false, out)) {
            fresh.insert(key_of(route));
        }
    }
    // Leftovers the kernel has dropped meanwhile are forgotten; the rest still vouch for nothing.
    // One pass over the neighbours, not one per leftover: both may number in the tens of
    // thousands.
    if (!unrouted_.empty()) {
        std::map<Ipv6Address, int> still_held;
        for (const NeighbourUpdate& neighbour : neighbours) {
            const auto leftover = unrouted_.find(neighbour.address);
            if (!neighbour.deleted && leftover != unrouted_.end() &&
                leftover->second == neighbour.ifindex) {
                still_held.insert(*leftover);
            }
        }
        unrouted_ = std::move(still_held);
    }
    std::vector<RouteKey> gone;
    std::set_difference(routes_.begin(), routes_.end(), fresh.begin(), fresh.end(),
                        std::back_inserter(gone));
    routes_ = fresh;
    blocks_.clear();
    fast_path_.note_blocks();
    for (const RouteKey& route : gone) {
        unfollow(route, out);
    }
    for (const RouteKey& route : fresh) {
        follow(route, now, out);
    }
}

}  // namespace ndproxy

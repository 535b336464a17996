#pragma once

// Reading what a MirrorPolicy asked for, in unit tests.

#include <variant>
#include <vector>

#include "core/mirror_policy.hpp"

namespace ndproxy::testing {

// The addresses of the actions of one kind (action::Install, action::Withdraw, ...), in order.
template <typename Kind>
std::vector<Ipv6Address> addresses_of(const Actions& actions) {
    std::vector<Ipv6Address> out;
    for (const Action& action : actions) {
        if (const auto* a = std::get_if<Kind>(&action)) {
            out.push_back(a->address);
        }
    }
    return out;
}

}  // namespace ndproxy::testing

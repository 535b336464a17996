#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ipv6.hpp"
#include "core/kernel_events.hpp"

namespace ndproxy {

// A configured interface, known by name; ifindex 0 while it does not exist.
struct TrackedLink {
    TrackedLink() = default;
    explicit TrackedLink(std::string link_name) : name(std::move(link_name)) {}

    std::string name;
    int ifindex = 0;
    bool up = false;
    std::optional<MacAddress> lladdr;

    [[nodiscard]] bool present() const { return ifindex > 0; }
};

// Follows the configured interfaces through creation, deletion and renaming. Pure.
class LinkTracker {
public:
    LinkTracker(std::string external, const std::vector<std::string>& internal);

    struct Change {
        bool relevant = false;           // a configured link appeared, vanished or changed
        std::vector<int> internal_gone;  // ifindexes of internal links that no longer count
    };
    Change apply(const LinkUpdate& update);
    // Replaces everything with a fresh link dump.
    Change rebuild(const std::vector<LinkUpdate>& links);

    [[nodiscard]] const TrackedLink& external() const { return external_; }
    [[nodiscard]] const std::vector<TrackedLink>& internal() const { return internal_; }
    [[nodiscard]] bool is_internal(int ifindex) const;
    [[nodiscard]] const TrackedLink* internal_by_index(int ifindex) const;

private:
    TrackedLink external_;
    std::vector<TrackedLink> internal_;
};

}  // namespace ndproxy

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ipv6.hpp"
#include "core/kernel_events.hpp"

namespace ndproxy {

// A configured interface, known by name; ifindex 0 while it does not exist. A link that joined
// because its name matched a pattern carries the pattern, and leaves when it no longer exists.
struct TrackedLink {
    TrackedLink() = default;
    explicit TrackedLink(std::string link_name) : name(std::move(link_name)) {}

    std::string name;
    std::string pattern;  // empty for a link configured by its name
    int ifindex = 0;
    bool up = false;
    std::optional<MacAddress> lladdr;
    bool without_discovery = false;  // NOARP or point-to-point: never solicited

    [[nodiscard]] bool present() const { return ifindex > 0; }
};

// Names with *, ? or [ are glob patterns (fnmatch(3)): the kernel would allow them in a link's
// name, but nobody names links so, and a pattern that could never match is caught at start.
bool is_interface_pattern(std::string_view name);
// Whether `item` (a name, or a pattern) names the link called `name`.
bool interface_matches(const std::string& item, const std::string& name);

// Follows the configured interfaces through creation, deletion and renaming. Internal links are
// named, or matched by a pattern: a link whose name matches joins when it appears (or is renamed
// to match) and leaves when it vanishes (or is renamed away), with no reload. Pure.
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
    // The pattern `name` matches, if it is not a named link; nullptr otherwise.
    [[nodiscard]] const std::string* matching_pattern(const std::string& name) const;
    void follow_members(const LinkUpdate& update, Change& change);

    TrackedLink external_;
    std::vector<TrackedLink> internal_;  // the named links first, then the pattern's members
    std::size_t named_ = 0;
    std::vector<std::string> patterns_;
};

}  // namespace ndproxy

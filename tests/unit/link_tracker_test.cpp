#include "core/link_tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ndproxy {
namespace {

LinkUpdate link(int ifindex, const std::string& name, bool deleted = false) {
    return LinkUpdate{ifindex, name, true, deleted, std::nullopt};
}

std::vector<std::string> members(const LinkTracker& tracker) {
    std::vector<std::string> names;
    for (const TrackedLink& tracked : tracker.internal()) {
        names.push_back(tracked.name + (tracked.pattern.empty() ? "" : "~" + tracked.pattern) +
                        (tracked.present() ? "" : "(absent)"));
    }
    return names;
}

TEST(InterfacePattern, GlobCharactersMakeAPattern) {
    EXPECT_TRUE(is_interface_pattern("tap*"));
    EXPECT_TRUE(is_interface_pattern("vnet?"));
    EXPECT_TRUE(is_interface_pattern("vif[0-9].0"));
    EXPECT_FALSE(is_interface_pattern("br0"));
    EXPECT_FALSE(is_interface_pattern("eth0.4000"));
}

// Links that match join when they appear and leave when they vanish or are renamed away.
TEST(LinkTrackerPatterns, MembersComeAndGoWithTheirLinks) {
    LinkTracker tracker("eth0", {"br0", "tap*"});
    EXPECT_EQ(members(tracker), std::vector<std::string>{"br0(absent)"});

    auto change = tracker.apply(link(5, "tap100i0"));
    EXPECT_TRUE(change.relevant);
    EXPECT_TRUE(change.internal_gone.empty());
    EXPECT_EQ(members(tracker), (std::vector<std::string>{"br0(absent)", "tap100i0~tap*"}));
    EXPECT_TRUE(tracker.is_internal(5));

    EXPECT_FALSE(tracker.apply(link(6, "veth7")).relevant) << "matches nothing";
    EXPECT_FALSE(tracker.apply(link(1, "eth0")).internal_gone.size());

    change = tracker.apply(link(5, "uplink2"));  // renamed away from the pattern
    EXPECT_TRUE(change.relevant);
    EXPECT_EQ(change.internal_gone, std::vector<int>{5});
    EXPECT_FALSE(tracker.is_internal(5));

    tracker.apply(link(7, "tap101i0"));
    tracker.apply(link(8, "tap102i0"));
    change = tracker.apply(link(7, "tap101i0", true));
    EXPECT_EQ(change.internal_gone, std::vector<int>{7});
    EXPECT_EQ(members(tracker), (std::vector<std::string>{"br0(absent)", "tap102i0~tap*"}));
}

// A named link is tracked by name even when a pattern would match it too, and the uplink never
// joins, whatever the patterns.
TEST(LinkTrackerPatterns, NamedLinksAndTheUplinkAreNotMembers) {
    LinkTracker tracker("vnet0", {"vnet1", "vnet*"});
    tracker.apply(link(2, "vnet0"));
    tracker.apply(link(3, "vnet1"));
    tracker.apply(link(4, "vnet2"));
    EXPECT_EQ(members(tracker), (std::vector<std::string>{"vnet1", "vnet2~vnet*"}));
    EXPECT_FALSE(tracker.is_internal(2));
}

// A dump replaces the members: the gone are reported, the new join.
TEST(LinkTrackerPatterns, RebuildFollowsTheDump) {
    LinkTracker tracker("eth0", {"br-*"});
    tracker.apply(link(10, "br-aaa"));
    tracker.apply(link(11, "br-bbb"));
    auto change = tracker.rebuild({link(1, "eth0"), link(11, "br-bbb"), link(12, "br-ccc")});
    EXPECT_TRUE(change.relevant);
    EXPECT_EQ(change.internal_gone, std::vector<int>{10});
    EXPECT_EQ(members(tracker), (std::vector<std::string>{"br-bbb~br-*", "br-ccc~br-*"}));
    change = tracker.rebuild({link(1, "eth0"), link(11, "br-bbb"), link(12, "br-ccc")});
    EXPECT_FALSE(change.relevant) << "nothing changed";
}

}  // namespace
}  // namespace ndproxy

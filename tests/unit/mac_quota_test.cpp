// Per-VM bounds (the hostile-tenants issue): the quota itself, and the mirror refusing a VM that
// invents addresses while every other VM is served.

#include "core/mac_quota.hpp"

#include <gtest/gtest.h>

#include "core/mirror_policy.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::addresses_of;

const MacAddress kGreedy{{2, 0, 0, 0, 0, 0x66}};
const MacAddress kQuiet{{2, 0, 0, 0, 0, 0x77}};
const MacQuota::TimePoint t0 = MacQuota::TimePoint{} + 1000s;

TEST(MacQuota, CapsTheAddressesOfOneMac) {
    MacQuota quota({3, 1000});
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::admitted);
    }
    EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::too_many_addresses);
    EXPECT_EQ(quota.admit(kQuiet, t0), MacVerdict::admitted) << "another VM is not affected";
    quota.release(kGreedy);
    EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::admitted) << "room again after one left";
}

TEST(MacQuota, LimitsHowFastOneMacAddsAddresses) {
    MacQuota quota({1000, 60});  // one a second, in a burst of 60
    for (int i = 0; i < 60; ++i) {
        EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::admitted) << i;
    }
    EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::too_fast);
    EXPECT_EQ(quota.admit(kGreedy, t0 + 500ms), MacVerdict::too_fast);
    EXPECT_EQ(quota.admit(kGreedy, t0 + 1s), MacVerdict::admitted);
    EXPECT_EQ(quota.admit(kGreedy, t0 + 1s), MacVerdict::too_fast);
    EXPECT_EQ(quota.addresses_of(kGreedy), 61u);
}

TEST(MacQuota, HoldsNoRecordForAMacWithoutAddresses) {
    MacQuota quota({2, 60});
    quota.admit(kGreedy, t0);
    quota.charge(kQuiet);  // an address already held whose MAC became known
    EXPECT_EQ(quota.macs(), 2u);
    quota.release(kGreedy);
    quota.release(kQuiet);
    quota.release(kQuiet);  // one release too many is harmless
    EXPECT_EQ(quota.macs(), 0u);
}

TEST(MacQuota, ChargingIgnoresTheCapForAddressesAlreadyHeld) {
    MacQuota quota({1, 60});
    quota.admit(kGreedy, t0);
    quota.charge(kGreedy);
    EXPECT_EQ(quota.addresses_of(kGreedy), 2u);
    EXPECT_EQ(quota.admit(kGreedy, t0), MacVerdict::too_many_addresses);
}

NeighbourUpdate from(const MacAddress& mac, int host) {
    return NeighbourUpdate{3, *Ipv6Address::parse(fmt::format("2001:db8:1::{:x}", host)), mac,
                           nud::reachable, false};
}

TEST(MirrorMacQuota, AVmInventingAddressesIsRefusedAndCountedWhileOthersAreServed) {
    MirrorSettings settings;
    settings.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
    settings.mac_quota = {4, 1000};
    MirrorPolicy policy(settings);
    std::vector<action::MacRefused> refusals;
    for (int host = 0x100; host < 0x110; ++host) {
        for (const Action& action : policy.on_neighbour(from(kGreedy, host), t0)) {
            if (const auto* refused = std::get_if<action::MacRefused>(&action)) {
                refusals.push_back(*refused);
            }
        }
    }
    EXPECT_EQ(policy.entries().size(), 4u);
    EXPECT_EQ(policy.counters().mac_address_limit, 12u);
    ASSERT_EQ(refusals.size(), 12u);
    EXPECT_EQ(refusals.front().mac, kGreedy);
    EXPECT_EQ(refusals.front().verdict, MacVerdict::too_many_addresses);
    EXPECT_EQ(addresses_of<action::Install>(policy.on_neighbour(from(kQuiet, 0x200), t0)).size(),
              1u);

    // One of the greedy VM's addresses leaves: the next new one may come in.
    policy.on_neighbour({3, *Ipv6Address::parse("2001:db8:1::100"), std::nullopt, nud::none, true},
                        t0);
    for (TimePoint t = t0; t < t0 + 60s; t += 1s) {
        policy.on_timer(t);
    }
    EXPECT_EQ(policy.entries().size(), 4u) << "withdrawn once confirmed gone";
    EXPECT_EQ(
        addresses_of<action::Install>(policy.on_neighbour(from(kGreedy, 0x300), t0 + 60s)).size(),
        1u);
}

TEST(MirrorMacQuota, TooFastIsRefusedAndALaterResyncAdmitsIt) {
    MirrorSettings settings;
    settings.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
    settings.mac_quota = {1000, 2};  // two a minute
    MirrorPolicy policy(settings);
    KernelSnapshot snapshot;
    for (int host = 0x100; host < 0x103; ++host) {
        snapshot.neighbours.push_back(from(kGreedy, host));
    }
    policy.reconcile(snapshot, t0);
    EXPECT_EQ(policy.entries().size(), 2u);
    EXPECT_EQ(policy.counters().mac_rate_limit, 1u);
    EXPECT_TRUE(policy.refused_since_reconcile()) << "so that the slow timer resyncs";
    policy.reconcile(snapshot, t0 + 30s);
    EXPECT_EQ(policy.entries().size(), 3u);
}

}  // namespace
}  // namespace ndproxy

#include "core/mirror_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

constexpr int kBr0 = 3;
constexpr int kBr1 = 4;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

NeighbourUpdate neighbour(const char* address, std::uint16_t state, int ifindex = kBr0) {
    return NeighbourUpdate{ifindex, addr(address), MacAddress{{2, 0, 0, 0, 0, 1}}, state, false};
}

NeighbourUpdate deletion(const char* address, int ifindex = kBr0) {
    return NeighbourUpdate{ifindex, addr(address), std::nullopt, nud::none, true};
}

using testing::addresses_of;

class MirrorPolicyTest : public ::testing::Test {
protected:
    MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        s.withdraw_after = 10s;
        s.first_probe_gap = 1s;
        s.announce_count = 3;
        s.announce_interval = 1s;
        return s;
    }
    MirrorPolicy policy{settings()};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(MirrorPolicyTest, ReachableNeighbourIsInstalledAndAnnounced) {
    const Actions actions = policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(addresses_of<action::Announce>(actions), std::vector{addr("2001:db8:1::10")});
    ASSERT_TRUE(policy.entries().contains(addr("2001:db8:1::10")));
    EXPECT_TRUE(policy.entries().at(addr("2001:db8:1::10")).in_kernel);
    EXPECT_EQ(policy.entries().at(addr("2001:db8:1::10")).ifindex, kBr0);
}

TEST_F(MirrorPolicyTest, EveryLiveStateIsEligible) {
    // docs/design.md §Mirror: eligible neighbours.
    const std::uint16_t live[] = {nud::reachable, nud::stale,     nud::delay,
                                  nud::probe,     nud::permanent, nud::noarp};
    int host = 0x10;
    for (const std::uint16_t state : live) {
        const std::string text = fmt::format("2001:db8:1::{:x}", host++);
        const Actions actions = policy.on_neighbour(neighbour(text.c_str(), state), t0);
        EXPECT_EQ(addresses_of<action::Install>(actions).size(), 1u) << nud_state_name(state);
    }
}

TEST_F(MirrorPolicyTest, IneligibleNeighboursAreIgnored) {
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::10", nud::incomplete), t0).empty());
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::11", nud::failed), t0).empty());
    EXPECT_TRUE(policy.on_neighbour(neighbour("fe80::10", nud::reachable), t0).empty());
    EXPECT_TRUE(policy.on_neighbour(neighbour("ff02::1:ff00:10", nud::noarp), t0).empty());
    // Outside the configured prefix.
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:2::10", nud::reachable), t0).empty());
    EXPECT_TRUE(policy.entries().empty());
}

// The configuration requires a prefix; a policy given none anyway proxies nothing.
TEST_F(MirrorPolicyTest, WithoutPrefixesNothingIsEligible) {
    MirrorSettings none = settings();
    none.prefixes.clear();
    MirrorPolicy closed(none);
    EXPECT_TRUE(closed.on_neighbour(neighbour("2a01:4f8::10", nud::stale), t0).empty());
    EXPECT_TRUE(closed.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0).empty());
    EXPECT_TRUE(closed.entries().empty());
}

TEST_F(MirrorPolicyTest, HostsOwnAddressIsNeverProxied) {
    policy.on_own_address({kBr0, addr("2001:db8:1::1"), false});
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::1", nud::reachable), t0).empty());

    policy.on_neighbour(neighbour("2001:db8:1::20", nud::reachable), t0);
    const Actions actions = policy.on_own_address({2, addr("2001:db8:1::20"), false});
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:1::20")});
    EXPECT_FALSE(policy.entries().contains(addr("2001:db8:1::20")));
}

TEST_F(MirrorPolicyTest, StateChangesOfALiveNeighbourCauseNoKernelWrites) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::10", nud::stale), t0 + 1s).empty());
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::10", nud::delay), t0 + 2s).empty());
    EXPECT_TRUE(policy.on_neighbour(neighbour("2001:db8:1::10", nud::incomplete), t0 + 3s).empty());
}

TEST_F(MirrorPolicyTest, DeletedNeighbourIsProbedWithBackoffThenWithdrawn) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_timer(t0 + 5s);  // announcements done
    std::vector<Duration> probe_times;
    Actions actions = policy.on_neighbour(deletion("2001:db8:1::10"), t0 + 5s);
    ASSERT_EQ(addresses_of<action::Probe>(actions).size(), 1u);
    EXPECT_TRUE(addresses_of<action::Withdraw>(actions).empty());
    // RFC 7048: keep asking, with growing gaps, until withdraw_after has passed.
    for (auto now = t0 + 5s; now < t0 + 15s; now += 100ms) {
        const Actions tick = policy.on_timer(now);
        EXPECT_TRUE(addresses_of<action::Withdraw>(tick).empty()) << "too early";
        if (!addresses_of<action::Probe>(tick).empty()) {
            probe_times.push_back(now - (t0 + 5s));
        }
    }
    EXPECT_EQ(probe_times, (std::vector<Duration>{1s, 3s, 7s}));
    actions = policy.on_timer(t0 + 15s);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(policy.entries().empty());
    EXPECT_FALSE(policy.next_wakeup());
}

TEST_F(MirrorPolicyTest, FailedNeighbourIsProbedToo) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    const Actions actions = policy.on_neighbour(neighbour("2001:db8:1::10", nud::failed), t0);
    EXPECT_EQ(addresses_of<action::Probe>(actions).size(), 1u);
    EXPECT_EQ(policy.entries().at(addr("2001:db8:1::10")).nud_state, nud::failed);
}

TEST_F(MirrorPolicyTest, AnsweredProbeKeepsTheEntry) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(deletion("2001:db8:1::10"), t0 + 1s);
    const Actions answer =
        policy.on_advertisement(kBr0, addr("2001:db8:1::10"), std::nullopt, t0 + 2s);
    EXPECT_TRUE(answer.empty()) << "already in the kernel: nothing to write";
    EXPECT_EQ(policy.counters().probe_answers, 1u);
    for (auto now = t0 + 2s; now < t0 + 60s; now += 500ms) {
        EXPECT_TRUE(addresses_of<action::Withdraw>(policy.on_timer(now)).empty());
    }
    EXPECT_TRUE(policy.entries().contains(addr("2001:db8:1::10")));
    EXPECT_FALSE(policy.entries().at(addr("2001:db8:1::10")).gone_since);
}

TEST_F(MirrorPolicyTest, AnAddressConfirmedGoneIsNoLongerAnnounced) {
    // Its remaining announcements would pull the router back from the host it moved to.
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(deletion("2001:db8:1::10"), t0 + 100ms);
    for (auto now = t0 + 100ms; now < t0 + 5s; now += 100ms) {
        EXPECT_TRUE(addresses_of<action::Announce>(policy.on_timer(now)).empty());
    }
}

TEST_F(MirrorPolicyTest, AnAnswerToOurProbeIsNotAnnounced) {
    // The kernel forgot an idle neighbour, the VM answered our probe: it never left.
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(deletion("2001:db8:1::10"), t0 + 10s);
    const Actions answered =
        policy.on_advertisement(kBr0, addr("2001:db8:1::10"), std::nullopt, t0 + 10s + 10ms);
    EXPECT_TRUE(answered.empty());
}

TEST_F(MirrorPolicyTest, AnotherHostClaimingTheAddressStartsTheProbes) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::stale), t0);
    const Actions claimed =
        policy.on_claimed_elsewhere(addr("2001:db8:1::10"), std::nullopt, t0 + 10s);
    EXPECT_EQ(addresses_of<action::Probe>(claimed), std::vector{addr("2001:db8:1::10")});
    // Unanswered: withdrawn after withdraw_after (10 s here), whatever the kernel's STALE says.
    Actions later;
    for (auto now = t0 + 10s; now <= t0 + 21s; now += 500ms) {
        const Actions tick = policy.on_timer(now);
        later.insert(later.end(), tick.begin(), tick.end());
    }
    EXPECT_EQ(addresses_of<action::Withdraw>(later), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(policy.on_claimed_elsewhere(addr("2001:db8:1::99"), std::nullopt, t0).empty());
}

TEST_F(MirrorPolicyTest, NeighbourComingBackStopsTheProbes) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(deletion("2001:db8:1::10"), t0 + 1s);
    // Back while we were confirming it gone: it may have been behind another host meanwhile,
    // so it is announced again (and the kernel entry, still there, is not rewritten).
    const Actions back = policy.on_neighbour(neighbour("2001:db8:1::10", nud::stale), t0 + 2s);
    EXPECT_EQ(addresses_of<action::Announce>(back), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(addresses_of<action::Install>(back).empty());
    EXPECT_TRUE(addresses_of<action::Probe>(back).empty());
    for (auto now = t0 + 2s; now < t0 + 60s; now += 1s) {
        const Actions tick = policy.on_timer(now);
        EXPECT_TRUE(addresses_of<action::Probe>(tick).empty());
        EXPECT_TRUE(addresses_of<action::Withdraw>(tick).empty());
    }
}

TEST_F(MirrorPolicyTest, DeletionOnAnInterfaceTheAddressLeftIsIgnored) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable, kBr0), t0);
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable, kBr1), t0 + 1s);
    EXPECT_TRUE(policy.on_neighbour(deletion("2001:db8:1::10", kBr0), t0 + 2s).empty());
    EXPECT_EQ(policy.entries().at(addr("2001:db8:1::10")).ifindex, kBr1);
}

TEST_F(MirrorPolicyTest, AnnouncesThreeTimesOneSecondApart) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    std::vector<Duration> times{0s};
    for (auto now = t0; now < t0 + 10s; now += 100ms) {
        if (!addresses_of<action::Announce>(policy.on_timer(now)).empty()) {
            times.push_back(now - t0);
        }
    }
    EXPECT_EQ(times, (std::vector<Duration>{0s, 1s, 2s}));
    EXPECT_FALSE(policy.next_wakeup()) << "idle: no timer left armed";
}

TEST_F(MirrorPolicyTest, NoAnnouncementsWhenDisabled) {
    MirrorSettings quiet = settings();
    quiet.announce_count = 0;
    MirrorPolicy silent(quiet);
    const Actions actions = silent.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    EXPECT_TRUE(addresses_of<action::Announce>(actions).empty());
    EXPECT_FALSE(silent.next_wakeup());
}

TEST_F(MirrorPolicyTest, RestartWithEverythingInPlaceWritesNothing) {
    KernelSnapshot snapshot;
    snapshot.neighbours = {neighbour("2001:db8:1::10", nud::stale),
                           neighbour("2001:db8:1::20", nud::reachable)};
    snapshot.proxies.owned = {addr("2001:db8:1::10"), addr("2001:db8:1::20")};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_TRUE(actions.empty());
    EXPECT_EQ(policy.kernel_entry_count(), 2u);
}

TEST_F(MirrorPolicyTest, OwnedEntryWithoutNeighbourIsConfirmedBeforeWithdrawal) {
    // After a restart the neighbour of an idle VM may have been garbage-collected.
    KernelSnapshot snapshot;
    snapshot.proxies.owned = {addr("2001:db8:1::10")};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_TRUE(addresses_of<action::Withdraw>(actions).empty());
    EXPECT_EQ(addresses_of<action::Probe>(actions), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(policy.entries().at(addr("2001:db8:1::10")).in_kernel);
    EXPECT_TRUE(
        policy.on_advertisement(kBr0, addr("2001:db8:1::10"), std::nullopt, t0 + 1s).empty());
    EXPECT_EQ(policy.entries().at(addr("2001:db8:1::10")).ifindex, kBr0);
}

TEST_F(MirrorPolicyTest, OwnedEntryOutsideThePrefixesIsWithdrawnAtOnce) {
    KernelSnapshot snapshot;
    snapshot.proxies.owned = {addr("2001:db8:9::10")};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:9::10")});
}

TEST_F(MirrorPolicyTest, MissingEntriesAreInstalledAtReconcile) {
    KernelSnapshot snapshot;
    snapshot.neighbours = {neighbour("2001:db8:1::10", nud::stale)};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{addr("2001:db8:1::10")});
}

TEST_F(MirrorPolicyTest, AdministratorsEntryIsNeitherTakenOverNorWithdrawn) {
    KernelSnapshot snapshot;
    snapshot.neighbours = {neighbour("2001:db8:1::10", nud::stale)};
    snapshot.proxies.foreign = {addr("2001:db8:1::10")};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_TRUE(addresses_of<action::Install>(actions).empty());
    EXPECT_TRUE(policy.withdraw_all().empty());
}

TEST_F(MirrorPolicyTest, MarkAndSweepProbesWhatVanishedWhileNotLooking) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(neighbour("2001:db8:1::20", nud::reachable), t0);
    KernelSnapshot snapshot;
    snapshot.neighbours = {neighbour("2001:db8:1::10", nud::reachable)};
    snapshot.proxies.owned = {addr("2001:db8:1::10"), addr("2001:db8:1::20")};
    const Actions actions = policy.reconcile(snapshot, t0 + 1s);
    EXPECT_EQ(addresses_of<action::Probe>(actions), std::vector{addr("2001:db8:1::20")});
    EXPECT_TRUE(addresses_of<action::Withdraw>(actions).empty());
}

TEST_F(MirrorPolicyTest, FlushedProxyTableIsPutBack) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(neighbour("2001:db8:1::20", nud::reachable), t0);
    ProxyTable table;
    table.owned = {addr("2001:db8:1::20")};
    const Actions actions = policy.sync_proxy_table(table, t0 + 1s);
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(policy.counters().proxy_repairs, 1u);
}

TEST_F(MirrorPolicyTest, FailedInstallIsRetriedAtTheNextSync) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_install_failed(addr("2001:db8:1::10"));
    EXPECT_EQ(policy.kernel_entry_count(), 0u);
    const Actions actions = policy.sync_proxy_table({}, t0 + 1s);
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(policy.counters().proxy_repairs, 0u) << "never was in the kernel";
}

TEST_F(MirrorPolicyTest, InterfaceGoneStartsConfirmation) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable, kBr0), t0);
    policy.on_neighbour(neighbour("2001:db8:1::20", nud::reachable, kBr1), t0);
    const Actions actions = policy.on_interface_gone(kBr0, t0 + 1s);
    EXPECT_EQ(addresses_of<action::Probe>(actions), std::vector{addr("2001:db8:1::10")});
}

TEST_F(MirrorPolicyTest, ConfirmationPausesWhileNoInternalInterfaceExists) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    for (auto now = t0; now <= t0 + 5s; now += 1s) {
        policy.on_timer(now);  // the announcements are done
    }
    policy.on_interface_gone(kBr0, t0 + 5s);
    policy.set_probing_possible(false, t0 + 5s);
    EXPECT_FALSE(policy.next_wakeup()) << "no timer while probes cannot be sent";
    EXPECT_TRUE(addresses_of<action::Withdraw>(policy.on_timer(t0 + 60s)).empty());
    // The bridge is back: a whole new round of probes on it before anything is withdrawn.
    const Actions resumed = policy.set_probing_possible(true, t0 + 60s);
    EXPECT_EQ(addresses_of<action::Probe>(resumed), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(addresses_of<action::Withdraw>(policy.on_timer(t0 + 69s)).empty());
    EXPECT_EQ(addresses_of<action::Withdraw>(policy.on_timer(t0 + 70s)),
              std::vector{addr("2001:db8:1::10")});
}

TEST_F(MirrorPolicyTest, ShortWithdrawTimeStillProbesThreeTimes) {
    MirrorSettings quick = settings();
    quick.withdraw_after = 1s;
    MirrorPolicy fast(quick);
    fast.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    fast.on_timer(t0 + 3s);
    int probes =
        addresses_of<action::Probe>(fast.on_neighbour(deletion("2001:db8:1::10"), t0 + 3s)).size();
    for (auto now = t0 + 3s; now <= t0 + 4s; now += 10ms) {
        probes += addresses_of<action::Probe>(fast.on_timer(now)).size();
    }
    EXPECT_GE(probes, 3);
    EXPECT_TRUE(fast.entries().empty());
}

TEST_F(MirrorPolicyTest, EntriesTheKernelDoesNotVouchForAreConfirmedAgain) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::stale), t0);
    policy.on_verified(kBr0, addr("2001:db8:1::20"), std::nullopt, t0);
    const Actions actions = policy.confirm_unvouched(t0 + 60s);
    // Only the verified one: the kernel vouches for the other.
    EXPECT_EQ(addresses_of<action::Probe>(actions), std::vector{addr("2001:db8:1::20")});
    EXPECT_EQ(addresses_of<action::Withdraw>(policy.on_timer(t0 + 70s)),
              std::vector{addr("2001:db8:1::20")});
}

TEST_F(MirrorPolicyTest, WithdrawAllWithdrawsOnlyWhatIsInTheKernel) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(neighbour("2001:db8:1::20", nud::reachable), t0);
    policy.on_install_failed(addr("2001:db8:1::20"));
    const Actions actions = policy.withdraw_all();
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:1::10")});
}

TEST_F(MirrorPolicyTest, NarrowedPrefixesWithdrawWhatFellOutside) {
    policy.on_neighbour(neighbour("2001:db8:1::10", nud::reachable), t0);
    policy.on_neighbour(neighbour("2001:db8:1:0:1::10", nud::reachable), t0);
    MirrorSettings narrower = settings();
    narrower.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/80")};
    const Actions actions = policy.reconfigure(narrower);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:1:0:1::10")});
    EXPECT_EQ(policy.entries().size(), 1u);
}

}  // namespace
}  // namespace ndproxy

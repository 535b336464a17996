// Address conflicts (README "Address conflicts"): another host claims, with an override
// advertisement on the uplink, an address whose VM still answers here.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/mirror_policy.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::addresses_of;

constexpr int kBr0 = 3;
const Ipv6Address kVm = *Ipv6Address::parse("2001:db8:1::10");
const MacAddress kVmMac{{2, 0, 0, 0, 1, 0x10}};
const MacAddress kOtherHost{{2, 0, 0, 0, 0x0e, 0x0b}};

template <typename Kind>
std::size_t count(const Actions& actions) {
    return static_cast<std::size_t>(
        std::count_if(actions.begin(), actions.end(),
                      [](const Action& a) { return std::holds_alternative<Kind>(a); }));
}

void append(Actions& to, const Actions& more) {
    to.insert(to.end(), more.begin(), more.end());
}

class MirrorConflictTest : public ::testing::Test {
protected:
    static MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        s.withdraw_after = 4s;
        s.first_probe_gap = 500ms;
        return s;
    }
    // The VM has been here a while: its entry is installed, announced, and the kernel's
    // neighbour entry has gone STALE.
    MirrorConflictTest() {
        policy.on_neighbour({kBr0, kVm, kVmMac, nud::reachable, false}, t0 - 60s);
        for (auto now = t0 - 60s; now < t0 - 50s; now += 500ms) {
            policy.on_timer(now);
        }
        policy.on_neighbour({kBr0, kVm, kVmMac, nud::stale, false}, t0 - 30s);
    }
    Actions claim(TimePoint now) { return policy.on_claimed_elsewhere(kVm, kOtherHost, now); }
    Actions answer(TimePoint now) { return policy.on_advertisement(kBr0, kVm, kVmMac, now); }
    const MirrorEntry& entry() const { return policy.entries().at(kVm); }

    MirrorPolicy policy{settings()};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(MirrorConflictTest, AnAnswerAfterAClaimIsAConflictDefendedOnce) {
    EXPECT_EQ(addresses_of<action::Probe>(claim(t0)), std::vector{kVm});
    const Actions answered = answer(t0 + 5ms);
    ASSERT_EQ(count<action::Conflict>(answered), 1u);
    const auto& conflict = std::get<action::Conflict>(
        *std::find_if(answered.begin(), answered.end(),
                      [](const Action& a) { return std::holds_alternative<action::Conflict>(a); }));
    EXPECT_EQ(conflict.address, kVm);
    EXPECT_EQ(conflict.claimant, kOtherHost);
    EXPECT_EQ(conflict.ifindex, kBr0);
    // RFC 4861 §7.2.6 / RFC 5227 §2.4: one advertisement, not the --announce-count of a move.
    EXPECT_EQ(addresses_of<action::Announce>(answered), std::vector{kVm});
    EXPECT_TRUE(entry().claim.in_conflict);
    EXPECT_FALSE(entry().gone_since);
    EXPECT_EQ(policy.counters().address_conflicts, 1u);
    EXPECT_EQ(policy.counters().conflict_defences, 1u);
    // The entry stays, and nothing more is sent while no further claim comes.
    for (auto now = t0 + 10ms; now < t0 + 30s; now += 250ms) {
        const Actions tick = policy.on_timer(now);
        EXPECT_TRUE(tick.empty()) << "at " << (now - t0).count();
    }
    EXPECT_TRUE(policy.entries().contains(kVm));
}

TEST_F(MirrorConflictTest, AFloodOfClaimsProbesOnceASecondAndDefendsOnceInTenSeconds) {
    Actions all;
    for (auto now = t0; now < t0 + 25s; now += 10ms) {
        const Actions claimed = claim(now);
        append(all, claimed);
        Actions tick = policy.on_timer(now);
        append(all, tick);
        // The VM answers every probe at once.
        if (count<action::Probe>(claimed) + count<action::Probe>(tick) > 0) {
            append(all, answer(now + 1ms));
        }
    }
    EXPECT_EQ(count<action::Conflict>(all), 1u) << "logged once while it lasts";
    EXPECT_LE(count<action::Probe>(all), 26u) << "one per kClaimHoldOff";
    EXPECT_GE(count<action::Probe>(all), 20u) << "still probing: a real move would be seen";
    // t0, t0 + 10 s, t0 + 20 s (each at the first answer at least kDefendInterval later).
    EXPECT_EQ(addresses_of<action::Announce>(all), (std::vector{kVm, kVm, kVm}));
    EXPECT_EQ(policy.counters().conflict_defences, 3u);
    EXPECT_EQ(policy.counters().address_conflicts, 1u);
    EXPECT_GT(policy.counters().defences_held_off, 15u);
    EXPECT_GT(policy.counters().claims_held_off, 2000u);
    EXPECT_EQ(count<action::Withdraw>(all), 0u);
}

TEST_F(MirrorConflictTest, ReachableNeighbourDuringTheClaimIsTheSameConflict) {
    claim(t0);
    // The VM's answer reached the kernel first (STALE -> REACHABLE): defended, not announced
    // --announce-count times as a VM coming back would be.
    const Actions reachable =
        policy.on_neighbour({kBr0, kVm, kVmMac, nud::reachable, false}, t0 + 5ms);
    EXPECT_EQ(count<action::Conflict>(reachable), 1u);
    EXPECT_EQ(addresses_of<action::Announce>(reachable), std::vector{kVm});
    // Then our socket's copy of the same answer: nothing more.
    EXPECT_TRUE(answer(t0 + 6ms).empty());
    Actions later;
    for (auto now = t0 + 10ms; now < t0 + 5s; now += 250ms) {
        append(later, policy.on_timer(now));
    }
    EXPECT_EQ(count<action::Announce>(later), 0u);
}

TEST_F(MirrorConflictTest, TheKernelsTimersDuringTheClaimAreNoAnswer) {
    // A VM that migrated: its old entry here ages (REACHABLE -> STALE, DELAY, PROBE) while we
    // confirm; none of it is the VM speaking, so it is withdrawn as fast as any other.
    claim(t0);
    Actions all;
    const std::uint16_t aging[] = {nud::stale, nud::delay, nud::probe};
    for (int tenth = 1; tenth <= 40; ++tenth) {
        const TimePoint now = t0 + tenth * 100ms;
        if (tenth % 10 == 0 && tenth <= 30) {
            append(all,
                   policy.on_neighbour({kBr0, kVm, kVmMac, aging[tenth / 10 - 1], false}, now));
        }
        append(all, policy.on_timer(now));
    }
    EXPECT_EQ(addresses_of<action::Withdraw>(all), std::vector{kVm});
    EXPECT_EQ(count<action::Conflict>(all), 0u);
    EXPECT_EQ(count<action::Announce>(all), 0u);
}

TEST_F(MirrorConflictTest, AResyncDuringTheClaimIsNoAnswer) {
    // A dump shows the entry REACHABLE from before the VM left (it stays so for up to 45 s).
    claim(t0);
    KernelSnapshot snapshot;
    snapshot.neighbours = {{kBr0, kVm, kVmMac, nud::reachable, false}};
    snapshot.proxies.owned = {kVm};
    Actions all = policy.reconcile(snapshot, t0 + 1s);
    for (auto now = t0 + 1s; now <= t0 + 4s; now += 100ms) {
        append(all, policy.on_timer(now));
    }
    EXPECT_EQ(count<action::Conflict>(all), 0u);
    EXPECT_EQ(addresses_of<action::Withdraw>(all), std::vector{kVm});
}

TEST_F(MirrorConflictTest, AVmThatLeavesDuringTheHoldOffIsStillWithdrawn) {
    claim(t0);
    answer(t0 + 5ms);  // a conflict; the VM then migrates
    EXPECT_TRUE(claim(t0 + 300ms).empty()) << "held off";
    EXPECT_EQ(policy.counters().claims_held_off, 1u);
    Actions later;
    for (auto now = t0 + 300ms; now <= t0 + 6s; now += 100ms) {
        append(later, policy.on_timer(now));
    }
    EXPECT_GE(count<action::Probe>(later), 1u);
    // kClaimHoldOff, then withdraw_after (4 s).
    EXPECT_EQ(addresses_of<action::Withdraw>(later), std::vector{kVm});
    EXPECT_FALSE(policy.entries().contains(kVm));
}

TEST_F(MirrorConflictTest, AConflictEndsAfterAQuietMinuteAndIsReportedAgain) {
    claim(t0);
    answer(t0 + 5ms);
    Actions quiet;
    for (auto now = t0; now <= t0 + 61s; now += 500ms) {
        append(quiet, policy.on_timer(now));
    }
    EXPECT_EQ(addresses_of<action::ConflictOver>(quiet), std::vector{kVm});
    EXPECT_FALSE(entry().claim.in_conflict);
    claim(t0 + 70s);
    const Actions again = answer(t0 + 70s + 5ms);
    EXPECT_EQ(count<action::Conflict>(again), 1u);
    EXPECT_EQ(count<action::Announce>(again), 1u);
    EXPECT_EQ(policy.counters().address_conflicts, 2u);
}

TEST_F(MirrorConflictTest, AClaimOnAVmAlreadyMissingIsNoConflict) {
    // The VM vanished here first (the kernel dropped its entry), moved to another host, whose
    // announcement we hear, and came back: a migration there and back, announced as such.
    policy.on_neighbour({kBr0, kVm, std::nullopt, nud::none, true}, t0);
    EXPECT_TRUE(addresses_of<action::Probe>(claim(t0 + 100ms)).empty());
    const Actions back = policy.on_neighbour({kBr0, kVm, kVmMac, nud::stale, false}, t0 + 1s);
    EXPECT_EQ(count<action::Conflict>(back), 0u);
    EXPECT_EQ(addresses_of<action::Announce>(back), std::vector{kVm});
    EXPECT_EQ(policy.counters().address_conflicts, 0u);
}

TEST_F(MirrorConflictTest, AClaimHeardBeforeTheKernelDropsTheEntryIsNoConflictEither) {
    // The same migration there and back, but the other host's announcement arrives before the
    // kernel's deletion: the VM's fresh entry is a return all the same.
    EXPECT_EQ(addresses_of<action::Probe>(claim(t0)), std::vector{kVm});
    policy.on_neighbour({kBr0, kVm, std::nullopt, nud::none, true}, t0 + 50ms);
    const Actions back = policy.on_neighbour({kBr0, kVm, kVmMac, nud::stale, false}, t0 + 1s);
    EXPECT_EQ(count<action::Conflict>(back), 0u);
    EXPECT_EQ(addresses_of<action::Announce>(back), std::vector{kVm});
    EXPECT_FALSE(entry().gone_since);
}

TEST_F(MirrorConflictTest, ClaimsOnAddressesNotProxiedHereAreIgnored) {
    EXPECT_TRUE(
        policy.on_claimed_elsewhere(*Ipv6Address::parse("2001:db8:1::99"), kOtherHost, t0).empty());
    EXPECT_EQ(policy.entries().size(), 1u);
}

}  // namespace
}  // namespace ndproxy

// The kernel's share of the entries (--kernel-entries): beyond it the responder answers from the
// mirror's table, and entries move between the two paths as room comes and goes.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/daemon_settings.hpp"
#include "core/mirror_policy.hpp"
#include "core/responder_policy.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

constexpr int kBr0 = 3;

Ipv6Address vm(int host) {
    return *Ipv6Address::parse(fmt::format("2001:db8:1::{:x}", host));
}

NeighbourUpdate reachable(int host) {
    return NeighbourUpdate{kBr0, vm(host), MacAddress{{2, 0, 0, 0, 0, 1}}, nud::reachable, false};
}

using testing::addresses_of;

MirrorSettings with_share(std::size_t kernel_entries) {
    MirrorSettings s;
    s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
    s.withdraw_after = 4s;
    s.first_probe_gap = 1s;
    s.announce_count = 1;
    s.kernel_entries = kernel_entries;
    return s;
}

class KernelShareTest : public ::testing::Test {
protected:
    MirrorPolicy policy{with_share(2)};
    TimePoint t0 = TimePoint{} + 1000s;

    Path path_of(int host) const { return policy.entries().at(vm(host)).path; }
    // The VM leaves: its neighbour entry is deleted and our probes go unanswered.
    Actions leave(int host) {
        policy.on_neighbour({kBr0, vm(host), std::nullopt, nud::none, true}, t0);
        return policy.on_timer(t0 + 5s);
    }
};

TEST_F(KernelShareTest, BeyondTheShareTheResponderAnswersAndEveryoneIsAnnounced) {
    Actions all;
    for (int host = 0x10; host < 0x14; ++host) {
        const Actions actions = policy.on_neighbour(reachable(host), t0);
        all.insert(all.end(), actions.begin(), actions.end());
    }
    EXPECT_EQ(addresses_of<action::Install>(all), (std::vector{vm(0x10), vm(0x11)}));
    // RFC 4861 §7.2.6: a migrated VM needs the announcement whoever answers for it later.
    EXPECT_EQ(addresses_of<action::Announce>(all).size(), 4u);
    EXPECT_EQ(path_of(0x12), Path::responder);
    EXPECT_FALSE(policy.entries().at(vm(0x12)).in_kernel);
    EXPECT_EQ(policy.kernel_path_count(), 2u);
    EXPECT_EQ(policy.responder_path_count(), 2u);
    // The responder reads exactly this to decide that it answers.
    EXPECT_FALSE(policy.kernel_answers(vm(0x12)));
    EXPECT_TRUE(policy.kernel_answers(vm(0x10)));
}

TEST_F(KernelShareTest, FurtherEventsForAResponderEntryWriteNothing) {
    for (int host = 0x10; host < 0x13; ++host) {
        policy.on_neighbour(reachable(host), t0);
    }
    const Actions again = policy.on_neighbour(reachable(0x12), t0 + 1s);
    EXPECT_TRUE(addresses_of<action::Install>(again).empty());
    EXPECT_TRUE(addresses_of<action::Announce>(again).empty());
    EXPECT_EQ(path_of(0x12), Path::responder);
}

TEST_F(KernelShareTest, AFreedKernelSlotGoesToTheOldestResponderEntry) {
    for (int host = 0x10; host < 0x14; ++host) {
        policy.on_neighbour(reachable(host), t0);
    }
    const Actions actions = leave(0x10);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{vm(0x10)});
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{vm(0x12)});
    EXPECT_EQ(path_of(0x12), Path::kernel);
    EXPECT_TRUE(policy.entries().at(vm(0x12)).in_kernel);
    EXPECT_EQ(path_of(0x13), Path::responder);
    EXPECT_EQ(policy.counters().kernel_promotions, 1u);
    EXPECT_EQ(policy.kernel_path_count(), 2u);
    EXPECT_EQ(policy.responder_path_count(), 1u);
}

TEST_F(KernelShareTest, AResponderEntryThatLeftIsNotPromotedNorWithdrawnFromTheKernel) {
    for (int host = 0x10; host < 0x14; ++host) {
        policy.on_neighbour(reachable(host), t0);
    }
    const Actions gone = leave(0x12);
    EXPECT_TRUE(addresses_of<action::Withdraw>(gone).empty());  // never in the kernel
    EXPECT_FALSE(policy.entries().contains(vm(0x12)));
    const Actions freed = leave(0x10);
    EXPECT_EQ(addresses_of<action::Install>(freed), std::vector{vm(0x13)});
    EXPECT_EQ(policy.responder_path_count(), 0u);
}

TEST_F(KernelShareTest, ALoweredShareMovesTheSurplusToTheResponder) {
    for (int host = 0x10; host < 0x13; ++host) {
        policy.on_neighbour(reachable(host), t0);
    }
    const Actions actions = policy.reconfigure(with_share(1));
    EXPECT_EQ(addresses_of<action::Withdraw>(actions).size(), 1u);
    EXPECT_TRUE(addresses_of<action::Install>(actions).empty());
    EXPECT_EQ(policy.kernel_path_count(), 1u);
    EXPECT_EQ(policy.responder_path_count(), 2u);
    EXPECT_EQ(policy.entries().size(), 3u);  // nothing forgotten: only moved
    EXPECT_EQ(policy.counters().kernel_demotions, 1u);
    EXPECT_EQ(policy.counters().entries_withdrawn, 0u);
    // Raised again: back into the kernel, oldest first.
    const Actions raised = policy.reconfigure(with_share(3));
    EXPECT_EQ(addresses_of<action::Install>(raised).size(), 2u);
    EXPECT_EQ(policy.responder_path_count(), 0u);
}

TEST_F(KernelShareTest, ARestartFindingMoreOfItsEntriesThanTheShareKeepsTheShare) {
    KernelSnapshot snapshot;
    for (int host = 0x10; host < 0x14; ++host) {
        snapshot.neighbours.push_back(reachable(host));
        snapshot.proxies.owned.push_back(vm(host));
    }
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions).size(), 2u);
    EXPECT_TRUE(addresses_of<action::Install>(actions).empty());
    EXPECT_EQ(policy.kernel_path_count(), 2u);
    EXPECT_EQ(policy.responder_path_count(), 2u);
    EXPECT_EQ(policy.entries().size(), 4u);
}

TEST_F(KernelShareTest, ReconcileAndProxySyncLeaveResponderEntriesOutOfTheKernel) {
    KernelSnapshot snapshot;
    for (int host = 0x10; host < 0x14; ++host) {
        snapshot.neighbours.push_back(reachable(host));
    }
    const Actions first = policy.reconcile(snapshot, t0);
    EXPECT_EQ(addresses_of<action::Install>(first).size(), 2u);
    snapshot.proxies.owned = addresses_of<action::Install>(first);
    EXPECT_TRUE(addresses_of<action::Install>(policy.reconcile(snapshot, t0 + 1s)).empty());
    EXPECT_TRUE(
        addresses_of<action::Install>(policy.sync_proxy_table(snapshot.proxies, t0 + 2s)).empty());
    // A kernel entry that vanished is put back; the responder's stay where they are.
    ProxyTable flushed;
    std::vector<Ipv6Address> repaired =
        addresses_of<action::Install>(policy.sync_proxy_table(flushed, t0 + 3s));
    std::vector<Ipv6Address> expected = snapshot.proxies.owned;
    std::sort(repaired.begin(), repaired.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(repaired, expected);
}

TEST_F(KernelShareTest, ZeroMeansTheResponderAnswersForAll) {
    MirrorPolicy none{with_share(0)};
    const Actions actions = none.on_neighbour(reachable(0x10), t0);
    EXPECT_TRUE(addresses_of<action::Install>(actions).empty());
    EXPECT_EQ(addresses_of<action::Announce>(actions), std::vector{vm(0x10)});
    EXPECT_EQ(none.entries().at(vm(0x10)).path, Path::responder);
}

TEST_F(KernelShareTest, TheResponderAnswersResponderEntriesInKnownMode) {
    for (int host = 0x10; host < 0x13; ++host) {
        policy.on_neighbour(reachable(host), t0);
    }
    ResponderSettings settings;
    settings.mode = ResponderMode::known;
    settings.prefixes = policy.settings().prefixes;
    ResponderPolicy responder{settings, policy};
    const Requester router{*Ipv6Address::parse("fe80::1"), MacAddress{{2, 0, 0, 0, 0, 9}}};
    EXPECT_EQ(responder.on_solicitation(router, vm(0x12), t0).outcome, Outcome::answered);
    EXPECT_EQ(responder.on_solicitation(router, vm(0x10), t0).outcome, Outcome::kernel_answers);
}

TEST(KernelShareSettings, WithoutTheResponderEveryEntryGoesToTheKernel) {
    Config config;
    config.kernel_entries = 10;
    config.responder = ResponderMode::off;
    EXPECT_EQ(service_settings(config).mirror.kernel_entries, config.max_entries);
    config.responder = ResponderMode::known;
    EXPECT_EQ(service_settings(config).mirror.kernel_entries, 10u);
}

}  // namespace
}  // namespace ndproxy

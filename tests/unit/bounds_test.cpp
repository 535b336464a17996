// The resource bounds (README "Reliability"): each is an option that reaches the policy it
// tunes, each holds, and each is counted when it is hit. Maximum entries is the mirror's own
// bound and is tested in depth here; the responder's bounds have their policy tests in
// responder_policy_test.cpp, and here only the path from the option to the policy.

#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "core/daemon_settings.hpp"
#include "core/mirror_policy.hpp"
#include "core/responder_policy.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

constexpr int kExt = 2;
constexpr int kBr0 = 3;

Ipv6Address addr(const std::string& text) {
    return *Ipv6Address::parse(text);
}

Ipv6Address vm(unsigned n) {
    return addr(fmt::format("2001:db8:1::{:x}", 0x100 + n));
}

NeighbourUpdate alive(const Ipv6Address& address) {
    return NeighbourUpdate{kBr0, address, MacAddress{{2, 0, 0, 0, 0, 1}}, nud::stale, false};
}

NeighbourUpdate gone(const Ipv6Address& address) {
    return NeighbourUpdate{kBr0, address, std::nullopt, nud::none, true};
}

std::size_t installs(const Actions& actions) {
    return static_cast<std::size_t>(
        std::count_if(actions.begin(), actions.end(),
                      [](const auto& a) { return std::holds_alternative<action::Install>(a); }));
}

std::vector<Ipv6Address> withdrawals(const Actions& actions) {
    std::vector<Ipv6Address> out;
    for (const Action& action : actions) {
        if (const auto* withdraw = std::get_if<action::Withdraw>(&action)) {
            out.push_back(withdraw->address);
        }
    }
    return out;
}

class BoundsTest : public ConfigTest {
protected:
    Config config(Args extra) {
        Args arguments{"-e", "ext", "-i", "br0", "-p", "2001:db8:1::/64"};
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        return parse(arguments).config;
    }
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(BoundsTest, DefaultsAreTheDocumentedOnes) {
    const Config defaults = config({});
    EXPECT_EQ(defaults.max_entries, 262144u);
    EXPECT_EQ(defaults.kernel_entries, 1024u);
    EXPECT_EQ(service_settings(defaults).mirror.kernel_entries, 1024u);
    EXPECT_EQ(defaults.max_verifications, 256u);
    EXPECT_EQ(defaults.negative_cache, 8192u);
    EXPECT_EQ(defaults.answer_rate, 200000u);
    EXPECT_EQ(defaults.answer_rate_total, 200000u);
    EXPECT_EQ(defaults.max_control_clients, 64u);
    // And they are what the services get, not a second set of defaults of their own.
    EXPECT_EQ(service_settings(defaults).mirror.max_entries, 262144u);
    const ResponderSettings responder = responder_settings(defaults).policy;
    EXPECT_EQ(responder.max_verifications, 256u);
    EXPECT_EQ(responder.max_negative, 8192u);
    EXPECT_EQ(responder.limits.per_source, 200000u);
    EXPECT_EQ(responder.limits.total, 200000u);
}

TEST_F(BoundsTest, EveryBoundIsAnOptionAndAFileKey) {
    const Config given =
        config({"--max-entries", "10", "--max-verifications", "11", "--negative-cache", "12",
                "--answer-rate", "13", "--max-control-clients", "14", "--answer-rate-total", "15"});
    EXPECT_EQ(given.max_entries, 10u);
    EXPECT_EQ(given.max_verifications, 11u);
    EXPECT_EQ(given.negative_cache, 12u);
    EXPECT_EQ(given.answer_rate, 13u);
    EXPECT_EQ(given.max_control_clients, 14u);
    EXPECT_EQ(given.answer_rate_total, 15u);
    const Config file = config({"-c", write_file("bounds.conf",
                                                 "max-entries = 20\nmax-verifications = 21\n"
                                                 "negative-cache = 22\nanswer-rate = 23\n"
                                                 "max-control-clients = 24\n"
                                                 "answer-rate-total = 25\n")});
    EXPECT_EQ(file.max_entries, 20u);
    EXPECT_EQ(file.max_verifications, 21u);
    EXPECT_EQ(file.negative_cache, 22u);
    EXPECT_EQ(file.answer_rate, 23u);
    EXPECT_EQ(file.max_control_clients, 24u);
    EXPECT_EQ(file.answer_rate_total, 25u);
}

TEST_F(BoundsTest, ZeroAndTyposAreRejected) {
    EXPECT_EQ(error_of({"-e", "ext", "-i", "br0", "--max-entries", "0"}),
              "--max-entries: invalid value \"0\" (expected a whole number from 1 to 16777216)");
    EXPECT_EQ(error_of({"-e", "ext", "-i", "br0", "--max-control-clients", "5000"}),
              "--max-control-clients: invalid value \"5000\" (expected a whole number from 1 to "
              "512)");
    EXPECT_EQ(file_error("negative-cache = 8k\n"),
              directory_ +
                  "/ndproxyd.conf:1: invalid negative-cache \"8k\" (expected a whole "
                  "number from 1 to 1048576)");
    EXPECT_EQ(file_error("\nanswer-rate = -1\n"),
              directory_ +
                  "/ndproxyd.conf:2: invalid answer-rate \"-1\" (expected a whole "
                  "number from 1 to 10000000)");
    EXPECT_EQ(file_error("answer-rate-total = 9\n"),
              directory_ +
                  "/ndproxyd.conf:1: invalid answer-rate-total \"9\" (expected a whole "
                  "number from 10 to 10000000)");
    EXPECT_EQ(file_error("max-verifications = 0\n"),
              directory_ +
                  "/ndproxyd.conf:1: invalid max-verifications \"0\" (expected a whole "
                  "number from 1 to 65536)");
}

TEST_F(BoundsTest, ResponderBoundsReachThePolicy) {
    MirrorPolicy mirror(service_settings(config({})).mirror);
    const Requester router{addr("fe80::ff"), MacAddress{{2, 0, 0, 0, 0, 0xff}}};
    const Requester other{addr("fe80::fe"), MacAddress{{2, 0, 0, 0, 0, 0xfe}}};
    ResponderPolicy verifying(
        responder_settings(config({"--max-verifications", "2", "--negative-cache", "1"})).policy,
        mirror);
    EXPECT_EQ(verifying.on_solicitation(router, vm(1), t0).outcome, Outcome::verifying);
    EXPECT_EQ(verifying.on_solicitation(router, vm(2), t0).outcome, Outcome::verification_share);
    EXPECT_EQ(verifying.on_solicitation(other, vm(2), t0).outcome, Outcome::verifying);
    EXPECT_EQ(verifying.on_solicitation(router, vm(3), t0).outcome, Outcome::verification_limit);
    verifying.on_timer(t0 + 1s);  // both missed; the cache keeps one
    EXPECT_EQ(verifying.negative_cache_size(), 1u);
    EXPECT_EQ(verifying.counters().negative_evictions, 1u);

    ResponderPolicy answering(
        responder_settings(config({"--responder", "always", "--answer-rate", "3"})).policy, mirror);
    for (unsigned n = 1; n <= 3; ++n) {
        EXPECT_EQ(answering.on_solicitation(router, vm(n), t0).outcome, Outcome::answered);
    }
    EXPECT_EQ(answering.on_solicitation(router, vm(4), t0).outcome, Outcome::rate_limited);
}

class MaxEntriesTest : public ::testing::Test {
protected:
    static MirrorSettings settings(std::size_t max_entries) {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        s.withdraw_after = 4s;
        s.max_entries = max_entries;
        return s;
    }
    MirrorPolicy policy{settings(2)};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(MaxEntriesTest, NewAddressesAreRefusedAndCountedWhenFull) {
    EXPECT_EQ(installs(policy.on_neighbour(alive(vm(1)), t0)), 1u);
    EXPECT_EQ(installs(policy.on_neighbour(alive(vm(2)), t0)), 1u);
    EXPECT_FALSE(policy.refused_since_reconcile());
    EXPECT_TRUE(policy.on_neighbour(alive(vm(3)), t0).empty());
    EXPECT_TRUE(policy.on_verified(kBr0, vm(4), std::nullopt, t0).empty());
    EXPECT_EQ(policy.entries().size(), 2u);
    EXPECT_FALSE(policy.entries().contains(vm(3)));
    EXPECT_EQ(policy.counters().entries_limit, 2u);
    EXPECT_TRUE(policy.refused_since_reconcile());
}

TEST_F(MaxEntriesTest, EntriesAlreadyHeldKeepWorking) {
    policy.on_neighbour(alive(vm(1)), t0);
    policy.on_neighbour(alive(vm(2)), t0);
    // A fresh report about a held address is no new entry, so it is no refusal either.
    EXPECT_TRUE(policy.on_neighbour(alive(vm(1)), t0 + 1s).empty());
    EXPECT_EQ(policy.counters().entries_limit, 0u);
    // A held address that goes is still confirmed gone and withdrawn, which makes room.
    policy.on_neighbour(gone(vm(2)), t0 + 1s);
    EXPECT_EQ(withdrawals(policy.on_timer(t0 + 5s)), std::vector{vm(2)});
    EXPECT_EQ(installs(policy.on_neighbour(alive(vm(3)), t0 + 6s)), 1u);
    EXPECT_EQ(policy.counters().entries_limit, 0u);
}

TEST_F(MaxEntriesTest, ReconcileFillsUpToTheLimitAndCountsTheRest) {
    KernelSnapshot snapshot;
    snapshot.neighbours = {alive(vm(1)), alive(vm(2)), alive(vm(3))};
    EXPECT_EQ(installs(policy.reconcile(snapshot, t0)), 2u);
    EXPECT_EQ(policy.entries().size(), 2u);
    EXPECT_EQ(policy.counters().entries_limit, 1u);
    EXPECT_TRUE(policy.refused_since_reconcile());
    // With room again, the next reconcile takes the address in and clears the flag.
    policy.on_neighbour(gone(vm(1)), t0);
    policy.on_neighbour(gone(vm(2)), t0);
    policy.on_timer(t0 + 5s);
    ASSERT_TRUE(policy.entries().empty());
    snapshot.neighbours = {alive(vm(3))};
    snapshot.proxies.owned = {};
    EXPECT_EQ(installs(policy.reconcile(snapshot, t0 + 6s)), 1u);
    EXPECT_FALSE(policy.refused_since_reconcile());
}

TEST_F(MaxEntriesTest, LiveNeighboursComeBeforeLeftoversAndLeftoversBeyondTheLimitGo) {
    // An earlier run with a higher limit left three owned entries; one of them has a live
    // neighbour. The live one is kept, one leftover is adopted (to be confirmed) and the one
    // beyond the limit is withdrawn: tracked or removed, never left behind untracked.
    KernelSnapshot snapshot;
    snapshot.neighbours = {alive(vm(3))};
    snapshot.proxies.owned = {vm(1), vm(2), vm(3)};
    const Actions actions = policy.reconcile(snapshot, t0);
    EXPECT_EQ(installs(actions), 0u) << "the live entry is in the kernel already";
    ASSERT_EQ(withdrawals(actions).size(), 1u);
    EXPECT_EQ(policy.entries().size(), 2u);
    EXPECT_TRUE(policy.entries().contains(vm(3)));
    EXPECT_FALSE(policy.entries().contains(withdrawals(actions)[0]));
    EXPECT_EQ(policy.counters().entries_limit, 1u);
}

TEST_F(MaxEntriesTest, ALoweredLimitKeepsWhatIsHeld) {
    MirrorPolicy roomy{settings(3)};
    for (unsigned n = 1; n <= 3; ++n) {
        roomy.on_neighbour(alive(vm(n)), t0);
    }
    EXPECT_TRUE(withdrawals(roomy.reconfigure(settings(1))).empty());
    EXPECT_EQ(roomy.entries().size(), 3u);
    EXPECT_TRUE(roomy.on_neighbour(alive(vm(4)), t0).empty());
    EXPECT_EQ(roomy.counters().entries_limit, 1u);
}

// The service side: refused addresses come in on the slow timer once there is room, since a
// permanent neighbour sends no further event.
TEST(MaxEntriesService, RefusedAddressesAreFoundAgainOnceThereIsRoom) {
    testing::FakeKernel kernel;
    testing::FakePackets packets;
    kernel.add_link(kExt, "ext");
    kernel.add_link(kBr0, "br0");
    ServiceSettings settings;
    settings.external = "ext";
    settings.internal = {"br0"};
    settings.mirror.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
    settings.mirror.withdraw_after = 4s;
    settings.mirror.max_entries = 2;
    MirrorService service(settings, kernel, packets);
    const TimePoint t0 = TimePoint{} + 1000s;
    service.full_resync(t0);
    kernel.queued.clear();
    for (unsigned n = 1; n <= 3; ++n) {
        kernel.add_neighbour(alive(vm(n)));
    }
    service.on_kernel_readable(t0);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol).size(), 2u);
    EXPECT_EQ(service.policy().counters().entries_limit, 1u);
    // The slow timer while still full changes nothing.
    service.refresh_proxy_table(t0 + 1s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol).size(), 2u);
    // vm1 goes: confirmed gone, withdrawn; the slow timer then brings the refused one in.
    std::erase_if(kernel.neighbours, [](const auto& n) { return n.address == vm(1); });
    kernel.notify(gone(vm(1)));
    service.on_kernel_readable(t0 + 1s);
    service.on_timer(t0 + 6s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), (std::vector{vm(2)}));
    service.refresh_proxy_table(t0 + 7s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), (std::vector{vm(2), vm(3)}));
}

}  // namespace
}  // namespace ndproxy

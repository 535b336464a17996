#include "core/responder_policy.hpp"

#include <gtest/gtest.h>

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

const Requester kRouter{addr("fe80::ff"), MacAddress{{2, 0, 0, 0, 0, 0xff}}};
const Requester kNewcomer{Ipv6Address{}, MacAddress{{2, 0, 0, 0, 0, 0x77}}};

class ResponderPolicyTest : public ::testing::Test {
protected:
    static MirrorSettings mirror_settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        return s;
    }
    ResponderSettings settings(ResponderMode mode) {
        ResponderSettings s;
        s.mode = mode;
        s.prefixes = mirror_settings().prefixes;
        return s;
    }
    // A VM the mirror knows, whose kernel entry could not be installed.
    void known_without_kernel_entry(const char* address) {
        mirror.on_neighbour({3, addr(address), std::nullopt, nud::stale, false}, t0);
        mirror.on_install_failed(addr(address));
    }

    MirrorPolicy mirror{mirror_settings()};
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(ResponderPolicyTest, OffAnswersNothing) {
    ResponderPolicy responder(settings(ResponderMode::off), mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0).outcome,
              Outcome::mode_off);
}

TEST_F(ResponderPolicyTest, NeverAnswersForTheHostsOwnAddresses) {
    mirror.on_own_address({2, addr("2001:db8:1::1"), false});
    ResponderPolicy responder(settings(ResponderMode::always), mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::1"), t0).outcome,
              Outcome::own_address);
}

TEST_F(ResponderPolicyTest, NeverAnswersOutsideThePrefixes) {
    ResponderPolicy responder(settings(ResponderMode::always), mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:2::10"), t0).outcome,
              Outcome::out_of_scope);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("fe80::10"), t0).outcome,
              Outcome::out_of_scope);
}

// The configuration requires a prefix; a policy given none anyway answers nothing.
TEST_F(ResponderPolicyTest, WithoutPrefixesNothingIsInScope) {
    ResponderSettings none = settings(ResponderMode::always);
    none.prefixes.clear();
    ResponderPolicy responder(none, mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0).outcome,
              Outcome::out_of_scope);
}

TEST_F(ResponderPolicyTest, NeverAnswersBesideTheKernel) {
    mirror.on_neighbour({3, addr("2001:db8:1::10"), std::nullopt, nud::stale, false}, t0);
    KernelSnapshot snapshot;
    snapshot.neighbours = {{3, addr("2001:db8:1::10"), std::nullopt, nud::stale, false}};
    snapshot.proxies.owned = {addr("2001:db8:1::10")};
    snapshot.proxies.foreign = {addr("2001:db8:1::99")};
    mirror.reconcile(snapshot, t0);
    ResponderPolicy responder(settings(ResponderMode::always), mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0).outcome,
              Outcome::kernel_answers);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::99"), t0).outcome,
              Outcome::kernel_answers);
}

TEST_F(ResponderPolicyTest, KnownModeAnswersKnownAddressesWithoutAKernelEntry) {
    known_without_kernel_entry("2001:db8:1::10");
    ResponderPolicy responder(settings(ResponderMode::known), mirror);
    const auto decision = responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0);
    ASSERT_EQ(decision.outcome, Outcome::answered);
    ASSERT_EQ(decision.actions.size(), 1u);
    const auto& answer = std::get<respond::Answer>(decision.actions[0]);
    EXPECT_EQ(answer.target, addr("2001:db8:1::10"));
    EXPECT_EQ(answer.to.source, kRouter.source);
    EXPECT_FALSE(answer.dad);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::20"), t0).outcome,
              Outcome::unknown_target);
}

TEST_F(ResponderPolicyTest, AlwaysAnswersEveryAddressInThePrefix) {
    ResponderPolicy responder(settings(ResponderMode::always), mirror);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::1234"), t0).outcome,
              Outcome::answered);
}

TEST_F(ResponderPolicyTest, DadProbeForAnAddressInUseIsAnsweredToAllNodes) {
    known_without_kernel_entry("2001:db8:1::10");
    ResponderPolicy responder(settings(ResponderMode::verify), mirror);
    const auto decision = responder.on_solicitation(kNewcomer, addr("2001:db8:1::10"), t0);
    ASSERT_EQ(decision.outcome, Outcome::answered);
    EXPECT_TRUE(std::get<respond::Answer>(decision.actions[0]).dad);
}

TEST_F(ResponderPolicyTest, DadProbeForAnUnknownAddressIsNeverAnswered) {
    ResponderPolicy always(settings(ResponderMode::always), mirror);
    EXPECT_EQ(always.on_solicitation(kNewcomer, addr("2001:db8:1::30"), t0).outcome,
              Outcome::unknown_target);
    ResponderPolicy known(settings(ResponderMode::known), mirror);
    EXPECT_EQ(known.on_solicitation(kNewcomer, addr("2001:db8:1::30"), t0).outcome,
              Outcome::unknown_target);
}

TEST_F(ResponderPolicyTest, VerifyAsksTheInsideAndAnswersEveryoneWhoWaited) {
    ResponderPolicy responder(settings(ResponderMode::verify), mirror);
    const auto first = responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0);
    ASSERT_EQ(first.outcome, Outcome::verifying);
    ASSERT_EQ(first.actions.size(), 1u);
    EXPECT_EQ(std::get<respond::Verify>(first.actions[0]).target, addr("2001:db8:1::10"));
    // A retransmission while the verification runs is coalesced into it.
    const auto second = responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0 + 100ms);
    EXPECT_EQ(second.outcome, Outcome::verifying);
    EXPECT_TRUE(second.actions.empty());

    const auto resolved = responder.on_advertisement(addr("2001:db8:1::10"), t0 + 200ms);
    EXPECT_TRUE(resolved.verified);
    EXPECT_EQ(resolved.actions.size(), 2u);
    EXPECT_EQ(responder.verifications_in_flight(), 0u);
    EXPECT_FALSE(responder.next_wakeup());
}

TEST_F(ResponderPolicyTest, UnansweredVerificationIsRetriedThenCachedAsAbsent) {
    ResponderPolicy responder(settings(ResponderMode::verify), mirror);
    responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0);
    std::vector<Duration> retries;
    for (auto now = t0; now <= t0 + 1s; now += 50ms) {
        if (!responder.on_timer(now).empty()) {
            retries.push_back(now - t0);
        }
    }
    EXPECT_EQ(retries, (std::vector<Duration>{300ms, 600ms}));
    EXPECT_EQ(responder.counters().verification_misses, 1u);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0 + 2s).outcome,
              Outcome::negative_cached);
    // After the negative cache's time a new verification may start.
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0 + 12s).outcome,
              Outcome::verifying);
}

TEST_F(ResponderPolicyTest, LateAnswerAfterTheVerificationIsNotCredited) {
    ResponderPolicy responder(settings(ResponderMode::verify), mirror);
    responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0);
    responder.on_timer(t0 + 2s);
    EXPECT_FALSE(responder.on_advertisement(addr("2001:db8:1::10"), t0 + 2s).verified);
}

TEST_F(ResponderPolicyTest, VerificationsInFlightAreBoundedAndShared) {
    ResponderSettings s = settings(ResponderMode::verify);
    s.max_verifications = 4;
    ResponderPolicy responder(s, mirror);
    // Alone, a source may hold half the slots: there is always room for another.
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::1"), t0).outcome,
              Outcome::verifying);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::2"), t0).outcome,
              Outcome::verifying);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::3"), t0).outcome,
              Outcome::verification_share);
    const Requester other{addr("fe80::fe"), MacAddress{{2, 0, 0, 0, 0, 0xfe}}};
    const Requester third{addr("fe80::fd"), MacAddress{{2, 0, 0, 0, 0, 0xfd}}};
    EXPECT_EQ(responder.on_solicitation(other, addr("2001:db8:1::4"), t0).outcome,
              Outcome::verifying);
    EXPECT_EQ(responder.on_solicitation(third, addr("2001:db8:1::5"), t0).outcome,
              Outcome::verifying);
    EXPECT_EQ(responder.verifications_in_flight(), 4u);
    const Requester fourth{addr("fe80::fc"), MacAddress{{2, 0, 0, 0, 0, 0xfc}}};
    EXPECT_EQ(responder.on_solicitation(fourth, addr("2001:db8:1::6"), t0).outcome,
              Outcome::verification_limit);
    // A slot comes back when its verification ends, answered or not.
    responder.on_advertisement(addr("2001:db8:1::4"), t0 + 10ms);
    EXPECT_EQ(responder.on_solicitation(fourth, addr("2001:db8:1::6"), t0 + 10ms).outcome,
              Outcome::verifying);
}

TEST_F(ResponderPolicyTest, NegativeCacheIsBounded) {
    ResponderSettings s = settings(ResponderMode::verify);
    s.max_negative = 2;
    ResponderPolicy responder(s, mirror);
    for (const char* target : {"2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"}) {
        responder.on_solicitation(kRouter, addr(target), t0);
    }
    responder.on_timer(t0 + 1s);
    EXPECT_EQ(responder.negative_cache_size(), 2u);
    EXPECT_EQ(responder.counters().negative_evictions, 1u);
}

TEST_F(ResponderPolicyTest, AnswersPerSourceAreRateLimited) {
    ResponderSettings s = settings(ResponderMode::always);
    s.limits.per_source = 5;
    ResponderPolicy responder(s, mirror);
    int answered = 0;
    for (int i = 0; i < 10; ++i) {
        const auto target = fmt::format("2001:db8:1::{:x}", 0x100 + i);
        answered += responder.on_solicitation(kRouter, addr(target.c_str()), t0).outcome ==
                    Outcome::answered;
    }
    EXPECT_EQ(answered, 5);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::1"), t0).outcome,
              Outcome::rate_limited);
    // Other sources have budgets of their own. Buckets are chosen by a keyed hash, so one
    // other source may share the router's bucket (1 in 4096); two both sharing it would be
    // one in 16 million.
    int others_answered = 0;
    for (const char* source : {"fe80::fe", "fe80::fd"}) {
        const Requester other{addr(source), MacAddress{{2, 0, 0, 0, 0, 0xfe}}};
        others_answered += responder.on_solicitation(other, addr("2001:db8:1::1"), t0).outcome ==
                           Outcome::answered;
    }
    EXPECT_GE(others_answered, 1);
    // And the router's own budget refills with time.
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::1"), t0 + 1s).outcome,
              Outcome::answered);
}

TEST_F(ResponderPolicyTest, VerifiedAddressIsMirroredAndThenLeftToTheKernel) {
    ResponderPolicy responder(settings(ResponderMode::verify), mirror);
    responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0);
    ASSERT_TRUE(responder.on_advertisement(addr("2001:db8:1::10"), t0 + 10ms).verified);
    const Actions actions = mirror.on_verified(3, addr("2001:db8:1::10"), std::nullopt, t0);
    EXPECT_TRUE(std::holds_alternative<action::Install>(actions.at(0)));
    EXPECT_EQ(mirror.entries().at(addr("2001:db8:1::10")).origin, Origin::verified);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:1::10"), t0 + 1s).outcome,
              Outcome::kernel_answers);
}

}  // namespace
}  // namespace ndproxy

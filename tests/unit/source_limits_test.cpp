#include "core/source_limits.hpp"

#include <gtest/gtest.h>

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using Verdict = SourceLimits::Verdict;

const SourceKey kRouter{MacAddress{{2, 0, 0, 0, 0, 0xff}}, *Ipv6Address::parse("fe80::ff")};
// The router's link-local address, forged from another MAC.
const SourceKey kForger{MacAddress{{2, 0, 0, 0, 0, 0x66}}, *Ipv6Address::parse("fe80::ff")};

SourceLimitSettings limits(unsigned per_source, unsigned total) {
    return {per_source, total, 0x5eed};
}

// Answers granted to `source` out of `asked`, all within one window starting at `at`.
int granted(SourceLimits& limits, SourceLimits::Bucket source, int asked, TimePoint at) {
    int count = 0;
    for (int i = 0; i < asked; ++i) {
        count += limits.take_answer(source, at) == Verdict::granted;
    }
    return count;
}

class SourceLimitsTest : public ::testing::Test {
protected:
    // At the start of a window, so that a test's few microseconds stay inside it.
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(SourceLimitsTest, TheEthernetSourceIsPartOfTheKey) {
    const SourceLimits table(limits(10, 1000));
    EXPECT_NE(table.bucket_of(kRouter), table.bucket_of(kForger));
    EXPECT_EQ(table.bucket_of(kRouter), table.bucket_of(kRouter));
    // The key decides the buckets: another key, another table.
    const SourceLimits other(SourceLimitSettings{10, 1000, 0xbad});
    EXPECT_NE(table.bucket_of(kRouter), other.bucket_of(kRouter));
}

TEST_F(SourceLimitsTest, ALoneSourceMayHaveTheWholeBudget) {
    SourceLimits table(limits(200000, 200000));
    const auto router = table.bucket_of(kRouter);
    // 200,000/s in windows of 100 ms: 20,000 per window, every one to the router.
    EXPECT_EQ(granted(table, router, 25000, t0), 20000);
    EXPECT_EQ(table.take_answer(router, t0), Verdict::total_rate);
    EXPECT_EQ(granted(table, router, 20000, t0 + 100ms), 20000);
}

TEST_F(SourceLimitsTest, ASourcesOwnRateComesFirst) {
    SourceLimits table(limits(5, 1000));
    const auto router = table.bucket_of(kRouter);
    EXPECT_EQ(granted(table, router, 10, t0), 5);
    EXPECT_EQ(table.take_answer(router, t0), Verdict::source_rate);
    // Refilled at its rate: one more answer every 200 ms.
    EXPECT_EQ(granted(table, router, 10, t0 + 200ms), 1);
}

TEST_F(SourceLimitsTest, AForgerOfTheRoutersAddressLeavesTheRouterItsAnswers) {
    SourceLimits table(limits(200000, 200000));
    const auto router = table.bucket_of(kRouter);
    const auto forger = table.bucket_of(kForger);
    int router_granted = 0;
    int router_asked = 0;
    int forger_granted = 0;
    // The router asked a moment ago. Then ten windows: the forger asks 50,000 times in each,
    // before the router's 500 (the worst order for the router); the router asks at 5,000/s.
    EXPECT_EQ(table.take_answer(router, t0 - 500ms), Verdict::granted);
    for (int w = 0; w < 10; ++w) {
        const TimePoint window = t0 + w * SourceLimits::kWindow;
        forger_granted += granted(table, forger, 50000, window);
        router_granted += granted(table, router, 500, window);
        router_asked += 500;
    }
    EXPECT_EQ(router_granted, router_asked);
    // The forger has its share (half the budget) and no more.
    EXPECT_LE(forger_granted, 10 * 10000);
    EXPECT_GE(forger_granted, 9 * 10000);
}

TEST_F(SourceLimitsTest, TheOverallCapHoldsForAnyNumberOfSources) {
    SourceLimits table(limits(200000, 1000));  // 100 per window
    int total = 0;
    for (int s = 0; s < 5000; ++s) {
        const SourceKey source{MacAddress{{2, 0, 0, static_cast<std::uint8_t>(s >> 8),
                                           static_cast<std::uint8_t>(s), 1}},
                               *Ipv6Address::parse("fe80::1")};
        total += granted(table, table.bucket_of(source), 3, t0);
    }
    EXPECT_EQ(total, 100);
}

TEST_F(SourceLimitsTest, ActiveSourcesAreForgottenAfterAQuietWindow) {
    SourceLimits table(limits(200000, 1000));  // 100 per window
    const auto router = table.bucket_of(kRouter);
    const auto forger = table.bucket_of(kForger);
    granted(table, forger, 1, t0);
    // Two sources active in this window: the router has its half. What the forger leaves unused
    // stays unused: the cap is a ceiling, not a target.
    EXPECT_EQ(granted(table, router, 100, t0), 50);
    // Within two seconds the forger still counts; later it is forgotten, and the
    // router, alone again, has everything.
    EXPECT_EQ(granted(table, router, 200, t0 + 500ms), 50);
    EXPECT_EQ(granted(table, router, 200, t0 + 2600ms), 100);
    // And a router that asks in bursts, once a second, keeps its share against a flood.
    for (int second = 3; second < 8; ++second) {
        const TimePoint burst = t0 + second * 1s;
        granted(table, forger, 1000, burst);
        EXPECT_EQ(granted(table, router, 50, burst + 1ms), 50) << "second " << second;
        granted(table, forger, 1000, burst + 500ms);
    }
}

TEST_F(SourceLimitsTest, SlotsLeaveRoomForOneMoreSource) {
    SourceLimits table(limits(1000, 1000));
    const auto router = table.bucket_of(kRouter);
    const auto forger = table.bucket_of(kForger);
    int taken = 0;
    while (table.may_take_slot(forger, 256)) {
        table.take_slot(forger);
        ++taken;
    }
    EXPECT_EQ(taken, 128);
    EXPECT_TRUE(table.may_take_slot(router, 256));
    table.take_slot(router);
    EXPECT_EQ(table.slot_holders(), 2u);
    // Now each of the two may hold a third.
    EXPECT_FALSE(table.may_take_slot(forger, 256));
    for (int i = 0; i < 45; ++i) {
        table.release_slot(forger);
    }
    EXPECT_TRUE(table.may_take_slot(forger, 256));
    table.release_slot(router);
    EXPECT_EQ(table.slot_holders(), 1u);
    // A release of nothing held changes nothing.
    table.release_slot(router);
    EXPECT_EQ(table.slot_holders(), 1u);
}

TEST_F(SourceLimitsTest, ALossShrinksTheBudgetForSharingAndItGrowsBack) {
    SourceLimits table(limits(200000, 160000));  // 16,000 per window
    const auto router = table.bucket_of(kRouter);
    const auto forger = table.bucket_of(kForger);
    granted(table, router, 1, t0 - 1s);  // the router asked a moment ago
    // A loss in each of five windows: halved each time, down to an eighth.
    for (int w = 0; w < 5; ++w) {
        table.note_loss(t0 + w * SourceLimits::kWindow);
    }
    table.note_loss(t0 + 5 * SourceLimits::kWindow);
    EXPECT_EQ(table.current_rate(), 160000u / 8);
    // Now 2,000 a window for the two of them: 1,000 each.
    const TimePoint busy = t0 + 5 * SourceLimits::kWindow;
    EXPECT_EQ(granted(table, forger, 5000, busy), 1000);
    EXPECT_EQ(granted(table, router, 5000, busy), 1000);
    // Ten quiet windows later: an eighth plus ten sixteenths.
    table.note_loss(busy);
    const TimePoint later = busy + 11 * SourceLimits::kWindow;
    EXPECT_EQ(granted(table, forger, 1, later), 1);
    EXPECT_EQ(table.current_rate(), 160000u * 3 / 4);
    // A source alone is not held back by a loss it causes itself.
    SourceLimits alone(limits(200000, 160000));
    const auto only = alone.bucket_of(kRouter);
    for (int w = 0; w < 5; ++w) {
        alone.note_loss(t0 + w * SourceLimits::kWindow);
    }
    EXPECT_EQ(granted(alone, only, 20000, t0 + 5 * SourceLimits::kWindow), 16000);
}

}  // namespace
}  // namespace ndproxy

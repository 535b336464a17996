// The pace of unsolicited advertisements (docs/design.md §Announcements): a tenth of a second's
// burst, then `rate` a second; first announcements before repeats, the sweep last; a bounded
// queue; and no wake-up while nothing waits.

#include <gtest/gtest.h>

#include "core/announcement_pacer.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using Priority = AnnouncementPacer::Priority;

Ipv6Address address(unsigned i) {
    Ipv6Address a = *Ipv6Address::parse("2001:db8:1::");
    a.bytes[14] = static_cast<std::uint8_t>(i >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(i);
    return a;
}

const TimePoint t0 = TimePoint{} + 1000s;

TEST(AnnouncementPacer, IdleHasNoWakeup) {
    AnnouncementPacer pacer(200);
    EXPECT_FALSE(pacer.next_wakeup());
    EXPECT_TRUE(pacer.take(t0).empty());
    EXPECT_FALSE(pacer.next_wakeup());
}

TEST(AnnouncementPacer, BurstThenRate) {
    AnnouncementPacer pacer(200);  // a burst of 20, then one every 5 ms
    for (unsigned i = 0; i < 30; ++i) {
        ASSERT_TRUE(pacer.push(address(i), Priority::first, t0));
    }
    const auto first = pacer.take(t0);
    ASSERT_EQ(first.size(), 20u);
    EXPECT_EQ(first.front(), address(0));
    EXPECT_EQ(pacer.counters().delayed, 0u) << "sent in the turn that queued them";
    // The 10 left go together once 10 tokens have accrued, not one per wake-up.
    EXPECT_EQ(pacer.next_wakeup(), t0 + 50ms);
    EXPECT_EQ(pacer.take(t0 + 25ms).size(), 5u);
    EXPECT_EQ(pacer.take(t0 + 50ms).size(), 5u);
    EXPECT_EQ(pacer.counters().delayed, 10u);
    EXPECT_FALSE(pacer.next_wakeup());
    // Tokens accrue up to the burst only.
    for (unsigned i = 0; i < 30; ++i) {
        pacer.push(address(i), Priority::first, t0 + 1h);
    }
    EXPECT_EQ(pacer.take(t0 + 1h).size(), 20u);
}

TEST(AnnouncementPacer, FirstAnnouncementsGoBeforeRepeats) {
    AnnouncementPacer pacer(10);  // a burst of 1
    pacer.push(address(1), Priority::repeat, t0);
    pacer.push(address(2), Priority::repeat, t0);
    EXPECT_EQ(pacer.take(t0), std::vector{address(1)});
    pacer.push(address(3), Priority::first, t0);
    pacer.push(address(2), Priority::first, t0);   // upgraded: its old place is skipped
    pacer.push(address(3), Priority::repeat, t0);  // queued already: one leaves for both
    EXPECT_EQ(pacer.queued(), 2u);
    EXPECT_EQ(pacer.next_wakeup(), t0 + 100ms);
    EXPECT_EQ(pacer.take(t0 + 100ms), std::vector{address(3)});
    EXPECT_EQ(pacer.take(t0 + 200ms), std::vector{address(2)});
    EXPECT_TRUE(pacer.take(t0 + 300ms).empty());
    EXPECT_FALSE(pacer.next_wakeup());
}

TEST(AnnouncementPacer, TheQueueIsBounded) {
    AnnouncementPacer pacer(1);  // a minute's worth: 60
    ASSERT_EQ(pacer.queue_limit(), 60u);
    for (unsigned i = 0; i < 61; ++i) {
        pacer.push(address(i), Priority::first, t0);
    }
    EXPECT_EQ(pacer.queued(), 60u);
    EXPECT_EQ(pacer.counters().dropped, 1u);
    EXPECT_TRUE(pacer.push(address(0), Priority::first, t0)) << "queued already: no drop";
    EXPECT_EQ(pacer.counters().dropped, 1u);
}

TEST(AnnouncementPacer, SweepPassesAreIntervalApartAndWaitForTheQueue) {
    AnnouncementPacer pacer(1000);  // a burst of 100
    pacer.sweep({address(1), address(2), address(3)}, 2, 1s, t0);
    pacer.push(address(9), Priority::repeat, t0);
    EXPECT_EQ(pacer.waiting(), 7u);
    EXPECT_EQ(pacer.take(t0), (std::vector{address(9), address(1), address(2), address(3)}));
    EXPECT_EQ(pacer.waiting(), 3u);
    EXPECT_EQ(pacer.next_wakeup(), t0 + 1s);
    EXPECT_TRUE(pacer.take(t0 + 500ms).empty());
    EXPECT_EQ(pacer.take(t0 + 1s).size(), 3u);
    EXPECT_EQ(pacer.waiting(), 0u);
    EXPECT_FALSE(pacer.next_wakeup());
    EXPECT_EQ(pacer.counters().delayed, 0u) << "a sweep is paced by design, not delayed";
}

TEST(AnnouncementPacer, ALowerRateKeepsNoMoreThanItsBurst) {
    AnnouncementPacer pacer(1000);
    pacer.take(t0);
    pacer.set_rate(10);
    for (unsigned i = 0; i < 5; ++i) {
        pacer.push(address(i), Priority::first, t0);
    }
    EXPECT_EQ(pacer.take(t0).size(), 1u);
    EXPECT_EQ(pacer.queue_limit(), 600u);
}

}  // namespace
}  // namespace ndproxy

#pragma once

// The pace of unsolicited Neighbor Advertisements on one uplink (docs/design.md
// §Announcements): a token bucket of `rate` a second holding a tenth of a second's worth, a
// queue of announcements in two classes (an address's first announcement before the repeats),
// and at the back a sweep over a whole table (`ndproxyctl announce --all`). Pure: time comes in
// as arguments. The queue is bounded (rate x kMaxWait) and holds each address once.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/ipv6.hpp"

namespace ndproxy {

struct PacerCounters {
    std::uint64_t delayed = 0;  // left a later turn than the one that queued them
    std::uint64_t dropped = 0;  // not queued: the queue held kMaxWait's worth already
};

class AnnouncementPacer {
public:
    enum class Priority : std::uint8_t {
        first,   // an address's first announcement: a VM that arrived, returned or changed
        repeat,  // the ones after it (RFC 4861 §7.2.6 allows up to three)
    };
    // An announcement that would wait longer than this is dropped instead: by then the router's
    // own unreachability detection (RFC 4861 §7.3, about 40 s for an active flow with the
    // default timers) has found the address anew.
    static constexpr Duration kMaxWait = std::chrono::seconds(60);
    // Most announcements handed out per take(), so that one turn of the loop stays short.
    static constexpr std::size_t kPerTurn = 256;

    explicit AnnouncementPacer(unsigned rate) { set_rate(rate); }
    void set_rate(unsigned rate);
    [[nodiscard]] unsigned rate() const { return rate_; }

    // Queues one advertisement for `address`. One already queued for it is not repeated; a first
    // announcement moves it to the front class. False, counted, when the queue is full.
    bool push(const Ipv6Address& address, Priority priority, TimePoint now);
    // `passes` advertisements for each of `addresses`, pass after pass at least `interval`
    // apart, sent only while the queue is empty. Replaces a sweep under way.
    void sweep(std::vector<Ipv6Address> addresses, unsigned passes, Duration interval,
               TimePoint now);
    // What may leave now, at most kPerTurn: the queue's first class, its repeats, the sweep.
    // Addresses `wanted` refuses (withdrawn while they waited) are dropped without their turn.
    using Wanted = std::function<bool(const Ipv6Address&)>;
    std::vector<Ipv6Address> take(TimePoint now, const Wanted& wanted = nullptr);
    // When take() has something to give: long past when it has now, nullopt when nothing
    // waits (an idle daemon sleeps).
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;

    [[nodiscard]] std::size_t queued() const { return queued_.size(); }
    // Announcements waiting: the queue, and what the sweep has left to send.
    [[nodiscard]] std::size_t waiting() const;
    [[nodiscard]] std::size_t queue_limit() const { return limit_; }
    [[nodiscard]] const PacerCounters& counters() const { return counters_; }

private:
    struct Queued {
        Ipv6Address address;
        TimePoint at;  // when it was queued
        std::uint64_t sequence = 0;
    };
    struct Place {
        Priority priority;
        std::uint64_t sequence = 0;  // of its live place in that class's deque
    };
    void refill(TimePoint now);
    // Whether `place` is still its address's place in the queue (an upgrade or a departure
    // leaves the old one stale).
    [[nodiscard]] bool current(const Queued& place, Priority priority) const;
    // The next queued address in `priority`'s class, skipping stale places.
    std::optional<Queued> pop(Priority priority);
    [[nodiscard]] bool sweeping() const;

    unsigned rate_ = 1;
    double burst_ = 1;
    double tokens_ = 1;
    std::optional<TimePoint> refilled_;
    std::size_t limit_ = 1;
    std::array<std::deque<Queued>, 2> classes_;
    std::unordered_map<Ipv6Address, Place> queued_;
    std::uint64_t sequence_ = 0;

    std::vector<Ipv6Address> sweep_;
    std::size_t cursor_ = 0;
    unsigned passes_left_ = 0;
    Duration pass_interval_{};
    TimePoint next_pass_{};

    PacerCounters counters_;
};

}  // namespace ndproxy

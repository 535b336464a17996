#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "core/ipv6.hpp"
#include "core/mirror_policy.hpp"

namespace ndproxy {

// Who asked: the Ethernet source together with the IPv6 source. A host that forges the
// upstream router's link-local address from its own MAC is then a different source, and
// cannot spend the router's share.
struct SourceKey {
    MacAddress ether;
    Ipv6Address address;
};

struct SourceLimitSettings {
    // Answers per second to one source, in a burst of as many. As high as the overall cap by
    // default: the upstream router is one source, and alone it may have every answer.
    unsigned per_source = 200000;
    // Answers per second overall: bounds what a flood from many sources costs in CPU and puts
    // on the uplink. Spent in windows of 100 ms.
    unsigned total = 200000;
    // Mixed into the source hash, so that nobody outside can choose sources that share a
    // bucket with the router's. The daemon draws it at random; tests fix it.
    std::uint64_t hash_key = 0;
};

// Answer budgets and verification slots, shared fairly between sources. Memory is a fixed
// table of buckets indexed by a keyed hash of the source, however many sources a flood forges;
// sources that collide share a bucket.
//
// Fairness under the overall cap: within a window, a source may take answers up to its fair
// share (the window's budget divided by the sources active in the last two seconds), and beyond it
// only while the window's total is still below one share. Two seconds of memory keep a share
// for a router that asks in bursts, once a second, say. A router asking at a
// modest rate is then never refused because another source floods, whatever MAC that one
// forges; a source that is alone gets the whole budget.
class SourceLimits {
public:
    enum class Verdict { granted, source_rate, total_rate };

    explicit SourceLimits(SourceLimitSettings settings);
    void reconfigure(const SourceLimitSettings& settings);

    using Bucket = std::uint16_t;
    [[nodiscard]] Bucket bucket_of(const SourceKey& source) const;

    // One answer to the source in `bucket`, if its rate, its share and the cap allow.
    Verdict take_answer(Bucket bucket, TimePoint now);

    // The kernel dropped solicitations the daemon did not read in time: it is at its limit, and
    // the kernel drops blindly, the router's solicitations as likely as a flood's. Answers are
    // what costs most, so the overall budget halves for every window with a loss and grows back
    // by a sixteenth of the cap for every window without (AIMD, as TCP's congestion window):
    // shares shrink with it, a heavy source's first, until the daemon reads everything again.
    // Not on a mere backlog: frames left queued are read on the next turn, and shrinking then
    // cut a flood's answers to an eighth while a core stood half idle.
    void note_loss(TimePoint now);
    // Answers per second the overall budget allows now.
    [[nodiscard]] unsigned current_rate() const;

    // Verification slots (RFC 6583 §7.1: bound what unresolved targets cost). With k sources
    // holding slots, each may hold at most max / (k + 1): there is always room for one more
    // source, so one source's flood of random targets cannot keep out another's silent VM.
    [[nodiscard]] bool may_take_slot(Bucket bucket, std::size_t max_slots) const;
    void take_slot(Bucket bucket);
    void release_slot(Bucket bucket);
    [[nodiscard]] std::size_t slot_holders() const { return slot_holders_; }

    static constexpr std::size_t kBuckets = 4096;
    static constexpr Duration kWindow = std::chrono::milliseconds(100);
    static constexpr double kMinScale = 1.0 / 8;

private:
    struct State {
        double tokens = 0;
        TimePoint refilled{};
        std::uint64_t window = 0;  // the window `used` counts in
        std::uint32_t used = 0;    // answers in that window
        std::uint32_t slots = 0;   // verification slots held
        bool seen = false;
    };
    void roll_window(TimePoint now);
    void mark_active(State& state);
    [[nodiscard]] std::uint32_t active_sources() const;

    SourceLimitSettings settings_;
    std::array<State, kBuckets> buckets_{};
    std::uint64_t window_ = 0;
    std::uint32_t window_used_ = 0;
    bool lost_ = false;   // in this window
    double scale_ = 1.0;  // of the overall cap, kMinScale ... 1
    // Each source counts once, in the window it last asked in, over the last two seconds: a ring of
    // windows, each with the number of sources whose last solicitation fell in it.
    struct Recent {
        std::uint64_t window = 0;
        std::uint32_t sources = 0;
    };
    std::array<Recent, 20> recent_{};
    std::size_t slot_holders_ = 0;
};

}  // namespace ndproxy

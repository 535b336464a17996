#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/ipv6.hpp"
#include "core/mirror_policy.hpp"
#include "core/source_limits.hpp"

namespace ndproxy {

struct ResponderSettings {
    ResponderMode mode = ResponderMode::verify;
    std::vector<Ipv6Prefix> prefixes;  // at least one (required); empty: nothing
    // A silent VM must answer our probe within this time to count as present. The upstream
    // router retransmits after RetransTimer (1 s, RFC 4861 §10), so answering well inside it
    // keeps the first resolution alive.
    Duration verify_timeout = std::chrono::milliseconds(900);
    Duration verify_retransmit = std::chrono::milliseconds(300);
    Duration negative_ttl = std::chrono::seconds(10);
    // RFC 6583: bounds that keep a flood for random targets in the /64 cheap.
    std::size_t max_verifications = 256;
    std::size_t max_waiters = 8;  // solicitations coalesced into one verification
    std::size_t max_negative = 8192;
    // Answers per source and overall, shared fairly between sources.
    SourceLimitSettings limits;
};

// Who asked, so that the answer can go back to them.
struct Requester {
    Ipv6Address source;  // unspecified for a DAD probe
    MacAddress ether_source;
};

namespace respond {
// Send a Neighbor Advertisement for `target` on the external link (RFC 4861 §7.2.4).
struct Answer {
    Ipv6Address target;
    Requester to;
    bool dad = false;  // to ff02::1 with S clear
};
// Solicit `target` on every internal interface.
struct Verify {
    Ipv6Address target;
};
}  // namespace respond
using ResponderAction = std::variant<respond::Answer, respond::Verify>;

// What became of one solicitation; the daemon counts these.
enum class Outcome {
    answered,
    verifying,        // a verification started or was joined
    kernel_answers,   // the kernel has a proxy entry: a second answer would be a duplicate
    own_address,      // the host answers for it itself
    out_of_scope,     // outside the prefixes, or not global unicast
    unknown_target,   // known mode, or a DAD probe for an address nobody holds behind us
    negative_cached,  // verified absent a moment ago
    verification_limit,
    verification_share,  // the source holds its share of the verification slots
    rate_limited,        // the source's own rate
    total_rate_limited,  // the overall cap, or the source's share of it
    mode_off
};
inline constexpr std::size_t kOutcomeCount = 12;
std::string_view to_string(Outcome outcome);

struct ResponderDecision {
    Outcome outcome;
    std::vector<ResponderAction> actions;
};

struct ResponderCounters {
    std::uint64_t verifications = 0;
    std::uint64_t verified = 0;
    std::uint64_t verification_misses = 0;
    std::uint64_t negative_evictions = 0;
};

// The responder: decides which solicitations on the external link userspace answers, and when
// to ask the internal side first. Pure, like MirrorPolicy, whose knowledge it reads.
class ResponderPolicy {
public:
    ResponderPolicy(ResponderSettings settings, const MirrorPolicy& mirror);

    ResponderDecision on_solicitation(const Requester& from, const Ipv6Address& target,
                                      TimePoint now);
    // A VM answered for `target` on an internal link: everyone waiting for it gets an answer.
    // Returns them; `verified` tells whether a verification was pending (to be mirrored).
    struct Resolved {
        bool verified = false;
        std::vector<ResponderAction> actions;
    };
    Resolved on_advertisement(const Ipv6Address& target, TimePoint now);
    std::vector<ResponderAction> on_timer(TimePoint now);
    // The kernel dropped solicitations the daemon did not read in time: the shares shrink for a
    // while.
    void on_frames_lost(TimePoint now) { limits_.note_loss(now); }
    void reconfigure(ResponderSettings settings);

    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;
    [[nodiscard]] const ResponderCounters& counters() const { return counters_; }
    [[nodiscard]] std::size_t verifications_in_flight() const { return verifications_.size(); }
    [[nodiscard]] std::size_t negative_cache_size() const { return negative_.size(); }
    [[nodiscard]] unsigned answer_budget() const { return limits_.current_rate(); }
    [[nodiscard]] const ResponderSettings& settings() const { return settings_; }
    // Targets whose verification timed out since the last take, while on (for the monitor).
    void record_misses(bool on) { recording_ = on; }
    std::vector<Ipv6Address> take_misses() { return std::exchange(misses_, {}); }

private:
    struct Verification {
        TimePoint started;
        TimePoint next_probe;
        std::vector<Requester> waiters;
        SourceLimits::Bucket source;  // who started it, and holds its slot
    };
    bool in_scope(const Ipv6Address& target) const;
    static std::optional<Outcome> refusal(SourceLimits::Verdict verdict);
    void remember_absent(const Ipv6Address& target, TimePoint now);
    bool negatively_cached(const Ipv6Address& target, TimePoint now);

    ResponderSettings settings_;
    const MirrorPolicy& mirror_;
    std::unordered_map<Ipv6Address, Verification> verifications_;
    std::set<std::pair<TimePoint, Ipv6Address>> verification_deadlines_;
    std::unordered_map<Ipv6Address, TimePoint> negative_;           // target -> expiry
    std::deque<std::pair<TimePoint, Ipv6Address>> negative_order_;  // oldest first
    SourceLimits limits_;
    ResponderCounters counters_;
    bool recording_ = false;
    std::vector<Ipv6Address> misses_;
};

}  // namespace ndproxy

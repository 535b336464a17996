#pragma once

// The fast path's side in the core (docs/design.md §Fast path): which addresses the packet
// port's filter must know, so that it drops before the copy to userspace exactly the
// solicitations the responder would drop as kernel_answers or out_of_scope, and, where the port
// answers in the kernel too, which it may answer as the responder would. The filter and the
// in-kernel responder are the port's business (linux/solicitation_filter.hpp,
// linux/xdp_responder.hpp); the core knows no BPF.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy {

class MirrorPolicy;

enum class FilterTarget : std::uint8_t {
    none,     // decided by the scope alone
    own,      // one of the host's addresses: always handed over (counted as own_address)
    kernel,   // a kernel proxy entry of ours answers it: dropped, counted as kernel_answers
    foreign,  // the administrator's proxy entry: the same, but never answered in our stead
    answer,   // the responder holds it: answered in the kernel where the port can
};
using FilterTargets = std::vector<std::pair<Ipv6Address, FilterTarget>>;

// What the packet port's fast path does now: nothing, the socket filter, or the filter and the
// XDP responder (loaded and attached to the uplink).
enum class FastPathState { off, filter, xdp };
std::string_view to_string(FastPathState state);

// The solicitations the filter dropped, by the outcome the responder would have given them.
struct FilterCounts {
    std::uint64_t kernel_answers = 0;
    std::uint64_t out_of_scope = 0;
};

// What the port's in-kernel responder decided, by the responder's outcomes (running totals).
struct FastAnswerCounts {
    std::uint64_t answered = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t total_rate_limited = 0;
    [[nodiscard]] std::uint64_t decided() const {
        return answered + rate_limited + total_rate_limited;
    }
};

// How the in-kernel responder answers: as ResponderService::answer, within the limits of
// SourceLimitSettings (core/source_limits.hpp).
struct FastAnswerSettings {
    bool answer_all = false;   // --responder always: every target in scope
    bool router = false;       // R flag
    bool from_target = false;  // --answer-source target
    unsigned per_source = 0;
    unsigned total = 0;
    std::uint64_t hash_key = 0;
    bool operator==(const FastAnswerSettings&) const = default;
};

struct FastPathChanges {
    bool everything = false;  // a resync: every address must be looked at again
    std::vector<Ipv6Address> addresses;
    bool blocks = false;  // the routed blocks changed
};

// The addresses whose FilterTarget may have changed since the last take. Bounded: past
// kMaxNoted it asks for everything, which a resync does anyway.
class FastPathJournal {
public:
    static constexpr std::size_t kMaxNoted = 4096;

    void note(const Ipv6Address& address) {
        if (everything_) {
            return;
        }
        if (addresses_.size() >= kMaxNoted) {
            note_everything();
            return;
        }
        addresses_.push_back(address);
    }
    void note_everything() {
        everything_ = true;
        addresses_.clear();
    }
    void note_blocks() { blocks_ = true; }
    FastPathChanges take() {
        FastPathChanges changes{std::exchange(everything_, false), std::exchange(addresses_, {}),
                                std::exchange(blocks_, false)};
        return changes;
    }

private:
    bool everything_ = true;  // the filter starts knowing nothing
    bool blocks_ = true;
    std::vector<Ipv6Address> addresses_;
};

namespace fast_path {

// In ResponderPolicy::on_solicitation's order: the host's own addresses come first, since the
// responder counts them as own_address whatever the scope or the kernel's entries say.
FilterTarget target_of(const MirrorPolicy& policy, const Ipv6Address& address);
// The changes to hand to PacketPort::set_filter_targets; for `everything`, every address
// that is not FilterTarget::none (to replace what the filter holds).
FilterTargets targets_for(const MirrorPolicy& policy, const FastPathChanges& changes);
// Of `changes`, the addresses the filter must stop dropping (none on `everything`): handed over
// before the kernel entries are withdrawn.
FilterTargets no_longer_kernel(const MirrorPolicy& policy, const FastPathChanges& changes);
// `later` added to `into`.
void merge(FastPathChanges& into, FastPathChanges later);
// The blocks the responder answers whole (RoutedBlocks), each once.
std::vector<Ipv6Prefix> routed_blocks(const MirrorPolicy& policy);

}  // namespace fast_path
}  // namespace ndproxy

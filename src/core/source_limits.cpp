#include "core/source_limits.hpp"

#include <algorithm>
#include <cstring>

namespace ndproxy {

namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t value) {
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

std::uint64_t window_index(TimePoint now) {
    return static_cast<std::uint64_t>(now.time_since_epoch() / SourceLimits::kWindow);
}

}  // namespace

SourceLimits::SourceLimits(SourceLimitSettings settings) : settings_(settings) {}

void SourceLimits::reconfigure(const SourceLimitSettings& settings) {
    // The key stays: buckets keep their meaning, and with them the slots they hold.
    const std::uint64_t key = settings_.hash_key;
    settings_ = settings;
    settings_.hash_key = key;
}

SourceLimits::Bucket SourceLimits::bucket_of(const SourceKey& source) const {
    std::uint64_t words[3] = {};
    std::memcpy(&words[0], source.address.bytes.data(), 8);
    std::memcpy(&words[1], source.address.bytes.data() + 8, 8);
    std::memcpy(&words[2], source.ether.bytes.data(), 6);
    std::uint64_t hash = settings_.hash_key;
    for (const std::uint64_t word : words) {
        hash = mix(hash ^ word);
    }
    return static_cast<Bucket>(hash % kBuckets);
}

void SourceLimits::roll_window(TimePoint now) {
    const std::uint64_t window = window_index(now);
    if (window == window_) {
        return;
    }
    // Windows without a solicitation lost none either.
    const double quiet =
        static_cast<double>(std::min<std::uint64_t>(window - window_, 64)) - (lost_ ? 1 : 0);
    if (lost_) {
        scale_ = std::max(kMinScale, scale_ / 2);
    }
    scale_ = std::min(1.0, scale_ + quiet / 16);
    lost_ = false;
    window_ = window;
    window_used_ = 0;
}

void SourceLimits::note_loss(TimePoint now) {
    roll_window(now);
    lost_ = true;
}

unsigned SourceLimits::current_rate() const {
    return static_cast<unsigned>(static_cast<double>(settings_.total) * scale_);
}

void SourceLimits::mark_active(State& state) {
    if (state.seen && state.window == window_) {
        return;
    }
    // It moves from the window it last asked in (if that is still remembered) to this one.
    if (state.seen) {
        Recent& before = recent_[state.window % recent_.size()];
        if (before.window == state.window && before.sources > 0) {
            --before.sources;
        }
    }
    Recent& current = recent_[window_ % recent_.size()];
    if (current.window != window_) {
        current = {window_, 0};
    }
    ++current.sources;
    state.seen = true;
    state.window = window_;
    state.used = 0;
}

std::uint32_t SourceLimits::active_sources() const {
    std::uint32_t sources = 0;
    for (const Recent& recent : recent_) {
        if (recent.window + recent_.size() > window_) {
            sources += recent.sources;
        }
    }
    return sources;
}

SourceLimits::Verdict SourceLimits::take_answer(Bucket bucket, TimePoint now) {
    roll_window(now);
    State& state = buckets_[bucket];
    mark_active(state);
    const double own_rate = settings_.per_source;
    const double elapsed = std::chrono::duration<double>(now - state.refilled).count();
    state.tokens = std::min(own_rate, state.tokens + elapsed * own_rate);
    state.refilled = now;
    if (state.tokens < 1.0) {
        return Verdict::source_rate;
    }
    // A source alone loses nothing to a loss that only it causes: the scale is for sharing.
    const std::uint32_t active = std::max<std::uint32_t>(1, active_sources());
    const unsigned total_rate = active == 1 ? settings_.total : current_rate();
    const auto budget = std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>(static_cast<double>(total_rate) *
                                      std::chrono::duration<double>(kWindow).count()));
    if (window_used_ >= budget) {
        return Verdict::total_rate;
    }
    const std::uint32_t share = std::max<std::uint32_t>(1, budget / active);
    if (state.used >= share && window_used_ >= share) {
        return Verdict::total_rate;
    }
    state.tokens -= 1.0;
    ++state.used;
    ++window_used_;
    return Verdict::granted;
}

bool SourceLimits::may_take_slot(Bucket bucket, std::size_t max_slots) const {
    const State& state = buckets_[bucket];
    const std::size_t holders = slot_holders_ + (state.slots == 0 ? 1 : 0);
    return state.slots < std::max<std::size_t>(1, max_slots / (holders + 1));
}

void SourceLimits::take_slot(Bucket bucket) {
    if (buckets_[bucket].slots++ == 0) {
        ++slot_holders_;
    }
}

void SourceLimits::release_slot(Bucket bucket) {
    State& state = buckets_[bucket];
    if (state.slots > 0 && --state.slots == 0) {
        --slot_holders_;
    }
}

}  // namespace ndproxy

#include "core/announcement_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace ndproxy {
namespace {

constexpr std::size_t index_of(AnnouncementPacer::Priority priority) {
    return static_cast<std::size_t>(priority);
}

}  // namespace

void AnnouncementPacer::set_rate(unsigned rate) {
    rate_ = std::max(rate, 1u);
    // A tenth of a second's worth: a VM's few addresses leave at once, and while a backlog
    // drains the loop wakes ten times a second, not once per advertisement.
    burst_ = std::max(1.0, rate_ / 10.0);
    tokens_ = refilled_ ? std::min(tokens_, burst_) : burst_;
    limit_ = static_cast<std::size_t>(rate_) *
             static_cast<std::size_t>(
                 std::chrono::duration_cast<std::chrono::seconds>(kMaxWait).count());
}

void AnnouncementPacer::refill(TimePoint now) {
    if (refilled_ && now > *refilled_) {
        const double elapsed = std::chrono::duration<double>(now - *refilled_).count();
        tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    if (!refilled_ || now > *refilled_) {
        refilled_ = now;
    }
}

bool AnnouncementPacer::push(const Ipv6Address& address, Priority priority, TimePoint now) {
    const auto found = queued_.find(address);
    if (found != queued_.end()) {
        // Waiting already: one advertisement leaves for both. A first announcement still goes
        // ahead of the repeats (its old place is skipped when reached).
        if (priority == Priority::first && found->second.priority == Priority::repeat) {
            found->second = {priority, ++sequence_};
            classes_[index_of(priority)].push_back({address, now, sequence_});
        }
        return true;
    }
    if (queued_.size() >= limit_) {
        ++counters_.dropped;
        return false;
    }
    queued_.emplace(address, Place{priority, ++sequence_});
    classes_[index_of(priority)].push_back({address, now, sequence_});
    // Places left stale by upgrades pile up while the first class never empties; drop them
    // before they outnumber the queue.
    std::deque<Queued>& repeats = classes_[index_of(Priority::repeat)];
    if (repeats.size() > 2 * limit_ + 1024) {
        std::erase_if(repeats,
                      [&](const Queued& place) { return !current(place, Priority::repeat); });
    }
    return true;
}

bool AnnouncementPacer::current(const Queued& place, Priority priority) const {
    const auto found = queued_.find(place.address);
    return found != queued_.end() && found->second.priority == priority &&
           found->second.sequence == place.sequence;
}

std::optional<AnnouncementPacer::Queued> AnnouncementPacer::pop(Priority priority) {
    std::deque<Queued>& places = classes_[index_of(priority)];
    while (!places.empty()) {
        const Queued place = places.front();
        places.pop_front();
        if (current(place, priority)) {
            queued_.erase(place.address);
            return place;
        }
    }
    return std::nullopt;
}

void AnnouncementPacer::sweep(std::vector<Ipv6Address> addresses, unsigned passes,
                              Duration interval, TimePoint now) {
    sweep_ = std::move(addresses);
    cursor_ = 0;
    passes_left_ = sweep_.empty() ? 0 : passes;
    pass_interval_ = interval;
    next_pass_ = now;
}

bool AnnouncementPacer::sweeping() const {
    return passes_left_ > 0 && !sweep_.empty();
}

std::vector<Ipv6Address> AnnouncementPacer::take(TimePoint now, const Wanted& wanted) {
    refill(now);
    std::vector<Ipv6Address> due;
    while (due.size() < kPerTurn && tokens_ >= 1) {
        std::optional<Queued> next = pop(Priority::first);
        if (!next) {
            next = pop(Priority::repeat);
        }
        bool waited = false;
        if (next) {
            waited = next->at < now;
        } else if (sweeping() && now >= next_pass_) {
            next = Queued{sweep_[cursor_++], now};
            if (cursor_ == sweep_.size()) {
                cursor_ = 0;
                next_pass_ = now + pass_interval_;
                if (--passes_left_ == 0) {
                    sweep_ = {};
                }
            }
        } else {
            break;
        }
        if (wanted && !wanted(next->address)) {
            continue;
        }
        counters_.delayed += waited ? 1 : 0;
        due.push_back(next->address);
        tokens_ -= 1;
    }
    return due;
}

std::optional<TimePoint> AnnouncementPacer::next_wakeup() const {
    if (queued_.empty() && !sweeping()) {
        return std::nullopt;
    }
    const TimePoint last = refilled_.value_or(TimePoint{});
    TimePoint when = last;  // long past: take() stopped at kPerTurn, not for want of tokens
    if (tokens_ < 1) {
        // Come back once a batch has accrued (the burst, or everything that waits, if less),
        // not once per advertisement.
        const double wanted = std::max(1.0, std::min(burst_, static_cast<double>(waiting())));
        when +=
            std::chrono::ceil<Duration>(std::chrono::duration<double>((wanted - tokens_) / rate_));
    }
    if (queued_.empty()) {
        when = std::max(when, next_pass_);
    }
    return when;
}

std::size_t AnnouncementPacer::waiting() const {
    std::size_t waiting = queued_.size();
    if (sweeping()) {
        waiting += sweep_.size() - cursor_ + (passes_left_ - 1) * sweep_.size();
    }
    return waiting;
}

}  // namespace ndproxy

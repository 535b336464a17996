// The mirror's table: admitting addresses within its bounds (the table's size, the per-VM
// quota), forgetting them, and keeping the kernel's share at settings.kernel_entries.

#include <algorithm>

#include "core/mirror_policy.hpp"

namespace ndproxy {

MirrorEntry* MirrorPolicy::admit(const Ipv6Address& address,
                                 const std::optional<MacAddress>& lladdr, TimePoint now,
                                 Actions& out) {
    if (auto found = entries_.find(address); found != entries_.end()) {
        return &found->second;
    }
    if (entries_.size() >= settings_.max_entries) {
        ++counters_.entries_limit;
        refused_since_reconcile_ = true;
        if (recording_) {
            changes_.push_back({address, Path::pending, Path::pending, true});
        }
        return nullptr;
    }
    // An address with no MAC yet (adopted from an earlier run, a NOARP neighbour) is counted
    // once make_live() learns it, without a token: it is not new to the host.
    if (lladdr) {
        const MacVerdict verdict = quota_.admit(*lladdr, now);
        if (verdict != MacVerdict::admitted) {
            if (verdict == MacVerdict::too_fast) {
                ++counters_.mac_rate_limit;
                refused_since_reconcile_ = true;  // a later resync finds it once tokens refill
            } else {
                ++counters_.mac_address_limit;
            }
            out.push_back(action::MacRefused{address, *lladdr, verdict});
            return nullptr;
        }
    }
    MirrorEntry& entry = entries_[address];
    fast_path_.note(address);  // known now: the responder answers it
    entry.address = address;
    entry.lladdr = lladdr;
    entry.first_seen = now;
    entry.new_here = !quiet_;
    return &entry;
}

void MirrorPolicy::set_path(MirrorEntry& entry, Path path) {
    if (entry.path == path) {
        return;
    }
    if (recording_) {
        changes_.push_back({entry.address, entry.path, path});
    }
    if ((entry.path == Path::responder) != (path == Path::responder)) {
        ++responder_changes_;
    }
    kernel_path_ -= entry.path == Path::kernel ? 1 : 0;
    responder_path_ -= entry.path == Path::responder ? 1 : 0;
    entry.path = path;
    kernel_path_ += path == Path::kernel ? 1 : 0;
    if (path == Path::responder) {
        ++responder_path_;
        promotion_queue_.push_back(entry.address);
    }
}

std::unordered_map<Ipv6Address, MirrorEntry>::iterator MirrorPolicy::forget(
    std::unordered_map<Ipv6Address, MirrorEntry>::iterator entry) {
    set_path(entry->second, Path::pending);
    fast_path_.note(entry->first);
    wakeups_.erase({entry->second.scheduled, entry->first});
    if (entry->second.lladdr) {
        quota_.release(*entry->second.lladdr);
    }
    return entries_.erase(entry);
}

void MirrorPolicy::set_in_kernel(MirrorEntry& entry, bool in_kernel) {
    if (entry.in_kernel != in_kernel) {
        entry.in_kernel = in_kernel;
        fast_path_.note(entry.address);
    }
}

void MirrorPolicy::rebalance(Actions& out) {
    // A lowered ceiling (SIGHUP, or a restart that found more of our entries than it allows):
    // the surplus goes to the responder. Any will do; the responder answers them as well.
    for (auto it = entries_.begin();
         kernel_path_ > settings_.kernel_entries && it != entries_.end(); ++it) {
        MirrorEntry& entry = it->second;
        if (entry.path != Path::kernel) {
            continue;
        }
        if (entry.in_kernel) {
            out.push_back(action::Withdraw{entry.address});
            set_in_kernel(entry, false);
        }
        set_path(entry, Path::responder);
        ++counters_.kernel_demotions;
    }
    while (kernel_path_ < settings_.kernel_entries && !promotion_queue_.empty()) {
        const Ipv6Address address = promotion_queue_.front();
        promotion_queue_.pop_front();
        auto found = entries_.find(address);
        if (found == entries_.end() || found->second.path != Path::responder ||
            foreign_proxies_.contains(address)) {
            continue;  // gone, or moved already: a stale place in the queue
        }
        set_path(found->second, Path::kernel);
        out.push_back(action::Install{address});
        set_in_kernel(found->second, true);
        ++counters_.kernel_promotions;
    }
    // Stale places pile up while the kernel's share stays full and responder entries come and
    // go; drop them before they outnumber the live ones.
    if (promotion_queue_.size() > 2 * responder_path_ + 1024) {
        std::erase_if(promotion_queue_, [&](const Ipv6Address& address) {
            auto found = entries_.find(address);
            return found == entries_.end() || found->second.path != Path::responder;
        });
    }
}

}  // namespace ndproxy

#include "core/mac_quota.hpp"

#include <algorithm>

namespace ndproxy {

MacVerdict MacQuota::admit(const MacAddress& mac, TimePoint now) {
    const double burst = settings_.new_per_minute;
    auto [found, fresh] = records_.try_emplace(mac);
    Record& record = found->second;
    if (fresh) {
        record.tokens = burst;
        record.refilled = now;
    } else {
        const std::chrono::duration<double> elapsed = now - record.refilled;
        record.tokens =
            std::min(burst, record.tokens + elapsed.count() * settings_.new_per_minute / 60.0);
        record.refilled = now;
    }
    MacVerdict verdict = MacVerdict::admitted;
    if (record.addresses >= settings_.max_addresses) {
        verdict = MacVerdict::too_many_addresses;
    } else if (record.tokens < 1.0) {
        verdict = MacVerdict::too_fast;
    } else {
        record.tokens -= 1.0;
        ++record.addresses;
    }
    if (record.addresses == 0) {
        records_.erase(found);  // refused at its first: nothing to remember but a full bucket
    }
    return verdict;
}

void MacQuota::release(const MacAddress& mac) {
    const auto found = records_.find(mac);
    if (found == records_.end()) {
        return;
    }
    if (--found->second.addresses == 0) {
        records_.erase(found);
    }
}

void MacQuota::charge(const MacAddress& mac) {
    auto [found, fresh] = records_.try_emplace(mac);
    if (fresh) {
        found->second.tokens = settings_.new_per_minute;
    }
    ++found->second.addresses;
}

std::size_t MacQuota::addresses_of(const MacAddress& mac) const {
    const auto found = records_.find(mac);
    return found == records_.end() ? 0 : found->second.addresses;
}

}  // namespace ndproxy

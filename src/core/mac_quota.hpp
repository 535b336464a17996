#pragma once

// Per-VM bounds (the hostile-tenants issue): how many addresses one MAC may hold in the mirror,
// and how fast it may add new ones. A VM inventing addresses would otherwise fill the whole
// entry table (--max-entries) and send three announcements upstream for each one. Pure: time
// comes in as arguments.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

#include "core/ipv6.hpp"

namespace ndproxy {

struct MacQuotaSettings {
    // Generous: privacy addresses (RFC 8981) pile up, one more a day for a week and longer.
    std::size_t max_addresses = 256;
    // New addresses one MAC may add per minute, in a burst of as many after a quiet minute.
    unsigned new_per_minute = 60;
};

enum class MacVerdict { admitted, too_many_addresses, too_fast };

class MacQuota {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit MacQuota(MacQuotaSettings settings = {}) : settings_(settings) {}

    // One more address for `mac`: admitted (counted, and a token taken) or refused.
    MacVerdict admit(const MacAddress& mac, TimePoint now);
    // An address of `mac` left the mirror. A MAC with none left is forgotten, so this holds
    // no more records than the mirror holds entries.
    void release(const MacAddress& mac);
    // An address already held is now `mac`'s (its MAC became known, or changed): it counts,
    // without a token and even beyond the cap, since it is not new to the host.
    void charge(const MacAddress& mac);
    void reconfigure(MacQuotaSettings settings) { settings_ = settings; }

    [[nodiscard]] std::size_t addresses_of(const MacAddress& mac) const;
    [[nodiscard]] std::size_t macs() const { return records_.size(); }

private:
    struct Record {
        std::size_t addresses = 0;
        double tokens = 0;  // new addresses it may add now
        TimePoint refilled{};
    };

    MacQuotaSettings settings_;
    std::map<MacAddress, Record> records_;
};

}  // namespace ndproxy

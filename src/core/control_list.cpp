#include "core/control_list.hpp"

#include <endian.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace ndproxy::control {
namespace {

std::string_view entry_state(const MirrorEntry& entry) {
    if (entry.gone_since) {
        return "probing";
    }
    if (entry.nud_state == nud::none) {
        // No kernel neighbour entry; "confirmed" when the VM answered our solicitation.
        return entry.answered ? "confirmed" : "unknown";
    }
    return nud_state_name(entry.nud_state);
}

double seconds(Duration duration) {
    return std::chrono::duration<double>(duration).count();
}

// Another host claims the address while its VM answers here (README "Address conflicts").
nlohmann::json conflict_json(const MirrorEntry& entry, TimePoint now) {
    const ClaimState& claim = entry.claim;
    if (!claim.in_conflict) {
        return nullptr;
    }
    return {
        {"claimed_by",
         claim.claimant ? nlohmann::json(claim.claimant->to_string()) : nlohmann::json(nullptr)},
        {"last_claim", seconds(now - claim.last_claim)},
        {"last_defence", claim.last_defence == TimePoint::min()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(seconds(now - claim.last_defence))},
    };
}

}  // namespace

nlohmann::json entry_json(const MirrorEntry& entry, const TrackedLink* link, TimePoint now,
                          const std::string* uplink) {
    nlohmann::json json{
        {"address", entry.address.to_string()},
        {"interface", link ? nlohmann::json(link->name) : nlohmann::json(nullptr)},
        {"lladdr",
         entry.lladdr ? nlohmann::json(entry.lladdr->to_string()) : nlohmann::json(nullptr)},
        {"state", entry_state(entry)},
        {"origin", to_string(entry.origin)},
        {"kernel", entry.in_kernel},
        {"path", to_string(entry.path)},
        {"age", seconds(now - entry.first_seen)},
        {"conflict", conflict_json(entry, now)},
    };
    if (uplink != nullptr) {
        json["uplink"] = *uplink;
    }
    return json;
}

ListReply::ListReply(const MirrorService& service, std::function<TimePoint()> clock)
    // Not owned: the caller keeps it alive.
    : ListReply({std::shared_ptr<const MirrorService>(std::shared_ptr<void>(), &service)},
                std::move(clock)) {}

ListReply::ListReply(std::vector<std::shared_ptr<const MirrorService>> services,
                     std::function<TimePoint()> clock)
    : services_(std::move(services)), clock_(std::move(clock)) {}

bool ListReply::collect() {
    const auto& entries = service().policy().entries();
    if (entries.bucket_count() != bucket_count_) {
        // Begun, or the table was rehashed since the last turn: entries moved between buckets.
        bucket_count_ = entries.bucket_count();
        next_bucket_ = 0;
        addresses_.clear();
        addresses_.reserve(entries.size());
    }
    const std::size_t goal = addresses_.size() + kCollectEntries;
    for (; next_bucket_ < bucket_count_ && addresses_.size() < goal; ++next_bucket_) {
        for (auto it = entries.begin(next_bucket_); it != entries.end(next_bucket_); ++it) {
            addresses_.push_back(it->first);
        }
    }
    if (next_bucket_ < bucket_count_) {
        return false;
    }
    // By two 64-bit words, three times faster than memcmp's byte order on this many.
    const auto key = [](const Ipv6Address& address) {
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        std::memcpy(&high, address.bytes.data(), sizeof(high));
        std::memcpy(&low, address.bytes.data() + sizeof(high), sizeof(low));
        return std::pair{be64toh(high), be64toh(low)};
    };
    std::sort(addresses_.begin(), addresses_.end(),
              [&](const Ipv6Address& a, const Ipv6Address& b) { return key(a) < key(b); });
    // An address erased and added again lands in the bucket it was in: no duplicates, but
    // they would cost a JSON list its meaning, so make sure.
    addresses_.erase(std::unique(addresses_.begin(), addresses_.end()), addresses_.end());
    return true;
}

bool ListReply::append_slice(std::string& out) {
    if (!collected_) {
        collected_ = collect();
        return true;  // nothing (more) to write yet; the next turn goes on
    }
    if (!started_) {
        started_ = true;
        out += R"({"ok":true,"list":[)";
    }
    const MirrorService& service = this->service();
    const auto& entries = service.policy().entries();
    const std::string* uplink = services_.size() > 1 ? &service.settings().external : nullptr;
    const TimePoint now = clock_();
    const std::size_t end = std::min(addresses_.size(), next_ + kSliceEntries);
    for (; next_ < end; ++next_) {
        const auto found = entries.find(addresses_[next_]);
        if (found == entries.end()) {
            continue;
        }
        const MirrorEntry& entry = found->second;
        if (!first_) {
            out += ',';
        }
        first_ = false;
        out += entry_json(entry, service.links().internal_by_index(entry.ifindex), now, uplink)
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (next_ < addresses_.size()) {
        return true;
    }
    if (++current_ < services_.size()) {
        // The next uplink's copy starts afresh.
        addresses_.clear();
        bucket_count_ = 0;
        next_bucket_ = 0;
        next_ = 0;
        collected_ = false;
        return true;
    }
    out += "]}\n";
    return false;
}

}  // namespace ndproxy::control

#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/control_protocol.hpp"
#include "core/mirror_service.hpp"

namespace ndproxy::control {

// One ENTRY of the "list" reply (core/control_protocol.hpp); `uplink` only when there are
// several.
nlohmann::json entry_json(const MirrorEntry& entry, const TrackedLink* link, TimePoint now,
                          const std::string* uplink = nullptr);

// The "list" reply, {"ok":true,"list":[ENTRY...]}, written a slice at a time so that no turn of
// the event loop takes long, whatever the table's size. First it copies the table's addresses,
// kCollectEntries per turn, bucket by bucket (a rehash meanwhile starts the copy over), and
// sorts them (16 bytes an entry: 4 MiB at 262,144; a few tens of ms); then each slice looks its
// kSliceEntries entries up as they are now, so one withdrawn meanwhile is left out. An address
// held throughout appears exactly once; one added meanwhile may or may not. With several
// uplinks, one after the other (docs/design.md §Uplinks), each row naming its uplink.
class ListReply final : public ReplySource {
public:
    static constexpr std::size_t kCollectEntries = 16384;
    static constexpr std::size_t kSliceEntries = 1024;

    // `service` must outlive the reply (the control server, which holds it, goes first).
    ListReply(const MirrorService& service, std::function<TimePoint()> clock);
    // Each uplink's service, kept alive by the reply: a reload may retire one meanwhile.
    ListReply(std::vector<std::shared_ptr<const MirrorService>> services,
              std::function<TimePoint()> clock);
    bool append_slice(std::string& out) override;

private:
    // One turn's share of the copy; true once every address is in `addresses_`, sorted.
    bool collect();
    [[nodiscard]] const MirrorService& service() const { return *services_[current_]; }

    std::vector<std::shared_ptr<const MirrorService>> services_;
    std::size_t current_ = 0;  // the service being written
    std::function<TimePoint()> clock_;
    std::vector<Ipv6Address> addresses_;
    std::size_t bucket_count_ = 0;  // the table's when the copy began
    std::size_t next_bucket_ = 0;
    bool collected_ = false;
    std::size_t next_ = 0;  // the next address of addresses_ to write
    bool started_ = false;
    bool first_ = true;  // no entry written yet
};

}  // namespace ndproxy::control

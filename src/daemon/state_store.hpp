#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/ipv6.hpp"

namespace ndproxy {

// Reads and writes the state file (--state-file; its format: core/responder_state.hpp). A
// missing, unreadable or corrupt file is no error: it is logged once and read as empty. Writes
// replace the file whole (a temporary file renamed over it), at most once per kDelay after a
// change, driven by the daemon's one loop (deadline()), and once more at exit.
class StateStore {
public:
    // A change is on disk within this long; changes in between share one write.
    static constexpr Duration kDelay = std::chrono::seconds(10);

    // `read_only` (--dry-run, which changes nothing): read at start, never written.
    StateStore(std::string path, bool read_only) : path_(std::move(path)), read_only_(read_only) {}
    std::vector<Ipv6Address> load();
    // The daemon's count of responder-path changes (MirrorPolicy::responder_changes(), summed):
    // a new value schedules a write.
    void note(std::uint64_t changes, TimePoint now);
    [[nodiscard]] std::optional<TimePoint> deadline() const { return deadline_; }
    [[nodiscard]] bool dirty() const { return deadline_.has_value(); }
    // Writes `addresses` (in address order) unless they are what the file holds already.
    void write(const std::vector<Ipv6Address>& addresses);

private:
    std::string path_;
    bool read_only_ = false;
    std::uint64_t changes_ = 0;
    std::optional<TimePoint> deadline_;
    std::vector<Ipv6Address> on_disk_;  // what the file holds, as far as we know
    bool failure_logged_ = false;
};

}  // namespace ndproxy

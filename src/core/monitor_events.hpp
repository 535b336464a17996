#pragma once

// The events of `ndproxyctl monitor` (core/control_protocol.hpp): one row per kind, the one
// list that the services, the control server, ndproxyctl's text and ndproxyctl(8) all read.
// Core raises them through Sink and knows nothing of who listens.

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/ipv6.hpp"

namespace ndproxy::monitor {

enum class Kind : std::uint8_t {
    added,
    withdrawn,
    promoted,
    demoted,
    verified,
    verification_failed,
    bound,
    conflict,
    conflict_over,
    reload,
    dropped,
};

struct EventType {
    Kind kind;
    std::string_view name;     // "event" in the JSON
    std::string_view members;  // besides event, time, and address where there is one
    std::string_view help;     // one sentence, as ndproxyctl(8) says it
};

inline constexpr auto kEvents = std::to_array<EventType>({
    {Kind::added, "added", "origin, path, interface, lladdr",
     "The daemon proxies a new address (path: kernel or responder)."},
    {Kind::withdrawn, "withdrawn", "path", "The daemon stopped proxying an address."},
    {Kind::promoted, "promoted", "",
     "An address moved from the responder into a freed kernel slot (kernel_promotions)."},
    {Kind::demoted, "demoted", "",
     "An address moved from the kernel to the responder (kernel_demotions)."},
    {Kind::verified, "verified", "interface",
     "An unknown target answered on the internal side (verified)."},
    {Kind::verification_failed, "verification_failed", "",
     "An unknown target did not answer in time (verification_misses)."},
    {Kind::bound, "bound", "counter, and lladdr, interface or count",
     "A resource bound was hit; counter names its counter or ns_dropped reason."},
    {Kind::conflict, "conflict", "claimed_by, interface",
     "Another host claims an address whose VM still answers here (address_conflicts)."},
    {Kind::conflict_over, "conflict_over", "", "No other host has claimed the address for 60 s."},
    {Kind::reload, "reload", "result (applied or rejected), error",
     "A configuration reload (SIGHUP) was applied or rejected."},
    {Kind::dropped, "dropped", "count",
     "This subscriber missed count events while it read too slowly (monitor_events_dropped)."},
});

namespace detail {
consteval bool rows_in_kind_order() {
    for (std::size_t i = 0; i < kEvents.size(); ++i) {
        if (static_cast<std::size_t>(kEvents[i].kind) != i) {
            return false;
        }
    }
    return static_cast<std::size_t>(Kind::dropped) + 1 == kEvents.size();
}
}  // namespace detail
static_assert(detail::rows_in_kind_order(), "one row per Kind, in the Kind's order");

[[nodiscard]] constexpr std::string_view to_string(Kind kind) {
    return kEvents[static_cast<std::size_t>(kind)].name;
}

// One event before it has a time: `details` holds the members after event, address and time.
struct Event {
    Kind kind;
    std::optional<Ipv6Address> address = std::nullopt;
    nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

// Where the services raise events. active() is false while nobody listens, so that a service
// builds no event then: events cost nothing without a subscriber.
class Sink {
public:
    virtual ~Sink() = default;
    [[nodiscard]] virtual bool active() const = 0;
    virtual void publish(Event event) = 0;
};

// One line of the stream, with its newline: {"event":..., "address":..., "time":..., ...}.
// `time` is in Unix seconds. Text that is not UTF-8 is replaced, so no name makes it throw.
std::string json_line(const Event& event, double time);

// ndproxyctl's text for one such line, without a newline, like `ip monitor`: the time (UTC),
// the event, the address (- without one), then the other members as name=value in their order.
std::string text_line(std::string_view json_line);

// A subscriber's queue of lines: at most max_events lines and max_bytes bytes. A line that
// does not fit is dropped and counted; once the reader has caught up (the queue is empty), the
// count goes out as a "dropped" event of its own, so that the reader knows what it missed.
class EventQueue {
public:
    static constexpr std::size_t kMaxEvents = 4096;
    static constexpr std::size_t kMaxBytes = std::size_t{1} << 20;

    explicit EventQueue(std::size_t max_events = kMaxEvents, std::size_t max_bytes = kMaxBytes)
        : max_events_(max_events), max_bytes_(max_bytes) {}

    // False, counted, when the line does not fit.
    bool push(const std::string& line);
    // Moves queued lines to `out` up to about `budget` bytes (at least one line); when that
    // empties the queue after drops, appends the "dropped" line stamped `time`.
    void take(std::string& out, std::size_t budget, double time);
    [[nodiscard]] bool empty() const { return lines_.empty() && dropped_ == 0; }
    [[nodiscard]] bool full() const { return lines_.size() >= max_events_ || bytes_ >= max_bytes_; }
    [[nodiscard]] std::size_t size() const { return lines_.size(); }

private:
    std::size_t max_events_;
    std::size_t max_bytes_;
    std::deque<std::string> lines_;
    std::size_t bytes_ = 0;
    std::uint64_t dropped_ = 0;  // since the last "dropped" line
};

}  // namespace ndproxy::monitor

#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"

namespace ndproxy::control {

// What the control server counts (daemon/control_server.hpp), for the stats.
struct ControlCounters {
    std::uint64_t clients_rejected = 0;
    std::uint64_t requests_refused = 0;
    std::uint64_t events_dropped = 0;  // monitor events a full subscriber queue turned away
};

// One uplink's services (docs/design.md §Uplinks).
struct UplinkView {
    const MirrorService& service;
    const ResponderService& responder;
};

// The payloads of the replies (the list's: core/control_list.hpp), as documented in
// core/control_protocol.hpp. The stats hold one member per row of core/stats_table.hpp, each
// the sum over the uplinks.
nlohmann::json stats_payload(std::span<const UplinkView> uplinks, const ControlCounters& control);
nlohmann::json stats_payload(const MirrorService& service, const ResponderService& responder,
                             const ControlCounters& control);
// The first uplink's link as "external", the entry counts summed, and "uplinks", each with the
// seconds since its responder last saw a solicitation for each prefix (as of `now`).
nlohmann::json status_payload(std::span<const UplinkView> uplinks, const Config& config,
                              Duration uptime, TimePoint now);
nlohmann::json status_payload(const MirrorService& service, const Config& config, Duration uptime);
// One line for sd_notify STATUS=.
std::string status_line(std::span<const UplinkView> uplinks);
std::string status_line(const MirrorService& service);

}  // namespace ndproxy::control

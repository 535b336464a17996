#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"

namespace ndproxy::control {

// What the control server counts (daemon/control_server.hpp), for the stats.
struct ControlCounters {
    std::uint64_t clients_rejected = 0;
    std::uint64_t requests_refused = 0;
};

// The payloads of the replies (the list's: core/control_list.hpp), as documented in
// core/control_protocol.hpp. The stats hold one member per row of core/stats_table.hpp.
nlohmann::json stats_payload(const MirrorService& service, const ResponderService& responder,
                             const ControlCounters& control);
nlohmann::json status_payload(const MirrorService& service, const Config& config, Duration uptime);
// One line for sd_notify STATUS=.
std::string status_line(const MirrorService& service);

}  // namespace ndproxy::control

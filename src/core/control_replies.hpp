#pragma once

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"

namespace ndproxy::control {

// The payloads of the replies (the list's: core/control_list.hpp), as documented in
// core/control_protocol.hpp.
nlohmann::json stats_payload(const MirrorService& service, const ResponderService& responder);
nlohmann::json status_payload(const MirrorService& service, const Config& config, Duration uptime);
// One line for sd_notify STATUS=.
std::string status_line(const MirrorService& service);

}  // namespace ndproxy::control

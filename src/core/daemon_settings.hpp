#pragma once

// What the daemon's services are told, derived from its Config: one place, so that the unit
// tests can check that every option reaches the policy it tunes.

#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"

namespace ndproxy {

// The first uplink's, with every prefix: a one-uplink configuration's whole daemon.
ServiceSettings service_settings(const Config& config);
ResponderServiceSettings responder_settings(const Config& config);

// One uplink's (docs/design.md §Uplinks): `uplink` as the external interface, and only the
// prefixes and bindings `via` it. The bounds (max-entries and the rest) apply to each uplink.
ServiceSettings service_settings(const Config& config, std::string_view uplink);
ResponderServiceSettings responder_settings(const Config& config, std::string_view uplink);

}  // namespace ndproxy

#pragma once

// What the daemon's services are told, derived from its Config: one place, so that the unit
// tests can check that every option reaches the policy it tunes.

#include "core/config.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_service.hpp"

namespace ndproxy {

ServiceSettings service_settings(const Config& config);
ResponderServiceSettings responder_settings(const Config& config);

}  // namespace ndproxy

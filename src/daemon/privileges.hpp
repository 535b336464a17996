#pragma once

#include "core/config.hpp"

namespace ndproxy {

// Started as root, becomes the configured user for good before anything touches the network,
// keeping only CAP_NET_ADMIN and CAP_NET_RAW, which the daemon needs for its whole life (a
// reload opens sockets, a returning uplink has its sysctls written). Creates the control
// socket's directory for that user first. Started as anyone else (systemd's User=), there is
// nothing to do. Throws ConfigError (unknown user) or std::system_error.
void drop_privileges(const Config& config);

}  // namespace ndproxy

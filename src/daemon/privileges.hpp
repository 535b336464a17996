#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "ndproxy/config.hpp"

namespace ndproxy {

// A user the daemon can run as, from the password database.
struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // primary group: it owns the control socket
};

// The account `config.user` names (or the default user, if it exists). Nullopt: the default
// user does not exist, so the daemon stays who it is. Throws ConfigError for a named user that
// does not exist.
std::optional<Account> configured_account(const Config& config);

// Started as root, becomes the configured user for good before anything touches the network,
// keeping only CAP_NET_ADMIN and CAP_NET_RAW, which the daemon needs for its whole life (a
// reload opens sockets, a returning uplink has its sysctls written). Creates the control
// socket's directory for that user first. Started as anyone else (systemd's User=), there is
// nothing to do. Throws ConfigError (unknown user) or std::system_error.
void drop_privileges(const Config& config);

}  // namespace ndproxy

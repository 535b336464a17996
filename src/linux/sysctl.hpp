#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ndproxy {

// The kernel answers for proxy entries only with these set (docs/design.md §Sysctls). Applies
// them, or with manage=false only warns about the ones that are wrong. Every change is logged.
void apply_proxy_sysctls(std::string_view external, bool manage);

// Warns when the neighbour table limit is close to the number of VMs the host serves.
void check_neighbour_capacity(std::size_t neighbours);

std::optional<std::string> read_sysctl(const std::string& path);

}  // namespace ndproxy

#pragma once

#include <cstddef>
#include <string_view>

namespace ndproxy {

// The kernel answers for proxy entries only with these set (docs/design.md §Sysctls; the table
// is core/sysctls.hpp). Applies them, or with manage=false only warns about the ones that are
// wrong. Every change is logged.
void apply_proxy_sysctls(std::string_view external, bool manage);

// Warns when the neighbour table limit is close to the number of VMs the host serves.
void check_neighbour_capacity(std::size_t neighbours);

}  // namespace ndproxy

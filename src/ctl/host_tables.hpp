#pragma once

// The host's links, addresses, routes and neighbours as `ndproxyctl doctor` needs them, read
// with libnl-route-3 (no privileges needed), and the kernel's route lookup for one address.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy::ctl {

struct HostRoute {
    Ipv6Prefix destination;
    bool unicast = false;      // RTN_UNICAST: not unreachable, blackhole, local...
    std::vector<int> devices;  // the interfaces of its next hops
};

struct HostTables {
    std::vector<std::pair<int, std::string>> links;         // ifindex, name
    std::vector<std::pair<int, Ipv6Address>> addresses;     // the IPv6 ones
    std::vector<HostRoute> routes;                          // IPv6, every table
    std::vector<std::pair<int, std::uint16_t>> neighbours;  // ifindex, NUD state (IPv6)

    [[nodiscard]] std::optional<int> index_of(const std::string& name) const;
    [[nodiscard]] std::string name_of(int ifindex) const;  // the index as text if unknown
};

// Throws KernelTableError (ctl/kernel_table.hpp) if a table cannot be read.
HostTables read_host_tables();

// Where the kernel would send a packet to `address` (RTM_GETROUTE, rules and tables applied):
// the output interface, nullopt when it has no route (unreachable, prohibited).
std::optional<int> route_lookup(const Ipv6Address& address);

}  // namespace ndproxy::ctl

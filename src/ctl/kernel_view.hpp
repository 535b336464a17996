#pragma once

// The kernel's proxy table as `ndproxyctl list --kernel` shows it: each entry marked as
// ndproxyd's (it carries kOwnProtocol) or the administrator's, and cross-checked against the
// daemon's own list when the daemon can be asked. Pure: no sockets, unit-tested.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ndproxy/ipv6.hpp"

namespace ndproxy::ctl {

// One row of the kernel's proxy table.
struct KernelProxyEntry {
    Ipv6Address address;
    int ifindex = 0;
    std::string interface;                 // the link's name, or its index if it has none
    std::optional<std::uint8_t> protocol;  // NDA_PROTOCOL; absent on entries added without one
};

// What the daemon said, for the cross-check.
struct DaemonView {
    nlohmann::json list;   // the "list" payload: [{"address": ..., "kernel": bool, ...}]
    std::string external;  // its external interface (from "status")
};

// The document `list --kernel --json` prints:
//   {"daemon": "reachable" | "unreachable",
//    "entries": [{"address": "2001:db8:1::10", "interface": "eth0", "ifindex": 2,
//                 "protocol": 71 | null, "owned": bool, "daemon": bool | null}],
//    "warnings": ["..."]}
// sorted by address, then interface. "daemon" says whether the daemon lists the address (on its
// external interface); null when the daemon could not be asked. Warnings name owned entries the
// daemon does not know (left behind by another run or configuration, or added by hand with
// ndproxyd's tag) and daemon entries with "kernel": true that are missing from the kernel.
nlohmann::json kernel_view(std::vector<KernelProxyEntry> entries,
                           const std::optional<DaemonView>& daemon);

}  // namespace ndproxy::ctl

#pragma once

// The kernel's proxy table as `ndproxyctl list --kernel` shows it: each entry marked as
// ndproxyd's (it carries kOwnProtocol) or the administrator's, and cross-checked against the
// daemon's own list when the daemon can be asked. Pure: no sockets, unit-tested.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ipv6.hpp"
#include "core/kernel_events.hpp"

namespace ndproxy::ctl {

// One row of the kernel's proxy table, as the daemon's codec reads it, with its link's name (or
// its index, if the link went meanwhile).
struct KernelRow {
    ProxyEntry entry;
    std::string interface;
};

// What the daemon said, for the cross-check.
struct DaemonView {
    nlohmann::json list;   // the "list" payload: [{"address": ..., "kernel": bool, ...}]
    std::string external;  // its (first) external interface (from "status")
    // Every uplink, with several (status "uplinks"); the list's rows then name theirs.
    std::vector<std::string> uplinks{};
    nlohmann::json status{};  // the whole "status" payload
};

// The document `list --kernel --json` prints:
//   {"daemon": "reachable" | "unreachable",
//    "entries": [{"address": "2001:db8:1::10", "interface": "eth0", "ifindex": 2,
//                 "protocol": 71 | null (none, or 0, which the kernel never reports), "owned":
//                 bool, "daemon": bool | null}],
//    "warnings": ["..."]}
// sorted by address, then interface. "daemon" says whether the daemon lists the address (on the
// uplink the entry is on); null when the daemon could not be asked. Warnings name owned entries the
// daemon does not know (left behind by another run or configuration, or added by hand with
// ndproxyd's tag) and daemon entries with "kernel": true that are missing from the kernel.
nlohmann::json kernel_view(std::vector<KernelRow> rows, const std::optional<DaemonView>& daemon);

}  // namespace ndproxy::ctl

#include "ctl/kernel_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

// An address on an uplink.
using Placed = std::pair<std::string, Ipv6Address>;

// The addresses the daemon lists, and those of them it says are in the kernel, by uplink. Entries
// it cannot parse are skipped: a malformed reply must not turn into a wrong warning.
struct DaemonAddresses {
    std::set<Placed> listed;
    std::set<Placed> in_kernel;
};

DaemonAddresses daemon_addresses(const json& list, const std::string& external) {
    DaemonAddresses result;
    if (!list.is_array()) {
        return result;
    }
    for (const json& entry : list) {
        if (!entry.is_object() || !entry.contains("address") || !entry["address"].is_string()) {
            continue;
        }
        const auto address = Ipv6Address::parse(entry["address"].get<std::string>());
        if (!address) {
            continue;
        }
        // Only with several uplinks does a row name its own.
        const auto uplink = entry.find("uplink");
        const Placed placed{
            uplink != entry.end() && uplink->is_string() ? uplink->get<std::string>() : external,
            *address};
        result.listed.insert(placed);
        const auto kernel = entry.find("kernel");
        if (kernel != entry.end() && kernel->is_boolean() && kernel->get<bool>()) {
            result.in_kernel.insert(placed);
        }
    }
    return result;
}

bool owned(const KernelRow& row) {
    return row.entry.protocol == kOwnProtocol;
}

}  // namespace

json kernel_view(std::vector<KernelRow> entries, const std::optional<DaemonView>& daemon) {
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return std::tie(a.entry.address, a.interface, a.entry.ifindex) <
               std::tie(b.entry.address, b.interface, b.entry.ifindex);
    });
    const DaemonAddresses known =
        daemon ? daemon_addresses(daemon->list, daemon->external) : DaemonAddresses{};
    // The daemon manages the entries of its uplinks only.
    const auto on_external = [&](const KernelRow& row) {
        return daemon && (row.interface == daemon->external ||
                          std::find(daemon->uplinks.begin(), daemon->uplinks.end(),
                                    row.interface) != daemon->uplinks.end());
    };

    json rows = json::array();
    json warnings = json::array();
    std::set<Placed> in_kernel_on_external;
    for (const KernelRow& row : entries) {
        const ProxyEntry& entry = row.entry;
        json daemon_knows = nullptr;
        if (daemon) {
            const Placed placed{row.interface, entry.address};
            daemon_knows = on_external(row) && known.listed.contains(placed);
            if (on_external(row)) {
                in_kernel_on_external.insert(placed);
            }
            if (owned(row) && !daemon_knows.get<bool>()) {
                warnings.push_back(
                    fmt::format("{} on {} carries ndproxyd's protocol tag ({}) but the running "
                                "ndproxyd does not know it",
                                entry.address, row.interface, kOwnProtocol));
            }
        }
        rows.push_back({
            {"address", entry.address.to_string()},
            {"interface", row.interface},
            {"ifindex", entry.ifindex},
            {"protocol", entry.protocol != 0 ? json(entry.protocol) : json(nullptr)},
            {"owned", owned(row)},
            {"daemon", std::move(daemon_knows)},
        });
    }
    for (const auto& [uplink, address] : known.in_kernel) {  // std::set: in uplink order
        if (!in_kernel_on_external.contains({uplink, address})) {
            const std::string where = uplink.empty() ? std::string() : " on " + uplink;
            warnings.push_back(fmt::format(
                "ndproxyd says {} has a kernel entry{}, but the kernel's proxy table has none",
                address, where));
        }
    }
    return {
        {"daemon", daemon ? "reachable" : "unreachable"},
        {"entries", std::move(rows)},
        {"warnings", std::move(warnings)},
    };
}

}  // namespace ndproxy::ctl

#pragma once

// `ndproxyctl list --kernel`: the kernel's IPv6 proxy table (what `ip -6 neigh show proxy`
// prints), read directly with libnl-route-3, so it works while the daemon is down.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctl/kernel_view.hpp"

namespace ndproxy::ctl {

// The table could not be read (no netlink socket, a dump that failed). Exit status 1.
class KernelTableError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Every IPv6 proxy entry of the network namespace the caller runs in, on every interface, in
// the kernel's order. Needs no privileges: neighbour dumps are open to every user.
std::vector<KernelRow> read_kernel_proxy_table();

// One message of the dump (header included) as a proxy entry, validated exactly as the daemon
// validates its own dumps (codec/netlink_codec.hpp); nullopt for anything else or malformed.
std::optional<ProxyEntry> proxy_row(std::span<const std::uint8_t> message);

// The kernel's table cross-checked with the daemon at `socket_path` (kernel_view()): what
// `list --kernel` prints and `doctor` judges. Warnings are confirmed by a second reading 300 ms
// later. `daemon`: what the daemon said, nullopt (and `why`) if it could not be asked.
struct CrossCheck {
    nlohmann::json view;
    std::optional<DaemonView> daemon;
    std::string why;
};
CrossCheck cross_check(const std::string& socket_path);

}  // namespace ndproxy::ctl

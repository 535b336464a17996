#pragma once

// The sysctls the kernel needs for proxy entries to answer (docs/design.md §Sysctls): what the
// daemon sets (linux/sysctl.cpp) and what `ndproxyctl doctor` checks, from one table.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ndproxy {

inline constexpr std::string_view kSysctlRoot = "/proc/sys/net/ipv6/";

// One setting under kSysctlRoot, e.g. {"conf/all/proxy_ndp", "1", "..."}.
struct SysctlSetting {
    std::string relative;
    std::string wanted;
    std::string_view why;
};

// What the daemon sets for the uplink `external`, in the order it sets them.
std::vector<SysctlSetting> proxy_sysctls(std::string_view external);

// The forwarding switch of `external`: the kernel acts on proxy entries only where it is on,
// and `all` sets every interface's. The daemon only warns about it.
std::string forwarding_sysctl(std::string_view external);

// The neighbour table's hard limit (only the initial network namespace has it).
inline constexpr std::string_view kGcThresh3 = "neigh/default/gc_thresh3";

// "conf/eth0/proxy_ndp" -> "net.ipv6.conf.eth0.proxy_ndp", as sysctl(8) names it.
std::string sysctl_name(std::string_view relative);

// The first word of kSysctlRoot + `relative`; nullopt (errno set) if it cannot be read. A read
// of /proc, no kernel interface: the daemon and ndproxyctl share it.
std::optional<std::string> read_sysctl(std::string_view relative);

// Whether `neighbours` addresses come close (80 %) to gc_thresh3 = `limit`: beyond it the
// kernel starts dropping neighbour entries. A limit of 0 says nothing.
bool neighbour_capacity_tight(std::size_t neighbours, std::size_t limit);

}  // namespace ndproxy

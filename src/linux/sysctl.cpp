#include "linux/sysctl.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/log.hpp"
#include "core/sysctls.hpp"

namespace ndproxy {
namespace {

void ensure(const SysctlSetting& setting, bool manage) {
    const std::string name = sysctl_name(setting.relative);
    const auto current = read_sysctl(setting.relative);
    if (!current) {
        log::warn("cannot read sysctl {}: {}", name, std::strerror(errno));
        return;
    }
    if (*current == setting.wanted) {
        return;
    }
    if (!manage) {
        log::warn("sysctl {} is {}, should be {} ({}); left alone because of --no-sysctl", name,
                  *current, setting.wanted, setting.why);
        return;
    }
    std::ofstream file(std::string(kSysctlRoot) + setting.relative);
    file << setting.wanted;
    file.flush();
    if (!file) {
        log::error("cannot set sysctl {} to {}: {}", name, setting.wanted, std::strerror(errno));
        return;
    }
    log::info("sysctl {}: {} -> {} ({})", name, *current, setting.wanted, setting.why);
}

}  // namespace

void apply_proxy_sysctls(std::string_view external, bool manage) {
    for (const SysctlSetting& setting : proxy_sysctls(external)) {
        ensure(setting, manage);
    }
    if (read_sysctl(forwarding_sysctl(external)).value_or("0") == "0") {
        log::warn(
            "net.ipv6.conf.{}.forwarding is off: the kernel ignores proxy entries on {} "
            "until it is on (set net.ipv6.conf.all.forwarding=1)",
            external, external);
    }
}

void check_neighbour_capacity(std::size_t neighbours) {
    // Only the initial namespace has gc_thresh3; inside other namespaces it is not visible.
    const auto limit = read_sysctl(kGcThresh3);
    if (!limit) {
        return;
    }
    const std::size_t value = std::strtoul(limit->c_str(), nullptr, 10);
    if (neighbour_capacity_tight(neighbours, value)) {
        log::warn(
            "{} neighbours against net.ipv6.neigh.default.gc_thresh3 = {}: the kernel "
            "will start dropping neighbour entries; raise gc_thresh3",
            neighbours, value);
    }
}

}  // namespace ndproxy

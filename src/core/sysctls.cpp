#include "core/sysctls.hpp"

#include <fstream>

namespace ndproxy {

std::vector<SysctlSetting> proxy_sysctls(std::string_view external) {
    const std::string ext(external);
    return {
        {"conf/all/proxy_ndp", "1",
         "the kernel forwards unicast solicitations for proxied addresses only with it"},
        {"conf/" + ext + "/proxy_ndp", "1", "enables proxy entries on the uplink"},
        // RFC 4861 §7.2.8: the random delay only matters when several proxies answer together.
        {"neigh/" + ext + "/proxy_delay", "0", "answer without the random delay"},
    };
}

std::string forwarding_sysctl(std::string_view external) {
    return "conf/" + std::string(external) + "/forwarding";
}

std::string sysctl_name(std::string_view relative) {
    std::string name = "net.ipv6.";
    for (const char c : relative) {
        name.push_back(c == '/' ? '.' : c);
    }
    return name;
}

std::optional<std::string> read_sysctl(std::string_view relative) {
    std::ifstream file(std::string(kSysctlRoot) + std::string(relative));
    std::string value;
    if (!(file >> value)) {
        return std::nullopt;
    }
    return value;
}

bool neighbour_capacity_tight(std::size_t neighbours, std::size_t limit) {
    return limit > 0 && neighbours * 10 > limit * 8;
}

}  // namespace ndproxy

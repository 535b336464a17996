#include "linux/sysctl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/log.hpp"

namespace ndproxy {
namespace {

constexpr const char* kRoot = "/proc/sys/net/ipv6/";

std::string dotted(std::string_view path) {
    std::string name = "net.ipv6.";
    for (const char c : path) {
        name.push_back(c == '/' ? '.' : c);
    }
    return name;
}

void ensure(const std::string& relative, std::string_view wanted, bool manage, const char* why) {
    const std::string path = kRoot + relative;
    const auto current = read_sysctl(path);
    if (!current) {
        log::warn("cannot read sysctl {}: {}", dotted(relative), std::strerror(errno));
        return;
    }
    if (*current == wanted) {
        return;
    }
    if (!manage) {
        log::warn("sysctl {} is {}, should be {} ({}); left alone because of --no-sysctl",
                  dotted(relative), *current, wanted, why);
        return;
    }
    std::ofstream file(path);
    file << wanted;
    file.flush();
    if (!file) {
        log::error("cannot set sysctl {} to {}: {}", dotted(relative), wanted,
                   std::strerror(errno));
        return;
    }
    log::info("sysctl {}: {} -> {} ({})", dotted(relative), *current, wanted, why);
}

}  // namespace

std::optional<std::string> read_sysctl(const std::string& path) {
    std::ifstream file(path);
    std::string value;
    if (!(file >> value)) {
        return std::nullopt;
    }
    return value;
}

void apply_proxy_sysctls(std::string_view external, bool manage) {
    const std::string ext(external);
    ensure("conf/all/proxy_ndp", "1", manage,
           "the kernel forwards unicast solicitations for proxied addresses only with it");
    ensure("conf/" + ext + "/proxy_ndp", "1", manage, "enables proxy entries on the uplink");
    // RFC 4861 §7.2.8: the random delay only matters when several proxies answer together.
    ensure("neigh/" + ext + "/proxy_delay", "0", manage, "answer without the random delay");
    if (read_sysctl(std::string(kRoot) + "conf/" + ext + "/forwarding").value_or("0") == "0") {
        log::warn(
            "net.ipv6.conf.{}.forwarding is off: the kernel ignores proxy entries on {} "
            "until it is on (set net.ipv6.conf.all.forwarding=1)",
            ext, ext);
    }
}

void check_neighbour_capacity(std::size_t neighbours) {
    // Only the initial namespace has gc_thresh3; inside other namespaces it is not visible.
    const auto limit = read_sysctl(std::string(kRoot) + "neigh/default/gc_thresh3");
    if (!limit) {
        return;
    }
    const std::size_t value = std::strtoul(limit->c_str(), nullptr, 10);
    if (value > 0 && neighbours * 10 > value * 8) {
        log::warn(
            "{} neighbours against net.ipv6.neigh.default.gc_thresh3 = {}: the kernel "
            "will start dropping neighbour entries; raise gc_thresh3",
            neighbours, value);
    }
}

}  // namespace ndproxy

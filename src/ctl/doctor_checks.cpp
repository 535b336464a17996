#include "ctl/doctor_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "core/sysctls.hpp"
#include "ctl/render.hpp"

namespace ndproxy::ctl::doctor {
namespace {

using Findings = std::vector<Finding>;

constexpr std::string_view kSolicitationDump = "tcpdump -ni {} icmp6 and 'ip6[40] == 135'";

std::string value_of(const Readings& readings, const std::string& relative) {
    const auto found = readings.sysctls.find(relative);
    return found != readings.sysctls.end() && found->second ? *found->second : "unreadable";
}

std::string set_sysctl(const std::string& relative, const std::string& value) {
    return fmt::format("sysctl -w {}={} (and keep it in /etc/sysctl.d/90-ndproxy.conf)",
                       sysctl_name(relative), value);
}

// A host address of the prefix to suggest: its ::2, as README's examples use.
std::string example_address(const Ipv6Prefix& prefix) {
    Ipv6Address address = prefix.network;
    address.bytes[15] |= 2;
    return address.to_string();
}

void uplinks_exist(const Readings& readings, Findings& out) {
    for (const UplinkReadings& uplink : readings.uplinks) {
        if (uplink.present) {
            out.push_back({"uplink " + uplink.name, Result::ok, "the link exists", ""});
        } else {
            out.push_back(
                {"uplink " + uplink.name, Result::fail,
                 fmt::format("no link {} (ndproxyd waits for it, and answers nothing "
                             "meanwhile)",
                             uplink.name),
                 fmt::format("ip link show; correct `external` in {}", readings.config_path)});
        }
    }
}

// The kernel acts on proxy entries only on interfaces that forward (ndisc_recv_ns).
void forwarding(const Readings& readings, Findings& out) {
    for (const UplinkReadings& uplink : readings.uplinks) {
        if (!uplink.present) {
            continue;
        }
        const std::string all = "conf/all/forwarding";
        const std::string own = forwarding_sysctl(uplink.name);
        const std::string check = "forwarding " + uplink.name;
        if (value_of(readings, all) != "1") {
            out.push_back({check, Result::fail,
                           fmt::format("{} is {}: the kernel routes nothing to the VMs and "
                                       "ignores proxy entries",
                                       sysctl_name(all), value_of(readings, all)),
                           set_sysctl(all, "1")});
        } else if (value_of(readings, own) != "1") {
            out.push_back({check, Result::fail,
                           fmt::format("{} is {}: the kernel ignores proxy entries on {}",
                                       sysctl_name(own), value_of(readings, own), uplink.name),
                           set_sysctl(own, "1")});
        } else {
            out.push_back({check, Result::ok, sysctl_name(own) + " is 1", ""});
        }
    }
}

// What the daemon sets (core/sysctls.hpp), each once even with several uplinks.
void proxy_sysctls_set(const Readings& readings, Findings& out) {
    std::set<std::string> seen;
    for (const UplinkReadings& uplink : readings.uplinks) {
        if (!uplink.present) {
            continue;
        }
        for (const SysctlSetting& setting : proxy_sysctls(uplink.name)) {
            if (!seen.insert(setting.relative).second) {
                continue;
            }
            const std::string name = sysctl_name(setting.relative);
            const std::string value = value_of(readings, setting.relative);
            if (value == setting.wanted) {
                out.push_back({name, Result::ok, fmt::format("is {}", value), ""});
            } else if (!readings.daemon && readings.manage_sysctls) {
                out.push_back({name, Result::ok,
                               fmt::format("is {}; ndproxyd sets it to {} when it starts", value,
                                           setting.wanted),
                               ""});
            } else {
                // The random delay only slows the answers; the rest stops them.
                const bool delay = setting.relative.ends_with("proxy_delay");
                out.push_back(
                    {name, delay ? Result::warn : Result::fail,
                     fmt::format(
                         "is {}, should be {} ({}){}", value, setting.wanted, setting.why,
                         readings.manage_sysctls ? "" : "; no-sysctl keeps ndproxyd from it"),
                     set_sysctl(setting.relative, setting.wanted)});
            }
        }
    }
}

// With forwarding on, the kernel ignores router advertisements (accept_ra 1): no default route
// comes by itself.
void default_route(const Readings& readings, Findings& out) {
    const bool any = std::any_of(readings.uplinks.begin(), readings.uplinks.end(),
                                 [](const UplinkReadings& uplink) { return uplink.default_route; });
    for (const UplinkReadings& uplink : readings.uplinks) {
        if (!uplink.present) {
            continue;
        }
        const std::string check = "default route " + uplink.name;
        const std::string fix = fmt::format(
            "ip -6 route add default via ROUTER dev {} (ROUTER: the provider's router, often "
            "fe80::1); keep it in the host's network configuration",
            uplink.name);
        if (uplink.default_route) {
            out.push_back({check, Result::ok, "a default route leaves through " + uplink.name, ""});
        } else if (any) {
            out.push_back({check, Result::warn,
                           fmt::format("no default route leaves through {}: the VMs' replies "
                                       "leave through another uplink",
                                       uplink.name),
                           fix + " (in a table of its own with a rule, README \"Topologies\")"});
        } else {
            out.push_back({check, Result::fail,
                           "no default route: with forwarding on, the kernel ignores router "
                           "advertisements, so the VMs' replies to the world go nowhere",
                           fix});
        }
    }
}

void uplink_address(const Readings& readings, Findings& out) {
    for (const UplinkReadings& uplink : readings.uplinks) {
        if (!uplink.present) {
            continue;
        }
        const std::string check = "address " + uplink.name;
        if (uplink.global_address) {
            out.push_back({check, Result::ok, uplink.name + " has a global address", ""});
            continue;
        }
        const std::string address =
            uplink.prefixes.empty() ? "ADDRESS" : example_address(uplink.prefixes.front());
        out.push_back({check, Result::warn,
                       fmt::format("{} has no global address: the host's own traffic leaves it "
                                   "with a source of another link",
                                   uplink.name),
                       fmt::format("ip -6 addr add {}/128 dev {} (an address of the prefix that "
                                   "no VM uses; a /128, so that the prefix stays routed inside)",
                                   address, uplink.name)});
    }
}

// docs/design.md §Routed addresses: /128s (or longer blocks) on internal links serve a prefix
// as well as an on-link route to a bridge does.
void prefix_routes(const Readings& readings, Findings& out) {
    for (const PrefixReadings& prefix : readings.prefixes) {
        const std::string check = "route " + prefix.prefix.to_string();
        const std::string where = prefix.route ? "to " + *prefix.route : "nowhere";
        if (prefix.route_internal) {
            out.push_back(
                {check, Result::ok,
                 fmt::format("{} routes to {}, an internal interface", prefix.probe, *prefix.route),
                 ""});
        } else if (prefix.internal_routes > 0) {
            out.push_back(
                {check, Result::ok,
                 fmt::format("{} route{} inside it to internal interfaces (routed "
                             "addresses); the rest routes {}",
                             prefix.internal_routes, prefix.internal_routes == 1 ? "" : "s", where),
                 ""});
        } else {
            const std::string fix = fmt::format(
                "ip -6 route add {} dev BRIDGE (the internal bridge), or a /128 per "
                "VM on its interface (README \"Topologies\")",
                prefix.prefix);
            // Routed VMs bring their routes with them: with none running, none is expected.
            out.push_back({check, prefix.internal_patterns ? Result::warn : Result::fail,
                           fmt::format("{} routes {}, and no route inside it leads to an internal "
                                       "interface{}",
                                       prefix.probe, where,
                                       prefix.internal_patterns
                                           ? " (fine while no VM runs, if each VM's route comes "
                                             "with its interface)"
                                           : ""),
                           fix});
        }
    }
}

// README "Pitfalls": a snooping bridge without a querier stops forwarding solicitations to
// guests whose MLD reports expired.
void snooping(const Readings& readings, Findings& out) {
    for (const BridgeReadings& bridge : readings.bridges) {
        const std::string check = "multicast snooping " + bridge.name;
        if (!bridge.snooping) {
            out.push_back({check, Result::ok, "snooping is off", ""});
        } else if (bridge.querier) {
            out.push_back({check, Result::ok, "snooping is on, with the bridge's querier", ""});
        } else {
            out.push_back({check, Result::warn,
                           "snooping is on without a querier: once the guests' MLD reports "
                           "expire, solicitations stop reaching them (probes fail, silent VMs "
                           "stay unanswered)",
                           fmt::format("ip link set {0} type bridge mcast_snooping 0 (or "
                                       "mcast_querier 1), and in its network configuration",
                                       bridge.name)});
        }
    }
}

void gc_thresh3(const Readings& readings, Findings& out) {
    const std::string name = sysctl_name(std::string(kGcThresh3));
    const auto found = readings.sysctls.find(std::string(kGcThresh3));
    if (found == readings.sysctls.end() || !found->second) {
        out.push_back({name, Result::skip,
                       "not visible here (only the initial network namespace has it)", ""});
        return;
    }
    const std::size_t limit = std::strtoul(found->second->c_str(), nullptr, 10);
    const std::size_t addresses =
        readings.daemon ? readings.daemon->entries : readings.internal_neighbours;
    const std::string counted = fmt::format(
        "{} {}", addresses,
        readings.daemon ? "addresses proxied" : "neighbours on the internal interfaces");
    if (neighbour_capacity_tight(addresses, limit)) {
        out.push_back({name, Result::warn,
                       fmt::format("is {} against {}: the kernel drops neighbour entries beyond "
                                   "it, and with them the VMs it forgets",
                                   limit, counted),
                       set_sysctl(std::string(kGcThresh3), std::to_string(std::max<std::size_t>(
                                                               addresses * 2, limit * 2)))});
    } else {
        out.push_back({name, Result::ok, fmt::format("is {}, for {}", limit, counted), ""});
    }
}

void daemon_running(const Readings& readings, Findings& out) {
    if (readings.daemon) {
        out.push_back({"daemon", Result::ok,
                       fmt::format("ndproxyd {} answers on {}, up {}, {} entries",
                                   readings.daemon->version, readings.socket_path,
                                   format_age(readings.daemon->uptime), readings.daemon->entries),
                       ""});
        return;
    }
    out.push_back({"daemon", Result::fail, readings.daemon_error,
                   fmt::format("systemctl start ndproxyd (journalctl -u ndproxyd says why it "
                               "stopped; ndproxyd --check-config -c {} checks the file)",
                               readings.config_path)});
}

void kernel_table(const Readings& readings, Findings& out) {
    const std::string check = "kernel proxy table";
    if (!readings.daemon) {
        out.push_back({check, Result::skip,
                       fmt::format("not compared without the daemon ({} entries carry its tag)",
                                   readings.owned_kernel_entries),
                       ""});
    } else if (readings.daemon->kernel_warnings.empty()) {
        out.push_back({check, Result::ok,
                       fmt::format("agrees with the daemon ({} entries carry its tag)",
                                   readings.owned_kernel_entries),
                       ""});
    } else {
        const auto& warnings = readings.daemon->kernel_warnings;
        out.push_back({check, Result::warn,
                       warnings.size() == 1 ? warnings.front()
                                            : fmt::format("{} (and {} more: ndproxyctl list "
                                                          "--kernel)",
                                                          warnings.front(), warnings.size() - 1),
                       "ndproxyctl resync"});
    }
}

// README "Pitfalls": a provider that routes the prefix to the host never solicits its
// addresses, and then no proxy is needed.
void solicitations(const Readings& readings, Findings& out) {
    for (const PrefixReadings& prefix : readings.prefixes) {
        const std::string check = "solicitations " + prefix.prefix.to_string();
        const std::string dump = fmt::format(fmt::runtime(kSolicitationDump), prefix.uplink);
        if (!readings.daemon) {
            out.push_back({check, Result::skip, "not known without the daemon", ""});
            continue;
        }
        const auto found = readings.daemon->solicitations.find(prefix.uplink);
        const nlohmann::json seen =
            found != readings.daemon->solicitations.end() && found->second.is_object()
                ? found->second.value(prefix.prefix.to_string(), nlohmann::json())
                : nlohmann::json();
        if (found == readings.daemon->solicitations.end() || !found->second.is_object()) {
            out.push_back({check, Result::skip,
                           fmt::format("the responder reads none on {} (responder off, dry run, "
                                       "or the link missing); watch by hand: {}",
                                       prefix.uplink, dump),
                           ""});
            continue;
        }
        const double uptime = readings.daemon->uptime;
        if (seen.is_number() && seen.get<double>() < readings.quiet_window) {
            out.push_back(
                {check, Result::ok,
                 fmt::format("the last one reached {} {} ago", prefix.uplink, format_age(seen)),
                 ""});
        } else if (!seen.is_number() && uptime < readings.quiet_window) {
            out.push_back({check, Result::ok,
                           fmt::format("none yet on {} in {} of uptime: too early to tell",
                                       prefix.uplink, format_age(uptime)),
                           ""});
        } else {
            out.push_back(
                {check, Result::warn,
                 fmt::format("none reached {} in {}: the provider may route {} to this host, "
                             "and then no proxy is needed",
                             prefix.uplink,
                             seen.is_number() ? "the last " + format_age(seen)
                                              : format_age(uptime) + " of uptime",
                             prefix.prefix),
                 fmt::format("confirm while a VM is pinged from outside: {} (README "
                             "\"Troubleshooting\")",
                             dump)});
        }
    }
}

using Judge = void (*)(const Readings&, Findings&);
struct Check {
    std::string_view name;  // what it looks at, for the reader of this table
    Judge judge;
};

constexpr std::array<Check, 11> kChecks{{
    {"the uplinks exist", uplinks_exist},
    {"forwarding on each uplink", forwarding},
    {"the sysctls ndproxyd sets", proxy_sysctls_set},
    {"a default route", default_route},
    {"a global address on each uplink", uplink_address},
    {"each prefix routes inside", prefix_routes},
    {"multicast snooping on internal bridges", snooping},
    {"gc_thresh3 against the addresses", gc_thresh3},
    {"the daemon answers", daemon_running},
    {"the kernel's proxy table agrees", kernel_table},
    {"solicitations reach the uplink", solicitations},
}};

}  // namespace

std::vector<Finding> judge(const Readings& readings) {
    Findings findings;
    for (const Check& check : kChecks) {
        check.judge(readings, findings);
    }
    return findings;
}

}  // namespace ndproxy::ctl::doctor

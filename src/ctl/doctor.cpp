#include "ctl/doctor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "core/config.hpp"
#include "core/kernel_events.hpp"
#include "core/link_tracker.hpp"
#include "core/sysctls.hpp"
#include "ctl/doctor_checks.hpp"
#include "ctl/host_tables.hpp"
#include "ctl/kernel_table.hpp"
#include "ctl/render.hpp"

namespace ndproxy::ctl {

// The output of ctl/doctor_checks.hpp: pure too, unit-tested there.
namespace doctor {

Finding config_failure(const std::string& path, const std::string& error) {
    return {"configuration", Result::fail, error,
            fmt::format("correct {} (ndproxyd --check-config -c {} checks it)", path, path)};
}

int exit_status(const std::vector<Finding>& findings) {
    int status = 0;
    for (const Finding& finding : findings) {
        status = std::max(status, finding.result == Result::fail   ? 2
                                  : finding.result == Result::warn ? 1
                                                                   : 0);
    }
    return status;
}

std::string_view to_string(Result result) {
    switch (result) {
        case Result::ok:
            return "ok";
        case Result::skip:
            return "skip";
        case Result::warn:
            return "warn";
        case Result::fail:
            return "fail";
    }
    return "fail";
}

std::string render_text(const std::vector<Finding>& findings) {
    std::string text;
    for (const Finding& finding : findings) {
        std::string result(to_string(finding.result));
        std::transform(result.begin(), result.end(), result.begin(),
                       [](char c) { return static_cast<char>(c - 'a' + 'A'); });
        text += fmt::format("{:<5} {}: {}\n", result, finding.check, finding.why);
        if (!finding.fix.empty()) {
            text += fmt::format("      fix: {}\n", finding.fix);
        }
    }
    return text;
}

std::string render_json(const std::vector<Finding>& findings) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Finding& finding : findings) {
        nlohmann::ordered_json row;
        row["check"] = finding.check;
        row["result"] = to_string(finding.result);
        row["why"] = finding.why;
        row["fix"] =
            finding.fix.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(finding.fix);
        out.push_back(std::move(row));
    }
    return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

}  // namespace doctor

namespace {

using doctor::Readings;

// A bridge's switch under /sys/class/net/BR/bridge/; nullopt when the link is no bridge.
std::optional<bool> bridge_flag(const std::string& bridge, const char* flag) {
    std::ifstream file("/sys/class/net/" + bridge + "/bridge/" + flag);
    int value = 0;
    if (!(file >> value)) {
        return std::nullopt;
    }
    return value != 0;
}

// An address of the prefix nobody is likely to hold (its host bits all set but the last), so
// that the lookup shows the prefix's route, not a host's own address.
Ipv6Address probe_of(const Ipv6Prefix& prefix) {
    Ipv6Address address = prefix.network;
    for (unsigned bit = prefix.length; bit < 128; ++bit) {
        address.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
    }
    if (prefix.length < 128) {
        address.bytes[15] &= 0xfe;
    }
    return address;
}

// The internal links a prefix may use: those its `on` binding names, or every internal one.
std::set<int> internal_for(const Config& config, const Ipv6Prefix& prefix,
                           const HostTables& tables) {
    std::vector<std::string> items = config.internal;
    for (const PrefixBinding& binding : config.bindings) {
        if (binding.prefix == prefix) {
            items = binding.interfaces;
        }
    }
    std::set<int> found;
    for (const auto& link : tables.links) {
        const std::string& name = link.second;
        const bool uplink = std::find(config.externals.begin(), config.externals.end(), name) !=
                            config.externals.end();
        const bool matches = std::any_of(items.begin(), items.end(), [&](const std::string& item) {
            return interface_matches(item, name);
        });
        if (matches && !uplink) {
            found.insert(link.first);
        }
    }
    return found;
}

void read_uplinks(const Config& config, const HostTables& tables, Readings& readings) {
    for (const std::string& name : config.externals) {
        doctor::UplinkReadings uplink;
        uplink.name = name;
        const auto ifindex = tables.index_of(name);
        uplink.present = ifindex.has_value();
        for (const auto& [prefix, via] : config.via) {
            if (via == name) {
                uplink.prefixes.push_back(prefix);
            }
        }
        for (const auto& [index, address] : tables.addresses) {
            uplink.global_address |= index == ifindex && address.is_global_unicast();
        }
        for (const HostRoute& route : tables.routes) {
            uplink.default_route |= route.unicast && route.destination.length == 0 &&
                                    std::find(route.devices.begin(), route.devices.end(),
                                              ifindex.value_or(0)) != route.devices.end();
        }
        for (const SysctlSetting& setting : proxy_sysctls(name)) {
            readings.sysctls[setting.relative] = read_sysctl(setting.relative);
        }
        readings.sysctls[forwarding_sysctl(name)] = read_sysctl(forwarding_sysctl(name));
        readings.uplinks.push_back(std::move(uplink));
    }
}

void read_prefixes(const Config& config, const HostTables& tables, Readings& readings) {
    const bool patterns =
        std::any_of(config.internal.begin(), config.internal.end(),
                    [](const std::string& item) { return is_interface_pattern(item); });
    for (const Ipv6Prefix& prefix : config.prefixes) {
        doctor::PrefixReadings row;
        row.prefix = prefix;
        row.uplink = config.via.contains(prefix) ? config.via.at(prefix) : config.external;
        row.probe = probe_of(prefix);
        row.internal_patterns = patterns;
        const std::set<int> internal = internal_for(config, prefix, tables);
        const auto is_own = [&](const Ipv6Address& address) {
            return std::any_of(tables.addresses.begin(), tables.addresses.end(),
                               [&](const auto& held) { return held.second == address; });
        };
        if (const auto device = route_lookup(row.probe)) {
            row.route = tables.name_of(*device);
            row.route_internal = internal.contains(*device);
        }
        for (const HostRoute& route : tables.routes) {
            // An address of the host's own comes with a /128 route of its own: it serves
            // nobody behind the link.
            const bool own = route.destination.length == 128 && is_own(route.destination.network);
            const bool inside = route.destination.length > prefix.length &&
                                prefix.contains(route.destination.network) && !own;
            const bool to_internal =
                std::any_of(route.devices.begin(), route.devices.end(),
                            [&](int device) { return internal.contains(device); });
            row.internal_routes += route.unicast && inside && to_internal ? 1 : 0;
        }
        readings.prefixes.push_back(std::move(row));
    }
}

void read_internal(const Config& config, const HostTables& tables, Readings& readings) {
    std::set<int> internal;
    for (const Ipv6Prefix& prefix : config.prefixes) {
        internal.merge(internal_for(config, prefix, tables));
    }
    for (const int ifindex : internal) {
        const std::string name = tables.name_of(ifindex);
        if (const auto snooping = bridge_flag(name, "multicast_snooping")) {
            readings.bridges.push_back(
                {name, *snooping, bridge_flag(name, "multicast_querier").value_or(false)});
        }
    }
    for (const auto& [ifindex, state] : tables.neighbours) {
        readings.internal_neighbours += internal.contains(ifindex) && nud_vouches_alive(state);
    }
}

void read_daemon(Readings& readings) {
    const CrossCheck checked = cross_check(readings.socket_path);
    for (const auto& entry : checked.view["entries"]) {
        readings.owned_kernel_entries += entry.value("owned", false) ? 1 : 0;
    }
    if (!checked.daemon) {
        readings.daemon_error = checked.why;
        return;
    }
    const nlohmann::json& status = checked.daemon->status;
    doctor::DaemonReadings daemon;
    daemon.version = status.value("version", "?");
    daemon.uptime = status.value("uptime", 0.0);
    daemon.entries = status.value("entries", std::size_t{0});
    for (const auto& uplink : status.value("uplinks", nlohmann::json::array())) {
        if (uplink.is_object() && uplink.value("name", nlohmann::json()).is_string()) {
            daemon.solicitations[uplink["name"].get<std::string>()] =
                uplink.value("solicitations", nlohmann::json());
        }
    }
    for (const auto& warning : checked.view["warnings"]) {
        daemon.kernel_warnings.push_back(warning.get<std::string>());
    }
    readings.daemon = std::move(daemon);
}

void print(const std::vector<doctor::Finding>& findings, bool json) {
    fmt::print("{}", json ? doctor::render_json(findings) : doctor::render_text(findings));
    if (std::fflush(stdout) != 0) {
        throw std::runtime_error("cannot write the output");
    }
}

}  // namespace

int run_doctor(const DoctorOptions& options) {
    Config config;
    try {
        config = parse_command_line({"--config", options.config_path}).config;
    } catch (const ConfigError& error) {
        const std::vector<doctor::Finding> findings{
            doctor::config_failure(options.config_path, error.what())};
        print(findings, options.json);
        return doctor::exit_status(findings);
    }
    Readings readings;
    readings.config_path = options.config_path;
    readings.socket_path = options.socket_path.value_or(config.control_socket);
    readings.manage_sysctls = config.manage_sysctls && !config.dry_run;
    readings.quiet_window = options.window;
    readings.sysctls["conf/all/forwarding"] = read_sysctl("conf/all/forwarding");
    readings.sysctls[std::string(kGcThresh3)] = read_sysctl(kGcThresh3);
    const HostTables tables = read_host_tables();
    read_uplinks(config, tables, readings);
    read_prefixes(config, tables, readings);
    read_internal(config, tables, readings);
    read_daemon(readings);
    const std::vector<doctor::Finding> findings = doctor::judge(readings);
    print(findings, options.json);
    return doctor::exit_status(findings);
}

}  // namespace ndproxy::ctl

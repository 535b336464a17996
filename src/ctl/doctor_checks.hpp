#pragma once

// `ndproxyctl doctor`'s judgement: from what was read on the host (Readings) to findings, each
// OK, WARN, FAIL or SKIP with one line of why and the command that fixes it. Pure: no sockets,
// no files; unit-tested. ctl/doctor.cpp does the reading, and holds the output functions below.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy::ctl::doctor {

// SKIP: could not be checked (the daemon is not running, the value is not visible here); it
// counts as OK for the exit status.
enum class Result { ok, skip, warn, fail };

struct Finding {
    std::string check;  // e.g. "forwarding eth0"
    Result result = Result::ok;
    std::string why;
    std::string fix;  // empty when there is nothing to do
};

struct UplinkReadings {
    std::string name;
    bool present = false;
    std::vector<Ipv6Prefix> prefixes;  // the prefixes `via` it
    bool global_address = false;       // a global address on it
    bool default_route = false;        // a default route (any table) out through it
};

struct PrefixReadings {
    Ipv6Prefix prefix;
    std::string uplink;
    Ipv6Address probe;                 // the address of the prefix the kernel was asked about
    std::optional<std::string> route;  // where the kernel routes it; nullopt: nowhere
    bool route_internal = false;       // to an internal interface (one the prefix may use)
    std::size_t internal_routes = 0;   // routes inside the prefix, longer, to internal ones
    bool internal_patterns = false;    // the internal interfaces include patterns (tap*)
};

struct BridgeReadings {
    std::string name;
    bool snooping = false;
    bool querier = false;
};

// What the running daemon said.
struct DaemonReadings {
    std::string version;
    double uptime = 0;
    std::size_t entries = 0;
    // Per uplink: the status's "solicitations" (null while its responder reads none).
    std::map<std::string, nlohmann::json> solicitations;
    std::vector<std::string> kernel_warnings;  // from the list --kernel cross-check
};

struct Readings {
    std::string config_path;
    std::string socket_path;
    bool manage_sysctls = true;
    // Every sysctl consulted, by its path under /proc/sys/net/ipv6/; nullopt: unreadable.
    std::map<std::string, std::optional<std::string>> sysctls;
    std::vector<UplinkReadings> uplinks;
    std::vector<PrefixReadings> prefixes;
    std::vector<BridgeReadings> bridges;   // the internal interfaces that are bridges
    std::size_t internal_neighbours = 0;   // neighbour entries on the internal links
    std::size_t owned_kernel_entries = 0;  // proxy entries carrying ndproxyd's tag
    std::optional<DaemonReadings> daemon;
    std::string daemon_error;  // why it could not be asked
    // How long without a solicitation for a prefix makes a warning (--window).
    double quiet_window = 600;
};

// Every check in the table, in order.
std::vector<Finding> judge(const Readings& readings);

// A finding for a configuration that cannot be read: nothing else can be checked.
Finding config_failure(const std::string& path, const std::string& error);

// 0 all OK (or skipped), 1 a warning, 2 a failure.
int exit_status(const std::vector<Finding>& findings);

std::string_view to_string(Result result);
// One line per finding ("OK    forwarding eth0: ..."), the fix indented under it.
std::string render_text(const std::vector<Finding>& findings);
// [{"check": ..., "result": "ok" | "skip" | "warn" | "fail", "why": ..., "fix": ... | null}],
// pretty-printed with the members in that order.
std::string render_json(const std::vector<Finding>& findings);

}  // namespace ndproxy::ctl::doctor

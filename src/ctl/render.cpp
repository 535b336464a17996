#include "ctl/render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

constexpr std::string_view kMissing = "-";

// The counters in the order an operator follows a solicitation through the daemon; counters a
// newer daemon adds are printed after these, alphabetically.
constexpr std::array<std::string_view, 14> kCounterOrder{
    "neighbours_seen",    "entries_added", "entries_withdrawn", "probes_sent",   "probe_answers",
    "announcements_sent", "ns_received",   "ns_answered",       "verifications", "resyncs",
    "netlink_overflows",  "proxy_repairs", "kernel_errors",     "send_errors"};
constexpr std::string_view kDropCounters = "ns_dropped";

// HELP texts of the Prometheus families; a counter a newer daemon adds gets a generic one.
struct MetricHelp {
    std::string_view name;
    std::string_view help;
};
constexpr auto kCounterHelp = std::to_array<MetricHelp>({
    {"neighbours_seen", "Neighbour events about eligible addresses on the internal interfaces."},
    {"entries_added", "Proxy entries installed in the kernel."},
    {"entries_withdrawn", "Proxy entries withdrawn after their address was confirmed gone."},
    {"probes_sent", "Neighbor Solicitations sent on the internal side to confirm an address."},
    {"probe_answers", "Answers to those solicitations."},
    {"announcements_sent", "Unsolicited Neighbor Advertisements sent on the external link."},
    {"ns_received", "Neighbor Solicitations received by the responder."},
    {"ns_answered", "Neighbor Solicitations the responder answered."},
    {"ns_socket_drops",
     "Neighbor Solicitations the kernel dropped before the responder read them."},
    {"ns_backlogs",
     "Reads that left solicitations queued; each shrinks the answer budget for a while."},
    {"verifications", "Unknown targets solicited on the internal side before answering."},
    {"resyncs", "Full resynchronisations from a fresh kernel dump."},
    {"netlink_overflows", "Netlink event socket overflows (ENOBUFS), each followed by a resync."},
    {"proxy_repairs", "Owned proxy entries put back after they vanished from the kernel."},
    {"kernel_errors", "Netlink requests the kernel refused."},
    {"send_errors", "Packets that could not be sent."},
    {"answer_errors", "Responder answers that could not be sent."},
    {"verified", "Unknown targets that answered on the internal side, then answered and mirrored."},
    {"verification_misses", "Unknown targets that did not answer on the internal side."},
    {"negative_cache_evictions",
     "Misses dropped from the full negative cache before they expired."},
    {"entries_limit", "New addresses not proxied because the entry table was full."},
    {"mac_address_limit",
     "New addresses not proxied because their VM's MAC holds --max-addresses-per-mac already."},
    {"mac_rate_limit",
     "New addresses not proxied (yet) because their VM's MAC added them faster than "
     "--new-addresses-per-minute."},
    {"control_clients_rejected", "Control-socket clients refused because too many were connected."},
    {"control_requests_refused",
     "Control requests that change state, refused to a client that is neither root nor the "
     "daemon's user."},
    {"groups_limit",
     "Responder answers whose solicited-node group was not joined: too many groups already."},
    {"kernel_promotions", "Addresses moved from the responder into a freed kernel slot."},
    {"kernel_demotions", "Addresses moved from the kernel to the responder (ceiling lowered)."},
    {"address_conflicts",
     "Address conflicts begun: another host claimed an address whose VM still answers here."},
    {"conflict_defences", "Advertisements sent to defend an address in conflict."},
    {"defences_held_off",
     "Conflicting claims not defended: the address was defended less than 10 s before."},
    {"claims_held_off",
     "Claims by another host that probed no sooner: the VM had answered less than 1 s before."},
});
// Values in "stats" that are levels, not running totals.
constexpr auto kGaugeHelp = std::to_array<MetricHelp>({
    {"entries", "Addresses the daemon currently proxies."},
    {"kernel_entries", "Of those, the ones answered by a kernel proxy entry."},
    {"responder_entries",
     "Of those, the ones answered by the responder (beyond the kernel's share)."},
    {"verifications_in_flight", "Unknown targets being solicited on the internal side now."},
    {"negative_cache", "Unknown targets remembered as absent."},
    {"answer_budget", "Responder answers per second allowed in all now (backlogs shrink it)."},
});

const json* member(const json& object, std::string_view key) {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto found = object.find(key);
    return found == object.end() || found->is_null() ? nullptr : &*found;
}

std::string text_of(const json* value) {
    if (value == nullptr) {
        return std::string(kMissing);
    }
    if (value->is_string()) {
        return value->get<std::string>();
    }
    if (value->is_boolean()) {
        return value->get<bool>() ? "yes" : "no";
    }
    return value->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string text_of(const json& object, std::string_view key) {
    return text_of(member(object, key));
}

std::string age_of(const json& object, std::string_view key) {
    const json* seconds = member(object, key);
    return seconds == nullptr ? std::string(kMissing) : format_age(*seconds);
}

// Columns separated by two spaces, each as wide as its widest cell; no trailing blanks.
template <std::size_t Columns>
std::string render_table(const std::vector<std::array<std::string, Columns>>& rows) {
    std::array<std::size_t, Columns> widths{};
    for (const auto& row : rows) {
        for (std::size_t column = 0; column < Columns; ++column) {
            widths[column] = std::max(widths[column], row[column].size());
        }
    }
    std::string text;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t column = 0; column < Columns; ++column) {
            line += column + 1 < Columns ? fmt::format("{:<{}}  ", row[column], widths[column])
                                         : row[column];
        }
        line.erase(line.find_last_not_of(' ') + 1);
        text += line + '\n';
    }
    return text;
}

std::string describe_interface(const json& interface) {
    const std::string name = text_of(interface, "name");
    const json* ifindex = member(interface, "ifindex");
    if (ifindex == nullptr) {
        return fmt::format("{} (absent)", name);
    }
    const json* up = member(interface, "up");
    const bool is_up = up != nullptr && up->is_boolean() && up->get<bool>();
    return fmt::format("{} (ifindex {}, {})", name, text_of(ifindex), is_up ? "up" : "down");
}

std::string_view help_of(std::span<const MetricHelp> table, std::string_view name) {
    const auto found = std::find_if(table.begin(), table.end(),
                                    [&](const MetricHelp& metric) { return metric.name == name; });
    return found == table.end() ? std::string_view() : found->help;
}

// Prometheus metric names are [a-zA-Z_:][a-zA-Z0-9_:]*; the daemon's counter names already are,
// this only keeps a surprising one from breaking the whole file for the collector.
std::string metric_name(std::string_view name) {
    std::string result;
    for (const char c : name) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        result += ok ? c : '_';
    }
    return result;
}

// Escapes a label value (backslash, double quote, newline), as the exposition format requires.
std::string label_value(std::string_view value) {
    std::string result;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            result += '\\';
            result += c;
        } else if (c == '\n') {
            result += "\\n";
        } else {
            result += c;
        }
    }
    return result;
}

// A sample value, or nothing for what is not a non-negative number.
std::optional<std::string> sample_value(const json& value) {
    if (value.is_number_unsigned()) {
        return fmt::format("{}", value.get<std::uint64_t>());
    }
    if (value.is_number() && value.get<double>() >= 0) {
        return fmt::format("{}", value.get<double>());
    }
    return std::nullopt;
}

std::string metric_family(std::string_view name, std::string_view type, std::string_view help) {
    return fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
}

}  // namespace

std::string render_json(const json& payload) {
    return payload.dump(2, ' ', false, json::error_handler_t::replace) + '\n';
}

std::string format_age(const json& seconds) {
    // 1e15 s is far beyond any real age and keeps the conversion below in range.
    if (!seconds.is_number() || !(seconds.get<double>() >= 0) || seconds.get<double>() > 1e15) {
        return std::string(kMissing);
    }
    const auto total = static_cast<std::uint64_t>(std::floor(seconds.get<double>()));
    if (total < 60) {
        return fmt::format("{}s", total);
    }
    if (total < 3600) {
        return fmt::format("{}m{:02}s", total / 60, total % 60);
    }
    if (total < 86400) {
        return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
    }
    return fmt::format("{}d{:02}h", total / 86400, total % 86400 / 3600);
}

// Who answers for an entry; a daemon before the kernel ceiling only says whether it is in the
// kernel.
std::string path_of(const json& entry) {
    if (member(entry, "path") != nullptr || member(entry, "kernel") == nullptr) {
        return text_of(entry, "path");
    }
    const json* kernel = member(entry, "kernel");
    return kernel->is_boolean() && kernel->get<bool>() ? "kernel" : std::string(kMissing);
}

namespace {

// The MAC of the host that claims the address while its VM answers here; "claimed" when the
// claim named none, "-" when there is no conflict (or the daemon is older).
std::string conflict_of(const json& entry) {
    const json* conflict = member(entry, "conflict");
    if (conflict == nullptr) {
        return std::string(kMissing);
    }
    return member(*conflict, "claimed_by") != nullptr ? text_of(*conflict, "claimed_by")
                                                      : std::string("claimed");
}

}  // namespace

std::string render_list(const json& entries) {
    struct Row {
        std::optional<Ipv6Address> address;  // for numeric order; unparsable ones go last
        std::array<std::string, 8> cells;
    };
    std::vector<Row> rows;
    if (entries.is_array()) {
        for (const json& entry : entries) {
            const std::string address = text_of(entry, "address");
            rows.push_back({Ipv6Address::parse(address),
                            {address, text_of(entry, "interface"), text_of(entry, "lladdr"),
                             text_of(entry, "state"), text_of(entry, "origin"), path_of(entry),
                             age_of(entry, "age"), conflict_of(entry)}});
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.address.has_value() != b.address.has_value()) {
            return a.address.has_value();
        }
        return a.address ? *a.address < *b.address : a.cells[0] < b.cells[0];
    });
    std::vector<std::array<std::string, 8>> table{
        {"ADDRESS", "INTERFACE", "LLADDR", "STATE", "ORIGIN", "PATH", "AGE", "CONFLICT"}};
    for (Row& row : rows) {
        table.push_back(std::move(row.cells));
    }
    return render_table(table);
}

std::string render_stats(const json& stats) {
    if (!stats.is_object()) {
        return {};
    }
    std::string text;
    const auto print_drops = [&] {
        if (const json* drops = member(stats, kDropCounters); drops && drops->is_object()) {
            for (const auto& [reason, count] : drops->items()) {
                text += fmt::format("{}.{}: {}\n", kDropCounters, reason, text_of(&count));
            }
        }
    };
    for (std::string_view name : kCounterOrder) {
        if (const json* value = member(stats, name)) {
            text += fmt::format("{}: {}\n", name, text_of(value));
        }
        if (name == "ns_answered") {
            print_drops();
        }
    }
    for (const auto& [name, value] : stats.items()) {
        const bool known =
            name == kDropCounters ||
            std::find(kCounterOrder.begin(), kCounterOrder.end(), name) != kCounterOrder.end();
        if (!known) {
            text += fmt::format("{}: {}\n", name, text_of(&value));
        }
    }
    return text;
}

std::string render_status(const json& status) {
    std::vector<std::array<std::string, 2>> lines;
    lines.push_back({"version:", text_of(status, "version")});
    lines.push_back({"uptime:", age_of(status, "uptime")});
    const json* external = member(status, "external");
    lines.push_back(
        {"external:", external ? describe_interface(*external) : std::string(kMissing)});
    std::string internal;
    if (const json* list = member(status, "internal"); list && list->is_array()) {
        for (const json& interface : *list) {
            internal += (internal.empty() ? "" : ", ") + describe_interface(interface);
        }
    }
    lines.push_back({"internal:", internal.empty() ? std::string(kMissing) : internal});
    std::string prefixes;
    if (const json* list = member(status, "prefixes"); list && list->is_array()) {
        for (const json& prefix : *list) {
            prefixes += (prefixes.empty() ? "" : ", ") + text_of(&prefix);
        }
    }
    lines.push_back({"prefixes:", prefixes.empty() ? std::string(kMissing) : prefixes});
    lines.push_back({"responder:", text_of(status, "responder")});
    lines.push_back({"router flag:", text_of(status, "router")});
    lines.push_back({"announce:", text_of(status, "announce")});
    lines.push_back({"manage sysctls:", text_of(status, "manage_sysctls")});
    lines.push_back({"dry run:", text_of(status, "dry_run")});
    // A daemon before the kernel ceiling reports neither of the last two.
    std::string entries = fmt::format("{} ({} in the kernel", text_of(status, "entries"),
                                      text_of(status, "kernel_entries"));
    if (member(status, "responder_entries") != nullptr) {
        entries +=
            fmt::format(", {} answered by the responder", text_of(status, "responder_entries"));
    }
    lines.push_back({"entries:", entries + ")"});
    if (member(status, "kernel_ceiling") != nullptr) {
        lines.push_back({"kernel share:", fmt::format("at most {} entries (--kernel-entries)",
                                                      text_of(status, "kernel_ceiling"))});
    }
    return render_table(lines);
}

}  // namespace ndproxy::ctl

namespace ndproxy::ctl {

std::string render_kernel_list(const json& view) {
    std::vector<std::array<std::string, 5>> table{
        {"ADDRESS", "INTERFACE", "PROTO", "OWNER", "DAEMON"}};
    if (const json* entries = member(view, "entries"); entries && entries->is_array()) {
        for (const json& entry : *entries) {
            const json* owned = member(entry, "owned");
            const bool is_owned = owned != nullptr && owned->is_boolean() && owned->get<bool>();
            table.push_back({text_of(entry, "address"), text_of(entry, "interface"),
                             text_of(entry, "protocol"), is_owned ? "ndproxyd" : "admin",
                             text_of(entry, "daemon")});
        }
    }
    return render_table(table);
}

std::string render_prometheus(const json& stats) {
    if (!stats.is_object()) {
        return {};
    }
    std::string text;
    const auto add_counter = [&](std::string_view name, const json& value) {
        const auto sample = sample_value(value);
        if (!sample) {
            return;
        }
        std::string_view help = help_of(kCounterHelp, name);
        const std::string metric = fmt::format("ndproxyd_{}_total", metric_name(name));
        const std::string generic = fmt::format("ndproxyd counter {}.", metric_name(name));
        text += metric_family(metric, "counter", help.empty() ? generic : help);
        text += fmt::format("{} {}\n", metric, *sample);
    };
    for (const MetricHelp& counter : kCounterHelp) {
        if (const json* value = member(stats, counter.name)) {
            add_counter(counter.name, *value);
        }
    }
    for (const auto& [name, value] : stats.items()) {
        const bool special = name == kDropCounters || !help_of(kCounterHelp, name).empty() ||
                             !help_of(kGaugeHelp, name).empty();
        if (!special) {
            add_counter(name, value);
        }
    }
    // Always present, even with no drops yet, so that a dashboard's query finds the family.
    text += metric_family("ndproxyd_ns_dropped_total", "counter",
                          "Neighbor Solicitations dropped, by reason.");
    if (const json* drops = member(stats, kDropCounters); drops && drops->is_object()) {
        for (const auto& [reason, count] : drops->items()) {
            if (const auto sample = sample_value(count)) {
                text += fmt::format("ndproxyd_ns_dropped_total{{reason=\"{}\"}} {}\n",
                                    label_value(reason), *sample);
            }
        }
    }
    for (const MetricHelp& gauge : kGaugeHelp) {
        const json* value = member(stats, gauge.name);
        const auto sample = value ? sample_value(*value) : std::nullopt;
        if (sample) {
            const std::string metric = fmt::format("ndproxyd_{}", gauge.name);
            text += metric_family(metric, "gauge", gauge.help);
            text += fmt::format("{} {}\n", metric, *sample);
        }
    }
    return text;
}

}  // namespace ndproxy::ctl

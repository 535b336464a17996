#include "ctl/render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ndproxy/ipv6.hpp"

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

std::string render_list(const json& entries) {
    struct Row {
        std::optional<Ipv6Address> address;  // for numeric order; unparsable ones go last
        std::array<std::string, 7> cells;
    };
    std::vector<Row> rows;
    if (entries.is_array()) {
        for (const json& entry : entries) {
            const std::string address = text_of(entry, "address");
            rows.push_back({Ipv6Address::parse(address),
                            {address, text_of(entry, "interface"), text_of(entry, "lladdr"),
                             text_of(entry, "state"), text_of(entry, "origin"),
                             text_of(entry, "kernel"), age_of(entry, "age")}});
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.address.has_value() != b.address.has_value()) {
            return a.address.has_value();
        }
        return a.address ? *a.address < *b.address : a.cells[0] < b.cells[0];
    });
    std::vector<std::array<std::string, 7>> table{
        {"ADDRESS", "INTERFACE", "LLADDR", "STATE", "ORIGIN", "KERNEL", "AGE"}};
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
        if (list->empty()) {
            prefixes = "all global unicast";
        }
    }
    lines.push_back({"prefixes:", prefixes.empty() ? std::string(kMissing) : prefixes});
    lines.push_back({"responder:", text_of(status, "responder")});
    lines.push_back({"router flag:", text_of(status, "router")});
    lines.push_back({"announce:", text_of(status, "announce")});
    lines.push_back({"manage sysctls:", text_of(status, "manage_sysctls")});
    lines.push_back({"dry run:", text_of(status, "dry_run")});
    lines.push_back({"entries:", fmt::format("{} ({} in the kernel)", text_of(status, "entries"),
                                             text_of(status, "kernel_entries"))});
    return render_table(lines);
}

}  // namespace ndproxy::ctl

#include "ctl/render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/ipv6.hpp"
#include "core/stats_table.hpp"

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

constexpr std::string_view kMissing = "-";

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
    const json* pattern = member(interface, "pattern");
    return fmt::format("{} (ifindex {}, {}{})", name, text_of(ifindex), is_up ? "up" : "down",
                       pattern != nullptr ? ", matches " + text_of(pattern) : "");
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

namespace {

// The MAC of the host that claims the address while its VM answers here; "claimed" when the
// claim named none, "-" when there is no conflict.
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
    constexpr std::size_t kColumns = 9;
    struct Row {
        std::optional<Ipv6Address> address;  // for numeric order; unparsable ones go last
        std::array<std::string, kColumns> cells;
    };
    std::vector<Row> rows;
    bool several_uplinks = false;  // only then do the rows name their uplink
    if (entries.is_array()) {
        for (const json& entry : entries) {
            const std::string address = text_of(entry, "address");
            several_uplinks = several_uplinks || member(entry, "uplink") != nullptr;
            rows.push_back(
                {Ipv6Address::parse(address),
                 {address, text_of(entry, "uplink"), text_of(entry, "interface"),
                  text_of(entry, "lladdr"), text_of(entry, "state"), text_of(entry, "origin"),
                  text_of(entry, "path"), age_of(entry, "age"), conflict_of(entry)}});
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.address.has_value() != b.address.has_value()) {
            return a.address.has_value();
        }
        return a.address ? *a.address < *b.address : a.cells[0] < b.cells[0];
    });
    std::vector<std::array<std::string, kColumns>> table{
        {"ADDRESS", "UPLINK", "INTERFACE", "LLADDR", "STATE", "ORIGIN", "PATH", "AGE", "CONFLICT"}};
    for (Row& row : rows) {
        table.push_back(std::move(row.cells));
    }
    if (several_uplinks) {
        return render_table(table);
    }
    std::vector<std::array<std::string, kColumns - 1>> one_uplink;
    for (const auto& row : table) {
        auto& cells = one_uplink.emplace_back();
        cells[0] = row[0];
        std::copy(row.begin() + 2, row.end(), cells.begin() + 1);
    }
    return render_table(one_uplink);
}

std::string render_stats(const json& stats) {
    std::string text;
    for (const stats::Metric& metric : stats::kTable) {
        const json* value = member(stats, metric.name);
        if (value == nullptr) {
            continue;
        }
        if (metric.kind != stats::Kind::drops) {
            text += fmt::format("{}: {}\n", metric.name, text_of(value));
        } else if (value->is_object()) {
            for (const auto& [reason, count] : value->items()) {
                text += fmt::format("{}.{}: {}\n", metric.name, reason, text_of(&count));
            }
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
    if (const json* list = member(status, "internal_patterns");
        list && list->is_array() && !list->empty()) {
        std::string patterns;
        for (const json& pattern : *list) {
            patterns += (patterns.empty() ? "" : ", ") + text_of(&pattern);
        }
        lines.push_back({"patterns:", patterns});
    }
    std::string prefixes;
    if (const json* list = member(status, "prefixes"); list && list->is_array()) {
        for (const json& prefix : *list) {
            prefixes += (prefixes.empty() ? "" : ", ") + text_of(&prefix);
            // A prefix bound to interfaces: where its addresses may be.
            const json* bindings = member(status, "prefix_bindings");
            const json* on = bindings != nullptr && prefix.is_string()
                                 ? member(*bindings, prefix.get<std::string>())
                                 : nullptr;
            if (on != nullptr && on->is_array()) {
                std::string names;
                for (const json& name : *on) {
                    names += (names.empty() ? "" : ",") + text_of(&name);
                }
                prefixes += " on " + names;
            }
        }
    }
    lines.push_back({"prefixes:", prefixes.empty() ? std::string(kMissing) : prefixes});
    // With several uplinks, each one's prefixes and entries.
    if (const json* list = member(status, "uplinks");
        list && list->is_array() && list->size() > 1) {
        for (const json& uplink : *list) {
            std::string served;
            if (const json* own = member(uplink, "prefixes"); own && own->is_array()) {
                for (const json& prefix : *own) {
                    served += (served.empty() ? "" : ", ") + text_of(&prefix);
                }
            }
            lines.push_back(
                {"uplink:",
                 fmt::format("{}: {}; {} entries ({} in the kernel)", describe_interface(uplink),
                             served.empty() ? std::string(kMissing) : served,
                             text_of(uplink, "entries"), text_of(uplink, "kernel_entries"))});
        }
    }
    if (const json* list = member(status, "routed_blocks");
        list && list->is_array() && !list->empty()) {
        std::string blocks;
        for (const json& block : *list) {
            blocks += fmt::format("{}{} on {}", blocks.empty() ? "" : ", ",
                                  text_of(block, "prefix"), text_of(block, "interface"));
        }
        lines.push_back({"routed blocks:", blocks});
    }
    lines.push_back({"responder:", text_of(status, "responder")});
    if (member(status, "fast_path") != nullptr) {
        lines.push_back({"fast path:", text_of(status, "fast_path")});
    }
    lines.push_back({"router flag:", text_of(status, "router")});
    lines.push_back({"announce:", text_of(status, "announce")});
    lines.push_back({"manage sysctls:", text_of(status, "manage_sysctls")});
    lines.push_back({"dry run:", text_of(status, "dry_run")});
    lines.push_back(
        {"entries:", fmt::format("{} ({} in the kernel, {} answered by the responder)",
                                 text_of(status, "entries"), text_of(status, "kernel_entries"),
                                 text_of(status, "responder_entries"))});
    lines.push_back({"kernel share:", fmt::format("at most {} entries (--kernel-entries)",
                                                  text_of(status, "kernel_ceiling"))});
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
    for (const stats::Metric& metric : stats::kTable) {
        const json* value = member(stats, metric.name);
        if (metric.kind == stats::Kind::drops) {
            // Always present, even with no drops yet, so that a dashboard's query finds it.
            const std::string family = fmt::format("ndproxyd_{}_total", metric.name);
            text += metric_family(family, "counter", metric.help);
            if (value != nullptr && value->is_object()) {
                for (const auto& [reason, count] : value->items()) {
                    if (const auto sample = sample_value(count)) {
                        text += fmt::format("{}{{reason=\"{}\"}} {}\n", family, label_value(reason),
                                            *sample);
                    }
                }
            }
            continue;
        }
        if (const auto sample = value ? sample_value(*value) : std::nullopt) {
            const bool counter = metric.kind == stats::Kind::counter;
            const std::string family =
                fmt::format("ndproxyd_{}{}", metric.name, counter ? "_total" : "");
            text += metric_family(family, counter ? "counter" : "gauge", metric.help);
            text += fmt::format("{} {}\n", family, *sample);
        }
    }
    return text;
}

}  // namespace ndproxy::ctl

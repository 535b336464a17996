#pragma once

// Turns control-protocol payloads into what ndproxyctl prints. Pure functions: JSON in, text out
// (always ending with a newline when not empty). Fields that are missing, null or of an unexpected
// type print as "-", so that a damaged reply still gives a readable answer.

#include <nlohmann/json.hpp>

#include <string>

namespace ndproxy::ctl {

// The payload as one pretty-printed JSON document (2-space indent) for --json.
std::string render_json(const nlohmann::json& payload);

// The "list" array as aligned columns ADDRESS INTERFACE LLADDR STATE ORIGIN PATH AGE CONFLICT,
// sorted by address; UPLINK after ADDRESS when the rows name their uplink (several uplinks).
std::string render_list(const nlohmann::json& entries);

// The "stats" object as "name: value" lines in the order of core/stats_table.hpp,
// ns_dropped reasons as "ns_dropped.REASON: N". Members the table does not name are left out.
std::string render_stats(const nlohmann::json& stats);

// The "status" object as aligned "key: value" lines; an "uplink:" line for each uplink when
// there are several.
std::string render_status(const nlohmann::json& status);

// The document kernel_view() builds (ctl/kernel_view.hpp) as aligned columns
// ADDRESS INTERFACE PROTO OWNER DAEMON; OWNER is "ndproxyd" for entries carrying its protocol tag,
// "admin" for the rest. The warnings are not part of it: ndproxyctl prints them to stderr.
std::string render_kernel_list(const nlohmann::json& view);

// The "stats" object in the Prometheus text exposition format, for node_exporter's textfile
// collector: each row of core/stats_table.hpp as a family with its HELP and TYPE
// lines, ndproxyd_NAME_total for counters, ndproxyd_ns_dropped_total{reason="..."} for the drops
// and ndproxyd_NAME for the levels (gauges). Members the table does not name, and values that
// are not non-negative numbers, are left out.
std::string render_prometheus(const nlohmann::json& stats);

// A number of seconds the way an operator reads it: 12s, 5m03s, 2h10m, 3d04h; "-" if not a
// non-negative number.
std::string format_age(const nlohmann::json& seconds);

}  // namespace ndproxy::ctl

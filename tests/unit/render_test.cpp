#include "ctl/render.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "core/stats_table.hpp"

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

TEST(FormatAge, PicksTheTwoLargestUnits) {
    EXPECT_EQ(format_age(0), "0s");
    EXPECT_EQ(format_age(12), "12s");
    EXPECT_EQ(format_age(59.9), "59s");
    EXPECT_EQ(format_age(60), "1m00s");
    EXPECT_EQ(format_age(303), "5m03s");
    EXPECT_EQ(format_age(3599), "59m59s");
    EXPECT_EQ(format_age(3600), "1h00m");
    EXPECT_EQ(format_age(2 * 3600 + 10 * 60 + 59), "2h10m");
    EXPECT_EQ(format_age(86400), "1d00h");
    EXPECT_EQ(format_age(3 * 86400 + 4 * 3600 + 1), "3d04h");
    EXPECT_EQ(format_age(400 * 86400), "400d00h");
}

TEST(FormatAge, NonsenseIsADash) {
    EXPECT_EQ(format_age(json()), "-");
    EXPECT_EQ(format_age(-1), "-");
    EXPECT_EQ(format_age("12"), "-");
    EXPECT_EQ(format_age(1e300), "-");
}

TEST(RenderList, AlignedColumnsSortedByAddress) {
    const json entries = json::parse(R"([
        {"address": "2001:db8:1::10", "interface": "br0", "lladdr": "52:54:00:12:34:56",
         "state": "reachable", "origin": "mirror", "kernel": true, "path": "kernel", "age": 12},
        {"address": "2001:db8:1::9", "interface": "virbr1", "lladdr": null,
         "state": "probing", "origin": "verified", "kernel": false, "path": "responder",
         "age": 303.7, "conflict": {"claimed_by": "02:00:00:00:0e:66", "last_claim": 1.5,
                                    "last_defence": 3}},
        {"address": "2001:db8::ff", "interface": null, "lladdr": null,
         "state": "unknown", "origin": "responder", "kernel": false, "path": "pending",
         "age": 277200}
    ])");
    EXPECT_EQ(
        render_list(entries),
        "ADDRESS         INTERFACE  LLADDR             STATE      ORIGIN     PATH       AGE    "
        "CONFLICT\n"
        "2001:db8::ff    -          -                  unknown    responder  pending    3d05h  -\n"
        "2001:db8:1::9   virbr1     -                  probing    verified   responder  5m03s  "
        "02:00:00:00:0e:66\n"
        "2001:db8:1::10  br0        52:54:00:12:34:56  reachable  mirror     kernel     12s    "
        "-\n");
}

TEST(RenderList, ConflictWithoutAClaimantsMac) {
    const json entries = json::parse(R"([{"address": "2001:db8::1", "conflict": {}},
                                         {"address": "2001:db8::2", "conflict": null}])");
    EXPECT_EQ(render_list(entries),
              "ADDRESS      INTERFACE  LLADDR  STATE  ORIGIN  PATH  AGE  CONFLICT\n"
              "2001:db8::1  -          -       -      -       -     -    claimed\n"
              "2001:db8::2  -          -       -      -       -     -    -\n");
}

TEST(RenderList, EmptyListIsJustTheHeader) {
    EXPECT_EQ(render_list(json::array()),
              "ADDRESS  INTERFACE  LLADDR  STATE  ORIGIN  PATH  AGE  CONFLICT\n");
}

TEST(RenderList, ToleratesMalformedEntries) {
    const json entries = json::parse(R"([{"address": "not-an-address"}, 7, {"age": "old"},
                                         {"address": "2001:db8::1"}])");
    EXPECT_EQ(render_list(entries),
              "ADDRESS         INTERFACE  LLADDR  STATE  ORIGIN  PATH  AGE  CONFLICT\n"
              "2001:db8::1     -          -       -      -       -     -    -\n"
              "-               -          -       -      -       -     -    -\n"
              "-               -          -       -      -       -     -    -\n"
              "not-an-address  -          -       -      -       -     -    -\n");
}

TEST(RenderStats, CountersInProtocolOrderWithDropReasons) {
    const json stats = json::parse(R"({
        "send_errors": 0, "ns_received": 100, "ns_answered": 90, "neighbours_seen": 7,
        "ns_dropped": {"hop_limit": 3, "bad_length": 1},
        "entries_added": 5, "zz_new_counter": 1
    })");
    EXPECT_EQ(render_stats(stats),
              "neighbours_seen: 7\n"
              "entries_added: 5\n"
              "ns_received: 100\n"
              "ns_answered: 90\n"
              "ns_dropped.bad_length: 1\n"
              "ns_dropped.hop_limit: 3\n"
              "send_errors: 0\n");
}

// Every member of the table, each with its own value, and one the table does not name.
json every_stat() {
    json stats = json::object();
    std::uint64_t value = 0;
    for (const stats::Metric& metric : stats::kTable) {
        stats[std::string(metric.name)] =
            metric.kind == stats::Kind::drops ? json{{"hop_limit", ++value}} : json(++value);
    }
    stats["not_in_the_table"] = 7;
    return stats;
}

TEST(RenderStats, OneLineAMemberInTheTablesOrder) {
    std::istringstream lines(render_stats(every_stat()));
    std::uint64_t value = 0;
    for (const stats::Metric& metric : stats::kTable) {
        const std::string label = metric.kind == stats::Kind::drops
                                      ? fmt::format("{}.hop_limit", metric.name)
                                      : std::string(metric.name);
        std::string line;
        ASSERT_TRUE(std::getline(lines, line)) << metric.name;
        EXPECT_EQ(line, fmt::format("{}: {}", label, ++value));
    }
    std::string rest;
    EXPECT_FALSE(std::getline(lines, rest)) << rest;
}

TEST(RenderStats, NotAnObjectPrintsNothing) {
    EXPECT_EQ(render_stats(json::array()), "");
}

TEST(RenderStatus, ReadableSummary) {
    const json status = json::parse(R"({
        "version": "0.1.0", "uptime": 7830,
        "external": {"name": "eth0", "ifindex": 2, "up": true},
        "internal": [{"name": "br0", "ifindex": 3, "up": false},
                     {"name": "vnet9", "ifindex": null, "up": false}],
        "prefixes": ["2001:db8:1::/64", "2001:db8:2::/64"],
        "responder": "verify", "router": false, "announce": true, "dry_run": false,
        "manage_sysctls": true, "entries": 12, "kernel_entries": 11, "responder_entries": 1,
        "kernel_ceiling": 11
    })");
    EXPECT_EQ(render_status(status),
              "version:         0.1.0\n"
              "uptime:          2h10m\n"
              "external:        eth0 (ifindex 2, up)\n"
              "internal:        br0 (ifindex 3, down), vnet9 (absent)\n"
              "prefixes:        2001:db8:1::/64, 2001:db8:2::/64\n"
              "responder:       verify\n"
              "router flag:     no\n"
              "announce:        yes\n"
              "manage sysctls:  yes\n"
              "dry run:         no\n"
              "entries:         12 (11 in the kernel, 1 answered by the responder)\n"
              "kernel share:    at most 11 entries (--kernel-entries)\n");
}

TEST(RenderStatus, PatternMembersShowTheirPattern) {
    const json status = json::parse(R"({
        "internal": [{"name": "br0", "ifindex": 3, "up": true},
                     {"name": "tap100i0", "ifindex": 9, "up": true, "pattern": "tap*"}],
        "internal_patterns": ["tap*", "vnet*"]
    })");
    const std::string text = render_status(status);
    EXPECT_NE(text.find("internal:        br0 (ifindex 3, up), tap100i0 (ifindex 9, up, matches "
                        "tap*)\npatterns:        tap*, vnet*\n"),
              std::string::npos)
        << text;
}

TEST(RenderStatus, BoundPrefixesNameTheirInterfaces) {
    const json status = json::parse(R"({
        "prefixes": ["2001:db8:a::/64", "2001:db8:c::/64"],
        "prefix_bindings": {"2001:db8:a::/64": ["br-a", "tap*"]}
    })");
    const std::string text = render_status(status);
    EXPECT_NE(text.find("prefixes:        2001:db8:a::/64 on br-a,tap*, 2001:db8:c::/64\n"),
              std::string::npos)
        << text;
}

TEST(RenderStatus, RoutedBlocksNameTheirInterface) {
    const json status = json::parse(R"({
        "prefixes": ["2001:db8:1::/64"],
        "routed_blocks": [{"prefix": "2001:db8:1::200/124", "interface": "wg0", "origin": "route"},
                          {"prefix": "2001:db8:1:0:1::/80", "interface": "tap3", "origin": "route"}]
    })");
    const std::string text = render_status(status);
    EXPECT_NE(text.find("prefixes:        2001:db8:1::/64\nrouted blocks:   2001:db8:1::200/124 on "
                        "wg0, 2001:db8:1:0:1::/80 on tap3\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(render_status(json::parse(R"({"routed_blocks": []})")).find("routed blocks"),
              std::string::npos);
}

TEST(RenderStatus, EmptyPrefixListIsShownAsMissing) {
    const std::string text = render_status(json{{"prefixes", json::array()}});
    EXPECT_NE(text.find("prefixes:        -\n"), std::string::npos) << text;
    EXPECT_NE(text.find("external:        -\n"), std::string::npos) << text;
}

TEST(RenderJson, PrettyWithTwoSpacesAndNewline) {
    EXPECT_EQ(render_json(json::parse(R"([{"address": "2001:db8::1", "kernel": true}])")),
              "[\n  {\n    \"address\": \"2001:db8::1\",\n    \"kernel\": true\n  }\n]\n");
    EXPECT_EQ(render_json(json::array()), "[]\n");
}

TEST(RenderKernelList, MarksOwnerAndDaemonView) {
    const json view = json::parse(R"({"daemon": "reachable", "warnings": ["x"], "entries": [
        {"address": "2001:db8:1::10", "interface": "eth0", "ifindex": 2, "protocol": 71,
         "owned": true, "daemon": true},
        {"address": "2001:db8:1::98", "interface": "eth0", "ifindex": 2, "protocol": 4,
         "owned": false, "daemon": false},
        {"address": "2001:db8:1::99", "interface": "eth0", "ifindex": 2, "protocol": null,
         "owned": false, "daemon": null}
    ]})");
    EXPECT_EQ(render_kernel_list(view),
              "ADDRESS         INTERFACE  PROTO  OWNER     DAEMON\n"
              "2001:db8:1::10  eth0       71     ndproxyd  yes\n"
              "2001:db8:1::98  eth0       4      admin     no\n"
              "2001:db8:1::99  eth0       -      admin     -\n");
}

TEST(RenderKernelList, EmptyOrMalformedIsJustTheHeader) {
    const std::string header = "ADDRESS  INTERFACE  PROTO  OWNER  DAEMON\n";
    EXPECT_EQ(render_kernel_list(json::parse(R"({"entries": []})")), header);
    EXPECT_EQ(render_kernel_list(json::array()), header);
}

TEST(RenderPrometheus, CountersDropsAndGauges) {
    const json stats = json::parse(R"({
        "neighbours_seen": 7, "entries": 3, "entries_added": 5, "kernel_entries": 2,
        "ns_dropped": {"hop_limit": 4, "bad_code": 0}, "zz_new": 1, "broken": "x"
    })");
    EXPECT_EQ(render_prometheus(stats),
              "# HELP ndproxyd_neighbours_seen_total Neighbour events about eligible addresses "
              "on the internal interfaces.\n"
              "# TYPE ndproxyd_neighbours_seen_total counter\n"
              "ndproxyd_neighbours_seen_total 7\n"
              "# HELP ndproxyd_entries_added_total Proxy entries installed in the kernel.\n"
              "# TYPE ndproxyd_entries_added_total counter\n"
              "ndproxyd_entries_added_total 5\n"
              "# HELP ndproxyd_ns_dropped_total Neighbor Solicitations dropped, by reason.\n"
              "# TYPE ndproxyd_ns_dropped_total counter\n"
              "ndproxyd_ns_dropped_total{reason=\"bad_code\"} 0\n"
              "ndproxyd_ns_dropped_total{reason=\"hop_limit\"} 4\n"
              "# HELP ndproxyd_entries Addresses the daemon currently proxies.\n"
              "# TYPE ndproxyd_entries gauge\n"
              "ndproxyd_entries 3\n"
              "# HELP ndproxyd_kernel_entries Of those, the ones answered by a kernel proxy "
              "entry.\n"
              "# TYPE ndproxyd_kernel_entries gauge\n"
              "ndproxyd_kernel_entries 2\n");
}

TEST(RenderPrometheus, EscapesLabelsAndLeavesOutNegativeValues) {
    const json stats = json::parse(R"({"resyncs": -1, "entries": -2, "probes_sent": 2,
                                       "ns_dropped": {"a\"b\\c\nd": 1}})");
    const std::string text = render_prometheus(stats);
    EXPECT_NE(text.find("\nndproxyd_probes_sent_total 2\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("resyncs"), std::string::npos) << text;
    EXPECT_EQ(text.find("ndproxyd_entries"), std::string::npos) << text;
    EXPECT_NE(text.find("ndproxyd_ns_dropped_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"),
              std::string::npos)
        << text;
}

TEST(RenderPrometheus, EveryFamilyHasHelpAndTypeOnce) {
    const json stats = json::parse(R"({"neighbours_seen": 1, "entries_added": 2,
        "entries_withdrawn": 3, "probes_sent": 4, "probe_answers": 5, "announcements_sent": 6,
        "ns_received": 7, "ns_answered": 8, "verifications": 9, "resyncs": 10,
        "netlink_overflows": 11, "proxy_repairs": 12, "kernel_errors": 13, "send_errors": 14,
        "entries": 15, "ns_dropped": {"truncated": 16}})");
    const std::string text = render_prometheus(stats);
    std::istringstream lines(text);
    std::map<std::string, int> help;
    std::map<std::string, int> type;
    std::set<std::string> sampled;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first, second, third;
        words >> first >> second >> third;
        if (first == "#") {
            (second == "HELP" ? help : type)[third]++;
            continue;
        }
        const std::string family = first.substr(0, first.find('{'));
        EXPECT_TRUE(help.contains(family) && type.contains(family)) << line;
        sampled.insert(family);
    }
    EXPECT_EQ(sampled.size(), 16u) << text;
    for (const auto& [family, count] : help) {
        EXPECT_EQ(count, 1) << family;
        EXPECT_EQ(type[family], 1) << family;
    }
}

TEST(RenderPrometheus, ResponderLevelsAreGauges) {
    const json stats = json::parse(R"({"verifications_in_flight": 2, "negative_cache": 40,
                                       "negative_cache_evictions": 7, "verified": 1})");
    const std::string text = render_prometheus(stats);
    for (const char* expected :
         {"# TYPE ndproxyd_verifications_in_flight gauge\nndproxyd_verifications_in_flight 2\n",
          "# TYPE ndproxyd_negative_cache gauge\nndproxyd_negative_cache 40\n",
          "# TYPE ndproxyd_negative_cache_evictions_total counter\n"
          "ndproxyd_negative_cache_evictions_total 7\n",
          "# TYPE ndproxyd_verified_total counter\nndproxyd_verified_total 1\n"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
    }
}

TEST(RenderPrometheus, EveryRowIsAFamilyOfItsKind) {
    const std::string text = render_prometheus(every_stat());
    std::uint64_t value = 0;
    for (const stats::Metric& metric : stats::kTable) {
        ++value;
        const bool gauge = metric.kind == stats::Kind::gauge;
        const std::string family = fmt::format("ndproxyd_{}{}", metric.name, gauge ? "" : "_total");
        const std::string sample = metric.kind == stats::Kind::drops
                                       ? fmt::format("{}{{reason=\"hop_limit\"}} {}", family, value)
                                       : fmt::format("{} {}", family, value);
        EXPECT_NE(text.find(fmt::format("# HELP {} {}\n# TYPE {} {}\n{}\n", family, metric.help,
                                        family, gauge ? "gauge" : "counter", sample)),
                  std::string::npos)
            << family << " in\n"
            << text;
    }
    EXPECT_EQ(text.find("not_in_the_table"), std::string::npos) << text;
}

TEST(RenderPrometheus, NotAnObjectPrintsNothing) {
    EXPECT_EQ(render_prometheus(json()), "");
}

}  // namespace
}  // namespace ndproxy::ctl

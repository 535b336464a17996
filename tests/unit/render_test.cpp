#include "ctl/render.hpp"

#include <gtest/gtest.h>

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
         "state": "reachable", "origin": "mirror", "kernel": true, "age": 12},
        {"address": "2001:db8:1::9", "interface": "virbr1", "lladdr": null,
         "state": "probing", "origin": "verified", "kernel": false, "age": 303.7},
        {"address": "2001:db8::ff", "interface": null, "lladdr": null,
         "state": "unknown", "origin": "responder", "kernel": false, "age": 277200}
    ])");
    EXPECT_EQ(render_list(entries),
              "ADDRESS         INTERFACE  LLADDR             STATE      ORIGIN     KERNEL  AGE\n"
              "2001:db8::ff    -          -                  unknown    responder  no      3d05h\n"
              "2001:db8:1::9   virbr1     -                  probing    verified   no      5m03s\n"
              "2001:db8:1::10  br0        52:54:00:12:34:56  reachable  mirror     yes     12s\n");
}

TEST(RenderList, EmptyListIsJustTheHeader) {
    EXPECT_EQ(render_list(json::array()),
              "ADDRESS  INTERFACE  LLADDR  STATE  ORIGIN  KERNEL  AGE\n");
}

TEST(RenderList, ToleratesMalformedEntries) {
    const json entries = json::parse(R"([{"address": "not-an-address"}, 7, {"age": "old"},
                                         {"address": "2001:db8::1"}])");
    EXPECT_EQ(render_list(entries),
              "ADDRESS         INTERFACE  LLADDR  STATE  ORIGIN  KERNEL  AGE\n"
              "2001:db8::1     -          -       -      -       -       -\n"
              "-               -          -       -      -       -       -\n"
              "-               -          -       -      -       -       -\n"
              "not-an-address  -          -       -      -       -       -\n");
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
              "send_errors: 0\n"
              "zz_new_counter: 1\n");
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
        "manage_sysctls": true, "entries": 12, "kernel_entries": 11
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
              "entries:         12 (11 in the kernel)\n");
}

TEST(RenderStatus, EmptyPrefixListMeansAllGlobalUnicast) {
    const std::string text = render_status(json{{"prefixes", json::array()}});
    EXPECT_NE(text.find("prefixes:        all global unicast\n"), std::string::npos) << text;
    EXPECT_NE(text.find("external:        -\n"), std::string::npos) << text;
}

TEST(RenderJson, PrettyWithTwoSpacesAndNewline) {
    EXPECT_EQ(render_json(json::parse(R"([{"address": "2001:db8::1", "kernel": true}])")),
              "[\n  {\n    \"address\": \"2001:db8::1\",\n    \"kernel\": true\n  }\n]\n");
    EXPECT_EQ(render_json(json::array()), "[]\n");
}

}  // namespace
}  // namespace ndproxy::ctl

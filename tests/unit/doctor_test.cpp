#include "ctl/doctor_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ndproxy::ctl::doctor {
namespace {

using nlohmann::json;

Ipv6Prefix prefix(const char* text) {
    return *Ipv6Prefix::parse(text);
}

// A host as README "Installing" sets it up, with the daemon running and solicited lately.
Readings healthy() {
    Readings r;
    r.config_path = "/etc/ndproxy/ndproxyd.conf";
    r.socket_path = "/run/ndproxyd/control.sock";
    r.sysctls = {{"conf/all/forwarding", "1"},    {"conf/eth0/forwarding", "1"},
                 {"conf/all/proxy_ndp", "1"},     {"conf/eth0/proxy_ndp", "1"},
                 {"neigh/eth0/proxy_delay", "0"}, {"neigh/default/gc_thresh3", "1024"}};
    r.uplinks = {{"eth0", true, {prefix("2001:db8:10:20::/64")}, true, true}};
    PrefixReadings p;
    p.prefix = prefix("2001:db8:10:20::/64");
    p.uplink = "eth0";
    p.probe = *Ipv6Address::parse("2001:db8:10:20:ffff:ffff:ffff:fffe");
    p.route = "br0";
    p.route_internal = true;
    r.prefixes = {p};
    r.bridges = {{"br0", false, false}};
    DaemonReadings d;
    d.version = "0.1.0";
    d.uptime = 3600;
    d.entries = 2;
    d.solicitations["eth0"] = json{{"2001:db8:10:20::/64", 12.5}};
    r.daemon = d;
    return r;
}

// The finding of the check whose name starts with `check`.
Finding find(const std::vector<Finding>& findings, const std::string& check) {
    const auto found = std::find_if(findings.begin(), findings.end(),
                                    [&](const Finding& f) { return f.check.starts_with(check); });
    if (found == findings.end()) {
        ADD_FAILURE() << "no finding " << check << " in\n" << render_text(findings);
        return {};
    }
    return *found;
}

TEST(Doctor, HealthyHostIsAllOk) {
    const auto findings = judge(healthy());
    for (const Finding& f : findings) {
        EXPECT_EQ(f.result, Result::ok) << f.check << ": " << f.why;
        EXPECT_TRUE(f.fix.empty()) << f.check;
    }
    EXPECT_EQ(exit_status(findings), 0);
    EXPECT_EQ(find(findings, "solicitations").why, "the last one reached eth0 12s ago");
}

TEST(Doctor, ForwardingOffFailsWithTheSysctlToSet) {
    Readings r = healthy();
    r.sysctls["conf/all/forwarding"] = "0";
    auto f = find(judge(r), "forwarding eth0");
    EXPECT_EQ(f.result, Result::fail);
    EXPECT_NE(f.fix.find("sysctl -w net.ipv6.conf.all.forwarding=1"), std::string::npos);
    EXPECT_EQ(exit_status(judge(r)), 2);
    r = healthy();
    r.sysctls["conf/eth0/forwarding"] = "0";
    f = find(judge(r), "forwarding eth0");
    EXPECT_EQ(f.result, Result::fail);
    EXPECT_NE(f.fix.find("net.ipv6.conf.eth0.forwarding=1"), std::string::npos);
}

TEST(Doctor, ProxySysctlsFailWhileTheDaemonRunsAndAreItsJobBeforeItStarts) {
    Readings r = healthy();
    r.sysctls["conf/eth0/proxy_ndp"] = "0";
    r.sysctls["neigh/eth0/proxy_delay"] = "80";
    auto findings = judge(r);
    EXPECT_EQ(find(findings, "net.ipv6.conf.eth0.proxy_ndp").result, Result::fail);
    EXPECT_EQ(find(findings, "net.ipv6.conf.eth0.proxy_ndp").fix,
              "sysctl -w net.ipv6.conf.eth0.proxy_ndp=1 (and keep it in "
              "/etc/sysctl.d/90-ndproxy.conf)");
    EXPECT_EQ(find(findings, "net.ipv6.neigh.eth0.proxy_delay").result, Result::warn);
    // Before the first start, ndproxyd sets them itself.
    r.daemon.reset();
    r.daemon_error = "cannot reach ndproxyd";
    findings = judge(r);
    EXPECT_EQ(find(findings, "net.ipv6.conf.eth0.proxy_ndp").result, Result::ok);
    EXPECT_NE(find(findings, "net.ipv6.conf.eth0.proxy_ndp").why.find("when it starts"),
              std::string::npos);
    // Unless told not to.
    r.manage_sysctls = false;
    EXPECT_EQ(find(judge(r), "net.ipv6.conf.eth0.proxy_ndp").result, Result::fail);
}

TEST(Doctor, MissingUplinkFailsAndItsOwnChecksAreLeftOut) {
    Readings r = healthy();
    r.uplinks[0].present = false;
    const auto findings = judge(r);
    EXPECT_EQ(find(findings, "uplink eth0").result, Result::fail);
    EXPECT_TRUE(std::none_of(findings.begin(), findings.end(), [](const Finding& f) {
        return f.check == "forwarding eth0" || f.check == "address eth0";
    }));
}

TEST(Doctor, DefaultRouteMissingFailsAndOnAnotherUplinkWarns) {
    Readings r = healthy();
    r.uplinks[0].default_route = false;
    EXPECT_EQ(find(judge(r), "default route eth0").result, Result::fail);
    r.uplinks.push_back({"eth0.4000", true, {prefix("2001:db8:10:21::/64")}, true, true});
    r.sysctls["conf/eth0.4000/forwarding"] = "1";
    EXPECT_EQ(find(judge(r), "default route eth0").result, Result::warn);
    EXPECT_EQ(find(judge(r), "default route eth0.4000").result, Result::ok);
}

TEST(Doctor, UplinkWithoutGlobalAddressWarnsWithAnAddressOfItsPrefix) {
    Readings r = healthy();
    r.uplinks[0].global_address = false;
    const Finding f = find(judge(r), "address eth0");
    EXPECT_EQ(f.result, Result::warn);
    EXPECT_NE(f.fix.find("ip -6 addr add 2001:db8:10:20::2/128 dev eth0"), std::string::npos);
}

TEST(Doctor, PrefixRoutedOutOfTheUplinkFails) {
    Readings r = healthy();
    r.prefixes[0].route = "eth0";
    r.prefixes[0].route_internal = false;
    const Finding f = find(judge(r), "route 2001:db8:10:20::/64");
    EXPECT_EQ(f.result, Result::fail);
    EXPECT_NE(f.why.find("routes to eth0"), std::string::npos);
    EXPECT_NE(f.fix.find("ip -6 route add 2001:db8:10:20::/64 dev"), std::string::npos);
    r.prefixes[0].route.reset();
    EXPECT_NE(find(judge(r), "route 2001").why.find("routes nowhere"), std::string::npos);
}

// README "Topologies": routed VMs' /128s on their taps serve the prefix; with patterns and none
// yet, the routes come with the VMs.
TEST(Doctor, PrefixServedByRoutesInsideItIsFine) {
    Readings r = healthy();
    r.prefixes[0].route = "eth0";
    r.prefixes[0].route_internal = false;
    r.prefixes[0].internal_routes = 2;
    Finding f = find(judge(r), "route 2001:db8:10:20::/64");
    EXPECT_EQ(f.result, Result::ok);
    EXPECT_NE(f.why.find("2 routes inside it"), std::string::npos);
    r.prefixes[0].internal_routes = 0;
    r.prefixes[0].internal_patterns = true;
    EXPECT_EQ(find(judge(r), "route 2001:db8:10:20::/64").result, Result::warn);
}

TEST(Doctor, SnoopingWithoutQuerierWarns) {
    Readings r = healthy();
    r.bridges = {{"br0", true, false}, {"br1", true, true}};
    const auto findings = judge(r);
    EXPECT_EQ(find(findings, "multicast snooping br0").result, Result::warn);
    EXPECT_EQ(find(findings, "multicast snooping br0").fix.substr(0, 45),
              "ip link set br0 type bridge mcast_snooping 0 ");
    EXPECT_EQ(find(findings, "multicast snooping br1").result, Result::ok);
}

TEST(Doctor, GcThresh3AgainstTheDaemonsEntriesOrTheNeighbours) {
    Readings r = healthy();
    r.daemon->entries = 900;  // beyond 80 % of 1024
    EXPECT_EQ(find(judge(r), "net.ipv6.neigh.default.gc_thresh3").result, Result::warn);
    r.daemon.reset();
    r.internal_neighbours = 100;
    EXPECT_EQ(find(judge(r), "net.ipv6.neigh.default.gc_thresh3").result, Result::ok);
    r.internal_neighbours = 1000;
    const Finding f = find(judge(r), "net.ipv6.neigh.default.gc_thresh3");
    EXPECT_EQ(f.result, Result::warn);
    EXPECT_NE(f.why.find("1000 neighbours on the internal interfaces"), std::string::npos);
    EXPECT_NE(f.fix.find("gc_thresh3=2048"), std::string::npos);
    r.sysctls["neigh/default/gc_thresh3"] = std::nullopt;  // another network namespace
    EXPECT_EQ(find(judge(r), "net.ipv6.neigh.default.gc_thresh3").result, Result::skip);
}

TEST(Doctor, DaemonDownFailsAndWhatNeedsItIsSkipped) {
    Readings r = healthy();
    r.daemon.reset();
    r.daemon_error = "cannot reach ndproxyd at /run/ndproxyd/control.sock: No such file";
    const auto findings = judge(r);
    EXPECT_EQ(find(findings, "daemon").result, Result::fail);
    EXPECT_EQ(find(findings, "daemon").why, r.daemon_error);
    EXPECT_EQ(find(findings, "kernel proxy table").result, Result::skip);
    EXPECT_EQ(find(findings, "solicitations").result, Result::skip);
}

TEST(Doctor, KernelTableDisagreementWarnsWithResync) {
    Readings r = healthy();
    r.daemon->kernel_warnings = {"one", "two"};
    const Finding f = find(judge(r), "kernel proxy table");
    EXPECT_EQ(f.result, Result::warn);
    EXPECT_EQ(f.why, "one (and 1 more: ndproxyctl list --kernel)");
    EXPECT_EQ(f.fix, "ndproxyctl resync");
}

TEST(Doctor, NoSolicitationForLongSuggestsARoutedPrefix) {
    Readings r = healthy();
    auto& seen = r.daemon->solicitations["eth0"];
    seen["2001:db8:10:20::/64"] = nullptr;  // none since the start, an hour ago
    Finding f = find(judge(r), "solicitations");
    EXPECT_EQ(f.result, Result::warn);
    EXPECT_NE(f.why.find("the provider may route 2001:db8:10:20::/64 to this host"),
              std::string::npos);
    EXPECT_NE(f.fix.find("tcpdump -ni eth0 icmp6 and 'ip6[40] == 135'"), std::string::npos);
    seen["2001:db8:10:20::/64"] = 900.0;  // the last one 15 minutes ago
    EXPECT_EQ(find(judge(r), "solicitations").result, Result::warn);
    r.quiet_window = 1800;  // --window
    EXPECT_EQ(find(judge(r), "solicitations").result, Result::ok);
    // Too early to tell.
    r = healthy();
    r.daemon->uptime = 60;
    r.daemon->solicitations["eth0"]["2001:db8:10:20::/64"] = nullptr;
    f = find(judge(r), "solicitations");
    EXPECT_EQ(f.result, Result::ok);
    EXPECT_NE(f.why.find("too early to tell"), std::string::npos);
    // The responder reads nothing: doctor cannot tell, and says how to look.
    r.daemon->solicitations["eth0"] = nullptr;
    f = find(judge(r), "solicitations");
    EXPECT_EQ(f.result, Result::skip);
    EXPECT_NE(f.why.find("tcpdump -ni eth0"), std::string::npos);
}

TEST(Doctor, ExitStatusTextAndJson) {
    const std::vector<Finding> findings{{"a", Result::ok, "fine", ""},
                                        {"b", Result::skip, "unknown", ""},
                                        {"c", Result::warn, "hm", "do x"}};
    EXPECT_EQ(exit_status(findings), 1);
    EXPECT_EQ(render_text(findings),
              "OK    a: fine\n"
              "SKIP  b: unknown\n"
              "WARN  c: hm\n"
              "      fix: do x\n");
    const json parsed = json::parse(render_json(findings));
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(parsed[2],
              (json{{"check", "c"}, {"result", "warn"}, {"why", "hm"}, {"fix", "do x"}}));
    EXPECT_TRUE(parsed[0]["fix"].is_null());
    EXPECT_EQ(render_json(findings).substr(0, 17), "[\n  {\n    \"check\"");
    const Finding config = config_failure("/x.conf", "/x.conf:3: unknown key \"prefx\"");
    EXPECT_EQ(config.result, Result::fail);
    EXPECT_EQ(exit_status({config}), 2);
}

}  // namespace
}  // namespace ndproxy::ctl::doctor

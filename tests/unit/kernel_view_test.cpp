#include "ctl/kernel_view.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

KernelProxyEntry entry(const char* address, const char* interface,
                       std::optional<std::uint8_t> protocol, int ifindex = 2) {
    return {*Ipv6Address::parse(address), ifindex, interface, protocol};
}

// ext: one owned entry the daemon knows, one owned it does not, two of the administrator's.
std::vector<KernelProxyEntry> sample_table() {
    return {entry("2001:db8:1::99", "ext", std::nullopt), entry("2001:db8:1::10", "ext", 71),
            entry("2001:db8:1::98", "ext", 4), entry("2001:db8:1::77", "ext", 71)};
}

DaemonView sample_daemon() {
    return {json::parse(R"([
        {"address": "2001:db8:1::10", "kernel": true},
        {"address": "2001:db8:1::20", "kernel": true},
        {"address": "2001:db8:1::30", "kernel": false},
        {"address": "garbage", "kernel": true}, 7
    ])"),
            "ext"};
}

TEST(KernelView, WithoutDaemonMarksOwnershipOnly) {
    const json view = kernel_view(sample_table(), std::nullopt);
    EXPECT_EQ(view["daemon"], "unreachable");
    EXPECT_EQ(view["warnings"], json::array());
    ASSERT_EQ(view["entries"].size(), 4u);
    const json& first = view["entries"][0];
    EXPECT_EQ(first["address"], "2001:db8:1::10");  // sorted numerically
    EXPECT_EQ(first["interface"], "ext");
    EXPECT_EQ(first["ifindex"], 2);
    EXPECT_EQ(first["protocol"], 71);
    EXPECT_EQ(first["owned"], true);
    EXPECT_TRUE(first["daemon"].is_null());
    EXPECT_EQ(view["entries"][1]["address"], "2001:db8:1::77");
    EXPECT_EQ(view["entries"][2]["protocol"], 4);
    EXPECT_EQ(view["entries"][2]["owned"], false);
    EXPECT_TRUE(view["entries"][3]["protocol"].is_null());
    EXPECT_EQ(view["entries"][3]["owned"], false);
}

TEST(KernelView, CrossChecksBothWays) {
    const json view = kernel_view(sample_table(), sample_daemon());
    EXPECT_EQ(view["daemon"], "reachable");
    std::vector<bool> known;
    for (const json& row : view["entries"]) {
        known.push_back(row["daemon"].get<bool>());
    }
    EXPECT_EQ(known, (std::vector<bool>{true, false, false, false}));
    // ::77 is tagged but unknown; ::20 is "in the kernel" for the daemon but missing. ::30
    // (kernel false) and the administrator's entries are no one's concern.
    EXPECT_EQ(view["warnings"], json::parse(R"([
        "2001:db8:1::77 on ext carries ndproxyd's protocol tag (71) but the running ndproxyd does not know it",
        "ndproxyd says 2001:db8:1::20 has a kernel entry on ext, but the kernel's proxy table has none"
    ])"));
}

TEST(KernelView, OwnedEntryOnAnotherInterfaceIsNotTheDaemons) {
    // Left behind by a run with another external interface: same address, wrong link.
    const json view = kernel_view(
        {entry("2001:db8:1::10", "eth1", 71, 5)},
        DaemonView{json::parse(R"([{"address": "2001:db8:1::10", "kernel": true}])"), "ext"});
    EXPECT_EQ(view["entries"][0]["daemon"], false);
    ASSERT_EQ(view["warnings"].size(), 2u);
    EXPECT_NE(view["warnings"][0].get<std::string>().find("on eth1 carries"), std::string::npos);
    EXPECT_NE(
        view["warnings"][1].get<std::string>().find("2001:db8:1::10 has a kernel entry on ext"),
        std::string::npos);
}

TEST(KernelView, MalformedDaemonListIsIgnored) {
    const json view = kernel_view(sample_table(), DaemonView{json{{"not", "a list"}}, "ext"});
    EXPECT_EQ(view["warnings"].size(), 2u);  // both owned entries are unknown to it
    EXPECT_EQ(view["entries"][0]["daemon"], false);
}

TEST(KernelView, EmptyTable) {
    const json view = kernel_view({}, std::nullopt);
    EXPECT_EQ(view["entries"], json::array());
}

}  // namespace
}  // namespace ndproxy::ctl

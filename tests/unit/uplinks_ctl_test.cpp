// ndproxyctl with several uplinks (docs/design.md §Uplinks): list's UPLINK column, status's
// uplink lines, and list --kernel's cross-check on every uplink.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ctl/kernel_view.hpp"
#include "ctl/render.hpp"

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

json row(const char* address, const char* uplink) {
    json entry{{"address", address}, {"interface", "br0"}, {"state", "reachable"},
               {"origin", "mirror"}, {"path", "kernel"},   {"age", 3}};
    if (uplink != nullptr) {
        entry["uplink"] = uplink;
    }
    return entry;
}

TEST(UplinksCtl, TheListShowsUplinksOnlyWhenTheRowsNameThem) {
    const std::string several =
        render_list(json::array({row("2001:db8:2::20", "eth0.40"), row("2001:db8:1::10", "eth0")}));
    EXPECT_EQ(several,
              "ADDRESS         UPLINK   INTERFACE  LLADDR  STATE      ORIGIN  PATH    AGE  "
              "CONFLICT\n"
              "2001:db8:1::10  eth0     br0        -       reachable  mirror  kernel  3s   -\n"
              "2001:db8:2::20  eth0.40  br0        -       reachable  mirror  kernel  3s   -\n");
    const std::string one = render_list(json::array({row("2001:db8:1::10", nullptr)}));
    EXPECT_EQ(one.find("UPLINK"), std::string::npos) << one;
    EXPECT_NE(one.find("\n2001:db8:1::10  br0 "), std::string::npos) << one;
}

TEST(UplinksCtl, StatusHasALinePerUplink) {
    const json status{
        {"external", {{"name", "eth0"}, {"ifindex", 2}, {"up", true}}},
        {"uplinks", json::array({{{"name", "eth0"},
                                  {"ifindex", 2},
                                  {"up", true},
                                  {"prefixes", {"2001:db8:1::/64"}},
                                  {"entries", 1},
                                  {"kernel_entries", 1}},
                                 {{"name", "eth0.40"},
                                  {"ifindex", nullptr},
                                  {"up", false},
                                  {"prefixes", {"2001:db8:2::/64", "2001:db8:3::/64"}},
                                  {"entries", 0},
                                  {"kernel_entries", 0}}})}};
    const std::string text = render_status(status);
    EXPECT_NE(text.find("uplink:          eth0 (ifindex 2, up): 2001:db8:1::/64; 1 entries (1 in "
                        "the kernel)\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("uplink:          eth0.40 (absent): 2001:db8:2::/64, 2001:db8:3::/64; 0 "
                        "entries (0 in the kernel)\n"),
              std::string::npos)
        << text;
}

KernelRow entry(const char* address, const char* interface, int ifindex) {
    return {ProxyEntry{ifindex, *Ipv6Address::parse(address), kOwnProtocol}, interface};
}

TEST(UplinksCtl, TheKernelViewChecksEachUplink) {
    const DaemonView daemon{json::parse(R"([
        {"address": "2001:db8:1::10", "kernel": true, "uplink": "eth0"},
        {"address": "2001:db8:2::20", "kernel": true, "uplink": "eth0.40"},
        {"address": "2001:db8:2::21", "kernel": true, "uplink": "eth0.40"}
    ])"),
                            "eth0",
                            {"eth0", "eth0.40"}};
    // 2001:db8:2::20 on the wrong uplink is not the daemon's there; ::21 is missing.
    const json view =
        kernel_view({entry("2001:db8:1::10", "eth0", 2), entry("2001:db8:2::20", "eth0.40", 4),
                     entry("2001:db8:2::20", "eth0", 2)},
                    daemon);
    ASSERT_EQ(view["entries"].size(), 3u);
    EXPECT_EQ(view["entries"][0]["daemon"], true);
    EXPECT_EQ(view["entries"][1]["interface"], "eth0");
    EXPECT_EQ(view["entries"][1]["daemon"], false);
    EXPECT_EQ(view["entries"][2]["daemon"], true);
    EXPECT_EQ(view["warnings"],
              json::array({"2001:db8:2::20 on eth0 carries ndproxyd's protocol tag (71) but the "
                           "running ndproxyd does not know it",
                           "ndproxyd says 2001:db8:2::21 has a kernel entry on eth0.40, but the "
                           "kernel's proxy table has none"}));
}

}  // namespace
}  // namespace ndproxy::ctl

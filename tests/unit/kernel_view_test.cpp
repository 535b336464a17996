#include "ctl/kernel_view.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "codec/netlink_codec.hpp"
#include "ctl/kernel_table.hpp"
#include "test_data.hpp"

namespace ndproxy::ctl {
namespace {

using nlohmann::json;

KernelRow entry(const char* address, const char* interface, std::optional<std::uint8_t> protocol,
                int ifindex = 2) {
    return {ProxyEntry{ifindex, *Ipv6Address::parse(address), protocol.value_or(0)}, interface};
}

// ext: one owned entry the daemon knows, one owned it does not, two of the administrator's.
std::vector<KernelRow> sample_table() {
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

// ndproxyctl reads each row of `list --kernel` with the daemon's codec: on the captured dumps,
// and on a row cut short, it accepts exactly what the daemon accepts.
TEST(KernelTableRows, AcceptWhatTheDaemonAccepts) {
    for (const char* file : {"nl-dump-proxy.hex", "nl-dump-proxy-router.hex"}) {
        SCOPED_TRACE(file);
        const std::vector<std::uint8_t> dump = test::load_hex(file);
        std::size_t offset = 0;
        int entries = 0;
        for (const auto& message : netlink::parse_datagram(dump).messages) {
            const std::uint32_t length = dump[offset] | dump[offset + 1] << 8 |
                                         dump[offset + 2] << 16 | dump[offset + 3] << 24;
            const std::span<const std::uint8_t> bytes(dump.data() + offset, length);
            const auto row = proxy_row(bytes);
            const auto* daemon = message.event ? std::get_if<ProxyEntry>(&*message.event) : nullptr;
            ASSERT_EQ(row.has_value(), daemon != nullptr);
            if (row) {
                ++entries;
                EXPECT_EQ(row->address, daemon->address);
                EXPECT_EQ(row->ifindex, daemon->ifindex);
                EXPECT_EQ(row->protocol, daemon->protocol);
                EXPECT_EQ(row->router, daemon->router);
                // NDA_PROTOCOL (type 12) is the last attribute, padded to 8 bytes. A tag of two
                // bytes is not a u8: both read the row as untagged, rather than ndproxyctl
                // calling ndproxyd's an entry the daemon takes for the administrator's.
                if (daemon->protocol != 0) {
                    std::vector<std::uint8_t> wide(bytes.begin(), bytes.end());
                    ASSERT_EQ(wide[length - 6], 12);  // nla_type
                    wide[length - 8] = 6;             // nla_len: a two-byte payload
                    EXPECT_EQ(proxy_row(wide).value().protocol, 0);
                    EXPECT_EQ(std::get<ProxyEntry>(netlink::parse_message(wide).value()).protocol,
                              0);
                }
            }
            offset += (length + 3) & ~3u;
        }
        EXPECT_GT(entries, 0);
    }
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

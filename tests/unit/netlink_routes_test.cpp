// Routes in the rtnetlink codec, against messages captured from a real kernel
// (tests/data/nl-*route*.hex; each file's comment gives the command). In the capture namespace
// lo=1, tap1p=2, tap1=3.

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <vector>

#include "codec/netlink_codec.hpp"
#include "test_data.hpp"

namespace ndproxy::netlink {
namespace {

using test::load_hex;
using Bytes = std::vector<std::uint8_t>;

constexpr int kTap1 = 3;
constexpr std::size_t kRtmDstLen = 17;  // offsets into the message: header (16) + rtmsg
constexpr std::size_t kRtmType = 23;

Ipv6Prefix prefix(const char* text) {
    return *Ipv6Prefix::parse(text);
}

RouteUpdate route_in(const Bytes& bytes) {
    const auto event = parse_message(bytes);
    if (!event || !std::holds_alternative<RouteUpdate>(*event)) {
        ADD_FAILURE() << "not decoded as a route";
        return {};
    }
    return std::get<RouteUpdate>(*event);
}

TEST(NetlinkRoute, ATapsHostRoute) {
    const RouteUpdate added = route_in(load_hex("nl-newroute-128.hex"));
    EXPECT_EQ(added.destination, prefix("2001:db8:1::20/128"));
    EXPECT_EQ(added.ifindex, kTap1);
    EXPECT_EQ(added.table, static_cast<std::uint32_t>(RT_TABLE_MAIN));
    EXPECT_EQ(added.metric, 1024u);  // iproute2's default for IPv6
    EXPECT_FALSE(added.via_gateway);
    EXPECT_FALSE(added.deleted);
    const RouteUpdate deleted = route_in(load_hex("nl-delroute-128.hex"));
    EXPECT_EQ(deleted.destination, added.destination);
    EXPECT_EQ(deleted.ifindex, kTap1);
    EXPECT_TRUE(deleted.deleted);
}

TEST(NetlinkRoute, ABlockBehindANextHop) {
    const RouteUpdate block = route_in(load_hex("nl-newroute-block-gateway.hex"));
    EXPECT_EQ(block.destination, prefix("2001:db8:1::100/124"));
    EXPECT_EQ(block.ifindex, kTap1);
    EXPECT_TRUE(block.via_gateway);
}

// The dump holds the link-local /64s and the local table too: only the two routes longer than
// /64 that could carry a VM's addresses are relevant.
TEST(NetlinkRoute, TheDumpKeepsOnlyUnicastRoutesLongerThanA64) {
    const Datagram datagram = parse_datagram(load_hex("nl-dump-routes.hex"));
    EXPECT_FALSE(datagram.truncated);
    std::vector<Ipv6Prefix> routes;
    for (const Message& message : datagram.messages) {
        EXPECT_EQ(message.type, RTM_NEWROUTE);
        if (message.event) {
            routes.push_back(std::get<RouteUpdate>(*message.event).destination);
        }
    }
    EXPECT_GT(datagram.messages.size(), 2u);
    EXPECT_EQ(routes, (std::vector{prefix("2001:db8:1::20/128"), prefix("2001:db8:1::100/124")}));
}

TEST(NetlinkRoute, OtherKindsAndLengthsAreNotRelevant) {
    Bytes local = load_hex("nl-newroute-128.hex");
    local[kRtmType] = RTN_LOCAL;
    EXPECT_FALSE(parse_message(local));
    Bytes short_prefix = load_hex("nl-newroute-block-gateway.hex");
    short_prefix[kRtmDstLen] = 64;
    EXPECT_FALSE(parse_message(short_prefix));
    Bytes too_long = load_hex("nl-newroute-128.hex");
    too_long[kRtmDstLen] = 129;
    EXPECT_FALSE(parse_message(too_long));
    // Host bits beyond the length are cleared, whatever the message says.
    Bytes wider = load_hex("nl-newroute-128.hex");
    wider[kRtmDstLen] = 120;
    EXPECT_EQ(route_in(wider).destination, prefix("2001:db8:1::/120"));
}

TEST(NetlinkRoute, DumpRequestAsksForEveryIpv6Table) {
    Bytes out;
    append_dump_request(out, KernelTable::routes, 9);
    ASSERT_GE(out.size(), 16u + sizeof(rtmsg));
    const auto* header = reinterpret_cast<const nlmsghdr*>(out.data());
    EXPECT_EQ(header->nlmsg_type, RTM_GETROUTE);
    EXPECT_EQ(header->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(header->nlmsg_len, out.size());
    const auto* rtm = reinterpret_cast<const rtmsg*>(out.data() + 16);
    EXPECT_EQ(rtm->rtm_family, AF_INET6);
    EXPECT_EQ(rtm->rtm_table, 0);
}

}  // namespace
}  // namespace ndproxy::netlink

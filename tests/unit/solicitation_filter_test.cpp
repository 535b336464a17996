// The fast path's invariant (docs/design.md §Fast path), on the real BPF program run by the
// kernel (BPF_PROG_TEST_RUN): it drops only solicitations the codec accepts and the responder
// would drop as kernel_answers or out_of_scope, and counts each; everything else passes as the
// classic filter passes it. Needs CAP_BPF: skipped without.
#include "linux/solicitation_filter.hpp"

#include <gtest/gtest.h>

#include <system_error>

#include "codec/frame_codec.hpp"
#include "codec/ndp_codec.hpp"

namespace ndproxy {
namespace {

constexpr int kLoopback = 1;  // where BPF_PROG_TEST_RUN delivers

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

const MacAddress kRouterMac{{0x02, 0, 0, 0, 0x0e, 0xff}};
const Ipv6Address kRouter = addr("fe80::ff");

std::vector<std::uint8_t> solicitation(const Ipv6Address& target,
                                       const Ipv6Address& source = kRouter,
                                       std::optional<MacAddress> lladdr = kRouterMac) {
    const Ipv6Address group = target.solicited_node();
    return ndp::build_icmpv6_frame(kRouterMac, ndp::multicast_mac(group), source, group,
                                   ndp::build_solicitation(target, lladdr));
}

class SolicitationFilterTest : public ::testing::Test {
protected:
    void SetUp() override {
        try {
            filter.emplace(64);
        } catch (const std::system_error& error) {
            GTEST_SKIP() << "cannot load BPF programs here: " << error.what();
        }
        filter->set_ifindex(kLoopback);
        ASSERT_TRUE(filter->set_scope({*Ipv6Prefix::parse("2001:db8:1::/64")}));
        ASSERT_TRUE(filter->set_targets({{addr("2001:db8:1::10"), FilterTarget::kernel},
                                         {addr("2001:db8:1::11"), FilterTarget::foreign},
                                         {addr("2001:db8:1::1"), FilterTarget::own},
                                         {addr("fe80::1"), FilterTarget::own}},
                                        false));
    }
    // The verdict, checked against the codec: a drop only for a frame it accepts as a
    // solicitation that is not DAD.
    bool dropped(const std::vector<std::uint8_t>& frame) {
        const long verdict = filter->verdict(frame);
        EXPECT_GE(verdict, 0);
        if (verdict == 0) {
            const auto parsed = ndp::parse_solicitation_frame(frame, ndp::Delivery::multicast);
            const auto* ns = std::get_if<ndp::Solicitation>(&parsed);
            EXPECT_TRUE(ns != nullptr && !ns->is_dad()) << "dropped what userspace counts apart";
        }
        return verdict == 0;
    }
    std::optional<SolicitationFilter> filter;
};

TEST_F(SolicitationFilterTest, DropsOnlyWhatTheResponderWouldDropAndCountsIt) {
    EXPECT_TRUE(dropped(solicitation(addr("2001:db8:1::10"))));  // kernel-held
    EXPECT_TRUE(dropped(solicitation(addr("2001:db8:1::10"), addr("2001:db8:1::99"), {})));
    EXPECT_TRUE(dropped(solicitation(addr("2001:db8:1::11"))));   // the administrator's entry
    EXPECT_TRUE(dropped(solicitation(addr("2001:db8:2::1"))));    // outside the prefix
    EXPECT_TRUE(dropped(solicitation(addr("fe80::2"))));          // not global unicast
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:1::20"))));  // the responder's
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:1::1"))));   // the host's own
    EXPECT_FALSE(dropped(solicitation(addr("fe80::1"))));         // the host's own
    const FilterCounts counts = filter->counts();
    EXPECT_EQ(counts.kernel_answers, 3u);
    EXPECT_EQ(counts.out_of_scope, 2u);
    EXPECT_TRUE(filter->last_seen(*Ipv6Prefix::parse("2001:db8:1::/64")).has_value());

    EXPECT_TRUE(filter->set_targets({{addr("2001:db8:1::10"), FilterTarget::none}}, false));
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:1::10"))));
    EXPECT_TRUE(filter->set_targets({{addr("2001:db8:1::20"), FilterTarget::kernel}}, true));
    EXPECT_TRUE(dropped(solicitation(addr("2001:db8:1::20"))));
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:1::1")))) << "replaced, yet still out";
}

TEST_F(SolicitationFilterTest, PassesWhatTheCodecCountsAsInvalidOrDad) {
    const auto kernel_held = solicitation(addr("2001:db8:1::10"));
    auto hop_limit = kernel_held;
    hop_limit[14 + 7] = 254;
    auto checksum = kernel_held;
    checksum[14 + 40 + 2] ^= 0x01;
    auto code = kernel_held;
    code[14 + 40 + 1] = 1;  // the checksum no longer matches either: both are the codec's
    auto ether_group_source = kernel_held;
    ether_group_source[6] |= 0x01;
    auto truncated = kernel_held;
    truncated.resize(truncated.size() - 4);
    for (const auto& frame : {hop_limit, checksum, code, ether_group_source, truncated}) {
        EXPECT_FALSE(dropped(frame));
        EXPECT_EQ(filter->verdict(frame), 0xffff);
    }
    // DAD: the codec's destination checks decide it.
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:1::10"), Ipv6Address{}, {})));
    EXPECT_FALSE(dropped(solicitation(addr("2001:db8:2::1"), Ipv6Address{}, {})));
    EXPECT_EQ(filter->counts().kernel_answers + filter->counts().out_of_scope, 0u);
}

TEST_F(SolicitationFilterTest, KeepsWhatTheClassicFilterKeepsFromUserspace) {
    const Ipv6Address target = addr("2001:db8:1::20");
    const auto advertisement =
        ndp::build_icmpv6_frame(kRouterMac, ndp::multicast_mac(kAllNodes), kRouter, kAllNodes,
                                ndp::build_advertisement(target, {false, false, true}, kRouterMac));
    EXPECT_EQ(filter->verdict(advertisement), 0);
    filter->set_ifindex(kLoopback + 1000);
    EXPECT_EQ(filter->verdict(solicitation(target)), 0) << "another link's";
    filter->set_ifindex(0);
    EXPECT_EQ(filter->verdict(solicitation(target)), 0) << "not listening";
}

}  // namespace
}  // namespace ndproxy

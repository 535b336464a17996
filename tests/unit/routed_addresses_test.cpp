// Routed addresses (docs/design.md §Routed addresses): a /128 through a tap is an entry for as
// long as its route exists; a block behind a next hop or on a link without Neighbor Discovery
// is answered whole by the responder; neither is ever probed.

#include <gtest/gtest.h>

#include "core/mirror_policy.hpp"
#include "core/mirror_service.hpp"
#include "core/responder_policy.hpp"
#include "core/routed_blocks.hpp"
#include "fake_ports.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::addresses_of;

constexpr int kExt = 2;
constexpr int kTap = 3;     // tap100i0: a routed VM
constexpr int kBridge = 4;  // br0: neighbours decide there
constexpr int kTunnel = 5;  // wg0: NOARP

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}
Ipv6Prefix prefix(const char* text) {
    return *Ipv6Prefix::parse(text);
}
RouteUpdate route(const char* destination, int ifindex, bool via_gateway = false) {
    return RouteUpdate{prefix(destination), ifindex, 254, 1024, via_gateway, false};
}
RouteUpdate gone(RouteUpdate route) {
    route.deleted = true;
    return route;
}

const Requester kRouter{addr("fe80::ff"), MacAddress{{2, 0, 0, 0, 0, 0xff}}};
const Requester kNewcomer{Ipv6Address{}, MacAddress{{2, 0, 0, 0, 0, 0x77}}};

TEST(RoutedBlocks, LooksUpOnlyTheLengthsPresent) {
    RoutedBlocks blocks;
    EXPECT_FALSE(blocks.contains(addr("2001:db8::1")));
    blocks.add(prefix("2001:db8::100/124"), kTunnel);
    blocks.add(prefix("2001:db8:0:0:1::/80"), kTap);
    blocks.add(prefix("2001:db8::100/124"), kTunnel);  // a second route to it
    EXPECT_TRUE(blocks.contains(addr("2001:db8::10f")));
    EXPECT_FALSE(blocks.contains(addr("2001:db8::110")));
    EXPECT_TRUE(blocks.contains(addr("2001:db8::1:ffff:0:5")));
    EXPECT_EQ(blocks.size(), 2u);
    blocks.remove(prefix("2001:db8::100/124"), kTunnel);
    EXPECT_TRUE(blocks.contains(addr("2001:db8::10f")));
    blocks.remove(prefix("2001:db8::100/124"), kTunnel);
    EXPECT_FALSE(blocks.contains(addr("2001:db8::10f")));
    EXPECT_EQ(blocks.size(), 1u);
}

class RoutedPolicyTest : public ::testing::Test {
protected:
    static MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {prefix("2001:db8:10:20::/64")};
        s.withdraw_after = 10s;
        return s;
    }
    MirrorPolicy policy = [] {
        MirrorPolicy p{settings()};
        p.set_links({kTap, kBridge, kTunnel}, {}, {kTunnel});
        return p;
    }();
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(RoutedPolicyTest, AHostRouteIsProxiedUntilItGoes) {
    const Actions added = policy.on_route(route("2001:db8:10:20::100/128", kTap), t0);
    EXPECT_EQ(addresses_of<action::Install>(added), std::vector{addr("2001:db8:10:20::100")});
    EXPECT_EQ(addresses_of<action::Announce>(added), std::vector{addr("2001:db8:10:20::100")});
    const MirrorEntry& entry = policy.entries().at(addr("2001:db8:10:20::100"));
    EXPECT_EQ(entry.origin, Origin::route);
    EXPECT_EQ(entry.ifindex, kTap);
    // The VM's neighbour entry comes and goes; no probe, no withdrawal: the route decides.
    policy.on_neighbour({kTap, addr("2001:db8:10:20::100"), std::nullopt, nud::failed, false}, t0);
    EXPECT_TRUE(addresses_of<action::Probe>(policy.confirm_unvouched(t0 + 1s)).empty());
    EXPECT_TRUE(addresses_of<action::Withdraw>(policy.on_timer(t0 + 60s)).empty());
    EXPECT_TRUE(policy.entries().contains(addr("2001:db8:10:20::100")));
    // Nor does another host's claim start anything.
    EXPECT_TRUE(policy.on_claimed_elsewhere(addr("2001:db8:10:20::100"), std::nullopt, t0).empty());
    // The route goes: withdrawn at once.
    const Actions removed = policy.on_route(gone(route("2001:db8:10:20::100/128", kTap)), t0 + 61s);
    EXPECT_EQ(addresses_of<action::Withdraw>(removed), std::vector{addr("2001:db8:10:20::100")});
    EXPECT_TRUE(policy.entries().empty());
}

// The host resolved the routed VM over its tap; once the route goes, that neighbour entry is a
// leftover (the host no longer sends the address there) and vouches for nothing until it goes.
TEST_F(RoutedPolicyTest, ANeighbourEntryThatOutlivedItsRouteVouchesForNothing) {
    const NeighbourUpdate resolved{kTap, addr("2001:db8:10:20::100"),
                                   MacAddress{{2, 0, 0, 0, 1, 0}}, nud::reachable, false};
    policy.on_route(route("2001:db8:10:20::100/128", kTap), t0);
    policy.on_neighbour(resolved, t0);
    policy.on_route(gone(route("2001:db8:10:20::100/128", kTap)), t0 + 1s);
    EXPECT_TRUE(policy.on_neighbour(resolved, t0 + 2s).empty());
    KernelSnapshot snapshot;
    snapshot.neighbours = {resolved};
    EXPECT_TRUE(addresses_of<action::Install>(policy.reconcile(snapshot, t0 + 3s)).empty());
    EXPECT_TRUE(policy.entries().empty());
    // The kernel drops it; a neighbour seen there later is news again.
    policy.on_neighbour({kTap, resolved.address, std::nullopt, nud::none, true}, t0 + 4s);
    EXPECT_EQ(addresses_of<action::Install>(policy.on_neighbour(resolved, t0 + 5s)),
              std::vector{resolved.address});
}

TEST_F(RoutedPolicyTest, OnlyRoutesIntoThePrefixesThroughInternalLinksCount) {
    EXPECT_TRUE(policy.on_route(route("2001:db8:99::1/128", kTap), t0).empty());     // outside
    EXPECT_TRUE(policy.on_route(route("2001:db8:10:20::1/128", kExt), t0).empty());  // uplink
    EXPECT_TRUE(policy.on_route(route("2001:db8:10:20::/64", kTunnel), t0).empty());
    EXPECT_TRUE(policy.on_route(route("2001:db8:10::/48", kTunnel, true), t0).empty());
    EXPECT_EQ(policy.routes_followed(), 0u);
    EXPECT_EQ(policy.routed_blocks().size(), 0u);
    EXPECT_TRUE(policy.entries().empty());
}

TEST_F(RoutedPolicyTest, BlocksAnsweredWholeOnlyBehindANextHopOrWithoutDiscovery) {
    policy.on_route(route("2001:db8:10:20::200/124", kTunnel), t0);
    policy.on_route(route("2001:db8:10:20:1::/80", kTap, true), t0);
    // An on-link block on a bridge is a subnet whose members the neighbour table finds.
    policy.on_route(route("2001:db8:10:20:2::/80", kBridge), t0);
    EXPECT_TRUE(policy.routed_blocks().contains(addr("2001:db8:10:20::20f")));
    EXPECT_FALSE(policy.routed_blocks().contains(addr("2001:db8:10:20::210")));
    EXPECT_TRUE(policy.routed_blocks().contains(addr("2001:db8:10:20:1::abcd")));
    EXPECT_FALSE(policy.routed_blocks().contains(addr("2001:db8:10:20:2::abcd")));
    EXPECT_TRUE(policy.entries().empty());  // blocks are not entries
    policy.on_route(gone(route("2001:db8:10:20::200/124", kTunnel)), t0);
    EXPECT_FALSE(policy.routed_blocks().contains(addr("2001:db8:10:20::20f")));
}

TEST_F(RoutedPolicyTest, ABindingAppliesToRoutesToo) {
    policy.set_links({kTap, kBridge, kTunnel}, {{prefix("2001:db8:10:20::/64"), {kBridge}}},
                     {kTunnel});
    const Actions refused = policy.on_route(route("2001:db8:10:20::100/128", kTap), t0);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(std::get<action::InterfaceRefused>(refused[0]).ifindex, kTap);
    policy.on_route(route("2001:db8:10:20::200/124", kTunnel), t0);
    EXPECT_EQ(policy.counters().interface_refused, 2u);
    EXPECT_TRUE(policy.entries().empty());
    EXPECT_EQ(policy.routed_blocks().size(), 0u);
}

TEST_F(RoutedPolicyTest, AReconcileFollowsTheRoutesTheKernelHoldsNow) {
    policy.on_route(route("2001:db8:10:20::100/128", kTap), t0);
    policy.on_route(route("2001:db8:10:20::200/124", kTunnel), t0);
    // The deletions were lost (ENOBUFS); the dump shows another VM's route instead.
    KernelSnapshot snapshot;
    snapshot.routes = {route("2001:db8:10:20::101/128", kTap)};
    snapshot.proxies.owned = {addr("2001:db8:10:20::100")};
    const Actions actions = policy.reconcile(snapshot, t0 + 1s);
    EXPECT_EQ(addresses_of<action::Withdraw>(actions), std::vector{addr("2001:db8:10:20::100")});
    EXPECT_EQ(addresses_of<action::Install>(actions), std::vector{addr("2001:db8:10:20::101")});
    EXPECT_TRUE(addresses_of<action::Probe>(actions).empty());
    EXPECT_EQ(policy.routed_blocks().size(), 0u);
    EXPECT_EQ(policy.entries().at(addr("2001:db8:10:20::101")).origin, Origin::route);
}

TEST_F(RoutedPolicyTest, TheResponderAnswersABlockAsAlwaysButNeverADadProbe) {
    policy.on_route(route("2001:db8:10:20::200/124", kTunnel), t0);
    ResponderSettings settings;
    settings.mode = ResponderMode::known;
    settings.prefixes = RoutedPolicyTest::settings().prefixes;
    ResponderPolicy responder(settings, policy);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:10:20::205"), t0).outcome,
              Outcome::answered);
    EXPECT_EQ(responder.on_solicitation(kRouter, addr("2001:db8:10:20::215"), t0).outcome,
              Outcome::unknown_target);
    // RFC 4861 §7.2.4 and §4.3: answering a DAD probe says the address is in use, and the route
    // does not say that of any one address.
    EXPECT_EQ(responder.on_solicitation(kNewcomer, addr("2001:db8:10:20::205"), t0).outcome,
              Outcome::unknown_target);
}

// The service: routes from the kernel's notifications and dumps, and no probe or neighbour
// learning on a NOARP link.
TEST(RoutedServiceTest, RoutesComeFromTheKernelAndTunnelsAreNeverProbed) {
    const TimePoint t0 = TimePoint{} + 1000s;
    testing::FakeKernel kernel;
    testing::FakePackets packets;
    kernel.add_link(kExt, "ext");
    kernel.add_link(kTap, "tap100i0");
    kernel.add_link(kTunnel, "wg0");
    kernel.links.at(kTunnel).without_discovery = true;
    kernel.routes = {route("2001:db8:10:20::100/128", kTap),
                     route("2001:db8:10:20::200/124", kTunnel)};
    kernel.queued.clear();  // what happened before the start is in the dumps
    ServiceSettings settings;
    settings.external = "ext";
    settings.internal = {"tap*", "wg*"};
    settings.mirror.prefixes = {prefix("2001:db8:10:20::/64")};
    MirrorService service(settings, kernel, packets);
    service.full_resync(t0);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:10:20::100")});
    EXPECT_TRUE(service.policy().routed_blocks().contains(addr("2001:db8:10:20::201")));

    // A neighbour entry on the tunnel (the host sent something there) proves nothing.
    kernel.notify(
        NeighbourUpdate{kTunnel, addr("2001:db8:10:20::300"), std::nullopt, nud::noarp, false});
    service.on_kernel_readable(t0 + 1s);
    EXPECT_FALSE(service.policy().entries().contains(addr("2001:db8:10:20::300")));

    // A verification probes the tap, never the tunnel.
    packets.sent.clear();
    service.probe(addr("2001:db8:10:20::5"));
    ASSERT_EQ(packets.sent.size(), 1u);
    EXPECT_EQ(packets.sent[0].ifindex, kTap);

    // A tap added later, with its route; the first tap deleted, and its route with it.
    kernel.add_link(6, "tap101i0");
    kernel.add_route(route("2001:db8:10:20::101/128", 6));
    kernel.remove_link(kTap);
    service.on_kernel_readable(t0 + 2s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:10:20::101")});
    EXPECT_EQ(service.policy().entries().at(addr("2001:db8:10:20::101")).origin, Origin::route);
}

}  // namespace
}  // namespace ndproxy

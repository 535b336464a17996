// Prefixes bound to internal interfaces (`prefix = P on IFACE,...`): several customers on one
// host, where a VM on one customer's interface must not make the host claim another's address.

#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"
#include "core/mirror_policy.hpp"
#include "core/mirror_service.hpp"
#include "fake_ports.hpp"
#include "mirror_actions.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

constexpr int kCustomerA = 3;  // br-a, bound to 2001:db8:a::/64
constexpr int kCustomerB = 4;  // br-b, bound to 2001:db8:b::/64
constexpr int kShared = 5;     // br-s: only the unbound prefix applies

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

NeighbourUpdate neighbour(const char* address, int ifindex) {
    return NeighbourUpdate{ifindex, addr(address), MacAddress{{2, 0, 0, 0, 0, 1}}, nud::reachable,
                           false};
}

class PrefixBindingTest : public ::testing::Test {
protected:
    static MirrorSettings settings() {
        MirrorSettings s;
        s.prefixes = {*Ipv6Prefix::parse("2001:db8:a::/64"), *Ipv6Prefix::parse("2001:db8:b::/64"),
                      *Ipv6Prefix::parse("2001:db8:c::/64")};
        return s;
    }
    MirrorPolicy policy = [] {
        MirrorPolicy p{settings()};
        p.set_links({kCustomerA, kCustomerB, kShared},
                    {{*Ipv6Prefix::parse("2001:db8:a::/64"), {kCustomerA}},
                     {*Ipv6Prefix::parse("2001:db8:b::/64"), {kCustomerB}}});
        return p;
    }();
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(PrefixBindingTest, AnAddressIsProxiedOnlyBehindItsPrefixesInterfaces) {
    EXPECT_EQ(testing::addresses_of<action::Install>(
                  policy.on_neighbour(neighbour("2001:db8:a::10", kCustomerA), t0)),
              std::vector{addr("2001:db8:a::10")});
    // A VM of customer B claims an address of customer A's: refused, counted, reported.
    const Actions refused = policy.on_neighbour(neighbour("2001:db8:a::11", kCustomerB), t0);
    EXPECT_TRUE(testing::addresses_of<action::Install>(refused).empty());
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(std::get<action::InterfaceRefused>(refused[0]).ifindex, kCustomerB);
    EXPECT_EQ(policy.counters().interface_refused, 1u);
    EXPECT_FALSE(policy.entries().contains(addr("2001:db8:a::11")));
    // The unbound prefix applies behind every internal interface.
    for (const int ifindex : {kCustomerA, kCustomerB, kShared}) {
        EXPECT_TRUE(policy.allowed_on(addr("2001:db8:c::1"), ifindex));
    }
    EXPECT_FALSE(policy.allowed_on(addr("2001:db8:b::1"), kShared));
    // Nor may an answer to a probe or a verification on the wrong side adopt it.
    EXPECT_TRUE(testing::addresses_of<action::Install>(
                    policy.on_verified(kShared, addr("2001:db8:b::5"), std::nullopt, t0))
                    .empty());
    EXPECT_EQ(policy.counters().interface_refused, 2u);
}

TEST_F(PrefixBindingTest, AReconcileForgetsEntriesBehindTheWrongInterface) {
    policy.on_neighbour(neighbour("2001:db8:a::10", kCustomerA), t0);
    // A reload binds customer A's prefix to br-s instead (br-a is still there).
    policy.set_links({kCustomerA, kCustomerB, kShared},
                     {{*Ipv6Prefix::parse("2001:db8:a::/64"), {kShared}}});
    KernelSnapshot snapshot;
    snapshot.proxies.owned = {addr("2001:db8:a::10")};
    const Actions actions = policy.reconcile(snapshot, t0 + 1s);
    EXPECT_EQ(testing::addresses_of<action::Withdraw>(actions),
              std::vector{addr("2001:db8:a::10")});
    EXPECT_FALSE(policy.entries().contains(addr("2001:db8:a::10")));
}

// Probes (a vanished VM confirmed, a verification) go only to the links the address may be
// behind: asking another customer's bridge would let its VMs answer for the address.
TEST_F(PrefixBindingTest, ProbesGoOnlyWhereThePrefixIsBound) {
    testing::FakeKernel kernel;
    testing::FakePackets packets;
    kernel.add_link(2, "ext");
    kernel.add_link(kCustomerA, "br-a");
    kernel.add_link(kCustomerB, "br-b");
    kernel.neighbours = {neighbour("2001:db8:a::10", kCustomerA),
                         neighbour("2001:db8:c::10", kCustomerB)};
    ServiceSettings service_settings;
    service_settings.external = "ext";
    service_settings.internal = {"br-a", "br-b"};
    service_settings.mirror = settings();
    service_settings.bindings = {{*Ipv6Prefix::parse("2001:db8:a::/64"), {"br-a"}},
                                 {*Ipv6Prefix::parse("2001:db8:b::/64"), {"*-b"}}};
    MirrorService service(service_settings, kernel, packets);
    service.full_resync(t0);
    ASSERT_EQ(service.policy().entries().size(), 2u);
    packets.sent.clear();
    kernel.neighbours.clear();
    kernel.notify(
        NeighbourUpdate{kCustomerA, addr("2001:db8:a::10"), std::nullopt, nud::none, true});
    kernel.notify(
        NeighbourUpdate{kCustomerB, addr("2001:db8:c::10"), std::nullopt, nud::none, true});
    service.on_kernel_readable(t0 + 1s);
    std::vector<std::pair<int, Ipv6Address>> probed;
    for (const testing::SentPacket& sent : packets.sent) {
        probed.emplace_back(sent.ifindex, sent.destination);
    }
    // a::10 on br-a only; c::10, of the unbound prefix, on both bridges.
    EXPECT_EQ(probed,
              (std::vector<std::pair<int, Ipv6Address>>{{kCustomerA, addr("ff02::1:ff00:10")},
                                                        {kCustomerA, addr("ff02::1:ff00:10")},
                                                        {kCustomerB, addr("ff02::1:ff00:10")}}));
    // A pattern in a binding names the links it matches.
    EXPECT_TRUE(service.policy().allowed_on(addr("2001:db8:b::1"), kCustomerB));
    EXPECT_FALSE(service.policy().allowed_on(addr("2001:db8:b::1"), kCustomerA));
}

class PrefixBindingConfigTest : public ConfigTest {};

TEST_F(PrefixBindingConfigTest, OnNamesInternalInterfacesOrPatterns) {
    const std::string path = write_file("ndproxyd.conf",
                                        "external = eth0\ninternal = br0\ninternal = tap*\n"
                                        "prefix = 2001:db8:10:20::/64\n"
                                        "prefix = 2001:db8:10:21::/64 on tap1,tap2* via eth0\n");
    const Config config = parse({"-c", path}).config;
    ASSERT_EQ(config.prefixes.size(), 2u);
    ASSERT_EQ(config.bindings.size(), 1u);
    EXPECT_EQ(config.bindings[0].prefix.to_string(), "2001:db8:10:21::/64");
    EXPECT_EQ(config.bindings[0].interfaces, (std::vector<std::string>{"tap1", "tap2*"}));
}

TEST_F(PrefixBindingConfigTest, MistakesAreNamed) {
    const auto error = [&](const std::string& line) {
        const std::string path = write_file(
            "ndproxyd.conf", "external = eth0\ninternal = br0\ninternal = tap*\n" + line);
        return error_of({"-c", path});
    };
    const std::string at = directory_ + "/ndproxyd.conf:4: invalid prefix ";
    EXPECT_EQ(error("prefix = 2001:db8::/64 on br1\n"),
              at + "\"2001:db8::/64 on br1\" (\"br1\" is not an internal interface (--internal))");
    EXPECT_EQ(error("prefix = 2001:db8::/64 on\n"),
              at + "\"2001:db8::/64 on\" (expected PREFIX [on IFACE,...] [via IFACE])");
    EXPECT_EQ(error("prefix = 2001:db8::/64 at br0\n"),
              at + "\"2001:db8::/64 at br0\" (expected PREFIX [on IFACE,...] [via IFACE])");
    EXPECT_EQ(error("prefix = 2001:db8::/64 via eth1\n"),
              at + "\"2001:db8::/64 via eth1\" (\"eth1\" is not the external interface)");
    EXPECT_EQ(
        error("prefix = 2001:db8::/64 on br0,,tap1\n"),
        at + "\"2001:db8::/64 on br0,,tap1\" (\"\" is not an internal interface (--internal))");
}

}  // namespace
}  // namespace ndproxy

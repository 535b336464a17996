// The fast path's side in the core (core/fast_path.hpp): the filter must know exactly the
// addresses the responder would drop as kernel_answers, and the host's own, at every moment a
// solicitation could arrive.
#include "core/fast_path.hpp"

#include <gtest/gtest.h>

#include "core/mirror_policy.hpp"
#include "core/mirror_service.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

constexpr int kExt = 2;  // the uplink
constexpr int kBr0 = 3;

NeighbourUpdate neighbour(const char* address, std::uint16_t state = nud::reachable) {
    return NeighbourUpdate{kBr0, addr(address), MacAddress{{2, 0, 0, 0, 0, 0x10}}, state, false};
}

MirrorSettings share_of(std::size_t kernel_entries) {
    MirrorSettings s;
    s.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
    s.kernel_entries = kernel_entries;
    return s;
}

TEST(FastPathJournal, StartsWithEverythingAndBoundsWhatItNotes) {
    FastPathJournal journal;
    EXPECT_TRUE(journal.take().everything) << "the filter starts knowing nothing";
    journal.note(addr("2001:db8:1::1"));
    FastPathChanges changes = journal.take();
    EXPECT_FALSE(changes.everything);
    EXPECT_EQ(changes.addresses, std::vector{addr("2001:db8:1::1")});
    EXPECT_TRUE(journal.take().addresses.empty());
    for (std::size_t i = 0; i <= FastPathJournal::kMaxNoted; ++i) {
        journal.note(addr("2001:db8:1::1"));
    }
    changes = journal.take();
    EXPECT_TRUE(changes.everything);
    EXPECT_TRUE(changes.addresses.empty());
}

TEST(FastPath, TargetsFollowThePolicyOwnAddressesFirst) {
    MirrorPolicy policy(share_of(1));
    const TimePoint t0 = TimePoint{} + 1000s;
    policy.take_fast_path_changes();
    policy.on_neighbour(neighbour("2001:db8:1::10"), t0);  // the kernel's one slot
    policy.on_neighbour(neighbour("2001:db8:1::20"), t0);  // the responder's
    const FastPathChanges changes = policy.take_fast_path_changes();
    FilterTargets targets = fast_path::targets_for(policy, changes);
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    EXPECT_EQ(targets, (FilterTargets{{addr("2001:db8:1::10"), FilterTarget::kernel},
                                      {addr("2001:db8:1::20"), FilterTarget::answer}}));
    EXPECT_EQ(fast_path::target_of(policy, addr("2001:db8:1::20")), FilterTarget::answer);
    EXPECT_EQ(fast_path::target_of(policy, addr("2001:db8:1::30")), FilterTarget::none);

    policy.on_own_address({kExt, addr("2001:db8:1::1"), false});
    policy.on_own_address({kExt, addr("fe80::1"), false});
    policy.on_foreign_proxy(addr("2001:db8:1::99"));
    const FastPathChanges noted = policy.take_fast_path_changes();
    EXPECT_EQ(noted.addresses.size(), 3u);
    EXPECT_EQ(fast_path::target_of(policy, addr("fe80::1")), FilterTarget::own);
    EXPECT_EQ(fast_path::target_of(policy, addr("2001:db8:1::99")), FilterTarget::foreign)
        << "the administrator's entry answers as well as ours, with its own flags";

    FilterTargets all = fast_path::targets_for(policy, {true, {}});
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (FilterTargets{{addr("2001:db8:1::1"), FilterTarget::own},
                                  {addr("2001:db8:1::10"), FilterTarget::kernel},
                                  {addr("2001:db8:1::20"), FilterTarget::answer},
                                  {addr("2001:db8:1::99"), FilterTarget::foreign},
                                  {addr("fe80::1"), FilterTarget::own}}));
}

TEST(FastPath, WhatLeavesTheKernelIsHandedOverFirst) {
    MirrorPolicy policy(share_of(1));
    const TimePoint t0 = TimePoint{} + 1000s;
    policy.on_neighbour(neighbour("2001:db8:1::10"), t0);
    policy.take_fast_path_changes();
    policy.withdraw_all();
    FastPathChanges changes = policy.take_fast_path_changes();
    EXPECT_EQ(fast_path::no_longer_kernel(policy, changes),
              (FilterTargets{{addr("2001:db8:1::10"), FilterTarget::none}}));
    EXPECT_TRUE(fast_path::no_longer_kernel(policy, {true, {}}).empty());

    fast_path::merge(changes, {false, {addr("2001:db8:1::20")}});
    EXPECT_EQ(changes.addresses.size(), 2u);
    fast_path::merge(changes, {true, {}});
    EXPECT_TRUE(changes.everything);
    EXPECT_TRUE(changes.addresses.empty());
}

// Through the service: the filter learns a kernel-held address only once its entry is written,
// and forgets it before the entry is withdrawn, so that the filter never drops a solicitation
// that nobody answers; the responder's addresses it learns as such (for the XDP responder).
TEST(FastPath, TheServiceKeepsTheFilterInStepWithTheKernel) {
    testing::FakeKernel kernel;
    testing::FakePackets packets;
    kernel.add_link(kExt, "ext");
    kernel.add_link(kBr0, "br0");
    kernel.queued.clear();
    kernel.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::20")};
    kernel.addresses = {{kExt, addr("2001:db8:1::1"), false}};
    kernel.proxies[{kExt, addr("2001:db8:1::99")}] = 0;  // the administrator's
    ServiceSettings settings;
    settings.external = "ext";
    settings.internal = {"br0"};
    settings.mirror = share_of(1);
    MirrorService service(settings, kernel, packets, [](const TrackedLink&) {});
    std::vector<std::string> violations;
    kernel.on_proxy_write = [&](const KernelPort::ProxyWrite& write) {
        const auto found = packets.filter.find(write.address);
        const bool held = found != packets.filter.end() && found->second == FilterTarget::kernel;
        if (write.op == ProxyOp::add && held) {
            violations.push_back("filtered before written: " + write.address.to_string());
        }
        if (write.op == ProxyOp::remove && held) {
            violations.push_back("filtered while withdrawn: " + write.address.to_string());
        }
    };
    service.full_resync(TimePoint{} + 1000s);
    const Ipv6Address in_kernel = packets.filter.contains(addr("2001:db8:1::10"))
                                      ? addr("2001:db8:1::10")
                                      : addr("2001:db8:1::20");
    const Ipv6Address responder =
        in_kernel == addr("2001:db8:1::10") ? addr("2001:db8:1::20") : addr("2001:db8:1::10");
    EXPECT_EQ(packets.filter, (std::map<Ipv6Address, FilterTarget>{
                                  {addr("2001:db8:1::1"), FilterTarget::own},
                                  {in_kernel, FilterTarget::kernel},
                                  {responder, FilterTarget::answer},
                                  {addr("2001:db8:1::99"), FilterTarget::foreign}}));
    service.withdraw_all();
    EXPECT_EQ(packets.filter, (std::map<Ipv6Address, FilterTarget>{
                                  {addr("2001:db8:1::1"), FilterTarget::own},
                                  {addr("2001:db8:1::99"), FilterTarget::foreign}}));
    EXPECT_TRUE(violations.empty()) << violations.front();
}

}  // namespace
}  // namespace ndproxy

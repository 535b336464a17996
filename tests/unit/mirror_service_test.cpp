#include "core/mirror_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::FakeKernel;
using testing::FakePackets;
using testing::SentPacket;

constexpr int kExt = 2;
constexpr int kBr0 = 3;

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

NeighbourUpdate neighbour(const char* address, std::uint16_t state = nud::reachable,
                          int ifindex = kBr0) {
    return NeighbourUpdate{ifindex, addr(address), MacAddress{{2, 0, 0, 0, 0, 0x10}}, state, false};
}

class MirrorServiceTest : public ::testing::Test {
public:
    MirrorServiceTest() {
        kernel.add_link(kExt, "ext");
        kernel.add_link(kBr0, "br0");
        kernel.queued.clear();
    }
    static ServiceSettings settings(bool dry_run = false) {
        ServiceSettings settings;
        settings.external = "ext";
        settings.internal = {"br0"};
        settings.dry_run = dry_run;
        settings.mirror.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        settings.mirror.withdraw_after = 5s;
        return settings;
    }
    MirrorService make(bool dry_run = false) {
        return MirrorService(settings(dry_run), kernel, packets,
                             [this](const TrackedLink& link) { hooked.push_back(link.name); });
    }

    FakeKernel kernel;
    FakePackets packets;
    std::vector<std::string> hooked;
    TimePoint t0 = TimePoint{} + 1000s;
};

TEST_F(MirrorServiceTest, StartupMirrorsNeighboursAndLeavesAdministratorEntriesAlone) {
    kernel.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::20", nud::stale),
                         neighbour("2001:db8:1::30", nud::failed)};
    kernel.proxies[{kExt, addr("2001:db8:1::99")}] = 0;
    kernel.proxies[{kExt, addr("2001:db8:1::98")}] = 4;
    MirrorService service = make();
    service.full_resync(t0);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol),
              (std::vector{addr("2001:db8:1::10"), addr("2001:db8:1::20")}));
    EXPECT_EQ(kernel.proxies_with(kExt, 0), std::vector{addr("2001:db8:1::99")});
    EXPECT_EQ(kernel.proxies_with(kExt, 4), std::vector{addr("2001:db8:1::98")});
    EXPECT_EQ(hooked, std::vector<std::string>{"ext"});

    service.withdraw_all();
    EXPECT_TRUE(kernel.proxies_with(kExt, kOwnProtocol).empty());
    EXPECT_EQ(kernel.proxies.size(), 2u) << "the administrator's entries stay";
}

// --router: our kernel entries carry NTF_ROUTER, so that the kernel's answers carry R as the
// responder's do; entries written without it (before a restart or a reload that set it) are
// rewritten in place, and the administrator's are left as they are.
TEST_F(MirrorServiceTest, RouterFlagFollowsTheSettingOnOurEntriesOnly) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    kernel.proxies[{kExt, addr("2001:db8:1::20")}] = kOwnProtocol;  // an earlier run's
    kernel.proxies[{kExt, addr("2001:db8:1::99")}] = 0;             // the administrator's
    ServiceSettings router = settings();
    router.router = true;
    MirrorService service(router, kernel, packets);
    service.full_resync(t0);
    const std::set<std::pair<int, Ipv6Address>> both = {{kExt, addr("2001:db8:1::10")},
                                                        {kExt, addr("2001:db8:1::20")}};
    EXPECT_EQ(kernel.router_proxies, both);

    ServiceSettings plain = settings();
    service.reconfigure(plain, t0);
    EXPECT_TRUE(kernel.router_proxies.empty());
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol),
              (std::vector{addr("2001:db8:1::10"), addr("2001:db8:1::20")}));
    EXPECT_EQ(kernel.proxies_with(kExt, 0), std::vector{addr("2001:db8:1::99")});
}

TEST_F(MirrorServiceTest, AdministratorsEntryAddedWhileRunningIsNeitherTakenOverNorRemoved) {
    MirrorService service = make();
    service.full_resync(t0);
    // Added by hand after the daemon's last dump: the kernel tells nobody.
    kernel.proxies[{kExt, addr("2001:db8:1::10")}] = 0;
    kernel.add_neighbour(neighbour("2001:db8:1::10"));
    service.on_kernel_readable(t0 + 1s);
    EXPECT_EQ(kernel.proxies_with(kExt, 0), std::vector{addr("2001:db8:1::10")});
    EXPECT_TRUE(kernel.proxies_with(kExt, kOwnProtocol).empty());
    EXPECT_TRUE(service.policy().kernel_answers(addr("2001:db8:1::10")));

    // And one put in place of ours (deleted and added back by hand) is not withdrawn.
    kernel.add_neighbour(neighbour("2001:db8:1::20"));
    service.on_kernel_readable(t0 + 2s);
    kernel.proxies[{kExt, addr("2001:db8:1::20")}] = 4;
    service.withdraw_all();
    EXPECT_EQ(kernel.proxies_with(kExt, 4), std::vector{addr("2001:db8:1::20")});
}

TEST_F(MirrorServiceTest, NeighbourEventBecomesAProxyEntryAndAnAnnouncement) {
    MirrorService service = make();
    service.full_resync(t0);
    kernel.add_neighbour(neighbour("2001:db8:1::10"));
    service.on_kernel_readable(t0);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
    ASSERT_EQ(packets.sent.size(), 1u);
    const SentPacket& announcement = packets.sent[0];
    EXPECT_EQ(announcement.ifindex, kExt);
    EXPECT_EQ(announcement.destination, kAllNodes);
    const auto parsed = ndp::parse_advertisement(announcement.icmp);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->target, addr("2001:db8:1::10"));
    EXPECT_FALSE(parsed->flags.solicited);
    EXPECT_TRUE(parsed->flags.override_flag);
    EXPECT_EQ(parsed->target_lladdr, kernel.links.at(kExt).lladdr);
}

// docs/design.md §Announcements: the start's addresses are not news upstream; addresses that
// arrive while the daemon runs are announced at the pace of --announce-rate.
TEST_F(MirrorServiceTest, AStartAnnouncesNothingAndArrivalsArePaced) {
    const auto vm = [](int host) {
        NeighbourUpdate update = neighbour(fmt::format("2001:db8:1::a:{:x}", host).c_str());
        // One MAC each, far from the per-VM bounds.
        update.lladdr = MacAddress{{2, 0, 0, 0, std::uint8_t(host >> 8), std::uint8_t(host)}};
        return update;
    };
    for (int host = 0; host < 600; ++host) {
        kernel.neighbours.push_back(vm(host));
    }
    MirrorService service = make();
    service.full_resync(t0);
    EXPECT_EQ(service.policy().entries().size(), 600u) << "every address held at once";
    EXPECT_TRUE(packets.sent.empty());
    EXPECT_EQ(service.next_wakeup(), std::nullopt) << "idle: nothing to wake up for";

    for (int host = 600; host < 700; ++host) {
        kernel.add_neighbour(vm(host));
    }
    service.on_kernel_readable(t0 + 1s);
    EXPECT_EQ(packets.sent.size(), 20u) << "a tenth of a second's worth at once (200/s)";
    EXPECT_EQ(service.next_wakeup(), t0 + 1s + 100ms) << "the next batch, not one by one";
    service.on_timer(t0 + 1s + 100ms);
    EXPECT_EQ(packets.sent.size(), 40u);
    EXPECT_EQ(service.pacer().counters().delayed, 20u);
    EXPECT_EQ(service.pacer().waiting(), 60u);
    // Withdrawn while waiting (here all of them, --flush-on-exit): not announced any more.
    service.withdraw_all();
    service.on_timer(t0 + 2s);
    EXPECT_EQ(packets.sent.size(), 40u);
    EXPECT_EQ(service.pacer().waiting(), 0u);
    EXPECT_EQ(service.next_wakeup(), std::nullopt);
}

TEST_F(MirrorServiceTest, AnnounceAllSweepsEveryAddressBehindTheChanges) {
    kernel.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::20")};
    MirrorService service = make();
    service.full_resync(t0);
    ASSERT_TRUE(packets.sent.empty());
    EXPECT_EQ(service.announce_all(2, t0 + 1s), 2u);
    EXPECT_EQ(packets.sent.size(), 2u);
    EXPECT_EQ(service.next_wakeup(), t0 + 2s) << "the second pass --announce-interval later";
    service.on_timer(t0 + 2s);
    EXPECT_EQ(packets.sent.size(), 4u);
    EXPECT_EQ(service.next_wakeup(), std::nullopt);
    EXPECT_EQ(service.counters().announcements_sent, 4u);
}

TEST_F(MirrorServiceTest, ANewUplinkMacIsAnnouncedForEveryAddress) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    MirrorService service = make();
    service.full_resync(t0);
    ASSERT_TRUE(packets.sent.empty());
    LinkUpdate ext = kernel.links.at(kExt);
    ext.lladdr = MacAddress{{2, 0, 0, 0, 0x0e, 0x99}};
    kernel.links[kExt] = ext;
    kernel.notify(ext);
    service.on_kernel_readable(t0 + 1s);
    ASSERT_EQ(packets.sent.size(), 1u) << "RFC 4861 §7.2.6: caches hold the old MAC";
    const auto advert = ndp::parse_advertisement(packets.sent[0].icmp);
    ASSERT_TRUE(advert);
    EXPECT_EQ(advert->target_lladdr, ext.lladdr);
}

TEST_F(MirrorServiceTest, MissingExternalInterfaceIsWaitedFor) {
    kernel.remove_link(kExt);
    kernel.queued.clear();
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    MirrorService service = make();
    service.full_resync(t0);
    EXPECT_EQ(kernel.proxy_writes, 0u);
    EXPECT_TRUE(hooked.empty());

    kernel.add_link(7, "ext");
    service.on_kernel_readable(t0 + 1s);
    EXPECT_EQ(kernel.proxies_with(7, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(hooked, std::vector<std::string>{"ext"});
}

TEST_F(MirrorServiceTest, LostNotificationsLeadToAResync) {
    MirrorService service = make();
    service.full_resync(t0);
    kernel.lose_notifications = true;
    kernel.add_neighbour(neighbour("2001:db8:1::10"));
    service.on_kernel_readable(t0 + 1s);
    EXPECT_EQ(service.counters().netlink_overflows, 1u);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
}

TEST_F(MirrorServiceTest, SilentlyFlushedEntriesComeBackAfterLinkDownUp) {
    kernel.neighbours = {neighbour("2001:db8:1::10"), neighbour("2001:db8:1::20")};
    MirrorService service = make();
    service.full_resync(t0);
    kernel.set_link_up(kExt, false);
    service.on_kernel_readable(t0 + 1s);
    kernel.set_link_up(kExt, true);
    service.on_kernel_readable(t0 + 2s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol),
              (std::vector{addr("2001:db8:1::10"), addr("2001:db8:1::20")}));
}

TEST_F(MirrorServiceTest, SlowTimerRepairsAFlushWithoutAnyEvent) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    MirrorService service = make();
    service.full_resync(t0);
    kernel.proxies.clear();  // `ip -6 neigh flush proxy`: no notification
    service.refresh_proxy_table(t0 + 60s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(service.policy().counters().proxy_repairs, 1u);
}

TEST_F(MirrorServiceTest, DryRunWritesAndAnnouncesNothing) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    kernel.proxies[{kExt, addr("2001:db8:1::77")}] = kOwnProtocol;  // outside nothing, but stale
    MirrorService service = make(/*dry_run=*/true);
    service.full_resync(t0);
    EXPECT_EQ(kernel.proxy_writes, 0u);
    EXPECT_TRUE(packets.sent.empty() ||
                std::all_of(packets.sent.begin(), packets.sent.end(),
                            [](const SentPacket& p) { return p.ifindex == kBr0; }))
        << "only probes, which change nothing, may be sent";
}

TEST_F(MirrorServiceTest, VanishedNeighbourIsProbedOnTheBridgeAndKeptWhenItAnswers) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    MirrorService service = make();
    service.full_resync(t0);
    packets.sent.clear();
    kernel.neighbours.clear();
    kernel.notify(NeighbourUpdate{kBr0, addr("2001:db8:1::10"), std::nullopt, nud::none, true});
    service.on_kernel_readable(t0 + 1s);
    ASSERT_EQ(packets.sent.size(), 1u);
    EXPECT_EQ(packets.sent[0].ifindex, kBr0);
    // RFC 4861 §7.2.2: to the solicited-node group of the target.
    EXPECT_EQ(packets.sent[0].destination, addr("ff02::1:ff00:10"));
    EXPECT_EQ(packets.sent[0].icmp[0], ndp::kNeighborSolicitation);

    service.on_advertisement({kBr0, addr("fe80::10"), {addr("2001:db8:1::10"), {}, std::nullopt}},
                             t0 + 1500ms);
    service.on_timer(t0 + 30s);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
}

// A mirrored VM whose neighbour entry the kernel then deletes, with `heard` (if any) arriving
// while ndproxyd confirms; returns whether its proxy entry outlived the withdraw time.
bool survives_deletion(MirrorServiceTest& test, MirrorService& service,
                       std::optional<ReceivedAdvertisement> heard) {
    const TimePoint t0 = test.t0;
    test.kernel.neighbours = {neighbour("2001:db8:1::10")};
    service.full_resync(t0);
    test.kernel.neighbours.clear();
    test.kernel.notify(
        NeighbourUpdate{kBr0, addr("2001:db8:1::10"), std::nullopt, nud::none, true});
    service.on_kernel_readable(t0 + 1s);
    if (heard) {
        service.on_advertisement(*heard, t0 + 1500ms);
    }
    for (auto now = t0 + 1s; now <= t0 + 7s; now += 250ms) {
        service.on_timer(now);
    }
    return !test.kernel.proxies_with(kExt, kOwnProtocol).empty();
}

TEST_F(MirrorServiceTest, UnansweredProbesEndInWithdrawal) {
    MirrorService service = make();
    EXPECT_FALSE(survives_deletion(*this, service, std::nullopt));
}

TEST_F(MirrorServiceTest, AnotherHostsOverrideOnTheUplinkStartsTheProbes) {
    MirrorService service = make();
    service.full_resync(t0);
    kernel.add_neighbour(neighbour("2001:db8:1::10", nud::stale));
    service.on_kernel_readable(t0);
    const auto probes = [&] {
        return std::count_if(packets.sent.begin(), packets.sent.end(),
                             [](const SentPacket& p) { return p.ifindex == kBr0; });
    };
    ndp::Advertisement ours{
        addr("2001:db8:1::10"), {false, false, true}, kernel.links.at(kExt).lladdr};
    ndp::Advertisement solicited{
        addr("2001:db8:1::10"), {false, true, true}, MacAddress{{2, 0, 0, 0, 0x0e, 0x0b}}};
    ndp::Advertisement theirs{
        addr("2001:db8:1::10"), {false, false, true}, MacAddress{{2, 0, 0, 0, 0x0e, 0x0b}}};
    service.on_advertisement({kExt, addr("fe80::b"), ours}, t0);
    service.on_advertisement({kExt, addr("fe80::b"), solicited}, t0);
    EXPECT_EQ(probes(), 0);
    service.on_advertisement({kExt, addr("fe80::b"), theirs}, t0);
    EXPECT_EQ(probes(), 1);
}

// The VM answers the probe that another host's claim set off: an address conflict, defended
// with one unsolicited override advertisement on the uplink (RFC 4861 §7.2.6, RFC 5227 §2.4).
TEST_F(MirrorServiceTest, AConflictIsDefendedWithOneOverrideAdvertisement) {
    kernel.neighbours = {neighbour("2001:db8:1::10", nud::stale)};
    MirrorService service = make();
    service.full_resync(t0);
    service.on_timer(t0 + 5s);  // the start's addresses are not announced
    const ndp::Advertisement theirs{
        addr("2001:db8:1::10"), {false, false, true}, MacAddress{{2, 0, 0, 0, 0x0e, 0x0b}}};
    service.on_advertisement({kExt, addr("fe80::b"), theirs}, t0 + 10s);
    service.on_advertisement(
        {kBr0,
         addr("fe80::10"),
         {addr("2001:db8:1::10"), {false, true, true}, MacAddress{{2, 0, 0, 0, 0, 0x10}}}},
        t0 + 10s);
    ASSERT_EQ(packets.sent.size(), 2u) << "the probe, then the defence";
    EXPECT_EQ(packets.sent[0].ifindex, kBr0);
    EXPECT_EQ(packets.sent[1].ifindex, kExt);
    EXPECT_EQ(packets.sent[1].destination, kAllNodes);
    const auto defence = ndp::parse_advertisement(packets.sent[1].icmp);
    ASSERT_TRUE(defence);
    EXPECT_TRUE(defence->flags.override_flag);
    EXPECT_FALSE(defence->flags.solicited);
    EXPECT_EQ(service.counters().announcements_sent, 1u);
    EXPECT_EQ(service.policy().counters().address_conflicts, 1u);
    EXPECT_EQ(service.policy().entries().at(addr("2001:db8:1::10")).claim.claimant,
              (MacAddress{{2, 0, 0, 0, 0x0e, 0x0b}}));
}

TEST_F(MirrorServiceTest, AdvertisementsFromTheUplinkAreNotEvidence) {
    MirrorService service = make();
    EXPECT_FALSE(survives_deletion(
        *this, service,
        ReceivedAdvertisement{kExt, addr("fe80::ff"), {addr("2001:db8:1::10"), {}, std::nullopt}}));
}

TEST_F(MirrorServiceTest, AnAnswerFromTheBridgeKeepsTheEntry) {
    MirrorService service = make();
    EXPECT_TRUE(survives_deletion(
        *this, service,
        ReceivedAdvertisement{kBr0, addr("fe80::10"), {addr("2001:db8:1::10"), {}, std::nullopt}}));
}

TEST_F(MirrorServiceTest, RenamedBridgeCountsAsGone) {
    kernel.neighbours = {neighbour("2001:db8:1::10")};
    MirrorService service = make();
    service.full_resync(t0);
    packets.sent.clear();
    kernel.links[kBr0].name = "br0-old";
    kernel.notify(kernel.links[kBr0]);
    service.on_kernel_readable(t0 + 1s);
    EXPECT_FALSE(service.links().internal()[0].present());
    EXPECT_TRUE(service.policy().entries().at(addr("2001:db8:1::10")).gone_since);
}

}  // namespace
}  // namespace ndproxy

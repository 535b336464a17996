#include "core/responder_service.hpp"

#include <gtest/gtest.h>

#include "codec/frame_codec.hpp"
#include "core/control_replies.hpp"
#include "fake_ports.hpp"

namespace ndproxy {
namespace {

using namespace std::chrono_literals;
using testing::FakeKernel;
using testing::FakePackets;

constexpr int kExt = 2;
constexpr int kBr0 = 3;
const MacAddress kRouterMac{{2, 0, 0, 0, 0, 0xff}};

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}

// What the upstream router sends to resolve `target` (RFC 4861 §7.2.2).
std::vector<std::uint8_t> solicitation_from_router(const Ipv6Address& target,
                                                   const Ipv6Address& source = addr("fe80::ff")) {
    const bool dad = source.is_unspecified();
    const auto icmp =
        ndp::build_solicitation(target, dad ? std::nullopt : std::optional(kRouterMac));
    return ndp::build_icmpv6_frame(kRouterMac, ndp::multicast_mac(target.solicited_node()), source,
                                   target.solicited_node(), icmp);
}

struct SentAnswer {
    MacAddress ether_destination;
    Ipv6Address source;
    Ipv6Address destination;
    std::uint8_t hop_limit;
    ndp::Advertisement advert;
};

SentAnswer decode(const std::vector<std::uint8_t>& frame) {
    SentAnswer sent{};
    std::copy_n(frame.begin(), 6, sent.ether_destination.bytes.begin());
    sent.hop_limit = frame[21];
    sent.source = Ipv6Address::from_bytes(std::span(frame).subspan<22, 16>());
    sent.destination = Ipv6Address::from_bytes(std::span(frame).subspan<38, 16>());
    EXPECT_EQ(ndp::icmpv6_checksum(sent.source, sent.destination, std::span(frame).subspan(54)), 0);
    sent.advert = *ndp::parse_advertisement(std::span(frame).subspan(54));
    return sent;
}

class ResponderServiceTest : public ::testing::Test {
protected:
    ResponderServiceTest() {
        kernel.add_link(kExt, "ext");
        kernel.add_link(kBr0, "br0");
        kernel.addresses = {{kExt, addr("fe80::2"), false}};
        kernel.queued.clear();
        mirror.full_resync(t0);
    }
    static ServiceSettings mirror_settings() {
        ServiceSettings s;
        s.external = "ext";
        s.internal = {"br0"};
        s.mirror.prefixes = {*Ipv6Prefix::parse("2001:db8:1::/64")};
        return s;
    }
    static ResponderServiceSettings responder_settings(ResponderMode mode) {
        ResponderServiceSettings s;
        s.policy.mode = mode;
        s.policy.prefixes = mirror_settings().mirror.prefixes;
        return s;
    }

    FakeKernel kernel;
    FakePackets packets;
    TimePoint t0 = TimePoint{} + 1000s;
    MirrorService mirror{mirror_settings(), kernel, packets};
};

TEST_F(ResponderServiceTest, SilentVmIsVerifiedAnsweredAndMirrored) {
    ResponderService responder(responder_settings(ResponderMode::verify), mirror, packets);
    packets.sent.clear();
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(solicitation_from_router(addr("2001:db8:1::10")),
                                      ndp::Delivery::multicast),
        t0);
    ASSERT_EQ(packets.sent.size(), 1u);
    EXPECT_EQ(packets.sent[0].ifindex, kBr0);
    EXPECT_EQ(packets.sent[0].destination, addr("ff02::1:ff00:10"));
    EXPECT_TRUE(packets.frames_out.empty()) << "nothing is answered before a VM is";

    const ReceivedAdvertisement vm{kBr0, addr("fe80::10"), {addr("2001:db8:1::10"), {}, {}}};
    responder.on_advertisement(vm, t0 + 2ms);
    mirror.on_advertisement(vm, t0 + 2ms);
    ASSERT_EQ(packets.frames_out.size(), 1u);
    const SentAnswer answer = decode(packets.frames_out[0].second);
    EXPECT_EQ(packets.frames_out[0].first, kExt);
    EXPECT_EQ(answer.ether_destination, kRouterMac);
    EXPECT_EQ(answer.destination, addr("fe80::ff"));
    EXPECT_EQ(answer.source, addr("fe80::2")) << "--answer-source self: ext's link-local";
    EXPECT_EQ(answer.hop_limit, 255);
    EXPECT_TRUE(answer.advert.flags.solicited);
    EXPECT_FALSE(answer.advert.flags.override_flag);
    EXPECT_FALSE(answer.advert.flags.router);
    EXPECT_EQ(answer.advert.target_lladdr, kernel.links.at(kExt).lladdr);
    EXPECT_EQ(kernel.proxies_with(kExt, kOwnProtocol), std::vector{addr("2001:db8:1::10")});
    EXPECT_EQ(mirror.policy().entries().at(addr("2001:db8:1::10")).origin, Origin::verified);
    EXPECT_EQ(responder.stats().ns_answered, 1u);
}

TEST_F(ResponderServiceTest, AnswerSourceTargetAndRouterFlag) {
    ResponderServiceSettings settings = responder_settings(ResponderMode::always);
    settings.answer_source = AnswerSource::target;
    settings.router = true;
    ResponderService responder(settings, mirror, packets);
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(solicitation_from_router(addr("2001:db8:1::77")),
                                      ndp::Delivery::multicast),
        t0);
    ASSERT_EQ(packets.frames_out.size(), 1u);
    const SentAnswer answer = decode(packets.frames_out[0].second);
    EXPECT_EQ(answer.source, addr("2001:db8:1::77"));
    EXPECT_TRUE(answer.advert.flags.router);
}

TEST_F(ResponderServiceTest, KernelEntryInPlaceMeansNoUserspaceAnswer) {
    kernel.add_neighbour({kBr0, addr("2001:db8:1::10"), std::nullopt, nud::stale, false});
    mirror.on_kernel_readable(t0);
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(solicitation_from_router(addr("2001:db8:1::10")),
                                      ndp::Delivery::multicast),
        t0);
    EXPECT_TRUE(packets.frames_out.empty());
    EXPECT_EQ(responder.stats().outcomes[static_cast<std::size_t>(Outcome::kernel_answers)], 1u);
}

// What the fast path dropped before the copy is counted as if the responder had read it.
TEST_F(ResponderServiceTest, FastPathDropsAreCountedAsTheirOutcomes) {
    kernel.add_neighbour({kBr0, addr("2001:db8:1::10"), std::nullopt, nud::stale, false});
    mirror.on_kernel_readable(t0);
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    EXPECT_EQ(packets.filter_scope, responder.policy().settings().prefixes);
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(solicitation_from_router(addr("2001:db8:1::10")),
                                      ndp::Delivery::multicast),
        t0);
    packets.filtered = {5, 2};
    const ResponderStats stats = responder.stats();
    EXPECT_EQ(stats.ns_received, 8u);
    EXPECT_EQ(stats.ns_filtered, 7u);
    EXPECT_EQ(stats.outcomes[static_cast<std::size_t>(Outcome::kernel_answers)], 6u);
    EXPECT_EQ(stats.outcomes[static_cast<std::size_t>(Outcome::out_of_scope)], 2u);
}

TEST_F(ResponderServiceTest, DadProbeForAVmAddressIsAnsweredToAllNodes) {
    kernel.refuse_proxy_writes = true;  // the kernel cannot answer: the responder must
    kernel.add_neighbour({kBr0, addr("2001:db8:1::10"), std::nullopt, nud::stale, false});
    mirror.on_kernel_readable(t0);
    ResponderService responder(responder_settings(ResponderMode::verify), mirror, packets);
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(
            solicitation_from_router(addr("2001:db8:1::10"), Ipv6Address{}),
            ndp::Delivery::multicast),
        t0);
    ASSERT_EQ(packets.frames_out.size(), 1u);
    const SentAnswer answer = decode(packets.frames_out[0].second);
    EXPECT_EQ(answer.destination, kAllNodes);
    EXPECT_EQ(answer.ether_destination, (MacAddress{{0x33, 0x33, 0, 0, 0, 1}}));
    EXPECT_FALSE(answer.advert.flags.solicited);
    // RFC 4861 §7.2.8: it answers for the address, so it joins its solicited-node group...
    EXPECT_EQ(packets.joined.count({kExt, addr("ff02::1:ff00:10")}), 1u);
    // ...and leaves once the kernel answers again.
    kernel.refuse_proxy_writes = false;
    mirror.refresh_proxy_table(t0 + 60s);
    responder.prune_memberships();
    EXPECT_TRUE(packets.joined.empty());
}

TEST_F(ResponderServiceTest, DadProbeForAnUnknownAddressIsNotAnswered) {
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    responder.handle_solicitation(
        ndp::parse_solicitation_frame(
            solicitation_from_router(addr("2001:db8:1::55"), Ipv6Address{}),
            ndp::Delivery::multicast),
        t0);
    EXPECT_TRUE(packets.frames_out.empty());
}

TEST_F(ResponderServiceTest, InvalidSolicitationsAreCountedByReason) {
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    auto frame = solicitation_from_router(addr("2001:db8:1::10"));
    frame[21] = 64;  // hop limit
    responder.handle_solicitation(ndp::parse_solicitation_frame(frame, ndp::Delivery::multicast),
                                  t0);
    EXPECT_TRUE(packets.frames_out.empty());
    EXPECT_EQ(responder.stats().invalid[static_cast<std::size_t>(ndp::DropReason::hop_limit)], 1u);
    EXPECT_EQ(responder.stats().ns_received, 1u);
}

// The port says how the link delivered each frame: one for another host's MAC (a promiscuous
// uplink) is counted and never answered, even in always mode, while the same bytes delivered to
// us are.
TEST_F(ResponderServiceTest, FramesForOtherHostsAreCountedAndNotAnswered) {
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    const auto frame = solicitation_from_router(addr("2001:db8:1::10"));
    packets.frames_in = {{frame, ndp::Delivery::to_other_host}, {frame, ndp::Delivery::outgoing}};
    responder.on_frames_readable(t0);
    EXPECT_TRUE(packets.frames_out.empty());
    const auto& invalid = responder.stats().invalid;
    EXPECT_EQ(invalid[static_cast<std::size_t>(ndp::DropReason::other_host)], 1u);
    EXPECT_EQ(invalid[static_cast<std::size_t>(ndp::DropReason::outgoing)], 1u);
    packets.frames_in = {{frame, ndp::Delivery::multicast}};
    responder.on_frames_readable(t0);
    EXPECT_EQ(packets.frames_out.size(), 1u);
}

// The overall budget gives way only when the kernel lost frames the daemon did not read in time;
// frames merely left queued are read on the next turn and cost nothing.
TEST_F(ResponderServiceTest, TheBudgetShrinksOnLostFramesNotOnABacklog) {
    ResponderService responder(responder_settings(ResponderMode::always), mirror, packets);
    const unsigned full = responder.policy().answer_budget();
    packets.backlogged = true;
    packets.frames_in = {
        {solicitation_from_router(addr("2001:db8:1::10")), ndp::Delivery::multicast}};
    responder.on_frames_readable(t0);
    responder.on_frames_readable(t0 + 200ms);
    EXPECT_EQ(responder.stats().backlogs, 2u);
    EXPECT_EQ(responder.policy().answer_budget(), full) << "a backlog alone shrinks nothing";
    packets.frame_drops = 7;
    responder.on_frames_readable(t0 + 400ms);
    // The next window's first solicitation closes the window of the loss.
    packets.frames_in = {
        {solicitation_from_router(addr("2001:db8:1::10")), ndp::Delivery::multicast}};
    responder.on_frames_readable(t0 + 500ms);
    EXPECT_EQ(responder.stats().socket_drops, 7u);
    EXPECT_EQ(responder.policy().answer_budget(), full / 2);
}

// `ndproxyctl doctor` asks whether the provider's router solicits the prefix at all: a
// solicitation for an address of it counts, answered or not; one for the host's own address or
// outside the prefixes does not. The status tells the seconds since, per prefix of the uplink.
TEST_F(ResponderServiceTest, StatusTellsHowLongSinceTheLastSolicitationForEachPrefix) {
    kernel.addresses.push_back({kExt, addr("2001:db8:1::2"), false});
    mirror.full_resync(t0);
    ResponderService responder(responder_settings(ResponderMode::verify), mirror, packets);
    const Ipv6Prefix prefix = *Ipv6Prefix::parse("2001:db8:1::/64");
    const auto ask = [&](const char* target, TimePoint when) {
        responder.handle_solicitation(
            ndp::parse_solicitation_frame(solicitation_from_router(addr(target)),
                                          ndp::Delivery::multicast),
            when);
    };
    ask("2001:db8:1::2", t0);        // the host's own: routed prefixes see these too
    ask("2001:db8:2::10", t0 + 1s);  // not ours
    EXPECT_EQ(responder.last_solicitation(prefix), std::nullopt);
    ask("2001:db8:1::10", t0 + 2s);  // unknown, verified: it reached the uplink all the same
    EXPECT_EQ(responder.last_solicitation(prefix), t0 + 2s);

    Config config;
    config.externals = {"ext"};
    config.external = "ext";
    const control::UplinkView view{mirror, responder};
    const auto status = [&] {
        return control::status_payload(std::span(&view, 1), config, 10s, t0 + 12s);
    };
    // Not listening (responder off, --dry-run, no uplink): nothing to tell.
    EXPECT_TRUE(status()["uplinks"][0]["solicitations"].is_null());
    responder.set_listening(true);
    EXPECT_EQ(status()["uplinks"][0]["solicitations"], (nlohmann::json{{"2001:db8:1::/64", 10.0}}));
}

}  // namespace
}  // namespace ndproxy

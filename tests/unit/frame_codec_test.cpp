#include "codec/frame_codec.hpp"

#include <algorithm>
#include <string_view>

#include <gtest/gtest.h>

#include "test_data.hpp"

namespace ndproxy::ndp {
namespace {

Ipv6Address addr(const char* text) {
    return *Ipv6Address::parse(text);
}
const MacAddress kHostA{{0x02, 0, 0, 0, 0, 0x0a}};
const MacAddress kHostB{{0x02, 0, 0, 0, 0, 0x0b}};

// The captured ICMPv6 bytes put back into the frame they came in (addresses from the file's
// comment). The checksum is recomputed by the builder; CapturedChecksumIsReproduced shows it is
// the one the kernel sent.
std::vector<std::uint8_t> captured_multicast_ns() {
    return build_icmpv6_frame(kHostA, multicast_mac(addr("ff02::1:ff00:b")), addr("2001:db8:1::a"),
                              addr("ff02::1:ff00:b"), test::load_hex("ndp-ns-multicast.hex"));
}
std::vector<std::uint8_t> captured_dad_ns() {
    return build_icmpv6_frame(kHostB, multicast_mac(addr("ff02::1:ff00:c")), addr("::"),
                              addr("ff02::1:ff00:c"), test::load_hex("ndp-ns-dad.hex"));
}

// Offsets into a frame: Ethernet 14, IPv6 40.
constexpr std::size_t kHopLimit = 14 + 7;
constexpr std::size_t kIcmp = 14 + 40;

// Rebuilds a frame after its ICMPv6 part was edited, with a valid checksum, so that only the
// rule under test is broken.
std::vector<std::uint8_t> rebuilt(const std::vector<std::uint8_t>& frame,
                                  std::vector<std::uint8_t> icmp) {
    MacAddress src, dst;
    std::copy_n(frame.begin(), 6, dst.bytes.begin());
    std::copy_n(frame.begin() + 6, 6, src.bytes.begin());
    return build_icmpv6_frame(src, dst, Ipv6Address::from_bytes(std::span(frame).subspan<22, 16>()),
                              Ipv6Address::from_bytes(std::span(frame).subspan<38, 16>()), icmp);
}

std::vector<std::uint8_t> icmp_of(const std::vector<std::uint8_t>& frame) {
    return {frame.begin() + kIcmp, frame.end()};
}

DropReason drop_of(const std::vector<std::uint8_t>& frame) {
    const auto result = parse_solicitation_frame(frame, Delivery::multicast);
    EXPECT_TRUE(std::holds_alternative<DropReason>(result));
    return std::holds_alternative<DropReason>(result) ? std::get<DropReason>(result)
                                                      : DropReason::truncated;
}

TEST(FrameCodec, CapturedChecksumIsReproduced) {
    const auto captured = test::load_hex("ndp-ns-multicast.hex");
    const auto frame = captured_multicast_ns();
    EXPECT_EQ(frame[kIcmp + 2], captured[2]);
    EXPECT_EQ(frame[kIcmp + 3], captured[3]);
    const auto dad = test::load_hex("ndp-ns-dad.hex");
    EXPECT_EQ(captured_dad_ns()[kIcmp + 2], dad[2]);
    EXPECT_EQ(captured_dad_ns()[kIcmp + 3], dad[3]);
}

TEST(FrameCodec, ParsesTheKernelsSolicitation) {
    const auto result = parse_solicitation_frame(captured_multicast_ns(), Delivery::multicast);
    ASSERT_TRUE(std::holds_alternative<Solicitation>(result));
    const auto& ns = std::get<Solicitation>(result);
    EXPECT_EQ(ns.source, addr("2001:db8:1::a"));
    EXPECT_EQ(ns.destination, addr("ff02::1:ff00:b"));
    EXPECT_EQ(ns.target, addr("2001:db8:1::b"));
    EXPECT_EQ(ns.ether_source, kHostA);
    EXPECT_EQ(ns.source_lladdr, kHostA);
    EXPECT_FALSE(ns.is_dad());
}

TEST(FrameCodec, ParsesADadProbeWithANonce) {
    const auto result = parse_solicitation_frame(captured_dad_ns(), Delivery::multicast);
    ASSERT_TRUE(std::holds_alternative<Solicitation>(result));
    EXPECT_TRUE(std::get<Solicitation>(result).is_dad());
    EXPECT_EQ(std::get<Solicitation>(result).target, addr("2001:db8:1::c"));
}

TEST(FrameCodec, EthernetPaddingIsIgnored) {
    auto frame = captured_dad_ns();
    frame.resize(frame.size() + 6, 0);  // short frames are padded to 60 octets on the wire
    EXPECT_TRUE(
        std::holds_alternative<Solicitation>(parse_solicitation_frame(frame, Delivery::multicast)));
}

// RFC 4861 §7.1.1: "The IP Hop Limit field has a value of 255".
TEST(FrameCodec, DropsHopLimitBelow255) {
    auto frame = captured_multicast_ns();
    frame[kHopLimit] = 64;
    EXPECT_EQ(drop_of(frame), DropReason::hop_limit);
}

// RFC 4861 §7.1.1: "ICMP Checksum is valid".
TEST(FrameCodec, DropsABadChecksum) {
    auto frame = captured_multicast_ns();
    frame[kIcmp + 3] ^= 0x01;
    EXPECT_EQ(drop_of(frame), DropReason::bad_checksum);
}

// RFC 4861 §7.1.1: "ICMP Code is 0".
TEST(FrameCodec, DropsANonZeroCode) {
    const auto original = captured_multicast_ns();
    auto icmp = icmp_of(original);
    icmp[1] = 1;
    EXPECT_EQ(drop_of(rebuilt(original, icmp)), DropReason::bad_code);
}

// RFC 4861 §7.1.1: "ICMP length (derived from the IP length) is 24 or more octets".
TEST(FrameCodec, DropsShortMessages) {
    const auto original = captured_multicast_ns();
    auto icmp = icmp_of(original);
    icmp.resize(20);
    EXPECT_EQ(drop_of(rebuilt(original, icmp)), DropReason::too_short);
}

// RFC 4861 §7.1.1: "Target Address is not a multicast address".
TEST(FrameCodec, DropsAMulticastTarget) {
    const auto original = captured_multicast_ns();
    auto icmp = icmp_of(original);
    const auto group = addr("ff02::1");
    std::copy(group.bytes.begin(), group.bytes.end(), icmp.begin() + 8);
    EXPECT_EQ(drop_of(rebuilt(original, icmp)), DropReason::multicast_target);
}

// RFC 4861 §7.1.1: "All included options have a length that is greater than zero".
TEST(FrameCodec, DropsAZeroLengthOption) {
    const auto original = captured_multicast_ns();
    auto icmp = icmp_of(original);
    icmp[25] = 0;
    EXPECT_EQ(drop_of(rebuilt(original, icmp)), DropReason::bad_option);
}

TEST(FrameCodec, DropsAnOptionRunningPastTheEnd) {
    const auto original = captured_multicast_ns();
    auto icmp = icmp_of(original);
    icmp[25] = 2;  // claims 16 octets, 8 are there
    EXPECT_EQ(drop_of(rebuilt(original, icmp)), DropReason::bad_option);
}

// RFC 4861 §7.1.1: "If the IP source address is the unspecified address, the IP destination
// address is a solicited-node multicast address."
TEST(FrameCodec, DropsADadProbeToAnotherDestination) {
    const auto dad = captured_dad_ns();
    const auto frame =
        build_icmpv6_frame(kHostB, kHostA, addr("::"), addr("2001:db8:1::a"), icmp_of(dad));
    EXPECT_EQ(drop_of(frame), DropReason::dad_bad_destination);
}

// RFC 4861 §7.1.1: "If the IP source address is the unspecified address, there is no source
// link-layer address option in the message."
TEST(FrameCodec, DropsADadProbeWithASourceLinkLayerOption) {
    const auto dad = captured_dad_ns();
    auto icmp = icmp_of(dad);
    const std::uint8_t option[8] = {1, 1, 2, 0, 0, 0, 0, 0x0b};
    icmp.insert(icmp.end(), std::begin(option), std::end(option));
    EXPECT_EQ(drop_of(rebuilt(dad, icmp)), DropReason::dad_with_source_lladdr);
}

TEST(FrameCodec, DropsWhatIsNotASolicitation) {
    auto frame = captured_multicast_ns();
    auto truncated = frame;
    truncated.resize(kIcmp + 2);
    EXPECT_EQ(drop_of(truncated), DropReason::truncated);
    auto ipv4 = frame;
    ipv4[12] = 0x08;
    ipv4[13] = 0x00;
    EXPECT_EQ(drop_of(ipv4), DropReason::not_ipv6);
    auto udp = frame;
    udp[14 + 6] = 17;
    EXPECT_EQ(drop_of(udp), DropReason::not_icmpv6);
    auto advert = icmp_of(frame);
    advert[0] = 136;
    EXPECT_EQ(drop_of(rebuilt(frame, advert)), DropReason::not_solicitation);
}

// Forged frames captured whole from the wire (tests/data/frame-*.hex): the kernel's IPv6 stack
// would never act on them, so neither may the responder.
TEST(FrameCodec, DropsFramesFromMulticastSources) {
    // The reported case: IPv6 ff02::1 from Ethernet ff:ff:ff:ff:ff:ff, once answered to the
    // broadcast address. The link-layer source is checked first.
    EXPECT_EQ(drop_of(test::load_hex("frame-ns-broadcast-sources.hex")),
              DropReason::multicast_ether_source);
    EXPECT_EQ(drop_of(test::load_hex("frame-ns-multicast-ether-source.hex")),
              DropReason::multicast_ether_source);
    EXPECT_EQ(drop_of(test::load_hex("frame-ns-multicast-source.hex")),
              DropReason::multicast_source);
}

TEST(FrameCodec, DropsFramesNotDeliveredToThisHost) {
    const auto other_host = test::load_hex("frame-ns-other-host.hex");
    // The bytes alone make a valid solicitation; only the delivery says it was not for us.
    EXPECT_TRUE(std::holds_alternative<Solicitation>(
        parse_solicitation_frame(other_host, Delivery::to_host)));
    const auto drop = [](const std::vector<std::uint8_t>& frame, Delivery delivery) {
        const auto result = parse_solicitation_frame(frame, delivery);
        return std::holds_alternative<DropReason>(result) ? std::get<DropReason>(result)
                                                          : DropReason::truncated;
    };
    EXPECT_EQ(drop(other_host, Delivery::to_other_host), DropReason::other_host);
    EXPECT_EQ(drop(captured_multicast_ns(), Delivery::outgoing), DropReason::outgoing);
    for (const Delivery delivery : {Delivery::to_host, Delivery::broadcast, Delivery::multicast}) {
        EXPECT_TRUE(std::holds_alternative<Solicitation>(
            parse_solicitation_frame(captured_multicast_ns(), delivery)));
    }
}

TEST(FrameCodec, EveryDropReasonHasItsOwnName) {
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        names.push_back(to_string(static_cast<DropReason>(i)));
        EXPECT_NE(names.back(), "unknown") << i;
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(FrameCodec, EveryTruncationIsRejectedWithoutCrashing) {
    const auto frame = captured_multicast_ns();
    for (std::size_t length = 0; length < frame.size(); ++length) {
        const std::vector<std::uint8_t> cut(frame.begin(), frame.begin() + length);
        EXPECT_TRUE(
            std::holds_alternative<DropReason>(parse_solicitation_frame(cut, Delivery::multicast)))
            << length;
    }
}

TEST(FrameCodec, BuildsAnAnswerFrameByteForByte) {
    const std::vector<std::uint8_t> icmp = {136, 0, 0, 0, 0x40, 0, 0, 0};
    const auto frame = build_icmpv6_frame(kHostA, kHostB, addr("fe80::a"), addr("fe80::b"), icmp);
    const std::vector<std::uint8_t> header = {
        0x02, 0, 0, 0, 0, 0x0b, 0x02, 0,  0, 0, 0, 0x0a, 0x86, 0xdd,  // Ethernet
        0x60, 0, 0, 0, 0, 8,    58,   255};                           // IPv6 up to hop limit
    EXPECT_TRUE(std::equal(header.begin(), header.end(), frame.begin()));
    EXPECT_EQ(frame.size(), 14u + 40u + icmp.size());
    EXPECT_EQ(icmpv6_checksum(addr("fe80::a"), addr("fe80::b"), std::span(frame).subspan(kIcmp)),
              0);
    EXPECT_EQ(multicast_mac(addr("ff02::1")), (MacAddress{{0x33, 0x33, 0, 0, 0, 1}}));
}

}  // namespace
}  // namespace ndproxy::ndp

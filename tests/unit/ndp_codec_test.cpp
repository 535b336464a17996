// The Neighbor Discovery codec against packets captured from a real kernel (tests/data/ndp-*.hex:
// ICMPv6 messages after the IPv6 header; each file's comment gives the IPv6 addresses and hop
// limit). Hosts: a = 2001:db8:1::a, 02:00:00:00:00:0a; b = 2001:db8:1::b, 02:00:00:00:00:0b.

#include "codec/ndp_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_data.hpp"

namespace ndproxy::ndp {
namespace {

using test::FencedBytes;
using test::load_hex;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kChecksum = 2;  // offset of the 16-bit ICMPv6 checksum
constexpr std::size_t kFirstOption = 24;

Ipv6Address ip(const char* text) {
    return *Ipv6Address::parse(text);
}
MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}

// The kernel's bytes with the checksum cleared: the builders leave it to the raw socket.
Bytes without_checksum(Bytes bytes) {
    bytes[kChecksum] = 0;
    bytes[kChecksum + 1] = 0;
    return bytes;
}

struct CapturedAdvert {
    const char* file;
    const char* target;
    AdvertisementFlags flags;
    const char* lladdr;  // nullptr: no target link-layer option
};
const CapturedAdvert kAdverts[] = {
    // Answer to a's multicast NS: solicited, override, with the option.
    {"ndp-na-solicited.hex", "2001:db8:1::b", {false, true, true}, "02:00:00:00:00:0b"},
    // The same from b with forwarding=1: the router flag (RFC 4861 §7.2.4).
    {"ndp-na-router.hex", "2001:db8:1::b", {true, true, true}, "02:00:00:00:00:0b"},
    // Answer to a unicast NUD probe: Linux sets O and the option only for multicast NS.
    {"ndp-na-unicast-reply.hex", "2001:db8:1::b", {false, true, false}, nullptr},
    // Unsolicited, to ff02::1 after DAD (ndisc_notify): S clear, O set (RFC 4861 §7.2.6).
    {"ndp-na-unsolicited.hex", "2001:db8:1::c", {false, false, true}, "02:00:00:00:00:0b"},
};

TEST(NdpParse, CapturedAdvertisements) {
    FencedBytes fence;  // a read past the message faults
    for (const auto& c : kAdverts) {
        SCOPED_TRACE(c.file);
        const auto advert = parse_advertisement(fence.place(load_hex(c.file)));
        ASSERT_TRUE(advert.has_value());
        EXPECT_EQ(advert->target, ip(c.target));
        EXPECT_EQ(advert->flags.router, c.flags.router);
        EXPECT_EQ(advert->flags.solicited, c.flags.solicited);
        EXPECT_EQ(advert->flags.override_flag, c.flags.override_flag);
        EXPECT_EQ(advert->target_lladdr, c.lladdr ? std::optional(mac(c.lladdr)) : std::nullopt);
    }
}

TEST(NdpParse, SolicitationsAreNotAdvertisements) {
    for (const char* file : {"ndp-ns-multicast.hex", "ndp-ns-unicast.hex", "ndp-ns-dad.hex"}) {
        SCOPED_TRACE(file);
        const Bytes bytes = load_hex(file);
        ASSERT_EQ(bytes[0], kNeighborSolicitation);
        EXPECT_FALSE(parse_advertisement(bytes).has_value());
    }
}

// RFC 4861 §7.1.2: "ICMP Code is 0."
TEST(NdpValidation, CodeMustBeZero) {
    Bytes bytes = load_hex("ndp-na-solicited.hex");
    ASSERT_TRUE(parse_advertisement(bytes).has_value());
    for (const int code : {1, 0x80, 0xff}) {
        bytes[1] = static_cast<std::uint8_t>(code);
        EXPECT_FALSE(parse_advertisement(bytes).has_value()) << code;
    }
}

// RFC 4861 §7.1.2: "ICMP length (derived from the IP length) is 24 or more octets."
TEST(NdpValidation, LengthAtLeast24) {
    const Bytes bytes = load_hex("ndp-na-unicast-reply.hex");  // exactly 24 octets, no option
    ASSERT_EQ(bytes.size(), 24u);
    FencedBytes fence;
    EXPECT_TRUE(parse_advertisement(fence.place(bytes)).has_value());
    for (std::size_t length = 0; length < 24; ++length) {
        EXPECT_FALSE(parse_advertisement(fence.place({bytes.data(), length})).has_value())
            << length;
    }
}

// RFC 4861 §7.1.2: "Target Address is not a multicast address."
TEST(NdpValidation, TargetNotMulticast) {
    for (const char* target : {"ff02::1", "ff02::1:ff00:b", "ff0e::1"}) {
        Bytes bytes = load_hex("ndp-na-solicited.hex");
        const auto address = ip(target);
        std::copy(address.bytes.begin(), address.bytes.end(), bytes.begin() + 8);
        EXPECT_FALSE(parse_advertisement(bytes).has_value()) << target;
    }
}

// RFC 4861 §7.1.2: "All included options have a length that is greater than zero." A zero
// length would also make the option walk loop forever.
TEST(NdpValidation, OptionLengthNotZero) {
    Bytes bytes = load_hex("ndp-na-solicited.hex");
    bytes[kFirstOption + 1] = 0;
    EXPECT_FALSE(parse_advertisement(bytes).has_value());
    // Also for an option the parser does not otherwise look at.
    bytes[kFirstOption] = 200;
    EXPECT_FALSE(parse_advertisement(bytes).has_value());
}

// RFC 4861 §4.6: an option's length counts 8-octet units, and the options end where the ICMP
// length of §7.1.2 ends; an option claiming more octets than are left is malformed.
TEST(NdpValidation, OptionsEndWithTheMessage) {
    const Bytes bytes = load_hex("ndp-na-solicited.hex");
    FencedBytes fence;
    for (std::size_t length = kFirstOption + 1; length < bytes.size(); ++length) {
        EXPECT_FALSE(parse_advertisement(fence.place({bytes.data(), length})).has_value())
            << length;
    }
    Bytes longer = bytes;
    longer[kFirstOption + 1] = 2;  // claims 16 octets, 8 present
    EXPECT_FALSE(parse_advertisement(fence.place(longer)).has_value());
}

// RFC 4861 §4.6: "Nodes MUST silently ignore any options they do not recognize and continue
// processing the message." The nonce option (RFC 7527) of the captured DAD probe serves.
TEST(NdpParse, UnknownOptionsIgnored) {
    const Bytes dad = load_hex("ndp-ns-dad.hex");
    const Bytes nonce(dad.begin() + kFirstOption, dad.end());
    ASSERT_EQ(nonce[0], 14);
    const Bytes advert = load_hex("ndp-na-solicited.hex");
    Bytes before(advert.begin(), advert.begin() + kFirstOption);
    before.insert(before.end(), nonce.begin(), nonce.end());
    before.insert(before.end(), advert.begin() + kFirstOption, advert.end());
    Bytes after = advert;
    after.insert(after.end(), nonce.begin(), nonce.end());
    for (const Bytes& bytes : {before, after}) {
        const auto parsed = parse_advertisement(bytes);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->target_lladdr, mac("02:00:00:00:00:0b"));
    }
}

// RFC 4861 §4.4: the Reserved field "MUST be ignored by the receiver".
TEST(NdpParse, ReservedBitsIgnored) {
    Bytes bytes = load_hex("ndp-na-unsolicited.hex");
    bytes[4] |= 0x1f;
    bytes[5] = bytes[6] = bytes[7] = 0xff;
    const auto parsed = parse_advertisement(bytes);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_FALSE(parsed->flags.router);
    EXPECT_FALSE(parsed->flags.solicited);
    EXPECT_TRUE(parsed->flags.override_flag);
}

// RFC 4861 §4.4: only the Target Link-Layer Address option (type 2) gives the target's address;
// on Ethernet it is 8 octets long (§4.6.1, length 1). Anything else is skipped, not misread.
TEST(NdpParse, OnlyAnEthernetTargetOptionGivesTheLladdr) {
    Bytes source_option = load_hex("ndp-na-solicited.hex");
    source_option[kFirstOption] = 1;
    const auto parsed = parse_advertisement(source_option);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_FALSE(parsed->target_lladdr.has_value());

    Bytes sixteen_octets = load_hex("ndp-na-solicited.hex");
    sixteen_octets[kFirstOption + 1] = 2;
    sixteen_octets.resize(sixteen_octets.size() + 8, 0);
    const auto long_option = parse_advertisement(sixteen_octets);
    ASSERT_TRUE(long_option.has_value());
    EXPECT_FALSE(long_option->target_lladdr.has_value());
}

TEST(NdpBuild, SolicitationIsWhatTheKernelSends) {
    // a resolving b: first by multicast, later as a unicast NUD probe; the ICMPv6 part is the
    // same, the IPv6 addresses differ.
    const Bytes built = build_solicitation(ip("2001:db8:1::b"), mac("02:00:00:00:00:0a"));
    EXPECT_EQ(built, without_checksum(load_hex("ndp-ns-multicast.hex")));
    EXPECT_EQ(built, without_checksum(load_hex("ndp-ns-unicast.hex")));
    // The kernel's DAD probe has no source link-layer option (RFC 4861 §7.2.2, source ::) but
    // a nonce; without it, it is a bare solicitation.
    const Bytes dad = without_checksum(load_hex("ndp-ns-dad.hex"));
    EXPECT_EQ(build_solicitation(ip("2001:db8:1::c"), std::nullopt),
              Bytes(dad.begin(), dad.begin() + kFirstOption));
}

TEST(NdpBuild, SolicitationByHand) {
    // clang-format off
    const Bytes expected = {
        135, 0, 0, 0,  // type, code, checksum (left to the raw socket)
        0, 0, 0, 0,    // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // target 2001:db8::1
        1, 1, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01,  // source link-layer option, 1 x 8 octets
    };
    // clang-format on
    EXPECT_EQ(build_solicitation(ip("2001:db8::1"), mac("02:00:5e:00:53:01")), expected);
    EXPECT_EQ(build_solicitation(ip("2001:db8::1"), std::nullopt),
              Bytes(expected.begin(), expected.begin() + 24));
}

TEST(NdpBuild, AdvertisementsAreWhatTheKernelSends) {
    for (const auto& c : kAdverts) {
        SCOPED_TRACE(c.file);
        const Bytes built = build_advertisement(
            ip(c.target), c.flags, c.lladdr ? std::optional(mac(c.lladdr)) : std::nullopt);
        EXPECT_EQ(built, without_checksum(load_hex(c.file)));
    }
}

TEST(NdpBuild, AdvertisementByHand) {
    // RFC 4861 §4.4: R, S, O are the top three bits of the fifth octet.
    // clang-format off
    const Bytes expected = {
        136, 0, 0, 0,  // type, code, checksum (left to the raw socket)
        0x40, 0, 0, 0, // S set, R and O clear, reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // target 2001:db8::1
        2, 1, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01,  // target link-layer option, 1 x 8 octets
    };
    // clang-format on
    EXPECT_EQ(
        build_advertisement(ip("2001:db8::1"), {false, true, false}, mac("02:00:5e:00:53:01")),
        expected);
    for (int bits = 0; bits < 8; ++bits) {
        const AdvertisementFlags flags{(bits & 4) != 0, (bits & 2) != 0, (bits & 1) != 0};
        const Bytes built = build_advertisement(ip("2001:db8::1"), flags, std::nullopt);
        ASSERT_EQ(built.size(), 24u);
        EXPECT_EQ(built[4], bits << 5);
    }
}

TEST(NdpBuild, RoundTrip) {
    for (int bits = 0; bits < 8; ++bits) {
        for (const auto& lladdr :
             {std::optional(mac("02:00:5e:00:53:01")), std::optional<MacAddress>()}) {
            const AdvertisementFlags flags{(bits & 4) != 0, (bits & 2) != 0, (bits & 1) != 0};
            const auto parsed =
                parse_advertisement(build_advertisement(ip("2001:db8:1::77"), flags, lladdr));
            ASSERT_TRUE(parsed.has_value());
            EXPECT_EQ(parsed->target, ip("2001:db8:1::77"));
            EXPECT_EQ(parsed->flags.router, flags.router);
            EXPECT_EQ(parsed->flags.solicited, flags.solicited);
            EXPECT_EQ(parsed->flags.override_flag, flags.override_flag);
            EXPECT_EQ(parsed->target_lladdr, lladdr);
        }
    }
}

}  // namespace
}  // namespace ndproxy::ndp

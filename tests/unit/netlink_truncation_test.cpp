// The rtnetlink codec against every truncation and corruption of the captured messages
// (tests/data/nl-*.hex): it must never read past its input, and never decode a field the full
// message does not carry.

#include "codec/netlink_codec.hpp"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_data.hpp"

namespace ndproxy::netlink {
namespace {

using test::FencedBytes;
using test::load_hex;
using test::read_u32;
using test::write_u16;
using test::write_u32;
using Bytes = std::vector<std::uint8_t>;

// Every capture that holds exactly one message (all but the dump). Prefixes and cuts of each
// are tried below.
std::vector<std::string> single_message_files() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(NDPROXY_TEST_DATA)) {
        const std::string name = entry.path().filename();
        if (name.starts_with("nl-") && name.ends_with(".hex")) {
            const Bytes bytes = load_hex(name);
            if (bytes.size() >= 4 && read_u32(bytes, 0) == bytes.size()) {
                names.push_back(name);
            }
        }
    }
    EXPECT_GE(names.size(), 22u);
    return names;
}

// A message cut short (and its nlmsg_len made to match) may lose attributes but must never
// decode to something the full message does not say.
void expect_consistent(const KernelEvent& cut, const KernelEvent& full) {
    ASSERT_EQ(cut.index(), full.index());
    if (const auto* n = std::get_if<NeighbourUpdate>(&cut)) {
        const auto& f = std::get<NeighbourUpdate>(full);
        EXPECT_EQ(n->ifindex, f.ifindex);
        EXPECT_EQ(n->address, f.address);
        EXPECT_EQ(n->state, f.state);
        EXPECT_EQ(n->deleted, f.deleted);
        EXPECT_TRUE(!n->lladdr || n->lladdr == f.lladdr);
    } else if (const auto* p = std::get_if<ProxyEntry>(&cut)) {
        const auto& f = std::get<ProxyEntry>(full);
        EXPECT_EQ(p->ifindex, f.ifindex);
        EXPECT_EQ(p->address, f.address);
        EXPECT_TRUE(p->protocol == 0 || p->protocol == f.protocol);
    } else if (const auto* l = std::get_if<LinkUpdate>(&cut)) {
        const auto& f = std::get<LinkUpdate>(full);
        EXPECT_EQ(l->ifindex, f.ifindex);
        EXPECT_EQ(l->name, f.name);
        EXPECT_EQ(l->up, f.up);
        EXPECT_EQ(l->deleted, f.deleted);
        EXPECT_TRUE(!l->lladdr || l->lladdr == f.lladdr);
    } else if (const auto* r = std::get_if<RouteUpdate>(&cut)) {
        const auto& f = std::get<RouteUpdate>(full);
        EXPECT_EQ(r->destination, f.destination);
        EXPECT_EQ(r->ifindex, f.ifindex);
        EXPECT_EQ(r->deleted, f.deleted);
        EXPECT_TRUE(r->metric == 0 || r->metric == f.metric);
        EXPECT_TRUE(!r->via_gateway || f.via_gateway);  // a cut can lose the gateway only
    } else {
        const auto& a = std::get<AddressUpdate>(cut);
        const auto& f = std::get<AddressUpdate>(full);
        EXPECT_EQ(a.ifindex, f.ifindex);
        EXPECT_EQ(a.address, f.address);
        EXPECT_EQ(a.deleted, f.deleted);
    }
}

TEST(NetlinkTruncation, EveryPrefixOfEveryMessageIsIncomplete) {
    FencedBytes fence;  // a read past the prefix faults
    for (const auto& file : single_message_files()) {
        const Bytes bytes = load_hex(file);
        for (std::size_t length = 0; length < bytes.size(); ++length) {
            SCOPED_TRACE(file + " cut to " + std::to_string(length));
            const auto prefix = fence.place({bytes.data(), length});
            EXPECT_FALSE(parse_message(prefix).has_value());
            const auto datagram = parse_datagram(prefix);
            EXPECT_TRUE(datagram.messages.empty());
            EXPECT_EQ(datagram.truncated, length > 0);
        }
    }
}

TEST(NetlinkTruncation, EveryCutWithMatchingLengthStaysInBounds) {
    // nlmsg_len rewritten to the cut: the header is consistent, the attributes are cut off
    // anywhere, including inside an attribute header (lengths that are not a multiple of 4
    // exercise libmnl's walk to the aligned end of the message).
    FencedBytes fence;
    int decoded = 0;
    for (const auto& file : single_message_files()) {
        const Bytes bytes = load_hex(file);
        const auto full = parse_message(bytes);
        for (std::size_t length = sizeof(nlmsghdr); length <= bytes.size(); ++length) {
            SCOPED_TRACE(file + " cut to " + std::to_string(length));
            Bytes cut(bytes.begin(), bytes.begin() + length);
            write_u32(cut, 0, static_cast<std::uint32_t>(length));
            const auto placed = fence.place(cut);
            const auto event = parse_message(placed);
            if (event) {
                ASSERT_TRUE(full.has_value());
                expect_consistent(*event, *full);
                ++decoded;
            }
            const auto datagram = parse_datagram(placed);
            ASSERT_EQ(datagram.messages.size(), 1u);
            EXPECT_FALSE(datagram.truncated);
        }
    }
    EXPECT_GT(decoded, 0);  // cuts after the essential attributes still decode
}

TEST(NetlinkTruncation, DumpPrefixesYieldTheWholeMessagesOnly) {
    const Bytes bytes = load_hex("nl-dump-proxy.hex");
    const std::size_t ends[] = {48, 104, 124};  // where each of its three messages ends
    FencedBytes fence;
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        SCOPED_TRACE(length);
        const auto datagram = parse_datagram(fence.place({bytes.data(), length}));
        std::size_t whole = 0;
        for (const std::size_t end : ends) {
            whole += end <= length ? 1 : 0;
        }
        EXPECT_EQ(datagram.messages.size(), whole);
        EXPECT_EQ(datagram.truncated,
                  length != 0 && length != 48 && length != 104 && length != 124);
    }
}

TEST(NetlinkTruncation, WrongMessageLengths) {
    const Bytes original = load_hex("nl-newneigh-reachable.hex");
    for (const std::uint32_t length : {0u, 15u, 89u, 0x80000000u, 0xffffffffu}) {
        SCOPED_TRACE(length);
        Bytes bytes = original;
        write_u32(bytes, 0, length);
        EXPECT_FALSE(parse_message(bytes).has_value());
        const auto datagram = parse_datagram(bytes);
        EXPECT_TRUE(datagram.messages.empty());
        EXPECT_TRUE(datagram.truncated);
    }
    // Header claims 16 + 11 bytes: the ndmsg (12 bytes) does not fit.
    Bytes short_ndmsg(original.begin(), original.begin() + 27);
    write_u32(short_ndmsg, 0, 27);
    EXPECT_FALSE(parse_message(short_ndmsg).has_value());
}

TEST(NetlinkTruncation, WrongAttributeLengths) {
    // NDA_DST sits at offset 28 (after nlmsghdr and ndmsg), nla_len 20.
    const Bytes original = load_hex("nl-newneigh-reachable.hex");
    ASSERT_EQ(original[28], 20);
    for (const std::uint16_t length : {0, 2, 8, 19, 21, 61, 0x100}) {
        SCOPED_TRACE(length);
        Bytes bytes = original;
        write_u16(bytes, 28, length);
        // Too short or too long: either the walk stops or the payload is not 16 bytes.
        EXPECT_FALSE(parse_message(bytes).has_value());
    }
    // IFLA_IFNAME ("veth0\0", at offset 32) without its terminating NUL.
    Bytes link = load_hex("nl-newlink-veth0-created.hex");
    ASSERT_EQ(link[32], 10);
    write_u16(link, 32, 9);
    EXPECT_FALSE(parse_message(link).has_value());
    // NDA_PROTOCOL of the wrong size: the tag is unreadable, so the entry counts as the
    // administrator's and is never touched (docs/design.md §Ownership).
    const Bytes dump = load_hex("nl-dump-proxy.hex");
    Bytes proxy(dump.begin() + 48, dump.begin() + 104);
    ASSERT_EQ(proxy[48], 5);
    write_u16(proxy, 48, 6);
    EXPECT_EQ(std::get<ProxyEntry>(parse_message(proxy).value()).protocol, 0);
}

}  // namespace
}  // namespace ndproxy::netlink

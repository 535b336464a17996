// The rtnetlink codec against messages captured from a real kernel (tests/data/nl-*.hex; each
// file's comment says which command produced it). In the capture namespace lo=1, veth1=2,
// veth0=3 (02:00:00:00:00:a0), br0=4 (02:00:00:00:00:b0).

#include "codec/netlink_codec.hpp"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>
#include <map>
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

constexpr int kVeth0 = 3;
constexpr int kBr0 = 4;

Ipv6Address ip(const char* text) {
    return *Ipv6Address::parse(text);
}
MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}

template <typename T>
T decode_as(const std::string& file) {
    const auto event = parse_message(load_hex(file));
    if (!event || !std::holds_alternative<T>(*event)) {
        ADD_FAILURE() << file << " did not decode to the expected event";
        return T{};
    }
    return std::get<T>(*event);
}

TEST(NetlinkNeighbour, StateLladdrAndDeletion) {
    // `ip neigh del` makes the kernel report the entry FAILED (RTM_NEWNEIGH), then gone
    // (RTM_DELNEIGH); an entry that is not NUD_VALID comes without NDA_LLADDR.
    const struct {
        const char* file;
        const char* address;
        const char* lladdr;  // nullptr: none
        std::uint16_t state;
        bool deleted;
    } cases[] = {
        {"nl-newneigh-reachable.hex", "2001:db8:1::10", "02:00:00:00:00:10", nud::reachable, false},
        {"nl-newneigh-permanent.hex", "2001:db8:1::11", "02:00:00:00:00:11", nud::permanent, false},
        {"nl-newneigh-stale.hex", "2001:db8:1::12", "02:00:00:00:00:12", nud::stale, false},
        {"nl-newneigh-failed-before-delete.hex", "2001:db8:1::12", nullptr, nud::failed, false},
        {"nl-delneigh.hex", "2001:db8:1::12", nullptr, nud::failed, true}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        const auto n = decode_as<NeighbourUpdate>(c.file);
        EXPECT_EQ(n.ifindex, kVeth0);
        EXPECT_EQ(n.address, ip(c.address));
        EXPECT_EQ(n.lladdr, c.lladdr ? std::optional(mac(c.lladdr)) : std::nullopt);
        EXPECT_EQ(n.state, c.state);
        EXPECT_EQ(n.deleted, c.deleted);
    }
}

TEST(NetlinkNeighbour, BridgeFdbEntryIsNotRelevant) {
    const Bytes fdb = load_hex("nl-newneigh-bridge-fdb.hex");
    ASSERT_EQ(fdb[sizeof(nlmsghdr)], AF_BRIDGE);  // the capture really is an AF_BRIDGE entry
    EXPECT_FALSE(parse_message(fdb).has_value());
}

TEST(NetlinkLink, CreatedUpAndDeleted) {
    const struct {
        const char* file;
        int ifindex;
        const char* name;
        bool up;
        bool deleted;
        const char* lladdr;
    } cases[] = {
        {"nl-newlink-veth0-created.hex", kVeth0, "veth0", false, false, "02:00:00:00:00:a0"},
        {"nl-newlink-veth0-up.hex", kVeth0, "veth0", true, false, "02:00:00:00:00:a0"},
        {"nl-newlink-br0-created.hex", kBr0, "br0", false, false, "02:00:00:00:00:b0"},
        {"nl-dellink-veth0.hex", kVeth0, "veth0", false, true, "02:00:00:00:00:a0"},
        {"nl-dellink-br0.hex", kBr0, "br0", false, true, "02:00:00:00:00:b0"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        const auto link = decode_as<LinkUpdate>(c.file);
        EXPECT_EQ(link.ifindex, c.ifindex);
        EXPECT_EQ(link.name, c.name);
        EXPECT_EQ(link.up, c.up);
        EXPECT_EQ(link.deleted, c.deleted);
        EXPECT_EQ(link.lladdr, mac(c.lladdr));
    }
}

TEST(NetlinkLink, BridgePortMessagesAreNotRelevant) {
    // AF_BRIDGE RTM_DELLINK means "veth1 left the bridge", not "veth1 was deleted": reading it as
    // a LinkUpdate would make the daemon forget a live interface.
    for (const char* file : {"nl-newlink-bridge-port.hex", "nl-dellink-bridge-port.hex"}) {
        SCOPED_TRACE(file);
        const Bytes bytes = load_hex(file);
        ASSERT_EQ(bytes[sizeof(nlmsghdr)], AF_BRIDGE);
        EXPECT_FALSE(parse_message(bytes).has_value());
        const auto datagram = parse_datagram(bytes);
        ASSERT_EQ(datagram.messages.size(), 1u);
        EXPECT_FALSE(datagram.messages[0].event.has_value());
        EXPECT_FALSE(datagram.truncated);
    }
}

TEST(NetlinkAddress, AddedAndDeleted) {
    const auto added = decode_as<AddressUpdate>("nl-newaddr.hex");
    EXPECT_EQ(added.ifindex, kVeth0);
    EXPECT_EQ(added.address, ip("2001:db8:1::1"));
    EXPECT_FALSE(added.deleted);
    const auto deleted = decode_as<AddressUpdate>("nl-deladdr.hex");
    EXPECT_EQ(deleted.address, ip("2001:db8:1::1"));
    EXPECT_TRUE(deleted.deleted);
}

TEST(NetlinkDatagram, ProxyDumpHasBothEntriesAndDone) {
    const Bytes request = load_hex("nl-req-getneigh-proxy-dump.hex");
    const auto datagram = parse_datagram(load_hex("nl-dump-proxy.hex"));
    EXPECT_FALSE(datagram.truncated);
    ASSERT_EQ(datagram.messages.size(), 3u);
    for (const auto& message : datagram.messages) {
        EXPECT_EQ(message.seq, read_u32(request, 8));  // replies echo the request's sequence
        EXPECT_FALSE(message.error.has_value());
    }
    const ProxyEntry expected[] = {{kVeth0, ip("2001:db8:2::1"), 0},
                                   {kVeth0, ip("2001:db8:2::2"), kOwnProtocol}};
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(datagram.messages[i].type, RTM_NEWNEIGH);
        EXPECT_FALSE(datagram.messages[i].done);
        ASSERT_TRUE(datagram.messages[i].event.has_value());
        const auto* entry = std::get_if<ProxyEntry>(&*datagram.messages[i].event);
        ASSERT_NE(entry, nullptr);
        EXPECT_EQ(entry->ifindex, expected[i].ifindex);
        EXPECT_EQ(entry->address, expected[i].address);
        EXPECT_EQ(entry->protocol, expected[i].protocol);
    }
    EXPECT_EQ(datagram.messages[2].type, NLMSG_DONE);
    EXPECT_TRUE(datagram.messages[2].done);
    EXPECT_FALSE(datagram.messages[2].event.has_value());
}

TEST(NetlinkDatagram, AcknowledgementAndError) {
    const auto ack = parse_datagram(load_hex("nl-ack.hex"));
    ASSERT_EQ(ack.messages.size(), 1u);
    EXPECT_EQ(ack.messages[0].type, NLMSG_ERROR);
    EXPECT_EQ(ack.messages[0].seq, read_u32(load_hex("nl-req-newneigh-proxy.hex"), 8));
    EXPECT_EQ(ack.messages[0].error, 0);
    EXPECT_FALSE(ack.messages[0].done);

    // Deleting a proxy entry that does not exist.
    const auto enoent = parse_datagram(load_hex("nl-error-enoent.hex"));
    ASSERT_EQ(enoent.messages.size(), 1u);
    EXPECT_EQ(enoent.messages[0].type, NLMSG_ERROR);
    EXPECT_EQ(enoent.messages[0].seq,
              read_u32(load_hex("nl-error-enoent.hex"), 28));  // echoed request
    EXPECT_EQ(enoent.messages[0].error, -ENOENT);
    EXPECT_FALSE(enoent.truncated);
}

TEST(NetlinkDatagram, SeveralNotificationsInOneDatagram) {
    Bytes bytes;
    for (const char* file : {"nl-newneigh-reachable.hex", "nl-newlink-bridge-port.hex",
                             "nl-newaddr.hex", "nl-dellink-veth0.hex"}) {
        const Bytes part = load_hex(file);
        bytes.insert(bytes.end(), part.begin(), part.end());
    }
    const auto datagram = parse_datagram(bytes);
    EXPECT_FALSE(datagram.truncated);
    ASSERT_EQ(datagram.messages.size(), 4u);
    EXPECT_TRUE(std::holds_alternative<NeighbourUpdate>(datagram.messages[0].event.value()));
    EXPECT_FALSE(datagram.messages[1].event.has_value());
    EXPECT_TRUE(std::holds_alternative<AddressUpdate>(datagram.messages[2].event.value()));
    EXPECT_TRUE(std::get<LinkUpdate>(datagram.messages[3].event.value()).deleted);
}

TEST(NetlinkDatagram, LastMessageWithoutPaddingIsWhole) {
    // The kernel pads every message to 4 bytes, but the length excludes the padding, and the
    // kernel itself accepts a final message without it (netlink_rcv_skb clamps to skb->len).
    // Second dump entry: its NDA_PROTOCOL attribute (5 bytes) ends the message.
    const Bytes dump = load_hex("nl-dump-proxy.hex");
    Bytes message(dump.begin() + 48, dump.begin() + 48 + 53);
    write_u32(message, 0, 53);
    FencedBytes fence;
    const auto datagram = parse_datagram(fence.place(message));
    EXPECT_FALSE(datagram.truncated);
    ASSERT_EQ(datagram.messages.size(), 1u);
    const auto entry = std::get<ProxyEntry>(datagram.messages[0].event.value());
    EXPECT_EQ(entry.protocol, kOwnProtocol);
}

TEST(NetlinkRequest, ProxyDeleteIsWhatIproute2Sends) {
    const Bytes sent = load_hex("nl-req-delneigh-proxy.hex");
    Bytes built;
    append_proxy_request(built, ProxyOp::remove, read_u32(sent, 8), kVeth0, ip("2001:db8:2::1"),
                         kOwnProtocol, false);
    EXPECT_EQ(built, sent);
    const auto entry = std::get<ProxyEntry>(parse_message(built).value());
    EXPECT_EQ(entry.ifindex, kVeth0);
    EXPECT_EQ(entry.address, ip("2001:db8:2::1"));
}

std::map<std::uint16_t, Bytes> attributes_of(const Bytes& message, std::size_t offset) {
    std::map<std::uint16_t, Bytes> out;
    while (offset + 4 <= message.size()) {
        std::uint16_t length = 0;
        std::uint16_t type = 0;
        std::memcpy(&length, &message[offset], 2);
        std::memcpy(&type, &message[offset + 2], 2);
        out[type] = Bytes(message.begin() + offset + 4, message.begin() + offset + length);
        offset += (length + 3u) & ~3u;
    }
    return out;
}

// What iproute2 sent and what we built: the same header and ndmsg, and the same attributes,
// in whatever order.
void expect_same_request(const Bytes& built, const Bytes& sent) {
    ASSERT_EQ(built.size(), sent.size());
    const std::size_t fixed = sizeof(nlmsghdr) + sizeof(ndmsg);
    EXPECT_EQ(Bytes(built.begin(), built.begin() + fixed),
              Bytes(sent.begin(), sent.begin() + fixed));
    EXPECT_EQ(attributes_of(built, fixed), attributes_of(sent, fixed));
}

TEST(NetlinkRequest, ProxyAddMeansWhatIproute2ReplaceMeans) {
    // `ip -6 neigh replace proxy ... proto 71` sends the same header (flags
    // REQUEST|ACK|CREATE|REPLACE), the same ndmsg (NTF_PROXY, NUD_PERMANENT) and the same
    // attributes; only their order differs (iproute2 puts NDA_PROTOCOL first).
    const Bytes sent = load_hex("nl-req-replace-proxy-proto71.hex");
    Bytes built;
    append_proxy_request(built, ProxyOp::add, read_u32(sent, 8), kVeth0, ip("2001:db8:2::2"),
                         kOwnProtocol, false);
    expect_same_request(built, sent);
    EXPECT_EQ(attributes_of(built, sizeof(nlmsghdr) + sizeof(ndmsg)).size(), 2u);

    // Plain `ip neigh add` differs only in NLM_F_EXCL for NLM_F_REPLACE: the daemon re-adds
    // entries it already owns after a restart, which EXCL would refuse with EEXIST.
    Bytes added = load_hex("nl-req-newneigh-proxy-proto71.hex");
    EXPECT_EQ(added[6] | added[7] << 8, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    write_u16(added, 6, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
    write_u32(added, 8, read_u32(sent, 8));
    EXPECT_EQ(added, sent);

    const auto entry = std::get<ProxyEntry>(parse_message(built).value());
    EXPECT_EQ(entry.ifindex, kVeth0);
    EXPECT_EQ(entry.address, ip("2001:db8:2::2"));
    EXPECT_EQ(entry.protocol, kOwnProtocol);
}

// --router: the kernel takes R for its answers from the entry's NTF_ROUTER.
TEST(NetlinkRequest, RouterProxyAddMeansWhatIproute2Sends) {
    const Bytes sent = load_hex("nl-req-replace-proxy-router.hex");
    Bytes built;
    append_proxy_request(built, ProxyOp::add, read_u32(sent, 8), kVeth0, ip("2001:db8:2::3"),
                         kOwnProtocol, true);
    expect_same_request(built, sent);
    EXPECT_TRUE(std::get<ProxyEntry>(parse_message(built).value()).router);
}

TEST(NetlinkDump, ProxyEntriesCarryTheRouterFlag) {
    const auto datagram = parse_datagram(load_hex("nl-dump-proxy-router.hex"));
    ASSERT_EQ(datagram.messages.size(), 3u);
    const auto plain = std::get<ProxyEntry>(datagram.messages[0].event.value());
    const auto router = std::get<ProxyEntry>(datagram.messages[1].event.value());
    EXPECT_EQ(plain.address, ip("2001:db8:2::2"));
    EXPECT_FALSE(plain.router);
    EXPECT_EQ(router.address, ip("2001:db8:2::3"));
    EXPECT_TRUE(router.router);
    EXPECT_EQ(router.protocol, kOwnProtocol);
}

TEST(NetlinkRequest, BuildersAppend) {
    Bytes out;
    append_proxy_request(out, ProxyOp::add, 1, kVeth0, ip("2001:db8:2::2"), kOwnProtocol, false);
    append_proxy_request(out, ProxyOp::remove, 2, kVeth0, ip("2001:db8:2::1"), kOwnProtocol, true);
    append_dump_request(out, KernelTable::proxies, 3);
    const auto datagram = parse_datagram(out);
    EXPECT_FALSE(datagram.truncated);
    ASSERT_EQ(datagram.messages.size(), 3u);
    EXPECT_EQ(datagram.messages[0].seq, 1u);
    EXPECT_EQ(datagram.messages[1].type, RTM_DELNEIGH);
    EXPECT_EQ(datagram.messages[2].type, RTM_GETNEIGH);
    EXPECT_EQ(out.size(), 56u + 48u + 28u);
}

TEST(NetlinkRequest, ProxyQueryAsksForOneProxyEntryWithoutState) {
    Bytes out;
    append_proxy_query(out, 9, kVeth0, ip("2001:db8:1::10"));
    ASSERT_EQ(out.size(), 16u + 12u + 20u);
    EXPECT_EQ(read_u32(out, 0), out.size());
    EXPECT_EQ(out[4], RTM_GETNEIGH);
    EXPECT_EQ(out[6], NLM_F_REQUEST) << "a get, not a dump";
    EXPECT_EQ(read_u32(out, 8), 9u);
    EXPECT_EQ(out[16], AF_INET6);
    EXPECT_EQ(read_u32(out, 20), static_cast<std::uint32_t>(kVeth0));
    EXPECT_EQ(out[24] | out[25] << 8, 0) << "neigh_get rejects any state";
    EXPECT_EQ(out[26], NTF_PROXY);
    EXPECT_EQ(out[30], NDA_DST);
    EXPECT_EQ(Ipv6Address::from_bytes(std::span(out).subspan<32, 16>()), ip("2001:db8:1::10"));
}

TEST(NetlinkRequest, DumpRequests) {
    // The proxy table dump is byte for byte what `ip -6 neigh show proxy` sends.
    const Bytes sent = load_hex("nl-req-getneigh-proxy-dump.hex");
    Bytes proxies;
    append_dump_request(proxies, KernelTable::proxies, read_u32(sent, 8));
    EXPECT_EQ(proxies, sent);

    // The others by hand (iproute2 adds filter attributes to its own).
    // nlmsghdr: length, type, flags REQUEST|DUMP (0x301), seq 7, pid 0; then the family header.
    const auto header = [](std::uint8_t length, std::uint8_t type) {
        return Bytes{length, 0, 0, 0, type, 0, 0x01, 0x03, 7, 0, 0, 0, 0, 0, 0, 0};
    };
    Bytes links = header(32, RTM_GETLINK);
    links.resize(32, 0);  // ifinfomsg, AF_UNSPEC
    Bytes addresses = header(24, RTM_GETADDR);
    addresses.push_back(AF_INET6);  // ifaddrmsg
    addresses.resize(24, 0);
    Bytes neighbours = header(28, RTM_GETNEIGH);
    neighbours.push_back(AF_INET6);  // ndmsg, ndm_flags 0: the neighbour table
    neighbours.resize(28, 0);
    const std::pair<KernelTable, Bytes> cases[] = {{KernelTable::links, links},
                                                   {KernelTable::addresses, addresses},
                                                   {KernelTable::neighbours, neighbours}};
    for (const auto& [kind, expected] : cases) {
        Bytes built;
        append_dump_request(built, kind, 7);
        EXPECT_EQ(built, expected);
    }
}

}  // namespace
}  // namespace ndproxy::netlink

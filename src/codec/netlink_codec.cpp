#include "codec/netlink_codec.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace ndproxy::netlink {
namespace {

// mnl's parsers take non-const pointers but only read; the buffer is never written through.
nlmsghdr* header_of(std::span<const std::uint8_t> bytes) {
    return reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(bytes.data()));
}

template <std::size_t N>
struct AttributeTable {
    std::array<const nlattr*, N + 1> slots{};

    static int collect(const nlattr* attr, void* data) {
        auto* table = static_cast<AttributeTable*>(data);
        const auto type = mnl_attr_get_type(attr);
        // Later duplicates win, as in the kernel's own nla_parse.
        if (type <= N) {
            table->slots[type] = attr;
        }
        return MNL_CB_OK;
    }
    [[nodiscard]] const nlattr* get(unsigned type) const {
        return type <= N ? slots[type] : nullptr;
    }
};

// Collects the attributes after a family header of `header_size` bytes. Not mnl_attr_parse:
// it walks to MNL_ALIGN(nlmsg_len), so when the length is not a multiple of 4 it reads up to 3
// bytes past the message and accepts an attribute that ends inside them. The kernel's own
// nlmsg_parse bounds the walk by nlmsg_len, as mnl_attr_parse_payload does.
template <std::size_t N>
bool parse_attributes(const nlmsghdr* nlh, std::size_t header_size, AttributeTable<N>& table) {
    const auto* payload = static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload(nlh));
    const std::size_t offset = MNL_ALIGN(header_size);
    const std::size_t length = mnl_nlmsg_get_payload_len(nlh);
    if (length < offset) {
        return false;
    }
    return mnl_attr_parse_payload(payload + offset, length - offset, &AttributeTable<N>::collect,
                                  &table) >= 0;
}

std::optional<Ipv6Address> address_attribute(const nlattr* attr) {
    if (attr == nullptr || mnl_attr_get_payload_len(attr) != 16) {
        return std::nullopt;
    }
    Ipv6Address address;
    std::memcpy(address.bytes.data(), mnl_attr_get_payload(attr), 16);
    return address;
}

std::optional<MacAddress> mac_attribute(const nlattr* attr) {
    if (attr == nullptr || mnl_attr_get_payload_len(attr) != 6) {
        return std::nullopt;
    }
    MacAddress mac;
    std::memcpy(mac.bytes.data(), mnl_attr_get_payload(attr), 6);
    return mac;
}

std::optional<KernelEvent> parse_neighbour(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg)) {
        return std::nullopt;
    }
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_family != AF_INET6) {
        return std::nullopt;
    }
    AttributeTable<NDA_MAX> attrs;
    if (!parse_attributes(nlh, sizeof(ndmsg), attrs)) {
        return std::nullopt;
    }
    const auto address = address_attribute(attrs.get(NDA_DST));
    if (!address) {
        return std::nullopt;
    }
    if (ndm->ndm_flags & NTF_PROXY) {
        std::uint8_t protocol = 0;
        if (const nlattr* attr = attrs.get(NDA_PROTOCOL);
            attr != nullptr && mnl_attr_get_payload_len(attr) == 1) {
            protocol = mnl_attr_get_u8(attr);
        }
        return ProxyEntry{ndm->ndm_ifindex, *address, protocol, (ndm->ndm_flags & NTF_ROUTER) != 0};
    }
    return NeighbourUpdate{ndm->ndm_ifindex, *address, mac_attribute(attrs.get(NDA_LLADDR)),
                           ndm->ndm_state, nlh->nlmsg_type == RTM_DELNEIGH};
}

std::optional<KernelEvent> parse_link(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) {
        return std::nullopt;
    }
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    // Bridges also report port changes on the link group with family AF_BRIDGE; an
    // AF_BRIDGE RTM_DELLINK means "left the bridge", not "deleted".
    if (ifi->ifi_family != AF_UNSPEC) {
        return std::nullopt;
    }
    AttributeTable<IFLA_MAX> attrs;
    if (!parse_attributes(nlh, sizeof(ifinfomsg), attrs)) {
        return std::nullopt;
    }
    LinkUpdate link;
    link.ifindex = ifi->ifi_index;
    link.up = (ifi->ifi_flags & IFF_UP) != 0;
    link.without_discovery = (ifi->ifi_flags & (IFF_NOARP | IFF_POINTOPOINT)) != 0;
    link.deleted = nlh->nlmsg_type == RTM_DELLINK;
    link.lladdr = mac_attribute(attrs.get(IFLA_ADDRESS));
    const nlattr* name = attrs.get(IFLA_IFNAME);
    if (name == nullptr || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0 ||
        mnl_attr_get_payload_len(name) > IFNAMSIZ) {
        return std::nullopt;
    }
    link.name = mnl_attr_get_str(name);
    return link;
}

std::optional<KernelEvent> parse_address(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg)) {
        return std::nullopt;
    }
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ifa->ifa_family != AF_INET6) {
        return std::nullopt;
    }
    AttributeTable<IFA_MAX> attrs;
    if (!parse_attributes(nlh, sizeof(ifaddrmsg), attrs)) {
        return std::nullopt;
    }
    // For IPv6 IFA_ADDRESS is the local address; IFA_LOCAL appears only on peer addresses.
    const nlattr* attr = attrs.get(IFA_LOCAL) ? attrs.get(IFA_LOCAL) : attrs.get(IFA_ADDRESS);
    const auto address = address_attribute(attr);
    if (!address) {
        return std::nullopt;
    }
    return AddressUpdate{static_cast<int>(ifa->ifa_index), *address,
                         nlh->nlmsg_type == RTM_DELADDR};
}

// Longer than /64: shorter routes are the host's own routing (its /64s, its default route, a
// full BGP table), never VM addresses, and are dropped before anything is allocated for them.
constexpr unsigned kLongestUnroutedLength = 64;

std::optional<std::uint32_t> u32_attribute(const nlattr* attr) {
    if (attr == nullptr || mnl_attr_get_payload_len(attr) != 4) {
        return std::nullopt;
    }
    return mnl_attr_get_u32(attr);
}

std::optional<KernelEvent> parse_route(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg)) {
        return std::nullopt;
    }
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    // Unicast only (local, anycast, unreachable and blackhole routes send nothing to a VM);
    // not the exceptions the kernel clones from them (PMTU, redirects); not source-specific.
    if (rtm->rtm_family != AF_INET6 || rtm->rtm_type != RTN_UNICAST ||
        (rtm->rtm_flags & RTM_F_CLONED) != 0 || rtm->rtm_src_len != 0 ||
        rtm->rtm_dst_len <= kLongestUnroutedLength || rtm->rtm_dst_len > 128) {
        return std::nullopt;
    }
    AttributeTable<RTA_MAX> attrs;
    if (!parse_attributes(nlh, sizeof(rtmsg), attrs)) {
        return std::nullopt;
    }
    const auto destination = address_attribute(attrs.get(RTA_DST));
    // A multipath route has no RTA_OIF: its next hops are in RTA_MULTIPATH, and a VM's address
    // is not spread over several links.
    const auto oif = u32_attribute(attrs.get(RTA_OIF));
    if (!destination || !oif) {
        return std::nullopt;
    }
    RouteUpdate route;
    route.destination = Ipv6Prefix::covering(*destination, rtm->rtm_dst_len);
    route.ifindex = static_cast<int>(*oif);
    route.table = u32_attribute(attrs.get(RTA_TABLE)).value_or(rtm->rtm_table);
    route.metric = u32_attribute(attrs.get(RTA_PRIORITY)).value_or(0);
    route.via_gateway = attrs.get(RTA_GATEWAY) != nullptr;
    route.deleted = nlh->nlmsg_type == RTM_DELROUTE;
    return route;
}

nlmsghdr* start_message(std::vector<std::uint8_t>& out, std::size_t room, std::uint16_t type,
                        std::uint16_t flags, std::uint32_t seq) {
    const std::size_t offset = out.size();
    out.resize(offset + MNL_ALIGN(room), 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(out.data() + offset);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    return nlh;
}

}  // namespace

std::optional<KernelEvent> parse_message(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < sizeof(nlmsghdr)) {
        return std::nullopt;
    }
    const nlmsghdr* nlh = header_of(bytes);
    if (nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > bytes.size()) {
        return std::nullopt;
    }
    switch (nlh->nlmsg_type) {
        case RTM_NEWNEIGH:
        case RTM_DELNEIGH:
            return parse_neighbour(nlh);
        case RTM_NEWLINK:
        case RTM_DELLINK:
            return parse_link(nlh);
        case RTM_NEWADDR:
        case RTM_DELADDR:
            return parse_address(nlh);
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
            return parse_route(nlh);
        default:
            return std::nullopt;
    }
}

Datagram parse_datagram(std::span<const std::uint8_t> bytes) {
    Datagram datagram;
    int remaining = static_cast<int>(bytes.size());
    const nlmsghdr* nlh = header_of(bytes);
    // mnl_nlmsg_ok compares (int)nlmsg_len, so a length of 2^31 or more passes as negative:
    // check it against the bytes left as well.
    while (mnl_nlmsg_ok(nlh, remaining) &&
           nlh->nlmsg_len <= static_cast<std::uint32_t>(remaining)) {
        Message message;
        message.type = nlh->nlmsg_type;
        message.seq = nlh->nlmsg_seq;
        message.dump_interrupted = (nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0;
        if (nlh->nlmsg_type == NLMSG_DONE) {
            message.done = true;
        } else if (nlh->nlmsg_type == NLMSG_ERROR) {
            if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(nlmsgerr)) {
                message.error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
            } else {
                message.error = -EBADMSG;
            }
        } else {
            const auto* start = reinterpret_cast<const std::uint8_t*>(nlh);
            message.event = parse_message({start, nlh->nlmsg_len});
        }
        datagram.messages.push_back(std::move(message));
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
    // Negative when the last message lacks its alignment padding, which the kernel accepts too
    // (netlink_rcv_skb clamps to the datagram): that message was whole.
    datagram.truncated = remaining > 0;
    return datagram;
}

void append_proxy_request(std::vector<std::uint8_t>& out, ProxyOp op, std::uint32_t seq,
                          int ifindex, const Ipv6Address& address, std::uint8_t protocol,
                          bool router) {
    const std::size_t room = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ndmsg)) + 2 * MNL_ATTR_HDRLEN +
                             MNL_ALIGN(16) + MNL_ALIGN(1);
    const std::size_t offset = out.size();
    const std::uint16_t flags = op == ProxyOp::add
                                    ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
                                    : NLM_F_REQUEST | NLM_F_ACK;
    nlmsghdr* nlh =
        start_message(out, room, op == ProxyOp::add ? RTM_NEWNEIGH : RTM_DELNEIGH, flags, seq);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET6;
    ndm->ndm_ifindex = ifindex;
    // The kernel takes the R flag of its answers from the entry's NTF_ROUTER
    // (pndisc_is_router in net/ipv6/ndisc.c), so that with --router both paths say the same.
    ndm->ndm_flags = NTF_PROXY | (op == ProxyOp::add && router ? NTF_ROUTER : 0);
    // docs/design.md §Ownership: permanent, so that a carrier loss does not flush it.
    ndm->ndm_state = NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, 16, address.bytes.data());
    if (op == ProxyOp::add) {
        mnl_attr_put_u8(nlh, NDA_PROTOCOL, protocol);
    }
    out.resize(offset + nlh->nlmsg_len);
}

void append_proxy_query(std::vector<std::uint8_t>& out, std::uint32_t seq, int ifindex,
                        const Ipv6Address& address) {
    const std::size_t room =
        MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ndmsg)) + MNL_ATTR_HDRLEN + MNL_ALIGN(16);
    const std::size_t offset = out.size();
    nlmsghdr* nlh = start_message(out, room, RTM_GETNEIGH, NLM_F_REQUEST, seq);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET6;
    ndm->ndm_ifindex = ifindex;
    // neigh_get accepts NTF_PROXY and nothing else, and no state (net/core/neighbour.c).
    ndm->ndm_flags = NTF_PROXY;
    mnl_attr_put(nlh, NDA_DST, 16, address.bytes.data());
    out.resize(offset + nlh->nlmsg_len);
}

void append_dump_request(std::vector<std::uint8_t>& out, KernelTable kind, std::uint32_t seq) {
    const std::size_t room = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ifinfomsg));
    const std::size_t offset = out.size();
    const std::uint16_t flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlmsghdr* nlh = nullptr;
    switch (kind) {
        case KernelTable::links: {
            nlh = start_message(out, room, RTM_GETLINK, flags, seq);
            auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
            ifi->ifi_family = AF_UNSPEC;
            break;
        }
        case KernelTable::addresses: {
            nlh = start_message(out, room, RTM_GETADDR, flags, seq);
            auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
            ifa->ifa_family = AF_INET6;
            break;
        }
        case KernelTable::neighbours:
        case KernelTable::proxies: {
            nlh = start_message(out, room, RTM_GETNEIGH, flags, seq);
            auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
            ndm->ndm_family = AF_INET6;
            // The kernel dumps the proxy table instead of the neighbour table exactly when
            // ndm_flags == NTF_PROXY (net/core/neighbour.c, neigh_dump_info).
            ndm->ndm_flags = kind == KernelTable::proxies ? NTF_PROXY : 0;
            break;
        }
        case KernelTable::routes: {
            nlh = start_message(out, room, RTM_GETROUTE, flags, seq);
            auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
            rtm->rtm_family = AF_INET6;  // every table
            break;
        }
    }
    out.resize(offset + nlh->nlmsg_len);
}

}  // namespace ndproxy::netlink

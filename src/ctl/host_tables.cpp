#include "ctl/host_tables.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <span>

#include "ctl/kernel_table.hpp"
#include "ctl/nl_handles.hpp"

namespace ndproxy::ctl {
namespace {

using nl::Cache;

constexpr std::string_view kReading = "the host's tables";

[[noreturn]] void fail(std::string_view what, int error) {
    nl::fail(kReading, what, error);
}

template <typename Alloc>
Cache dump(nl_sock* sock, std::string_view what, Alloc alloc) {
    nl_cache* raw = nullptr;
    if (const int error = alloc(sock, &raw); error < 0) {
        fail(what, error);
    }
    return Cache(raw);
}

template <typename Object, typename Visit>
void for_each(nl_cache* cache, Visit visit) {
    for (nl_object* object = nl_cache_get_first(cache); object != nullptr;
         object = nl_cache_get_next(object)) {
        visit(reinterpret_cast<Object*>(object));
    }
}

std::optional<Ipv6Address> address_of(nl_addr* addr) {
    if (addr == nullptr || nl_addr_get_family(addr) != AF_INET6 || nl_addr_get_len(addr) != 16) {
        return std::nullopt;
    }
    return Ipv6Address::from_bytes(std::span<const std::uint8_t, 16>(
        static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(addr)), 16));
}

int on_route(nl_msg* msg, void* arg) {
    rtnl_route* route = nullptr;
    if (rtnl_route_parse(nlmsg_hdr(msg), &route) < 0 || route == nullptr) {
        return NL_SKIP;
    }
    auto& out = *static_cast<std::optional<int>*>(arg);
    const std::uint8_t type = rtnl_route_get_type(route);
    if ((type == RTN_UNICAST || type == RTN_LOCAL) && rtnl_route_get_nnexthops(route) > 0) {
        out = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0));
    }
    rtnl_route_put(route);
    return NL_OK;
}

}  // namespace

std::optional<int> HostTables::index_of(const std::string& name) const {
    const auto found = std::find_if(links.begin(), links.end(),
                                    [&](const auto& link) { return link.second == name; });
    return found != links.end() ? std::optional(found->first) : std::nullopt;
}

std::string HostTables::name_of(int ifindex) const {
    const auto found = std::find_if(links.begin(), links.end(),
                                    [&](const auto& link) { return link.first == ifindex; });
    return found != links.end() ? found->second : std::to_string(ifindex);
}

HostTables read_host_tables() {
    const nl::Socket sock = nl::connect(kReading);
    HostTables tables;
    const Cache links = dump(sock.get(), "link dump", [](nl_sock* s, nl_cache** c) {
        return rtnl_link_alloc_cache(s, AF_UNSPEC, c);
    });
    for_each<rtnl_link>(links.get(), [&](rtnl_link* link) {
        tables.links.emplace_back(rtnl_link_get_ifindex(link), rtnl_link_get_name(link));
    });
    const Cache addresses = dump(sock.get(), "address dump", rtnl_addr_alloc_cache);
    for_each<rtnl_addr>(addresses.get(), [&](rtnl_addr* addr) {
        if (const auto address = address_of(rtnl_addr_get_local(addr))) {
            tables.addresses.emplace_back(rtnl_addr_get_ifindex(addr), *address);
        }
    });
    const Cache routes = dump(sock.get(), "route dump", [](nl_sock* s, nl_cache** c) {
        return rtnl_route_alloc_cache(s, AF_INET6, 0, c);
    });
    for_each<rtnl_route>(routes.get(), [&](rtnl_route* route) {
        nl_addr* dst = rtnl_route_get_dst(route);
        HostRoute row;
        const unsigned length = dst != nullptr ? nl_addr_get_prefixlen(dst) : 0;
        row.destination = Ipv6Prefix::covering(address_of(dst).value_or(Ipv6Address{}), length);
        row.unicast = rtnl_route_get_type(route) == RTN_UNICAST;
        for (int i = 0; i < rtnl_route_get_nnexthops(route); ++i) {
            row.devices.push_back(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, i)));
        }
        tables.routes.push_back(std::move(row));
    });
    const Cache neighbours = dump(sock.get(), "neighbour dump", rtnl_neigh_alloc_cache);
    for_each<rtnl_neigh>(neighbours.get(), [&](rtnl_neigh* neigh) {
        if (rtnl_neigh_get_family(neigh) == AF_INET6) {
            tables.neighbours.emplace_back(rtnl_neigh_get_ifindex(neigh),
                                           static_cast<std::uint16_t>(rtnl_neigh_get_state(neigh)));
        }
    });
    return tables;
}

std::optional<int> route_lookup(const Ipv6Address& address) {
    const nl::Socket sock = nl::connect(kReading);
    // One answer or an error: no acknowledgement to wait for after it.
    nl_socket_disable_auto_ack(sock.get());
    const nl::Msg request(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST));
    if (!request) {
        fail("nlmsg_alloc_simple", -NLE_NOMEM);
    }
    rtmsg header{};
    header.rtm_family = AF_INET6;
    header.rtm_dst_len = 128;
    if (const int error = nlmsg_append(request.get(), &header, sizeof(header), NLMSG_ALIGNTO);
        error < 0) {
        fail("nlmsg_append", error);
    }
    if (const int error = nla_put(request.get(), RTA_DST, 16, address.bytes.data()); error < 0) {
        fail("nla_put", error);
    }
    if (const int error = nl_send_auto(sock.get(), request.get()); error < 0) {
        fail("sending the route request", error);
    }
    std::optional<int> device;
    if (const int error =
            nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_route, &device);
        error < 0) {
        fail("nl_socket_modify_cb", error);
    }
    // No route is an NLMSG_ERROR (ENETUNREACH and the like): a negative return, no device.
    if (nl_recvmsgs_default(sock.get()) < 0) {
        return std::nullopt;
    }
    return device;
}

}  // namespace ndproxy::ctl

#include "ctl/kernel_table.hpp"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>

#include <fmt/format.h>

#include <array>
#include <memory>
#include <span>
#include <string>

namespace ndproxy::ctl {
namespace {

// libnl's objects, released by their own functions.
struct SocketFree {
    void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct CacheFree {
    void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct MsgFree {
    void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
struct NeighPut {
    void operator()(rtnl_neigh* neigh) const { rtnl_neigh_put(neigh); }
};
using Socket = std::unique_ptr<nl_sock, SocketFree>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using Msg = std::unique_ptr<nl_msg, MsgFree>;
using Neigh = std::unique_ptr<rtnl_neigh, NeighPut>;

[[noreturn]] void fail(std::string_view what, int error) {
    throw KernelTableError(
        fmt::format("cannot read the kernel's proxy table: {}: {}", what, nl_geterror(error)));
}

struct DumpState {
    nl_cache* links = nullptr;
    std::vector<KernelProxyEntry> entries;
    int error = 0;  // a libnl error code from the callback; stops the dump
};

// One RTM_NEWNEIGH of the dump. libnl turns it into an rtnl_neigh, but libnl 3.7 (Debian 12)
// neither parses nor exposes NDA_PROTOCOL (added in Linux 5.2), so the tag is read from the same
// message with nlmsg_parse.
int on_neighbour(nl_msg* msg, void* arg) {
    auto& state = *static_cast<DumpState*>(arg);
    nlmsghdr* header = nlmsg_hdr(msg);
    if (header->nlmsg_type != RTM_NEWNEIGH) {
        return NL_SKIP;
    }
    rtnl_neigh* parsed = nullptr;
    if (const int error = rtnl_neigh_parse(header, &parsed); error < 0) {
        state.error = error;
        return NL_STOP;
    }
    const Neigh neigh(parsed);
    nl_addr* dst = rtnl_neigh_get_dst(neigh.get());
    // The kernel answers a proxy dump with proxy entries only; the checks keep it that way
    // should an old kernel ignore the request's NTF_PROXY and send the neighbour table.
    if (rtnl_neigh_get_family(neigh.get()) != AF_INET6 ||
        (rtnl_neigh_get_flags(neigh.get()) & NTF_PROXY) == 0 || dst == nullptr ||
        nl_addr_get_len(dst) != 16) {
        return NL_OK;
    }
    std::array<nlattr*, NDA_MAX + 1> attributes{};
    if (const int error = nlmsg_parse(header, sizeof(ndmsg), attributes.data(), NDA_MAX, nullptr);
        error < 0) {
        state.error = error;
        return NL_STOP;
    }
    KernelProxyEntry entry;
    entry.address = Ipv6Address::from_bytes(std::span<const std::uint8_t, 16>(
        static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(dst)), 16));
    entry.ifindex = rtnl_neigh_get_ifindex(neigh.get());
    std::array<char, 64> name{};
    entry.interface = rtnl_link_i2name(state.links, entry.ifindex, name.data(), name.size())
                          ? std::string(name.data())
                          : std::to_string(entry.ifindex);  // the link went meanwhile
    if (const nlattr* protocol = attributes[NDA_PROTOCOL];
        protocol != nullptr && nla_len(protocol) >= 1) {
        entry.protocol = nla_get_u8(protocol);
    }
    state.entries.push_back(std::move(entry));
    return NL_OK;
}

}  // namespace

std::vector<KernelProxyEntry> read_kernel_proxy_table() {
    const Socket sock(nl_socket_alloc());
    if (!sock) {
        fail("nl_socket_alloc", -NLE_NOMEM);
    }
    if (const int error = nl_connect(sock.get(), NETLINK_ROUTE); error < 0) {
        fail("netlink socket", error);
    }
    nl_cache* links_raw = nullptr;
    if (const int error = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &links_raw); error < 0) {
        fail("link dump", error);
    }
    const Cache links(links_raw);

    // rtnl_neigh_alloc_cache() cannot be used: its dump request is a bare rtgenmsg, and the
    // kernel dumps the proxy table only for a full ndmsg with ndm_flags == NTF_PROXY.
    const Msg request(nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP));
    if (!request) {
        fail("nlmsg_alloc_simple", -NLE_NOMEM);
    }
    ndmsg header{};
    header.ndm_family = AF_INET6;
    header.ndm_flags = NTF_PROXY;
    if (const int error = nlmsg_append(request.get(), &header, sizeof(header), NLMSG_ALIGNTO);
        error < 0) {
        fail("nlmsg_append", error);
    }
    if (const int error = nl_send_auto(sock.get(), request.get()); error < 0) {
        fail("sending the dump request", error);
    }
    DumpState state;
    state.links = links.get();
    if (const int error =
            nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_neighbour, &state);
        error < 0) {
        fail("nl_socket_modify_cb", error);
    }
    // Reads until NLMSG_DONE; the default callbacks check sequence numbers and turn an
    // NLMSG_ERROR into a negative return.
    const int error = nl_recvmsgs_default(sock.get());
    if (state.error < 0) {
        fail("parsing the dump", state.error);
    }
    if (error < 0) {
        fail("proxy dump", error);
    }
    return std::move(state.entries);
}

}  // namespace ndproxy::ctl

#pragma once

// libnl's objects, released by their own functions, for ndproxyctl's readers of the kernel's
// tables (kernel_table.cpp, host_tables.cpp).

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <fmt/format.h>

#include <memory>
#include <string_view>

#include "ctl/kernel_table.hpp"

namespace ndproxy::ctl::nl {

struct SocketFree {
    void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct CacheFree {
    void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct MsgFree {
    void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using Socket = std::unique_ptr<nl_sock, SocketFree>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using Msg = std::unique_ptr<nl_msg, MsgFree>;

// "cannot read READING: WHAT: libnl's message", as KernelTableError.
[[noreturn]] inline void fail(std::string_view reading, std::string_view what, int error) {
    throw KernelTableError(
        fmt::format("cannot read {}: {}: {}", reading, what, nl_geterror(error)));
}

// A connected NETLINK_ROUTE socket; throws KernelTableError naming `reading`.
inline Socket connect(std::string_view reading) {
    Socket sock(nl_socket_alloc());
    if (!sock) {
        fail(reading, "nl_socket_alloc", -NLE_NOMEM);
    }
    if (const int error = nl_connect(sock.get(), NETLINK_ROUTE); error < 0) {
        fail(reading, "netlink socket", error);
    }
    return sock;
}

}  // namespace ndproxy::ctl::nl

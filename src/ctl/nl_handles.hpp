#pragma once

// libnl's objects, released by their own functions, for ndproxyctl's readers of the kernel's
// tables (kernel_table.cpp, host_tables.cpp).

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <memory>

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

}  // namespace ndproxy::ctl::nl

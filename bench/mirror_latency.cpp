// Measures how long ndproxyd takes from a neighbour entry appearing on an internal interface to
// its proxy entry being in the kernel. Adds neighbours one at a time and polls the proxy table
// with RTM_GETNEIGH (the kernel sends no notification for proxy entries, so polling is the only
// way to see one land). Run it inside a namespace where ndproxyd is running; see bench/mirror.

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/ipv6.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Socket {
    mnl_socket* nl = nullptr;
    unsigned seq = 1;
    Socket() {
        nl = mnl_socket_open(NETLINK_ROUTE);
        if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
            std::perror("netlink");
            std::exit(1);
        }
    }
    ~Socket() { mnl_socket_close(nl); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    // Sends the request and returns the first reply's type and, for errors, the errno.
    std::pair<int, int> exchange(nlmsghdr* request) {
        request->nlmsg_seq = seq++;
        if (mnl_socket_sendto(nl, request, request->nlmsg_len) < 0) {
            std::perror("sendto");
            std::exit(1);
        }
        char buffer[MNL_SOCKET_BUFFER_SIZE];
        const ssize_t received = mnl_socket_recvfrom(nl, buffer, sizeof(buffer));
        if (received < 0) {
            std::perror("recvfrom");
            std::exit(1);
        }
        const auto* reply = reinterpret_cast<const nlmsghdr*>(buffer);
        if (reply->nlmsg_type == NLMSG_ERROR) {
            const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
            return {NLMSG_ERROR, -error->error};
        }
        return {reply->nlmsg_type, 0};
    }
};

nlmsghdr* neighbour_message(char* buffer, int type, int flags, int ifindex, std::uint8_t ndm_flags,
                            const ndproxy::Ipv6Address& address) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET6;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_flags = ndm_flags;
    // neigh_get rejects a request with any state set (net/core/neighbour.c).
    ndm->ndm_state = type == RTM_GETNEIGH ? 0 : NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, 16, address.bytes.data());
    return nlh;
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s INTERNAL EXTERNAL PREFIX64 COUNT\n", argv[0]);
        return 2;
    }
    const int internal = static_cast<int>(if_nametoindex(argv[1]));
    const int external = static_cast<int>(if_nametoindex(argv[2]));
    const auto prefix = ndproxy::Ipv6Address::parse(argv[3]);
    const int count = std::atoi(argv[4]);
    if (internal == 0 || external == 0 || !prefix || count <= 0) {
        std::fprintf(stderr, "bad arguments\n");
        return 2;
    }
    Socket socket;
    std::vector<double> micros;
    int timeouts = 0;
    for (int i = 0; i < count; ++i) {
        ndproxy::Ipv6Address address = *prefix;
        address.bytes[13] = 0xbe;
        address.bytes[14] = static_cast<std::uint8_t>(i >> 8);
        address.bytes[15] = static_cast<std::uint8_t>(i);
        char buffer[MNL_SOCKET_BUFFER_SIZE];
        nlmsghdr* add = neighbour_message(
            buffer, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, internal, 0, address);
        const std::uint8_t mac[6] = {
            0x02, 0xbe, 0, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
        mnl_attr_put(add, NDA_LLADDR, 6, mac);
        const auto start = Clock::now();
        if (const auto [type, error] = socket.exchange(add); error != 0) {
            std::fprintf(stderr, "adding neighbour %s: %s\n", address.to_string().c_str(),
                         std::strerror(error));
            return 1;
        }
        const auto deadline = start + std::chrono::seconds(1);
        for (;;) {
            char query[MNL_SOCKET_BUFFER_SIZE];
            nlmsghdr* get = neighbour_message(query, RTM_GETNEIGH, 0, external, NTF_PROXY, address);
            const auto [type, error] = socket.exchange(get);
            const auto now = Clock::now();
            if (type == NLMSG_ERROR && error != ENOENT) {
                std::fprintf(stderr, "querying proxy entry: %s\n", std::strerror(error));
                return 1;
            }
            if (type == RTM_NEWNEIGH) {
                micros.push_back(std::chrono::duration<double, std::micro>(now - start).count());
                break;
            }
            if (now > deadline) {  // checked after the query, so a late entry still counts
                ++timeouts;
                break;
            }
            // Leave the core to the daemon when it is runnable: on two cores a spinning poller
            // would otherwise measure its own competition.
            sched_yield();
        }
    }
    if (micros.empty()) {
        std::fprintf(stderr, "no proxy entry appeared\n");
        return 1;
    }
    fmt::print("entries={} timeouts={} p50_us={:.1f} p90_us={:.1f} p99_us={:.1f} max_us={:.1f}\n",
               micros.size(), timeouts, percentile(micros, 0.5), percentile(micros, 0.9),
               percentile(micros, 0.99), percentile(micros, 1.0));
    return timeouts == 0 ? 0 : 1;
}

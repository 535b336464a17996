// ns_client appear: how long an address takes to become answerable upstream after its neighbour
// entry appears on the internal interface (added over rtnetlink, in the host's namespace).

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "modes.hpp"

namespace ns_client {
namespace {

// A netlink socket in the network namespace at `path` (e.g. /run/netns/host), and the index of
// `name` there; this thread stays in its own namespace.
mnl_socket* open_netlink_in(const std::string& path, const std::string& name, int& ifindex) {
    const int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int other = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (own < 0 || other < 0 || setns(other, CLONE_NEWNET) < 0) {
        die(path.c_str());
    }
    mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
    ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 || ifindex == 0 ||
        setns(own, CLONE_NEWNET) < 0) {
        die("netlink socket / internal interface");
    }
    close(own);
    close(other);
    return nl;
}

// RTM_NEWNEIGH for a permanent entry TARGET lladdr 02:be:T12:T13:T14:T15; true once acknowledged.
bool add_neighbour(mnl_socket* nl, int ifindex, const Address& target, unsigned seq) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = RTM_NEWNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET6;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, target.size(), target.data());
    const std::uint8_t mac[6] = {0x02, 0xbe, target[12], target[13], target[14], target[15]};
    mnl_attr_put(nlh, NDA_LLADDR, sizeof(mac), mac);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        die("RTM_NEWNEIGH");
    }
    const ssize_t got = mnl_socket_recvfrom(nl, buffer, sizeof(buffer));
    // The acknowledgement: MNL_CB_STOP, or MNL_CB_ERROR with errno set for an error.
    return got > 0 && mnl_cb_run(buffer, static_cast<std::size_t>(got), seq,
                                 mnl_socket_get_portid(nl), nullptr, nullptr) >= MNL_CB_STOP;
}

}  // namespace

int appear(const Link& link, const Address& first, int count, const Options& options) {
    if (options.netns.empty() || options.internal.empty()) {
        usage("appear needs --netns PATH and --internal IFACE");
    }
    std::mt19937_64 rng(5);
    const std::vector<Source> sources = make_sources(options, link, rng);
    const int fd = open_socket(link, true);  // in our own namespace (the router's)
    int internal = 0;
    mnl_socket* nl = open_netlink_in(options.netns, options.internal, internal);
    std::vector<double> samples;
    std::size_t next_source = 0;
    for (int i = 0; i < count; ++i) {
        const Address target = plus(first, static_cast<std::uint64_t>(i));
        const double start = realtime_us();
        if (!add_neighbour(nl, internal, target, static_cast<unsigned>(i + 1))) {
            std::fprintf(stderr, "ns_client: adding neighbour %d failed\n", i);
            return 1;
        }
        const double deadline = start + options.timeout_ms * 1000.0;
        double answered_at = 0;
        while (answered_at == 0 && realtime_us() < deadline) {
            const Source& source = sources[next_source++ % sources.size()];
            const auto frame = solicitation(source.mac, source.address, target);
            if (send(fd, frame.data(), frame.size(), 0) < 0) {
                die("send");
            }
            answered_at =
                wait_answer(fd, target, std::min(deadline, realtime_us() + options.resend_us));
        }
        if (answered_at != 0) {
            samples.push_back(answered_at - start);
        }
        if (options.gap_us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(options.gap_us));
        }
    }
    mnl_socket_close(nl);
    close(fd);
    print_samples(count, samples);
    return samples.size() == static_cast<std::size_t>(count) ? 0 : 1;
}

}  // namespace ns_client

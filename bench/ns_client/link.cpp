#include "link.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "packet.hpp"

namespace ns_client {

Link look_up(const std::string& name) {
    Link link;
    link.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (link.ifindex == 0) {
        usage("no such interface: " + name);
    }
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &request) < 0) {
        die("SIOCGIFHWADDR");
    }
    close(fd);
    std::memcpy(link.mac.data(), request.ifr_hwaddr.sa_data, 6);
    return link;
}

double realtime_us() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

int open_socket(const Link& link, bool receive) {
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("AF_PACKET socket");
    }
    const int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    if (receive) {
        if (!attach_icmpv6_type_filter(fd, 136)) {
            die("SO_ATTACH_FILTER");
        }
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
        const int buffer = 32 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = receive ? htons(ETH_P_IPV6) : 0;
    address.sll_ifindex = link.ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
        die("bind");
    }
    return fd;
}

std::optional<ReceivedAnswer> read_solicited_answer(int fd) {
    std::array<std::uint8_t, 2048> buffer;
    alignas(cmsghdr) std::array<std::uint8_t, 256> control;
    iovec vector{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t length = recvmsg(fd, &message, 0);
    ReceivedAnswer received;
    if (length <= 0 ||
        !parse_answer(buffer.data(), static_cast<std::size_t>(length), received.answer) ||
        !received.answer.solicited) {
        return std::nullopt;
    }
    received.received_at = realtime_us();
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec stamp;
            std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
            received.received_at =
                static_cast<double>(stamp.tv_sec) * 1e6 + static_cast<double>(stamp.tv_nsec) / 1e3;
        }
    }
    return received;
}

double wait_answer(int fd, const Address& target, double deadline_us) {
    for (;;) {
        const double left_us = deadline_us - realtime_us();
        if (left_us <= 0) {
            return 0;
        }
        pollfd waiting{fd, POLLIN, 0};
        const timespec wait{0, static_cast<long>(left_us * 1000)};
        if (ppoll(&waiting, 1, &wait, nullptr) <= 0) {
            return 0;
        }
        const auto received = read_solicited_answer(fd);
        if (received && received->answer.target == target) {
            return received->received_at;
        }
    }
}

void print_samples(int count, std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    auto quantile = [&](double q) {
        return samples.empty() ? 0.0
                               : samples[std::min(samples.size() - 1,
                                                  static_cast<std::size_t>(q * samples.size()))];
    };
    double total = 0;
    for (const double s : samples) {
        total += s;
    }
    std::printf("count=%d answered=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f\n", count,
                samples.size(), quantile(0.50), quantile(0.99),
                samples.empty() ? 0.0 : samples.back(),
                samples.empty() ? 0.0 : total / static_cast<double>(samples.size()));
}

}  // namespace ns_client

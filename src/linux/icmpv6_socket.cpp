#include "linux/icmpv6_socket.hpp"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "codec/ndp_codec.hpp"
#include "core/log.hpp"

namespace ndproxy {
namespace {

constexpr std::size_t kAdvertisementsPerRead = 256;

void set_option(int fd, int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof(value)) < 0) {
        throw std::system_error(errno, std::generic_category(), what);
    }
}

}  // namespace

Icmpv6Socket::Icmpv6Socket()
    : socket_(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6)) {
    if (!socket_) {
        throw std::system_error(errno, std::generic_category(), "raw ICMPv6 socket");
    }
    const int fd = socket_.get();
    // The kernel would otherwise queue every ICMPv6 message for us.
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0) {
        throw std::system_error(errno, std::generic_category(), "ICMP6_FILTER");
    }
    set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ndp::kHopLimit, "IPV6_MULTICAST_HOPS");
    set_option(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ndp::kHopLimit, "IPV6_UNICAST_HOPS");
    set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
    set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
    set_option(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
}

bool Icmpv6Socket::send(int ifindex, const Ipv6Address& destination,
                        std::span<const std::uint8_t> icmp) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, destination.bytes.data(), 16);
    to.sin6_scope_id = static_cast<std::uint32_t>(ifindex);

    alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
    iovec iov{const_cast<std::uint8_t*>(icmp.data()), icmp.size()};
    msghdr message{};
    message.msg_name = &to;
    message.msg_namelen = sizeof(to);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = IPPROTO_IPV6;
    cmsg->cmsg_type = IPV6_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_ifindex = static_cast<unsigned>(ifindex);  // source left unspecified: kernel picks
    std::memcpy(CMSG_DATA(cmsg), &info, sizeof(info));

    if (::sendmsg(socket_.get(), &message, 0) < 0) {
        log::debug("sending ICMPv6 to {} on ifindex {}: {}", destination, ifindex,
                   std::strerror(errno));
        return false;
    }
    return true;
}

bool Icmpv6Socket::membership(int ifindex, const Ipv6Address& group, bool join) {
    ipv6_mreq request{};
    std::memcpy(&request.ipv6mr_multiaddr, group.bytes.data(), 16);
    request.ipv6mr_interface = static_cast<unsigned>(ifindex);
    if (setsockopt(socket_.get(), IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &request,
                   sizeof(request)) < 0) {
        log::debug("{} {} on ifindex {}: {}", join ? "joining" : "leaving", group, ifindex,
                   std::strerror(errno));
        return false;
    }
    return true;
}

std::vector<ReceivedAdvertisement> Icmpv6Socket::read_advertisements() {
    std::vector<ReceivedAdvertisement> adverts;
    std::array<std::uint8_t, 1500> buffer;
    alignas(cmsghdr) std::array<std::uint8_t, 128> control;
    // A bounded number per call, like every reader in the event loop: a VM flooding
    // advertisements must not keep the loop from SIGTERM, timers and the control socket.
    for (std::size_t count = 0; count < kAdvertisementsPerRead; ++count) {
        sockaddr_in6 from{};
        iovec iov{buffer.data(), buffer.size()};
        msghdr message{};
        message.msg_name = &from;
        message.msg_namelen = sizeof(from);
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        const ssize_t received = ::recvmsg(socket_.get(), &message, 0);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;  // EAGAIN: drained. Other errors are transient for a raw socket.
        }
        int hop_limit = -1;
        std::optional<in6_pktinfo> info;
        for (cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg; cmsg = CMSG_NXTHDR(&message, cmsg)) {
            if (cmsg->cmsg_level != IPPROTO_IPV6) {
                continue;
            }
            if (cmsg->cmsg_type == IPV6_HOPLIMIT && cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
                std::memcpy(&hop_limit, CMSG_DATA(cmsg), sizeof(int));
            } else if (cmsg->cmsg_type == IPV6_PKTINFO &&
                       cmsg->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
                in6_pktinfo value;
                std::memcpy(&value, CMSG_DATA(cmsg), sizeof(value));
                info = value;
            }
        }
        // RFC 4861 §7.1.2: hop limit 255 proves the advertisement was not forwarded.
        if (hop_limit != ndp::kHopLimit || !info) {
            continue;
        }
        auto advert = ndp::parse_advertisement({buffer.data(), static_cast<std::size_t>(received)});
        Ipv6Address destination;
        std::memcpy(destination.bytes.data(), &info->ipi6_addr, 16);
        // RFC 4861 §7.1.2: a multicast advertisement must not claim to be solicited.
        if (!advert || (destination.is_multicast() && advert->flags.solicited)) {
            continue;
        }
        Ipv6Address source;
        std::memcpy(source.bytes.data(), &from.sin6_addr, 16);
        adverts.push_back({static_cast<int>(info->ipi6_ifindex), source, *advert});
    }
    return adverts;
}

}  // namespace ndproxy

#include "linux/frame_socket.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.hpp"

namespace ndproxy {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// Classic BPF: pass only ICMPv6 Neighbor Solicitations (type 135) arriving on `ifindex`, in
// IPv6 without extension headers; everything else stays in the kernel.
std::vector<sock_filter> solicitation_filter(int ifindex) {
    const auto index = static_cast<std::uint32_t>(ifindex);
    return {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, index, 0, 7),
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),  // ethertype
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),  // next header
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),  // ICMPv6 type
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
}

void attach(int fd, std::vector<sock_filter> program) {
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
        fail("SO_ATTACH_FILTER");
    }
}

void all_multicast(int fd, int ifindex, int option) {
    // Membership on the socket, not IFF_ALLMULTI on the interface: it goes away with us, and
    // the administrator's own setting is never changed.
    packet_mreq request{};
    request.mr_ifindex = ifindex;
    request.mr_type = PACKET_MR_ALLMULTI;
    if (setsockopt(fd, SOL_PACKET, option, &request, sizeof(request)) < 0 &&
        option == PACKET_ADD_MEMBERSHIP) {
        fail("PACKET_ADD_MEMBERSHIP");
    }
}

// The link layer's verdict on a frame, which the frame's bytes alone do not carry: a frame to
// another host's MAC reaches us only on a promiscuous uplink (a bridge port), and our own
// frames come back only where PACKET_IGNORE_OUTGOING is missing (Linux before 4.20).
ndp::Delivery delivery_of(const sockaddr_ll& sender) {
    switch (sender.sll_pkttype) {
        case PACKET_HOST:
            return ndp::Delivery::to_host;
        case PACKET_BROADCAST:
            return ndp::Delivery::broadcast;
        case PACKET_MULTICAST:
            return ndp::Delivery::multicast;
        case PACKET_OUTGOING:
            return ndp::Delivery::outgoing;
        default:  // PACKET_OTHERHOST, and the loopback and kernel-internal types
            return ndp::Delivery::to_other_host;
    }
}

}  // namespace

FrameSocket::FrameSocket()
    // Protocol 0: the socket receives nothing until bound, so no frame slips past the filter.
    : socket_(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)), buffers_(kBatch) {
    if (!socket_) {
        fail("AF_PACKET socket");
    }
    const int one = 1;
    // Our own answers and the host's solicitations are not for us to answer.
    setsockopt(socket_.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    // A burst of solicitations must wait here rather than be dropped: the default 208 KiB
    // holds about 1,500 frames, a few milliseconds of a flood. SO_RCVBUFFORCE passes
    // net.core.rmem_max (CAP_NET_ADMIN).
    const int bytes = 4 << 20;
    if (setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0) {
        setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    }
    attach(socket_.get(), solicitation_filter(0));
}

void FrameSocket::listen(int ifindex) {
    if (ifindex == ifindex_) {
        return;
    }
    if (ifindex_ != 0) {
        all_multicast(socket_.get(), ifindex_, PACKET_DROP_MEMBERSHIP);
    }
    attach_filter(ifindex);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = ifindex != 0 ? htons(ETH_P_IPV6) : 0;
    address.sll_ifindex = ifindex;
    if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
        fail("AF_PACKET bind");
    }
    if (ifindex != 0) {
        all_multicast(socket_.get(), ifindex, PACKET_ADD_MEMBERSHIP);
    }
    ifindex_ = ifindex;
    // Frames queued under the old binding belong to a link we no longer serve.
    read([](std::span<const std::uint8_t>, ndp::Delivery) {});
}

void FrameSocket::use_program(int program_fd) {
    program_fd_ = program_fd;
    attach_filter(ifindex_);
}

void FrameSocket::attach_filter(int ifindex) {
    if (program_fd_ >= 0) {
        // Replaces the classic filter atomically: no frame passes unfiltered in between.
        if (setsockopt(socket_.get(), SOL_SOCKET, SO_ATTACH_BPF, &program_fd_,
                       sizeof(program_fd_)) == 0) {
            return;
        }
        log::warn("fast path off: attaching the socket filter: {}", std::strerror(errno));
        program_fd_ = -1;
    }
    attach(socket_.get(), solicitation_filter(ifindex));
}

bool FrameSocket::read(
    const std::function<void(std::span<const std::uint8_t>, ndp::Delivery)>& sink) {
    std::array<mmsghdr, kBatch> messages{};
    std::array<iovec, kBatch> vectors{};
    std::array<sockaddr_ll, kBatch> senders{};
    // A bounded number of batches per call: under a flood the socket never drains, and the
    // event loop must still get to SIGTERM, timers and the control socket in between.
    for (std::size_t batch = 0; batch < kBatchesPerRead; ++batch) {
        for (std::size_t i = 0; i < kBatch; ++i) {
            vectors[i] = {buffers_[i].data(), kFrameBytes};
            messages[i].msg_hdr = {};
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_name = &senders[i];
            messages[i].msg_hdr.msg_namelen = sizeof(senders[i]);
        }
        const int received = ::recvmmsg(socket_.get(), messages.data(), kBatch, 0, nullptr);
        if (received <= 0) {
            if (received < 0 && errno == EINTR) {
                continue;
            }
            return true;  // EAGAIN: drained
        }
        for (int i = 0; i < received; ++i) {
            if (!(messages[i].msg_hdr.msg_flags & MSG_TRUNC)) {
                sink({buffers_[i].data(), messages[i].msg_len}, delivery_of(senders[i]));
            }
        }
        if (received < static_cast<int>(kBatch)) {
            return true;
        }
    }
    return false;
}

std::uint64_t FrameSocket::take_drops() {
    tpacket_stats stats{};
    socklen_t length = sizeof(stats);
    // Reading the statistics resets them, so each call returns what was dropped since the last.
    if (getsockopt(socket_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &length) < 0) {
        return 0;
    }
    return stats.tp_drops;
}

bool FrameSocket::send(int ifindex, std::span<const std::uint8_t> frame) {
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_IPV6);
    address.sll_ifindex = ifindex;
    address.sll_halen = ETH_ALEN;
    std::memcpy(address.sll_addr, frame.data(), ETH_ALEN);
    if (::sendto(socket_.get(), frame.data(), frame.size(), 0,
                 reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
        log::debug("sending a frame on ifindex {}: {}", ifindex, std::strerror(errno));
        return false;
    }
    return true;
}

}  // namespace ndproxy

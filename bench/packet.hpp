#pragma once

// What both benchmark tools (ns_client, vm_farm) need to build and catch ICMPv6 frames on their
// packet sockets.

#include <linux/filter.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

// The ICMPv6 checksum over the pseudo-header (RFC 8200 8.1) and the message.
inline std::uint16_t icmpv6_checksum(const std::uint8_t* source, const std::uint8_t* destination,
                                     const std::uint8_t* icmp, std::size_t length) {
    std::uint32_t sum = 0;
    auto add = [&](const std::uint8_t* bytes, std::size_t n) {
        for (std::size_t i = 0; i + 1 < n; i += 2) {
            sum += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
        }
        if (n % 2) {
            sum += static_cast<std::uint32_t>(bytes[n - 1] << 8);
        }
    };
    add(source, 16);
    add(destination, 16);
    sum += static_cast<std::uint32_t>(length) + 58;
    add(icmp, length);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

// The classic BPF program both attach to their packet sockets: IPv6 frames whose next header is
// ICMPv6 (no extension headers) of one type, e.g. 135 (Neighbor Solicitation) or 136 (Neighbor
// Advertisement).
inline bool attach_icmpv6_type_filter(int fd, std::uint8_t type) {
    sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, type, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog fprog{static_cast<unsigned short>(std::size(program)), program};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) == 0;
}

// Up to Count frames of at most Size bytes each, received in one recvmmsg call.
template <std::size_t Count, std::size_t Size>
struct ReceiveBatch {
    std::array<std::array<std::uint8_t, Size>, Count> buffers{};
    std::array<iovec, Count> vectors{};
    std::array<mmsghdr, Count> messages{};

    // What `fd` has queued, without waiting: the number of frames, or -1 (errno).
    int receive(int fd) {
        for (std::size_t i = 0; i < Count; ++i) {
            vectors[i] = {buffers[i].data(), buffers[i].size()};
            messages[i] = {};
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        return recvmmsg(fd, messages.data(), Count, MSG_DONTWAIT, nullptr);
    }
    const std::uint8_t* frame(int i) const { return buffers[static_cast<std::size_t>(i)].data(); }
    std::size_t length(int i) const { return messages[static_cast<std::size_t>(i)].msg_len; }
};

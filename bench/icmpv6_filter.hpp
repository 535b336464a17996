#pragma once

// The classic BPF program both benchmark tools attach to their packet sockets: IPv6 frames whose
// next header is ICMPv6 (no extension headers) of one type, e.g. 135 (Neighbor Solicitation) or
// 136 (Neighbor Advertisement).

#include <linux/filter.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <cstdint>
#include <iterator>

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

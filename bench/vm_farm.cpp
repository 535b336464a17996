// A "VM farm" for the benchmark suite (bench/suite): stands in for any number of VMs behind a
// bridge without creating them. On an AF_PACKET socket on its interface (the VM side of a veth
// whose other end is a port of br0) it answers every Neighbor Solicitation for a target inside
// PREFIX with a solicited Neighbor Advertisement (S and O set) from a MAC derived from the target
// (02:fa:T12:T13:T14:T15), as that VM would. DAD probes (source ::) get no answer. Creating
// 100,000 namespaces or 100,000 addresses on one interface would be superlinear in the kernel;
// this costs one socket. Standalone (no project library).
//
//   vm_farm IFACE PREFIX/LEN
//       Runs until SIGTERM/SIGINT; then prints answered=N to stdout.

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "packet.hpp"

namespace {

using Address = std::array<std::uint8_t, 16>;

volatile std::sig_atomic_t stopping = 0;
void stop(int) {
    stopping = 1;
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

bool in_prefix(const std::uint8_t* address, const Address& prefix, int length) {
    for (int bit = 0; bit < length; ++bit) {
        const int byte = bit / 8;
        const int mask = 0x80 >> (bit % 8);
        if ((address[byte] & mask) != (prefix[static_cast<std::size_t>(byte)] & mask)) {
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: vm_farm IFACE PREFIX/LEN\n");
        return 2;
    }
    const std::string prefix_text = argv[2];
    const auto slash = prefix_text.find('/');
    Address prefix{};
    if (slash == std::string::npos ||
        inet_pton(AF_INET6, prefix_text.substr(0, slash).c_str(), prefix.data()) != 1) {
        std::fprintf(stderr, "vm_farm: bad prefix %s\n", argv[2]);
        return 2;
    }
    const int length = std::atoi(prefix_text.c_str() + slash + 1);
    const int ifindex = static_cast<int>(if_nametoindex(argv[1]));
    if (ifindex == 0 || length < 0 || length > 128) {
        std::fprintf(stderr, "vm_farm: bad interface or prefix length\n");
        return 2;
    }

    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IPV6));
    if (fd < 0) {
        die("AF_PACKET socket");
    }
    // IPv6, next header ICMPv6 (no extension headers), type 135.
    if (!attach_icmpv6_type_filter(fd, 135)) {
        die("SO_ATTACH_FILTER");
    }
    const int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    const int buffer_size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof(buffer_size));
    sockaddr_ll bound{};
    bound.sll_family = AF_PACKET;
    bound.sll_protocol = htons(ETH_P_IPV6);
    bound.sll_ifindex = ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) < 0) {
        die("bind");
    }
    packet_mreq membership{};
    membership.mr_ifindex = ifindex;
    membership.mr_type = PACKET_MR_ALLMULTI;
    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof(membership));

    struct sigaction action = {};
    action.sa_handler = stop;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    constexpr unsigned kBatch = 64;
    ReceiveBatch<kBatch, 256> batch;
    std::array<std::array<std::uint8_t, 14 + 40 + 32>, kBatch> replies{};
    std::array<iovec, kBatch> reply_vectors{};
    std::array<mmsghdr, kBatch> reply_messages{};
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    unsigned long long answered = 0;

    while (!stopping) {
        pollfd waiting{fd, POLLIN, 0};
        if (poll(&waiting, 1, 200) <= 0) {
            continue;
        }
        const int got = batch.receive(fd);
        unsigned out = 0;
        for (int i = 0; i < got; ++i) {
            const std::uint8_t* frame = batch.frame(i);
            const std::size_t size = batch.length(i);
            if (size < 14 + 40 + 24 || frame[14 + 7] != 255) {
                continue;  // too short, or not from a neighbour (RFC 4861 7.1.1: hop limit 255)
            }
            const std::uint8_t* source = frame + 14 + 8;
            const std::uint8_t* target = frame + 14 + 40 + 8;
            bool unspecified = true;
            for (int b = 0; b < 16; ++b) {
                unspecified = unspecified && source[b] == 0;
            }
            if (unspecified || !in_prefix(target, prefix, length)) {
                continue;
            }
            const std::uint8_t mac[6] = {0x02,       0xfa,       target[12],
                                         target[13], target[14], target[15]};
            std::uint8_t* p = replies[out].data();
            std::memset(p, 0, replies[out].size());
            std::memcpy(p, frame + 6, 6);  // to the asker's MAC
            std::memcpy(p + 6, mac, 6);
            p[12] = 0x86;
            p[13] = 0xdd;
            std::uint8_t* ip = p + 14;
            ip[0] = 0x60;
            ip[5] = 32;
            ip[6] = 58;
            ip[7] = 255;
            std::memcpy(ip + 8, target, 16);
            std::memcpy(ip + 24, source, 16);
            std::uint8_t* icmp = ip + 40;
            icmp[0] = 136;
            icmp[4] = 0x60;  // S, O
            std::memcpy(icmp + 8, target, 16);
            icmp[24] = 2;  // target link-layer address
            icmp[25] = 1;
            std::memcpy(icmp + 26, mac, 6);
            const std::uint16_t sum = icmpv6_checksum(ip + 8, ip + 24, icmp, 32);
            icmp[2] = static_cast<std::uint8_t>(sum >> 8);
            icmp[3] = static_cast<std::uint8_t>(sum);
            reply_vectors[out] = {p, replies[out].size()};
            reply_messages[out] = {};
            reply_messages[out].msg_hdr.msg_name = &to;
            reply_messages[out].msg_hdr.msg_namelen = sizeof(to);
            reply_messages[out].msg_hdr.msg_iov = &reply_vectors[out];
            reply_messages[out].msg_hdr.msg_iovlen = 1;
            ++out;
        }
        if (out > 0) {
            const int sent = sendmmsg(fd, reply_messages.data(), out, 0);
            if (sent > 0) {
                answered += static_cast<unsigned>(sent);
            }
        }
    }
    std::printf("answered=%llu\n", answered);
    return 0;
}

#include "frames.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "packet.hpp"

namespace ns_client {

void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

void usage(const std::string& why) {
    std::fprintf(stderr, "ns_client: %s (see the comment at the top of bench/ns_client/main.cpp)\n",
                 why.c_str());
    std::exit(2);
}

Address parse_address(const std::string& text) {
    Address address{};
    if (inet_pton(AF_INET6, text.c_str(), address.data()) != 1) {
        usage("not an IPv6 address: " + text);
    }
    return address;
}

Mac parse_mac(const std::string& text) {
    Mac mac{};
    unsigned b[6];
    if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) !=
        6) {
        usage("not a MAC address: " + text);
    }
    for (int i = 0; i < 6; ++i) {
        mac[i] = static_cast<std::uint8_t>(b[i]);
    }
    return mac;
}

std::string to_string(const Address& address) {
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, address.data(), text, sizeof(text));
    return text;
}

Address plus(Address base, std::uint64_t n) {
    for (int i = 15; i >= 8 && n != 0; --i) {
        const unsigned sum = base[i] + (n & 0xff);
        base[i] = static_cast<std::uint8_t>(sum);
        n = (n >> 8) + (sum >> 8);
    }
    return base;
}

std::vector<std::uint8_t> solicitation(const Mac& mac, const Address& source,
                                       const Address& target) {
    // RFC 4291 2.7.1: the target's solicited-node multicast group.
    Address group{0xff, 0x02, 0, 0,    0,    0,          0,          0,
                  0,    0,    0, 0x01, 0xff, target[13], target[14], target[15]};
    std::vector<std::uint8_t> frame(14 + 40 + 32, 0);
    std::uint8_t* p = frame.data();
    const std::uint8_t ether_destination[6] = {0x33,      0x33,      group[12],
                                               group[13], group[14], group[15]};
    std::memcpy(p, ether_destination, 6);
    std::memcpy(p + 6, mac.data(), 6);
    p[12] = 0x86;
    p[13] = 0xdd;
    std::uint8_t* ip = p + 14;
    ip[0] = 0x60;
    ip[5] = 32;   // payload length
    ip[6] = 58;   // ICMPv6
    ip[7] = 255;  // hop limit (RFC 4861 7.1.1: receivers drop anything else)
    std::memcpy(ip + 8, source.data(), 16);
    std::memcpy(ip + 24, group.data(), 16);
    std::uint8_t* icmp = ip + 40;
    icmp[0] = 135;
    std::memcpy(icmp + 8, target.data(), 16);
    icmp[24] = 1;  // source link-layer address option, 8 bytes
    icmp[25] = 1;
    std::memcpy(icmp + 26, mac.data(), 6);
    const std::uint16_t sum = icmpv6_checksum(source.data(), group.data(), icmp, 32);
    icmp[2] = static_cast<std::uint8_t>(sum >> 8);
    icmp[3] = static_cast<std::uint8_t>(sum);
    return frame;
}

bool parse_answer(const std::uint8_t* frame, std::size_t length, Answer& answer) {
    if (length < 14 + 40 + 24 || frame[12] != 0x86 || frame[13] != 0xdd || frame[14 + 6] != 58 ||
        frame[14 + 40] != 136) {
        return false;
    }
    std::memcpy(answer.target.data(), frame + 14 + 40 + 8, 16);
    answer.solicited = (frame[14 + 40 + 4] & 0x40) != 0;  // RFC 4861 4.4: the S flag
    return true;
}

}  // namespace ns_client

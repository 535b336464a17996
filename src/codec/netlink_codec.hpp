#pragma once

// Pure encoding and decoding of the rtnetlink messages ndproxyd exchanges with the kernel. No
// sockets here: the functions take and return bytes, so they are unit-tested with captured
// messages and fuzzed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/ipv6.hpp"
#include "core/kernel_events.hpp"

namespace ndproxy::netlink {

// One message of a datagram, reduced to what the daemon needs.
struct Message {
    std::uint16_t type = 0;  // nlmsg_type
    std::uint32_t seq = 0;
    std::optional<KernelEvent> event;  // for RTM_{NEW,DEL}{NEIGH,LINK,ADDR,ROUTE} that are relevant
    bool done = false;                 // NLMSG_DONE, or the end of a dump
    std::optional<int> error;          // NLMSG_ERROR: 0 is an acknowledgement, otherwise -errno
    bool dump_interrupted = false;     // NLM_F_DUMP_INTR: the table changed during the dump
};

struct Datagram {
    std::vector<Message> messages;
    bool truncated = false;  // trailing bytes did not form a whole message
};

// Splits one received datagram and decodes each message. Never reads past `bytes`.
Datagram parse_datagram(std::span<const std::uint8_t> bytes);

// Decodes a single message (header included). nullopt when it is malformed or not relevant.
std::optional<KernelEvent> parse_message(std::span<const std::uint8_t> bytes);

// Builders append one whole message to `out` (several make one batch for a single send);
// `seq` is the caller's, to match the kernel's acknowledgement to the request.
// `router`: NTF_ROUTER on an added entry, so that the kernel's answers carry R.
void append_proxy_request(std::vector<std::uint8_t>& out, ProxyOp op, std::uint32_t seq,
                          int ifindex, const Ipv6Address& address, std::uint8_t protocol,
                          bool router);

// RTM_GETNEIGH for one proxy entry; the kernel answers RTM_NEWNEIGH, or -ENOENT.
void append_proxy_query(std::vector<std::uint8_t>& out, std::uint32_t seq, int ifindex,
                        const Ipv6Address& address);

void append_dump_request(std::vector<std::uint8_t>& out, KernelTable table, std::uint32_t seq);

}  // namespace ndproxy::netlink

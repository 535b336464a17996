#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/ipv6.hpp"

namespace ndproxy {

// Neighbour Unreachability Detection states as the kernel reports them (linux/neighbour.h
// NUD_*). Kept as bits so that policy code reads like the kernel's own tests.
namespace nud {
inline constexpr std::uint16_t incomplete = 0x01;
inline constexpr std::uint16_t reachable = 0x02;
inline constexpr std::uint16_t stale = 0x04;
inline constexpr std::uint16_t delay = 0x08;
inline constexpr std::uint16_t probe = 0x10;
inline constexpr std::uint16_t failed = 0x20;
inline constexpr std::uint16_t noarp = 0x40;
inline constexpr std::uint16_t permanent = 0x80;
inline constexpr std::uint16_t none = 0x00;
}  // namespace nud

// The neighbour protocol number (NDA_PROTOCOL) that marks a proxy entry as ours. Entries
// without it belong to the administrator. 71 is unassigned in the kernel's RTPROT_* list and in
// iproute2's rt_protos.
inline constexpr std::uint8_t kOwnProtocol = 71;

// A (non-proxy) neighbour entry was added, changed or deleted.
struct NeighbourUpdate {
    int ifindex = 0;
    Ipv6Address address;
    std::optional<MacAddress> lladdr;
    std::uint16_t state = nud::none;
    bool deleted = false;
};

// One row of the kernel's proxy table (only ever seen in dumps: the kernel sends no events).
struct ProxyEntry {
    int ifindex = 0;
    Ipv6Address address;
    std::uint8_t protocol = 0;  // 0 when the entry carries no NDA_PROTOCOL
    bool router = false;        // NTF_ROUTER: the kernel sets R in its answers for it
};

struct LinkUpdate {
    int ifindex = 0;
    std::string name;
    bool up = false;  // administratively up
    bool deleted = false;
    std::optional<MacAddress> lladdr;
    // IFF_NOARP or IFF_POINTOPOINT: a tunnel, tun or `arp off` link, where Neighbor Discovery
    // does not run (RFC 4861 §3.1: links without link-layer addresses), so nothing solicited
    // there ever answers, and the kernel's neighbour entries there prove nothing.
    bool without_discovery = false;
};

// An IPv6 address of the host itself (RTM_NEWADDR/RTM_DELADDR): never proxied.
struct AddressUpdate {
    int ifindex = 0;
    Ipv6Address address;
    bool deleted = false;
};

// A unicast route (RTM_NEWROUTE/RTM_DELROUTE) through one interface, longer than /64: the only
// routes that can carry VM addresses to an internal link (docs/design.md §Routed addresses).
struct RouteUpdate {
    Ipv6Prefix destination;
    int ifindex = 0;
    std::uint32_t table = 0;
    std::uint32_t metric = 0;
    bool via_gateway = false;  // to a next hop behind the link, not on-link
    bool deleted = false;
};

using KernelEvent =
    std::variant<NeighbourUpdate, ProxyEntry, LinkUpdate, AddressUpdate, RouteUpdate>;

// The kernel tables the daemon reads whole: at the start and at every resync.
enum class KernelTable { links, addresses, neighbours, proxies, routes };

// A change to the proxy table; entries are written with kOwnProtocol.
enum class ProxyOp { add, remove };

std::string_view nud_state_name(std::uint16_t state);

// docs/design.md §Mirror: the states in which the kernel vouches that a neighbour exists.
// INCOMPLETE is resolution in progress and proves nothing either way.
inline bool nud_vouches_alive(std::uint16_t state) {
    return (state & (nud::reachable | nud::stale | nud::delay | nud::probe | nud::permanent |
                     nud::noarp)) != 0;
}

}  // namespace ndproxy

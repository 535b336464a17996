// libFuzzer target for the rtnetlink codec: any bytes as one received datagram.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "codec/netlink_codec.hpp"

namespace {

using namespace ndproxy;

// libmnl is not instrumented, so AddressSanitizer cannot see it read past the input. Copy the
// input to end exactly where an inaccessible page begins instead: any such read faults.
std::span<const std::uint8_t> fenced(const std::uint8_t* data, std::size_t size) {
    static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    static const std::size_t room = 64 * 1024;  // a netlink datagram is at most this in practice
    static std::uint8_t* const base = [] {
        void* map =
            mmap(nullptr, room + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED ||
            mprotect(static_cast<std::uint8_t*>(map) + room, page, PROT_NONE) != 0) {
            std::abort();
        }
        return static_cast<std::uint8_t*>(map);
    }();
    if (size > room) {
        return {data, size};
    }
    std::uint8_t* start = base + room - size;
    if (size > 0) {
        std::memcpy(start, data, size);
    }
    return {start, size};
}

bool same(const KernelEvent& a, const KernelEvent& b) {
    if (a.index() != b.index()) {
        return false;
    }
    if (const auto* n = std::get_if<NeighbourUpdate>(&a)) {
        const auto& m = std::get<NeighbourUpdate>(b);
        return n->ifindex == m.ifindex && n->address == m.address && n->lladdr == m.lladdr &&
               n->state == m.state && n->deleted == m.deleted;
    }
    if (const auto* p = std::get_if<ProxyEntry>(&a)) {
        const auto& q = std::get<ProxyEntry>(b);
        return p->ifindex == q.ifindex && p->address == q.address && p->protocol == q.protocol &&
               p->router == q.router;
    }
    if (const auto* l = std::get_if<LinkUpdate>(&a)) {
        const auto& k = std::get<LinkUpdate>(b);
        return l->ifindex == k.ifindex && l->name == k.name && l->up == k.up &&
               l->deleted == k.deleted && l->lladdr == k.lladdr &&
               l->without_discovery == k.without_discovery;
    }
    if (const auto* r = std::get_if<RouteUpdate>(&a)) {
        const auto& t = std::get<RouteUpdate>(b);
        return r->destination == t.destination && r->ifindex == t.ifindex && r->table == t.table &&
               r->metric == t.metric && r->via_gateway == t.via_gateway && r->deleted == t.deleted;
    }
    const auto& x = std::get<AddressUpdate>(a);
    const auto& y = std::get<AddressUpdate>(b);
    return x.ifindex == y.ifindex && x.address == y.address && x.deleted == y.deleted;
}

// Checks the codec's split of a datagram against an independent walk of the headers: whole
// messages only, each followed by its padding (netlink(7), NLMSG_ALIGN); the last one may lack
// its padding.
void check_split(std::span<const std::uint8_t> bytes, const netlink::Datagram& datagram) {
    std::size_t offset = 0;
    std::size_t count = 0;
    while (bytes.size() - offset >= 16) {
        std::uint32_t length = 0;
        std::uint16_t type = 0;
        std::uint32_t seq = 0;
        std::memcpy(&length, bytes.data() + offset, 4);
        std::memcpy(&type, bytes.data() + offset + 4, 2);
        std::memcpy(&seq, bytes.data() + offset + 8, 4);
        if (length < 16 || length > bytes.size() - offset) {
            break;
        }
        if (count >= datagram.messages.size() || datagram.messages[count].type != type ||
            datagram.messages[count].seq != seq) {
            std::abort();
        }
        ++count;
        offset += std::min<std::size_t>((length + 3u) & ~std::size_t{3}, bytes.size() - offset);
    }
    if (count != datagram.messages.size() || datagram.truncated != (offset != bytes.size())) {
        std::abort();
    }
}

void check(std::span<const std::uint8_t> bytes) {
    const auto datagram = netlink::parse_datagram(bytes);
    const auto event = netlink::parse_message(bytes);
    check_split(bytes, datagram);
    // The first message decodes the same on its own and followed by the rest of the datagram:
    // nothing past nlmsg_len may influence it.
    if (!datagram.messages.empty() && !datagram.messages[0].done && !datagram.messages[0].error) {
        const auto& first = datagram.messages[0].event;
        if (first.has_value() != event.has_value() || (event && !same(*first, *event))) {
            std::abort();
        }
    }
    // A route is longer than /64 with its host bits clear (docs/design.md §Routed addresses).
    if (const auto* route = event ? std::get_if<RouteUpdate>(&*event) : nullptr) {
        const Ipv6Prefix& block = route->destination;
        if (block.length <= 64 || block.length > 128 ||
            Ipv6Prefix::covering(block.network, block.length) != block) {
            std::abort();
        }
    }
    // A proxy entry rebuilt as our own request decodes to the same entry.
    if (const auto* entry = event ? std::get_if<ProxyEntry>(&*event) : nullptr) {
        std::vector<std::uint8_t> request;
        netlink::append_proxy_request(request, ProxyOp::add, 1, entry->ifindex, entry->address,
                                      entry->protocol, entry->router);
        const auto again = netlink::parse_message(request);
        if (!again || !same(*again, *event)) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check(fenced(data, size));
    // Again as one message whose nlmsg_len is exactly the input's size, so that every cut the
    // fuzzer makes lands inside the attributes instead of failing the length check.
    if (size >= 16) {
        std::vector<std::uint8_t> whole(data, data + size);
        const auto length = static_cast<std::uint32_t>(size);
        std::memcpy(whole.data(), &length, 4);
        check(fenced(whole.data(), whole.size()));
    }
    return 0;
}

#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/kernel_events.hpp"

namespace ndproxy {

// The daemon's view of the kernel's tables. NetlinkKernel implements it over rtnetlink; the
// unit tests' fake implements it over in-memory tables.
class KernelPort {
public:
    virtual ~KernelPort() = default;

    // Readable when notifications are queued (for the event loop; ownership stays here).
    [[nodiscard]] virtual int event_fd() const = 0;

    struct Drained {
        std::vector<KernelEvent> events;
        // The kernel dropped notifications (ENOBUFS): what we hold may be stale, resync.
        bool overflowed = false;
    };
    // Reads the notifications queued so far, without blocking: a bounded number of them, the
    // rest are left for the next call (the caller's event loop comes back while the fd stays
    // readable). After an overflow everything queued is drained, since the resync supersedes it.
    virtual Drained read_events() = 0;
    // A complete, consistent dump of one table (retried if the kernel flags it interrupted; the
    // proxy table, whose dumps it never flags, is dumped until two dumps agree).
    virtual std::vector<KernelEvent> dump(KernelTable table) = 0;

    // The protocol of the proxy entry for `address` on `ifindex` (0 when it carries none), or
    // nullopt when there is no such entry.
    virtual std::optional<std::uint8_t> proxy_protocol(int ifindex, const Ipv6Address& address) = 0;

    struct ProxyWrite {
        ProxyOp op;
        Ipv6Address address;
        bool router = false;  // for an add: the kernel's answers carry R (--router)
    };
    // Applies the writes in batches; returns 0 or an errno for each, in order.
    virtual std::vector<int> write_proxies(int ifindex, std::span<const ProxyWrite> writes) = 0;
};

}  // namespace ndproxy

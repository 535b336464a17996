#include "linux/netlink_kernel.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <system_error>
#include <tuple>
#include <unordered_map>

#include "codec/netlink_codec.hpp"
#include "core/log.hpp"

namespace ndproxy {
namespace {

// Requests per sendmsg: keeps the acknowledgements of one batch well inside the receive buffer.
constexpr std::size_t kWritesPerBatch = 256;
// Notifications handed over per read_events(). Each may cost a kernel write, so a burst of
// thousands, read at once, would keep the event loop from SIGTERM, timers and the control
// socket for as long; the rest stay queued and the loop comes back for them.
constexpr std::size_t kEventsPerRead = 256;

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

MnlSocket open_socket(int flags) {
    MnlSocket socket(mnl_socket_open2(NETLINK_ROUTE, flags | SOCK_CLOEXEC));
    if (!socket) {
        fail("netlink socket");
    }
    if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        fail("netlink bind");
    }
    // Acknowledgements then carry only the header of the request, not all of it.
    int one = 1;
    mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &one, sizeof(one));
    return socket;
}

enum class Receipt { datagram, would_block, overflow };

// The one place a netlink socket is read: a datagram into `buffer` (its size in `length`),
// retrying an interrupted call. ENOBUFS means notifications were lost (a resync is due) and
// EAGAIN that a nonblocking socket has nothing queued; anything else is fatal.
Receipt receive(mnl_socket* socket, std::vector<std::uint8_t>& buffer, std::size_t& length,
                const char* what) {
    for (;;) {
        const ssize_t received = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
        if (received >= 0) {
            length = static_cast<std::size_t>(received);
            return Receipt::datagram;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Receipt::would_block;
        }
        if (errno == ENOBUFS) {
            return Receipt::overflow;
        }
        if (errno != EINTR) {
            fail(what);
        }
    }
}

bool is_kind(const KernelEvent& event, KernelTable kind) {
    switch (kind) {
        case KernelTable::links:
            return std::holds_alternative<LinkUpdate>(event);
        case KernelTable::addresses:
            return std::holds_alternative<AddressUpdate>(event);
        case KernelTable::neighbours:
            return std::holds_alternative<NeighbourUpdate>(event);
        case KernelTable::proxies:
            return std::holds_alternative<ProxyEntry>(event);
        case KernelTable::routes:
            return std::holds_alternative<RouteUpdate>(event);
    }
    return false;
}

}  // namespace

void MnlSocketCloser::operator()(mnl_socket* socket) const {
    mnl_socket_close(socket);
}

NetlinkKernel::NetlinkKernel(std::size_t event_buffer_bytes)
    : events_(open_socket(SOCK_NONBLOCK)), requests_(open_socket(0)) {
    const int size = static_cast<int>(event_buffer_bytes);
    // SO_RCVBUFFORCE goes past net.core.rmem_max; it needs CAP_NET_ADMIN, which we have.
    if (setsockopt(mnl_socket_get_fd(events_.get()), SOL_SOCKET, SO_RCVBUFFORCE, &size,
                   sizeof(size)) < 0 &&
        setsockopt(mnl_socket_get_fd(events_.get()), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) <
            0) {
        fail("netlink receive buffer");
    }
    for (unsigned group : {RTNLGRP_NEIGH, RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE}) {
        if (mnl_socket_setsockopt(events_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) <
            0) {
            fail("netlink subscribe");
        }
    }
}

int NetlinkKernel::event_fd() const {
    return mnl_socket_get_fd(events_.get());
}

KernelPort::Drained NetlinkKernel::read_events() {
    Drained drained;
    std::size_t length = 0;
    for (;;) {
        const Receipt receipt = receive(events_.get(), buffer_, length, "netlink receive");
        if (receipt == Receipt::would_block) {
            break;
        }
        if (receipt == Receipt::overflow) {
            // Notifications were lost. Keep draining so that the resync starts from an empty
            // queue; what is read from here on is superseded by the dump anyway.
            drained.overflowed = true;
            continue;
        }
        if (drained.overflowed) {
            continue;
        }
        for (auto& message : netlink::parse_datagram({buffer_.data(), length}).messages) {
            if (message.event) {
                drained.events.push_back(std::move(*message.event));
            }
        }
        if (drained.events.size() >= kEventsPerRead) {
            break;
        }
    }
    if (drained.overflowed) {
        drained.events.clear();
    }
    return drained;
}

void NetlinkKernel::converse(std::span<const std::uint8_t> request, const char* what,
                             const std::function<bool(netlink::Message&)>& on_message) {
    if (mnl_socket_sendto(requests_.get(), request.data(), request.size()) < 0) {
        fail(what);
    }
    std::size_t length = 0;
    for (;;) {
        // The request socket blocks, and the kernel never reports an overflow on it: it
        // answers only what was asked.
        receive(requests_.get(), buffer_, length, what);
        for (auto& message : netlink::parse_datagram({buffer_.data(), length}).messages) {
            if (on_message(message)) {
                return;
            }
        }
    }
}

std::vector<KernelEvent> NetlinkKernel::dump(KernelTable kind) {
    if (kind != KernelTable::proxies) {
        return dump_once(kind);
    }
    // The kernel keeps every network namespace's proxy entries in one hash table (16 chains),
    // and a dump that spans several datagrams resumes by counting entries, the other
    // namespaces' included. An entry added in another namespace meanwhile makes the dump repeat
    // one of ours, one removed makes it skip one, and nothing flags it (no NLM_F_DUMP_INTR).
    // A skipped entry would look withdrawn behind our back, or an administrator's entry gone.
    // So: dump until two dumps in a row agree and repeat nothing. Under a steady stream of
    // changes elsewhere that may never happen; then every entry seen in any dump counts, which
    // errs the safe way (an administrator's entry is never taken for absent).
    using Key = std::tuple<int, Ipv6Address, std::uint8_t>;
    std::map<Key, KernelEvent> seen;
    std::vector<Key> previous;
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::vector<KernelEvent> rows = dump_once(kind);
        std::vector<Key> keys;
        keys.reserve(rows.size());
        for (const KernelEvent& row : rows) {
            const auto& entry = std::get<ProxyEntry>(row);
            keys.emplace_back(entry.ifindex, entry.address, entry.protocol);
            seen.emplace(keys.back(), row);
        }
        std::sort(keys.begin(), keys.end());
        const bool repeats = std::adjacent_find(keys.begin(), keys.end()) != keys.end();
        if (!repeats && keys == previous) {
            return rows;
        }
        previous = repeats ? std::vector<Key>{} : std::move(keys);
    }
    log::debug("proxy table dumps kept changing (another namespace busy); using every entry seen");
    std::vector<KernelEvent> rows;
    rows.reserve(seen.size());
    for (auto& [key, row] : seen) {
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<KernelEvent> NetlinkKernel::dump_once(KernelTable kind) {
    for (int attempt = 0;; ++attempt) {
        std::vector<KernelEvent> rows;
        std::vector<std::uint8_t> request;
        const std::uint32_t seq = next_seq_++;
        netlink::append_dump_request(request, kind, seq);
        bool interrupted = false;
        converse(request, "netlink dump", [&](netlink::Message& message) {
            if (message.seq != seq) {
                return false;
            }
            // NLM_F_DUMP_INTR: the table changed during the dump; the result may be torn.
            interrupted = interrupted || message.dump_interrupted;
            if (message.error && *message.error != 0) {
                errno = -*message.error;
                fail("netlink dump");
            }
            if (message.done || message.error) {
                return true;
            }
            if (message.event && is_kind(*message.event, kind)) {
                rows.push_back(std::move(*message.event));
            }
            return false;
        });
        if (!interrupted || attempt >= 5) {
            return rows;
        }
        log::debug("netlink dump interrupted by a concurrent change, retrying");
    }
}

std::optional<std::uint8_t> NetlinkKernel::proxy_protocol(int ifindex, const Ipv6Address& address) {
    std::vector<std::uint8_t> request;
    const std::uint32_t seq = next_seq_++;
    netlink::append_proxy_query(request, seq, ifindex, address);
    std::optional<std::uint8_t> protocol;  // stays empty on -ENOENT, or anything not an entry
    converse(request, "netlink proxy query", [&](const netlink::Message& message) {
        if (message.seq != seq) {
            return false;
        }
        if (message.event) {
            if (const auto* entry = std::get_if<ProxyEntry>(&*message.event)) {
                protocol = entry->protocol;
            }
        }
        return true;
    });
    return protocol;
}

std::vector<int> NetlinkKernel::write_proxies(int ifindex, std::span<const ProxyWrite> writes) {
    std::vector<int> results(writes.size(), 0);
    for (std::size_t start = 0; start < writes.size(); start += kWritesPerBatch) {
        const std::size_t end = std::min(writes.size(), start + kWritesPerBatch);
        std::vector<std::uint8_t> request;
        std::unordered_map<std::uint32_t, std::size_t> index_of_seq;
        for (std::size_t i = start; i < end; ++i) {
            const std::uint32_t seq = next_seq_++;
            index_of_seq.emplace(seq, i);
            netlink::append_proxy_request(request, writes[i].op, seq, ifindex, writes[i].address,
                                          kOwnProtocol, writes[i].router);
        }
        converse(request, "netlink proxy write", [&](const netlink::Message& message) {
            auto found = index_of_seq.find(message.seq);
            if (message.error && found != index_of_seq.end()) {
                results[found->second] = -*message.error;
                index_of_seq.erase(found);
            }
            return index_of_seq.empty();
        });
    }
    return results;
}

}  // namespace ndproxy

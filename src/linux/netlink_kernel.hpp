#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/kernel_port.hpp"

struct mnl_socket;

namespace ndproxy::netlink {
struct Message;
}

namespace ndproxy {

struct MnlSocketCloser {
    void operator()(mnl_socket* socket) const;
};
// The owner of a netlink socket (and so of its fd).
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

class NetlinkKernel final : public KernelPort {
public:
    // Subscribes to neighbour, link and IPv6 address notifications before anything is dumped,
    // so that no change can fall between a dump and the first notification. Throws
    // std::system_error on failure.
    explicit NetlinkKernel(std::size_t event_buffer_bytes);

    [[nodiscard]] int event_fd() const override;

    Drained read_events() override;
    std::vector<KernelEvent> dump(KernelTable kind) override;
    std::vector<int> write_proxies(int ifindex, std::span<const ProxyWrite> writes) override;
    std::optional<std::uint8_t> proxy_protocol(int ifindex, const Ipv6Address& address) override;

private:
    std::vector<KernelEvent> dump_once(KernelTable kind);
    // Sends `request` on the request socket and hands each message of the replies to
    // `on_message` until it returns true.
    void converse(std::span<const std::uint8_t> request, const char* what,
                  const std::function<bool(netlink::Message&)>& on_message);

    MnlSocket events_;
    MnlSocket requests_;
    std::uint32_t next_seq_ = 1;
    // Big enough for a full 64 KiB dump datagram, which the kernel may send when it can.
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(64 * 1024);
};

}  // namespace ndproxy
